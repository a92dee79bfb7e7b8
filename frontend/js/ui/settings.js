/**
 * Saving the user's ImageSettings from the page: a debounced `save_settings`, so dragging the
 * quality slider does not write the file 60 times a second. The page keeps no defaults:
 * `load_settings` returns complete settings (the backend's defaults under what was saved), and
 * fields the UI has no control for (per-format qualities, metadata, …) are sent back as loaded.
 */

export const SAVE_DELAY_MS = 400;

export class SettingsSaver {
  /** @param {(settings: object) => Promise<unknown>} save */
  constructor(save, onError) {
    this.save = save;
    this.onError = onError;
    this.pending = null;
    this.timer = null;
  }

  schedule(settings) {
    this.pending = settings;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), SAVE_DELAY_MS);
  }

  /** Save now if a change is waiting (also used when the page is being hidden). */
  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.pending === null) return;
    const settings = this.pending;
    this.pending = null;
    this.save(settings).catch((error) => this.onError(error));
  }
}

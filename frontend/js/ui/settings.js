/**
 * The user's ImageSettings on the page: defaults, merging what `load_settings` returned, and a
 * debounced `save_settings` so dragging the quality slider does not write the file 60 times a
 * second. Fields the UI has no control for (per-format qualities, keepMetadata, …) are kept as
 * loaded and sent back unchanged.
 */

export const SAVE_DELAY_MS = 400;

export function defaultSettings() {
  return {
    quality: { global: 90, jpeg: null, png: null, webp: null, avif: null },
    resize: { width: null, height: null, maintainAspect: true, mode: "none", size: null },
    outputFormat: "original",
  };
}

/** `loaded` over the defaults, one level deep (quality and resize are objects). */
export function mergeSettings(loaded) {
  const base = defaultSettings();
  if (!loaded || typeof loaded !== "object") return base;
  return {
    ...base,
    ...loaded,
    quality: { ...base.quality, ...(loaded.quality ?? {}) },
    resize: { ...base.resize, ...(loaded.resize ?? {}) },
  };
}

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

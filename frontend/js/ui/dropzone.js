/**
 * The drop zone: files dropped anywhere on the window, or picked by click / Enter / Space.
 *
 * Drops are accepted over the whole window (a drop that misses the zone would otherwise make the
 * browser navigate to the file). Only drags that carry files light the zone up. While a batch
 * runs, drops are refused with `onBusy` instead of being queued: the running batch's settings
 * and results list belong to it.
 */

export class Dropzone {
  /**
   * @param {{onFiles: (files: File[]) => void, onPick: () => void, isBusy: () => boolean,
   *          onBusy: () => void}} handlers
   */
  constructor({ onFiles, onPick, isBusy, onBusy }) {
    this.stage = document.getElementById("stage");
    this.zone = document.getElementById("dropzone");
    this.input = document.getElementById("file-input");
    this.hint = document.getElementById("dropzone-hint");
    this.onFiles = onFiles;
    this.onPick = onPick;
    this.isBusy = isBusy;
    this.onBusy = onBusy;
    this.depth = 0;
    this.defaultHint = this.hint.textContent.trim();
    this.bind();
  }

  /** What the browser's file picker offers: the formats we read (from the registry). */
  setAccept(accept) {
    this.input.accept = accept;
  }

  bind() {
    this.zone.addEventListener("click", () => this.pick());
    this.zone.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.pick();
      }
    });
    this.input.addEventListener("change", () => {
      // Copy before clearing: clearing lets the same file be picked twice in a row.
      const files = Array.from(this.input.files ?? []);
      this.input.value = "";
      if (files.length) this.onFiles(files);
    });
    window.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      this.depth += 1;
      this.setDragging(!this.isBusy());
    });
    window.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = this.isBusy() ? "none" : "copy";
    });
    window.addEventListener("dragleave", (event) => {
      if (!carriesFiles(event)) return;
      this.depth = Math.max(0, this.depth - 1);
      if (this.depth === 0) this.setDragging(false);
    });
    window.addEventListener("drop", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      this.depth = 0;
      this.setDragging(false);
      if (this.isBusy()) {
        this.onBusy();
        return;
      }
      const files = Array.from(event.dataTransfer.files);
      if (files.length) this.onFiles(files);
    });
  }

  pick() {
    if (this.isBusy()) return;
    this.onPick();
  }

  /** The browser shell has no native dialog: the hidden file input stands in for it. */
  openFileInput() {
    this.input.click();
  }

  setDragging(on) {
    this.stage.classList.toggle("is-dragging", on);
  }

  /** Interactive when idle; out of the tab order while the progress view covers it. */
  setEnabled(enabled) {
    this.zone.tabIndex = enabled ? 0 : -1;
    this.zone.setAttribute("aria-disabled", String(!enabled));
  }

  setHint(text) {
    this.hint.textContent = text ?? this.defaultHint;
  }

  setDefaultHint(text) {
    this.defaultHint = text;
    this.hint.textContent = text;
  }
}

function carriesFiles(event) {
  return Array.from(event.dataTransfer?.types ?? []).includes("Files");
}

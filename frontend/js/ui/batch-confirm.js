/**
 * Asks before a large dropped tree becomes a batch: "Found 2,341 images in 57 folders (3.1 GB)".
 *
 * A folder dropped with "Include sub-folders" on can hold thousands of images, and a `replace`
 * batch rewrites every one of them, so a batch of `CONFIRM_AT` images or more that came from
 * walking folders waits for a yes. Files dropped or picked one by one never ask: the person
 * named each. The question says where the results will go (the placement line of the drop zone).
 * A modal <dialog>: Enter (the focused "Optimize" button) starts, Escape or "Cancel" does not.
 */

import { formatSize, onLanguageChange, t } from "../i18n.js";

export const CONFIRM_AT = 100;

/** Whether a prepared drop is large enough to ask about. */
export function needsConfirm({ paths = [], folders = 0 }) {
  return folders > 0 && paths.length >= CONFIRM_AT;
}

export class BatchConfirm {
  constructor(host = document.body) {
    this.dialog = document.createElement("dialog");
    this.dialog.className = "panel confirm";
    this.dialog.dataset.testid = "batch-confirm";
    this.dialog.setAttribute("aria-labelledby", "batch-confirm-title");
    this.dialog.setAttribute("aria-describedby", "batch-confirm-found batch-confirm-where");
    this.dialog.innerHTML = `
      <h2 class="panel__title" id="batch-confirm-title"></h2>
      <p class="confirm__found" id="batch-confirm-found" data-testid="batch-confirm-found"></p>
      <p class="panel__note" id="batch-confirm-where" data-testid="batch-confirm-where"></p>
      <div class="confirm__actions">
        <button type="button" class="panel__button" data-testid="batch-confirm-cancel"></button>
        <button type="button" class="panel__button confirm__start"
                data-testid="batch-confirm-start"></button>
      </div>`;
    this.title = this.dialog.querySelector("h2");
    this.found = this.dialog.querySelector(".confirm__found");
    this.where = this.dialog.querySelector("#batch-confirm-where");
    this.startButton = this.dialog.querySelector(".confirm__start");
    this.cancelButton = this.dialog.querySelector('[data-testid="batch-confirm-cancel"]');
    this.asked = null;
    this.label();
    onLanguageChange(() => this.label());
    host.append(this.dialog);
  }

  /** The words, again after a language switch (also while the question is open). */
  label() {
    this.title.textContent = t("batch.title");
    this.cancelButton.textContent = t("batch.cancel");
    if (!this.asked) return;
    const { paths, folders, bytes = 0 } = this.asked;
    const images = t("batch.images", { count: paths.length });
    this.found.textContent = t("batch.found", {
      images, folders: t("batch.folders", { count: folders }), size: formatSize(bytes),
    });
    this.startButton.textContent = t("batch.start", { images });
  }

  /** Resolves true when the person starts the batch, false when they decline. */
  ask(prepared, where) {
    this.asked = prepared;
    this.label();
    this.where.textContent = where;
    return new Promise((resolve) => {
      const finish = (answer) => {
        this.startButton.removeEventListener("click", onStart);
        this.cancelButton.removeEventListener("click", onCancel);
        this.dialog.removeEventListener("close", onClose);
        if (this.dialog.open) this.dialog.close();
        resolve(answer);
      };
      const onStart = () => finish(true);
      const onCancel = () => finish(false);
      const onClose = () => finish(false); // Escape
      this.startButton.addEventListener("click", onStart);
      this.cancelButton.addEventListener("click", onCancel);
      this.dialog.addEventListener("close", onClose);
      this.dialog.showModal();
      this.startButton.focus();
    });
  }
}

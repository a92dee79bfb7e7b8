/**
 * The settings panel behind the cog in the title bar: where results go and what they keep.
 *
 * Its choices come from the served contract (the ImageSettings schema's enums and limits, the
 * words in `choiceLabels`), like the Options menu's. Image settings are patched into the menu's
 * settings object (one object, saved by the same debounced saver); "Include sub-folders" is an app
 * preference, saved at once.
 *
 * Decisions: "One folder" takes effect once a folder is set (the backend refuses the mode
 * without one), so choosing it without a folder opens the native folder dialog on the desktop
 * and marks the field until one is given; a suffix that the schema refuses is marked and not
 * sent. In the browser the results are session files downloaded from the results list, so the
 * placement rows are replaced by a note there. A modal <dialog>: Escape or the close button
 * closes it and focus returns to the cog; it cannot open while a batch runs.
 */

import { t } from "../i18n.js";
import { settingChoices, textLength } from "./contract.js";

/** The drop zone's line about where results will go, for the desktop. */
export function placementHint(settings) {
  if (settings.output === "folder" && settings.outputFolder) {
    return t("placement.folder", { folder: settings.outputFolder });
  }
  if (settings.output === "beside") {
    return t("placement.beside", { suffix: settings.suffix });
  }
  if (settings.output === "replace") {
    return t("placement.replace");
  }
  return t("placement.subfolder");
}

export class SettingsPanel {
  /**
   * @param {{
   *   patchSettings: (patch: object) => void,
   *   savePreferences: (patch: object) => Promise<unknown>,
   *   pickFolder: () => Promise<string|null>,
   *   onError: (key: string, error: unknown) => void,
   * }} options
   */
  constructor({ patchSettings, savePreferences, pickFolder, onError }) {
    this.patchSettings = patchSettings;
    this.savePreferences = savePreferences;
    this.pickFolder = pickFolder;
    this.onError = onError;
    this.button = document.getElementById("settings-button");
    this.dialog = document.getElementById("settings-panel");
    this.closeButton = document.getElementById("settings-close");
    this.output = document.getElementById("output-select");
    this.folderRow = document.getElementById("output-folder-row");
    this.folder = document.getElementById("output-folder");
    this.folderPick = document.getElementById("output-folder-pick");
    this.suffixRow = document.getElementById("output-suffix-row");
    this.suffix = document.getElementById("output-suffix");
    this.note = document.getElementById("output-note");
    this.recursiveRow = document.getElementById("recursive-row");
    this.recursive = document.getElementById("recursive-drops");
    this.keepDates = document.getElementById("keep-dates");
    this.metadata = document.getElementById("metadata-select");
    this.icc = document.getElementById("icc-select");
    this.chroma = document.getElementById("chroma-select");
    this.browser = false;
    this.bind();
  }

  /** Build the choices from the contract; `shell` is "desktop" or "browser". */
  setup(contract, shell) {
    const options = (field) =>
      settingChoices(contract, field).map(({ value, label }) => new Option(label, value));
    this.output.replaceChildren(...options("output"));
    this.metadata.replaceChildren(...options("metadata"));
    this.icc.replaceChildren(...options("icc"));
    this.chroma.replaceChildren(...options("chroma"));
    const suffix = textLength(contract, "suffix");
    this.suffix.maxLength = suffix.max;
    this.suffixPattern = new RegExp(suffix.pattern);
    this.browser = shell === "browser";
    for (const row of [this.output.closest(".panel__row"), this.recursiveRow]) {
      row.hidden = this.browser;
    }
    this.note.textContent = this.browser ? t("settings.browserNote") : "";
  }

  bind() {
    this.button.addEventListener("click", () => this.open());
    this.closeButton.addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("close", () => {
      if (!this.button.disabled) this.button.focus();
    });
    // A click on the backdrop (outside the dialog's box) closes it, as with a popover.
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) {
        const box = this.dialog.getBoundingClientRect();
        const inside = event.clientX >= box.left && event.clientX <= box.right
          && event.clientY >= box.top && event.clientY <= box.bottom;
        if (!inside) this.dialog.close();
      }
    });
    this.output.addEventListener("change", () => this.outputChanged());
    this.folder.addEventListener("change", () => this.folderChanged());
    this.folderPick.addEventListener("click", () => this.chooseFolder());
    this.suffix.addEventListener("input", () => this.suffixChanged());
    this.keepDates.addEventListener("change", () =>
      this.patchSettings({ keepDates: this.keepDates.checked }));
    for (const [select, field] of [[this.metadata, "metadata"], [this.icc, "icc"],
      [this.chroma, "chroma"]]) {
      select.addEventListener("change", () => this.patchSettings({ [field]: select.value }));
    }
    this.recursive.addEventListener("change", () => this.recursiveChanged());
  }

  /** Show `settings` (the whole ImageSettings; the panel edits its own fields only). */
  setSettings(settings) {
    this.output.value = this.browser ? "subfolder" : settings.output;
    this.folder.value = settings.outputFolder ?? "";
    this.suffix.value = settings.suffix;
    this.keepDates.checked = settings.keepDates;
    this.metadata.value = settings.metadata;
    this.icc.value = settings.icc;
    this.chroma.value = settings.chroma;
    this.folder.removeAttribute("aria-invalid");
    this.suffix.removeAttribute("aria-invalid");
    this.renderPlacement();
  }

  setPreferences(preferences) {
    this.recursive.checked = preferences.recursiveDrops;
  }

  open() {
    if (this.button.disabled || this.dialog.open) return;
    this.dialog.showModal();
    const first = this.browser ? this.keepDates : this.output;
    first.focus();
  }

  /** Settings cannot change while a batch runs: the batch was started with the old ones. */
  setDisabled(disabled) {
    if (disabled && this.dialog.open) this.dialog.close();
    this.button.disabled = disabled;
  }

  renderPlacement() {
    const mode = this.output.value;
    this.folderRow.hidden = this.browser || mode !== "folder";
    this.suffixRow.hidden = this.browser || mode !== "beside";
    if (this.browser) return;
    const needsFolder = mode === "folder" && !this.folder.value.trim();
    if (needsFolder) this.folder.setAttribute("aria-invalid", "true");
    else this.folder.removeAttribute("aria-invalid");
    const badSuffix = this.suffix.getAttribute("aria-invalid") === "true";
    this.note.textContent = needsFolder ? t("settings.folderNeeded") : badSuffix ? t("settings.suffixBad") : "";
  }

  async outputChanged() {
    const mode = this.output.value;
    this.renderPlacement();
    if (mode === "folder" && !this.folder.value.trim()) {
      await this.chooseFolder();
      return;
    }
    this.patchSettings({ output: mode, outputFolder: this.folder.value.trim() || null });
  }

  folderChanged() {
    this.renderPlacement();
    const folder = this.folder.value.trim();
    if (this.output.value === "folder" && folder) {
      this.patchSettings({ output: "folder", outputFolder: folder });
    }
  }

  async chooseFolder() {
    let chosen = null;
    try {
      chosen = await this.pickFolder();
    } catch (error) {
      this.onError("settings.folderDialogFailed", error);
    }
    if (chosen) this.folder.value = chosen;
    else this.folder.focus();
    this.folderChanged();
  }

  suffixChanged() {
    const value = this.suffix.value;
    const valid = this.suffixPattern.test(value);
    if (valid) this.suffix.removeAttribute("aria-invalid");
    else this.suffix.setAttribute("aria-invalid", "true");
    this.renderPlacement();
    if (valid) this.patchSettings({ suffix: value });
  }

  async recursiveChanged() {
    const wanted = this.recursive.checked;
    try {
      await this.savePreferences({ recursiveDrops: wanted });
    } catch (error) {
      this.recursive.checked = !wanted;
      this.onError("settings.saveFailed", error);
    }
  }
}

/**
 * The floating Options menu: quality slider and Auto quality, resize mode + size, output format,
 * max size (with its unit) and whether to downscale to reach it.
 *
 * Its controls are built from the contract `get_app_info` serves (`setup`): the slider's bounds,
 * the resize modes and the output formats with their labels; the page has no list of its own.
 *
 * Decisions: the slider runs 1–100 (the SPEC says 0–100, but the backend's quality range is
 * 1–100, so 0 would be refused); the resize size keeps its value when the mode goes back to
 * "Don't resize", so switching modes does not lose what was typed; an empty or out-of-range size
 * is sent as null (no resize) and the field is marked invalid. The menu is a non-modal popover:
 * Escape or the close button closes it and returns focus to the Options button, a click outside
 * or tabbing out closes it too. While Auto quality is on, the slider is disabled and reads
 * "Auto" with the level's score: its number is not used. The max size is typed in KB or MB
 * (1000-based, as the CLI reads them) and sent in bytes; the unit shown for saved settings is MB
 * for whole megabytes, else KB; an empty field is no limit, an invalid one is sent as null and
 * marked invalid. "Downscale when it does not fit" only shows with a max size.
 */

import { formatPercent, t } from "../i18n.js";
import {
  autoQualityChoices,
  byteRange,
  formatId,
  outputChoices,
  pixelRange,
  qualityLabel,
  qualityRange,
  resizeModes,
} from "./contract.js";

// Fill colour of the slider runs from the original's yellow (low) to its green (high).
const LOW_RGB = [215, 187, 33];
const HIGH_RGB = [98, 205, 32];

/** The slider's fill colour at `fraction` (0–1) of its range. */
export function mix(fraction) {
  const [r, g, b] = LOW_RGB.map((low, i) => Math.round(low + (HIGH_RGB[i] - low) * fraction));
  return `rgb(${r}, ${g}, ${b})`;
}

export class OptionsMenu {
  /** @param {{onChange: (settings: object) => void}} options */
  constructor({ onChange }) {
    this.onChange = onChange;
    this.button = document.getElementById("options-button");
    this.menu = document.getElementById("options-menu");
    this.closeButton = document.getElementById("options-close");
    this.slider = document.getElementById("quality-slider");
    this.qualityLabel = document.getElementById("quality-label");
    this.qualityValue = document.getElementById("quality-value");
    this.resizeMode = document.getElementById("resize-mode");
    this.sizeGroup = document.getElementById("resize-size-group");
    this.size = document.getElementById("resize-size");
    this.format = document.getElementById("format-select");
    this.autoQuality = document.getElementById("auto-quality");
    this.maxSize = document.getElementById("max-size");
    this.maxSizeUnit = document.getElementById("max-size-unit");
    this.allowResizeRow = document.getElementById("allow-resize-row");
    this.allowResize = document.getElementById("allow-resize");
    this.disabled = false;
    this.settings = null;
    this.contract = null;
    this.isOpen = false;
    this.bind();
  }

  /** Build the controls from the served contract; call before `setSettings`. */
  setup(contract) {
    this.contract = contract;
    const quality = qualityRange(contract);
    this.slider.min = String(quality.min);
    this.slider.max = String(quality.max);
    this.slider.value = String(quality.initial);
    this.pixels = pixelRange(contract);
    this.size.min = String(this.pixels.min);
    this.size.max = String(this.pixels.max);
    const options = (choices) => choices.map(({ value, label }) => new Option(label, value));
    this.resizeMode.replaceChildren(...options(resizeModes(contract)));
    this.format.replaceChildren(...options(outputChoices(contract)));
    this.autoQuality.replaceChildren(...options(autoQualityChoices(contract)));
    this.bytes = byteRange(contract);
    this.maxSizeUnit.replaceChildren(
      ...this.bytes.units.map(({ value, label }) => new Option(label, String(value))),
    );
  }

  bind() {
    this.button.addEventListener("click", () => (this.isOpen ? this.close(true) : this.open()));
    this.closeButton.addEventListener("click", () => this.close(true));
    this.slider.addEventListener("input", () => {
      this.settings.quality = { ...this.settings.quality, global: Number(this.slider.value) };
      this.renderQuality();
      this.changed();
    });
    this.resizeMode.addEventListener("change", () => {
      this.settings.resize = { ...this.settings.resize, mode: this.resizeMode.value };
      this.renderResize();
      if (this.resizeMode.value !== "none" && !this.size.value) this.size.focus();
      this.changed();
    });
    this.size.addEventListener("input", () => {
      this.settings.resize = { ...this.settings.resize, size: this.readSize() };
      this.changed();
    });
    this.format.addEventListener("change", () => {
      this.settings.outputFormat = this.format.value;
      this.changed();
    });
    this.autoQuality.addEventListener("change", () => {
      this.settings.autoQuality = this.autoQuality.value;
      this.renderQuality();
      this.changed();
    });
    for (const control of [this.maxSize, this.maxSizeUnit]) {
      control.addEventListener(control === this.maxSize ? "input" : "change", () => {
        this.settings.maxSize = this.readMaxSize();
        this.renderMaxSize();
        this.changed();
      });
    }
    this.allowResize.addEventListener("change", () => {
      this.settings.allowResize = this.allowResize.checked;
      this.changed();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen) {
        event.preventDefault();
        this.close(true);
      }
    });
    document.addEventListener("pointerdown", (event) => {
      if (this.isOpen && !this.menu.contains(event.target) && !this.button.contains(event.target)) {
        this.close(false);
      }
    });
    this.menu.addEventListener("focusout", (event) => {
      const next = event.relatedTarget;
      if (this.isOpen && next && !this.menu.contains(next) && next !== this.button) {
        this.close(false);
      }
    });
  }

  /** Show `settings` in the controls (the menu keeps its own copy). */
  setSettings(settings) {
    this.settings = structuredClone(settings);
    this.slider.value = String(this.settings.quality.global);
    this.renderQuality();
    this.resizeMode.value = this.settings.resize.mode ?? "none";
    this.size.value = this.settings.resize.size ?? "";
    this.size.removeAttribute("aria-invalid");
    this.renderResize();
    this.format.value = formatId(this.contract, this.settings.outputFormat);
    this.autoQuality.value = this.settings.autoQuality;
    this.renderQuality();
    this.showMaxSize(this.settings.maxSize);
    this.allowResize.checked = this.settings.allowResize;
    this.renderMaxSize();
  }

  getSettings() {
    return structuredClone(this.settings);
  }

  /** Fields set elsewhere (the settings panel) join the same settings object and its saving. */
  patch(fields) {
    Object.assign(this.settings, fields);
    this.changed();
  }

  open() {
    if (this.button.disabled) return;
    this.isOpen = true;
    this.menu.classList.add("is-open");
    this.button.setAttribute("aria-expanded", "true");
    (this.slider.disabled ? this.autoQuality : this.slider).focus();
  }

  close(returnFocus) {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.menu.classList.remove("is-open");
    this.button.setAttribute("aria-expanded", "false");
    if (returnFocus && !this.button.disabled) this.button.focus();
  }

  /** Options cannot change while a batch runs: the batch was started with the old ones. */
  setDisabled(disabled) {
    if (disabled) this.close(false);
    this.button.disabled = disabled;
    this.disabled = disabled;
    for (const control of [this.resizeMode, this.size, this.format, this.autoQuality,
      this.maxSize, this.maxSizeUnit, this.allowResize]) {
      control.disabled = disabled;
    }
    this.renderQuality();
  }

  renderQuality() {
    if (!this.settings) return;
    const quality = this.settings.quality.global;
    const auto = this.settings.autoQuality !== "off";
    this.slider.disabled = this.disabled || auto;
    const label = auto ? t("options.auto") : qualityLabel(this.contract, quality);
    const score = this.contract.autoQualityTargets[this.settings.autoQuality];
    const value = auto ? `≥ ${score}` : formatPercent(quality);
    this.qualityLabel.textContent = label;
    this.qualityValue.textContent = value;
    this.slider.setAttribute(
      "aria-valuetext",
      auto ? t("options.qualityAuto", { score: value })
        : t("options.qualityValue", { percent: value, label }),
    );
    const min = Number(this.slider.min);
    const fraction = (quality - min) / (Number(this.slider.max) - min);
    this.slider.style.setProperty("--fill", `${fraction * 100}%`);
    this.slider.style.setProperty("--fill-color", mix(fraction));
  }

  renderResize() {
    this.sizeGroup.hidden = this.settings.resize.mode === "none";
  }

  /** Show a byte count in the field: whole megabytes in MB, anything else in KB. */
  showMaxSize(bytes) {
    this.maxSize.removeAttribute("aria-invalid");
    const units = this.bytes.units;
    const unit = bytes && bytes % units.at(-1).value === 0 ? units.at(-1) : units[0];
    this.maxSizeUnit.value = String(unit.value);
    this.maxSize.value = bytes ? String(bytes / unit.value) : "";
  }

  readMaxSize() {
    const raw = this.maxSize.value.trim();
    const bytes = Math.round(Number(raw) * Number(this.maxSizeUnit.value));
    const valid = raw !== "" && Number.isFinite(bytes) && bytes >= this.bytes.min && bytes <= this.bytes.max;
    if (raw !== "" && !valid) this.maxSize.setAttribute("aria-invalid", "true");
    else this.maxSize.removeAttribute("aria-invalid");
    return valid ? bytes : null;
  }

  renderMaxSize() {
    this.allowResizeRow.hidden = this.settings.maxSize === null;
  }

  readSize() {
    const raw = this.size.value.trim();
    const value = Number(raw);
    const valid = raw !== "" && Number.isInteger(value) && value >= this.pixels.min && value <= this.pixels.max;
    if (raw !== "" && !valid) this.size.setAttribute("aria-invalid", "true");
    else this.size.removeAttribute("aria-invalid");
    return valid ? value : null;
  }

  changed() {
    this.onChange(this.getSettings());
  }
}

/**
 * The floating Options menu: quality slider, resize mode + size, output format.
 *
 * Its controls are built from the contract `get_app_info` serves (`setup`): the slider's bounds,
 * the resize modes and the output formats with their labels; the page has no list of its own.
 *
 * Decisions: the slider runs 1–100 (the SPEC says 0–100, but the backend's quality range is
 * 1–100, so 0 would be refused); the resize size keeps its value when the mode goes back to
 * "Don't resize", so switching modes does not lose what was typed; an empty or out-of-range size
 * is sent as null (no resize) and the field is marked invalid. The menu is a non-modal popover:
 * Escape or the close button closes it and returns focus to the Options button, a click outside
 * or tabbing out closes it too.
 */

import {
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

function mix(t) {
  const [r, g, b] = LOW_RGB.map((low, i) => Math.round(low + (HIGH_RGB[i] - low) * t));
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
    this.slider.focus();
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
    for (const control of [this.slider, this.resizeMode, this.size, this.format]) {
      control.disabled = disabled;
    }
  }

  renderQuality() {
    const quality = this.settings.quality.global;
    const label = qualityLabel(this.contract, quality);
    this.qualityLabel.textContent = label;
    this.qualityValue.textContent = `${quality}%`;
    this.slider.setAttribute("aria-valuetext", `${quality}%, ${label}`);
    const min = Number(this.slider.min);
    const t = (quality - min) / (Number(this.slider.max) - min);
    this.slider.style.setProperty("--fill", `${t * 100}%`);
    this.slider.style.setProperty("--fill-color", mix(t));
  }

  renderResize() {
    this.sizeGroup.hidden = this.settings.resize.mode === "none";
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

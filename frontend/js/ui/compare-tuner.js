/**
 * The compare view's re-tune controls for one image: quality, Auto quality, output format and
 * resize, built from the served contract (as the Options menu is; the page keeps no list).
 *
 * It edits a copy of the batch's settings: every other field (metadata, colour profile, max
 * size, placement…) stays as the batch had it. Moving the quality sets the global quality and
 * drops per-format overrides, so the number shown is the number used.
 */

import {
  autoQualityChoices,
  formatId,
  outputChoices,
  pixelRange,
  qualityLabel,
  qualityRange,
  resizeModes,
} from "./contract.js";
import { applyStatic, formatPercent, onLanguageChange, t } from "../i18n.js";
import { mix } from "./options-menu.js";


function control(tag, className, attributes) {
  const node = document.createElement(tag);
  node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function row(key, forId, ...controls) {
  const wrap = document.createElement("div");
  wrap.className = "compare__row";
  const label = document.createElement("label");
  label.className = "label-caps";
  label.htmlFor = forId;
  label.dataset.i18n = key; // filled by label(), and again on a language switch
  const right = document.createElement("span");
  right.className = "compare__controls";
  right.append(...controls);
  wrap.append(label, right);
  return wrap;
}

export class CompareTuner {
  /** @param {{contract: object, onChange: (settings: object) => void}} options */
  constructor({ contract, onChange }) {
    this.contract = contract;
    this.onChange = onChange;
    this.settings = null;
    const range = qualityRange(contract);
    this.slider = control("input", "slider", {
      type: "range", id: "compare-quality", min: String(range.min), max: String(range.max),
      step: "1", "data-testid": "compare-quality",
    });
    this.value = control("output", "compare__value", { for: "compare-quality",
      "data-testid": "compare-quality-value" });
    this.auto = control("select", "select", { id: "compare-auto", "data-testid": "compare-auto" });
    this.format = control("select", "select", { id: "compare-format",
      "data-testid": "compare-format" });
    this.mode = control("select", "select", { id: "compare-resize",
      "data-testid": "compare-resize" });
    this.pixels = pixelRange(contract);
    this.size = control("input", "number", {
      type: "number", id: "compare-size", min: String(this.pixels.min),
      max: String(this.pixels.max), step: "1", inputmode: "numeric", "data-i18n-placeholder": "unit.px",
      "data-i18n-aria-label": "options.sizeLabel", "data-testid": "compare-size-input",
    });
    const qualityRow = row("options.quality", "compare-quality", this.value);
    this.root = document.createElement("div");
    this.root.className = "compare__tuner";
    this.root.append(
      qualityRow, this.slider,
      row("options.autoQuality", "compare-auto", this.auto),
      row("options.convert", "compare-format", this.format),
      row("options.resize", "compare-resize", this.size, this.mode),
    );
    this.bind();
    this.label();
    onLanguageChange(() => this.label());
  }

  /** The labels and the choices' words in the current language; the chosen values stay. */
  label() {
    const fill = (select, choices) => {
      const value = select.value;
      select.replaceChildren(...choices.map((c) => new Option(c.label, c.value)));
      if (value) select.value = value;
    };
    fill(this.auto, autoQualityChoices(this.contract));
    fill(this.format, outputChoices(this.contract));
    fill(this.mode, resizeModes(this.contract));
    applyStatic(this.root);
    if (this.settings) this.render(this.auto.disabled);
  }

  bind() {
    this.slider.addEventListener("input", () => {
      this.settings.quality = { global: Number(this.slider.value) };
      this.changed();
    });
    this.auto.addEventListener("change", () => {
      this.settings.autoQuality = this.auto.value;
      this.changed();
    });
    this.format.addEventListener("change", () => {
      this.settings.outputFormat = this.format.value;
      this.changed();
    });
    this.mode.addEventListener("change", () => {
      this.settings.resize = { ...this.settings.resize, mode: this.mode.value };
      if (this.mode.value !== "none" && !this.size.value) this.size.focus();
      this.changed();
    });
    this.size.addEventListener("input", () => {
      this.settings.resize = { ...this.settings.resize, size: this.readSize() };
      this.changed();
    });
  }

  /** Show (a copy of) `settings`; nothing is sent. */
  set(settings) {
    this.settings = structuredClone(settings);
    const { quality, resize } = this.settings;
    const format = this.contract.formats.find((f) => f.id === formatId(this.contract,
      this.settings.outputFormat));
    // The number that applies: a per-format override wins over the global one.
    const used = (format && quality[format.id]) ?? quality.global;
    this.slider.value = String(used);
    this.auto.value = this.settings.autoQuality;
    this.format.value = formatId(this.contract, this.settings.outputFormat);
    this.mode.value = resize.mode ?? "none";
    this.size.value = resize.size ?? "";
    this.render();
  }

  get() {
    return structuredClone(this.settings);
  }

  /** The fields this view tunes, for "Apply to all". */
  tunedFields() {
    const { quality, autoQuality, outputFormat, resize } = this.get();
    return { quality, autoQuality, outputFormat, resize };
  }

  setDisabled(disabled) {
    for (const node of [this.auto, this.format, this.mode, this.size]) node.disabled = disabled;
    this.render(disabled);
  }

  render(disabled = false) {
    const auto = this.settings.autoQuality !== "off";
    const quality = Number(this.slider.value);
    this.slider.disabled = disabled || auto;
    // The band's word and the number, as two texts: "Near-lossless 90%".
    this.value.replaceChildren(...(auto
      ? [t("tuner.autoValue", { target: this.contract.autoQualityTargets[this.settings.autoQuality] })]
      : [qualityLabel(this.contract, quality), " ", formatPercent(quality)]));
    const min = Number(this.slider.min);
    const fraction = (quality - min) / (Number(this.slider.max) - min);
    this.slider.style.setProperty("--fill", `${fraction * 100}%`);
    this.slider.style.setProperty("--fill-color", mix(fraction));
    this.size.hidden = this.mode.value === "none";
  }

  readSize() {
    const raw = this.size.value.trim();
    const value = Number(raw);
    const valid = raw !== "" && Number.isInteger(value) && value >= this.pixels.min
      && value <= this.pixels.max;
    if (raw !== "" && !valid) this.size.setAttribute("aria-invalid", "true");
    else this.size.removeAttribute("aria-invalid");
    return valid ? value : null;
  }

  changed() {
    this.render();
    this.onChange(this.get());
  }
}

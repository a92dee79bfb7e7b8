/**
 * Reads what `get_app_info` serves as `contract` (the ImageSettings JSON Schema, the format
 * registry, the labels), so the page keeps no copy of limits, defaults or option lists.
 * Pure functions: `e2e/test_contract.py` checks, in Chromium, that the controls built from them
 * equal what Python declares.
 *
 * Labels: the backend serves English words (the CLI and API use them); the page shows each by its
 * key from the catalogue (`resize.<mode>`, `choice.<field>.<value>`, `quality.<band minimum>`,
 * `unit.<unit>`, `format.original`); tests/test_i18n_catalogues.py checks that `en` has every
 * served word under its key, word for word.
 */

import { t } from "../i18n.js";

/** The schema of a `$defs` entry's property (through a nullable `anyOf`). */
function property(contract, struct, name) {
  const schema = contract.settingsSchema.$defs[struct].properties[name];
  return schema.anyOf ? schema.anyOf.find((option) => option.type !== "null") : schema;
}

/** `{min, max, initial}` of the global quality. */
export function qualityRange(contract) {
  const global = property(contract, "QualitySettings", "global");
  return { min: global.minimum, max: global.maximum, initial: global.default };
}

/** `{min, max}` of a resize size in pixels. */
export function pixelRange(contract) {
  const size = property(contract, "ResizeSettings", "size");
  return { min: size.minimum, max: size.maximum };
}

/** Resize modes as `{value, label}`, in the labels' order (the schema's enum is sorted). */
export function resizeModes(contract) {
  const modes = new Set(property(contract, "ResizeSettings", "mode").enum);
  return Object.entries(contract.resizeModeLabels)
    .filter(([value]) => modes.has(value))
    .map(([value]) => ({ value, label: t(`resize.${value}`) }));
}

/**
 * "Convert to" choices as `{value, label}`: Original, then each output format in registry order.
 * Names are shown in capitals, as the original's menu did ("WEBP").
 */
export function outputChoices(contract) {
  const accepted = new Set(property(contract, "ImageSettings", "outputFormat").enum);
  const formats = contract.formats.filter((format) => format.output && accepted.has(format.id));
  return [
    { value: "original", label: t("format.original") },
    ...formats.map((format) => ({ value: format.id, label: format.label.toUpperCase() })),
  ];
}

/** The id a wire name stands for (`jpg` → `jpeg`), so the menu shows an alias as its format. */
export function formatId(contract, name) {
  const found = contract.formats.find((format) => format.aliases.includes(name));
  return found ? found.id : name;
}

/** The Options menu's word for a quality ("Near-lossless" from 90). */
export function qualityLabel(contract, quality) {
  const band = contract.qualityBands.find(([min]) => quality >= min);
  return t(`quality.${(band ?? contract.qualityBands.at(-1))[0]}`);
}

/**
 * Auto quality's choices as `{value, label}`: "Off", then each level with the SSIMULACRA2 score
 * it asks for ("High (85)").
 */
export function autoQualityChoices(contract) {
  return settingChoices(contract, "autoQuality").map(({ value, label }) => {
    const target = contract.autoQualityTargets[value];
    return { value, label: target === undefined ? label : t("options.autoLevel", { label, target }) };
  });
}

/** `{min, max}` of maxSize in bytes, and its units as `{value: bytes, label}`, smallest first. */
export function byteRange(contract) {
  const size = property(contract, "ImageSettings", "maxSize");
  const units = Object.entries(contract.byteUnits).map(([unit, bytes]) => ({ value: bytes, label: t(`unit.${unit}`) }));
  return { min: size.minimum, max: size.maximum, units };
}

/** Accept-list for the browser's file picker: every extension and MIME type we read. */
export function acceptList(contract) {
  return contract.formats.flatMap((format) => [format.mime, ...format.extensions]).join(",");
}

/**
 * Choices of an enum setting of ImageSettings (`output`, `metadata`, `icc`, `chroma`) as
 * `{value, label}`, in the labels' order, limited to what the schema accepts.
 */
export function settingChoices(contract, field) {
  const accepted = new Set(property(contract, "ImageSettings", field).enum);
  return Object.entries(contract.choiceLabels[field])
    .filter(([value]) => accepted.has(value))
    .map(([value]) => ({ value, label: t(`choice.${field}.${value}`) }));
}

/** `{min, max, pattern}` of a string setting (`suffix`). */
export function textLength(contract, field) {
  const schema = property(contract, "ImageSettings", field);
  return { min: schema.minLength, max: schema.maxLength, pattern: schema.pattern };
}

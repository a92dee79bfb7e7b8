/**
 * The page's words: one JSON catalogue per language in frontend/i18n/, and `t(key, params)`.
 *
 * Decisions:
 * - Catalogues are plain JSON (no build step; the wheel ships frontend/ whole). `en` is the
 *   reference: every other catalogue has exactly its keys and placeholders
 *   (tests/test_i18n_catalogues.py), and a key missing at run time falls back to English.
 * - A value is a string with `{name}` placeholders, or, for counted phrases, an object of
 *   `Intl.PluralRules` categories (one/few/many/other) chosen by `params.count`.
 * - Numbers in params are formatted with `Intl.NumberFormat` for the language ("1,5" in German);
 *   sizes, percentages and durations have their own formatters below, so a template takes them
 *   as ready-made text ("{size} saved") and word order stays the catalogue's.
 * - The language is the saved preference, else the first of navigator.languages we have, else
 *   English. Language names in the picker are endonyms (each in its own language), as is usual.
 * - Static markup carries `data-i18n` (text), `data-i18n-aria-label`, `data-i18n-title` and
 *   `data-i18n-placeholder`; `applyStatic` fills them, and listeners redraw dynamic text on a
 *   switch, so a change is live without a reload. `<html lang>` follows the language.
 */

export const LANGUAGES = {
  en: "English",
  nl: "Nederlands",
  de: "Deutsch",
  fr: "Français",
  es: "Español",
  ru: "Русский",
};

const catalogues = {};
const listeners = new Set();
let current = "en";

/** The first of the person's preferred languages that we have a catalogue for, else "en". */
export function pickLanguage(preferred) {
  for (const tag of preferred ?? []) {
    const code = String(tag).toLowerCase().split(/[-_]/)[0];
    if (code in LANGUAGES) return code;
  }
  return "en";
}

/** The language to start in: `saved` (a preference) or the browser's list. */
export function initialLanguage(saved) {
  if (saved && saved in LANGUAGES) return saved;
  return pickLanguage(navigator.languages?.length ? navigator.languages : [navigator.language]);
}

async function load(code) {
  if (!catalogues[code]) {
    const response = await fetch(new URL(`../i18n/${code}.json`, import.meta.url));
    if (!response.ok) throw new Error(`catalogue ${code}: HTTP ${response.status}`);
    catalogues[code] = await response.json();
  }
  return catalogues[code];
}

export function language() {
  return current;
}

/** Switch to `code`: loads its catalogue, sets `<html lang>`, refills the page, tells listeners. */
export async function setLanguage(code) {
  await load("en");
  const next = code in LANGUAGES ? code : "en";
  await load(next);
  current = next;
  document.documentElement.lang = next;
  document.title = t("app.title");
  applyStatic(document);
  for (const listener of listeners) listener(next);
}

/** Call `listener(code)` after every switch (modules redraw their dynamic text). */
export function onLanguageChange(listener) {
  listeners.add(listener);
}

function formatParam(value) {
  return typeof value === "number" ? new Intl.NumberFormat(current).format(value) : String(value);
}

/** Whether the catalogue has `key` (an error kind the page has words for). */
export function has(key) {
  return key in (catalogues.en ?? {});
}

/** The text for `key` in the current language, `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  let value = catalogues[current]?.[key] ?? catalogues.en?.[key];
  if (value === undefined) return key;
  if (typeof value === "object") {
    const category = new Intl.PluralRules(current).select(params.count ?? 0);
    value = value[category] ?? value.other;
  }
  return value.replace(/\{(\w+)\}/g, (whole, name) =>
    name in params ? formatParam(params[name]) : whole,
  );
}

const ATTRIBUTES = ["aria-label", "title", "placeholder"];

/** Fill every `data-i18n*` element under `root` from the catalogue. */
export function applyStatic(root) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const attribute of ATTRIBUTES) {
    for (const element of root.querySelectorAll(`[data-i18n-${attribute}]`)) {
      element.setAttribute(attribute, t(element.getAttribute(`data-i18n-${attribute}`)));
    }
  }
}

const SIZE_UNITS = ["KB", "MB", "GB"];

function decimal(value, digits) {
  return new Intl.NumberFormat(current, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);
}

/**
 * "12,35 KB", "1,50 MB", "512 Б": 1024-based with two decimals above bytes, as Python's
 * `backend/human_bytes.py` writes them (in English the two agree, e2e/test_contract.py); the
 * unit symbols are the catalogue's ("Ko" in French, "МБ" in Russian).
 */
export function formatSize(bytes) {
  const count = Number(bytes) || 0;
  const sign = count < 0 ? "-" : "";
  let size = Math.abs(count);
  if (size < 1024) return `${sign}${decimal(size, 0)} ${t("unit.B")}`;
  size /= 1024;
  let index = 0;
  while (size >= 1024 && index < SIZE_UNITS.length - 1) {
    size /= 1024;
    index += 1;
  }
  return `${sign}${decimal(size, 2)} ${t(`unit.${SIZE_UNITS[index]}`)}`;
}

/** A whole-number percentage in the language's way: "42%", "42 %". */
export function formatPercent(value, digits = 0) {
  return new Intl.NumberFormat(current, {
    style: "percent",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value / 100);
}

/** A number with fixed decimals ("85,1"). */
export function formatDecimal(value, digits) {
  return new Intl.NumberFormat(current, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

function unit(value, name, digits) {
  return new Intl.NumberFormat(current, {
    style: "unit",
    unit: name,
    unitDisplay: "narrow",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** "6.9s" below a minute, "2m 5.0s" above, as the original showed it; "6,9 с" in Russian. */
export function formatDuration(seconds) {
  const s = Math.max(0, Number(seconds) || 0);
  if (s < 60) return unit(s, "second", 1);
  return `${unit(Math.floor(s / 60), "minute", 0)} ${unit(s % 60, "second", 1)}`;
}

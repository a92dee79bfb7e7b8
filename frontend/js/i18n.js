/**
 * The page's words: one JSON catalogue per language in frontend/i18n/, and `t(key, params)`.
 *
 * Decisions:
 * - Catalogues are plain JSON (no build step; the wheel ships frontend/ whole). `en` is the
 *   reference: every other catalogue has exactly its keys and placeholders
 *   (tests/test_i18n_catalogues.py), and a key missing at run time falls back to English.
 * - A value is a string with `{name}` placeholders, or, for counted phrases, an object of
 *   `Intl.PluralRules` categories (one/few/many/other) chosen by `params.count`.
 * - Numbers in params are formatted with `Intl.NumberFormat` for the language ("1,5" in German).
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

/**
 * The settings panel's language choice: switches the page live and saves it as a preference.
 *
 * The names are endonyms ("Deutsch", "Русский"), so each reads to the person who needs it
 * whatever the current language. A save that fails keeps the switch for this session and says so.
 */

import { language, LANGUAGES, setLanguage } from "../i18n.js";

export class LanguageSelect {
  /**
   * @param {{
   *   savePreferences: (patch: object) => Promise<unknown>,
   *   onError: (key: string, error: unknown) => void,
   * }} options
   */
  constructor({ savePreferences, onError }) {
    this.select = document.getElementById("language-select");
    this.select.replaceChildren(
      ...Object.entries(LANGUAGES).map(([code, name]) => {
        const option = new Option(name, code);
        option.lang = code;
        option.translate = false; // an endonym: the same in every language
        return option;
      }),
    );
    this.select.value = language();
    this.select.addEventListener("change", async () => {
      const code = this.select.value;
      await setLanguage(code);
      try {
        await savePreferences({ language: code });
      } catch (error) {
        onError("settings.saveFailed", error);
      }
    });
  }
}

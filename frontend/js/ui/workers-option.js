/**
 * The Workers row of the Options menu: how many worker processes optimize images at once.
 *
 * It is an app preference (`load_preferences` / `save_preferences`), not part of the images'
 * settings, so it is saved at once on change rather than with the debounced ImageSettings. The
 * backend resizes the running pool. Choices: Auto (one per CPU, the default) and 1 up to twice
 * the CPU count (at least 4), capped by what the machine accepts; a saved value above that range
 * stays selectable. A refused save puts the previous choice back and says why.
 */

import { onLanguageChange, t } from "../i18n.js";

const AUTO = "";

export class WorkersOption {
  /** @param {{save: (workers: number|null) => Promise<unknown>, onError: (e: unknown) => void}} o */
  constructor({ save, onError }) {
    this.save = save;
    this.onError = onError;
    this.select = document.getElementById("workers-select");
    this.value = AUTO;
    this.available = false; // until setup() has the machine's numbers
    this.busy = false;
    this.select.disabled = true;
    this.select.addEventListener("change", () => this.changed());
    onLanguageChange(() => this.label());
  }

  /** Auto's and the tooltip's words (the counts are numbers). */
  label() {
    if (!this.info) return;
    const { cpuCount, maxWorkers } = this.info;
    this.select.options[0].textContent = t("workers.auto", { count: Math.min(cpuCount, maxWorkers) });
    this.select.title = t("workers.cpus", { count: cpuCount });
  }

  /** Fill the choices from `get_app_info` and show the saved preference. */
  setup(info, preferences) {
    const saved = preferences?.workers ?? null;
    const top = Math.min(info.maxWorkers, Math.max(4, 2 * info.cpuCount));
    const counts = Array.from({ length: top }, (_, i) => i + 1);
    if (saved !== null && !counts.includes(saved)) counts.push(saved);
    this.info = info;
    const auto = new Option("", AUTO);
    this.select.replaceChildren(auto, ...counts.map((n) => new Option(String(n), String(n))));
    this.value = saved === null ? AUTO : String(saved);
    this.select.value = this.value;
    this.label();
    this.available = true;
    this.render();
  }

  /** Disabled while a batch runs (setup may arrive before or after that). */
  setDisabled(busy) {
    this.busy = busy;
    this.render();
  }

  render() {
    this.select.disabled = this.busy || !this.available;
  }

  async changed() {
    const previous = this.value;
    const next = this.select.value;
    this.value = next;
    try {
      await this.save(next === AUTO ? null : Number(next));
    } catch (error) {
      this.value = previous;
      this.select.value = previous;
      this.onError(error);
    }
  }
}

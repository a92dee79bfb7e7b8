/**
 * Entry point: wires the UI parts to the bridge and runs one batch at a time.
 *
 * Flow: files dropped or picked → `prepareFiles` (desktop: full paths; browser: upload) → a toast
 * for skipped files → `optimize_images` with the current options while progress events drive
 * the arc → the results list from the returned OptimizationResults → "Optimization complete" for
 * 3 s → fade back to the drop zone (1.2 s), as the original did. The results list stays.
 *
 * States (`.app[data-state]`): idle → preparing → working → done → fading → idle.
 * Decisions: a new batch may start as soon as the previous one returned (during "done"/"fading"),
 * not only after the fade; drops while a batch runs are refused with a toast rather than queued;
 * an error that refuses the whole batch (bad payload, pool down) is a red toast and the window
 * returns to the drop zone; the page marks itself `data-ready="true"` once the bridge, the saved
 * options and the progress listener are in place.
 * An error toast says, in the page's language, what failed and what kind of error it was (the
 * `kind` of the bridge's error); Python's own message follows as data, in English.
 */

import {
  canDownload,
  downloadAll,
  downloadFile,
  invoke,
  listen,
  pickFiles,
  pickFolder,
  prepareFiles,
  ready,
} from "./bridge.js";
import { has, initialLanguage, onLanguageChange, setLanguage, t } from "./i18n.js";
import { ChangelogSection } from "./ui/changelog.js";
import { BatchConfirm, needsConfirm } from "./ui/batch-confirm.js";
import { Dropzone } from "./ui/dropzone.js";
import { skippedDetail } from "./ui/format.js";
import { LanguageSelect } from "./ui/language-select.js";
import { OptionsMenu } from "./ui/options-menu.js";
import { announcement, ProgressArc } from "./ui/progress-arc.js";
import { ProgressTracker } from "./ui/progress-tracker.js";
import { ResultsList } from "./ui/results-list.js";
import { CompareView } from "./ui/compare-view.js";
import { placementHint, SettingsPanel } from "./ui/settings-panel.js";
import { acceptList } from "./ui/contract.js";
import { SettingsSaver } from "./ui/settings.js";
import { Toaster } from "./ui/toast.js";
import { WatchPanel } from "./ui/watch-panel.js";
import { WorkersOption } from "./ui/workers-option.js";

const PROGRESS_EVENT = "image_optimization_progress";
const DONE_MS = 3000;
const FADE_MS = 1200;
class App {
  constructor(toaster) {
    this.toaster = toaster;
    this.root = document.getElementById("app");
    this.stage = document.getElementById("stage");
    this.statusText = document.getElementById("status-text");
    this.cancelButton = document.getElementById("cancel-button");
    this.state = "idle";
    this.timers = [];
    this.cancelRequested = false;

    const arc = new ProgressArc();
    this.tracker = new ProgressTracker((snapshot) => arc.render(snapshot));
    this.saver = new SettingsSaver(
      (settings) => invoke("save_settings", { settings }),
      (error) => this.showError("error.saveOptions", error),
    );
    this.menu = new OptionsMenu({
      onChange: (settings) => {
        this.saver.schedule(settings);
        this.showPlacement(settings);
      },
    });
    // App preferences are saved whole: each control patches its field into this object.
    this.preferences = { workers: null, recursiveDrops: true };
    this.workers = new WorkersOption({
      save: (workers) => this.savePreferences({ workers }),
      onError: (error) => this.showError("error.workers", error),
    });
    this.panel = new SettingsPanel({
      patchSettings: (fields) => this.menu.patch(fields),
      savePreferences: (fields) => this.savePreferences(fields),
      pickFolder: () => pickFolder(),
      onError: (key, error) => this.showError(key, error),
    });
    this.watch = new WatchPanel({
      invoke,
      getSettings: () => this.menu.getSettings(),
      pickFolder: canDownload() ? null : () => pickFolder(),
      onError: (key, error) => this.showError(key, error),
    });
    this.results = new ResultsList({
      canDownload: canDownload(),
      onDownload: (path) => downloadFile(path).catch((e) => this.showError("error.download", e)),
      onDownloadAll: (paths) =>
        downloadAll(paths).catch((e) => this.showError("error.download", e)),
      onRevert: (batch) => this.revert(batch),
      onOpen: (result) => this.compare?.open(result, this.lastBatch?.settings ?? this.menu.getSettings()),
    });
    this.lastBatch = null; // {paths, roots, settings} of the batch the results list shows
    this.dropzone = new Dropzone({
      onFiles: (files) => this.run(files),
      onPick: () => this.pick(),
      isBusy: () => this.isBusy(),
      onBusy: () => this.toaster.show(t("app.busy")),
    });
    if (canDownload()) this.dropzone.setDefaultHint(t("placement.browser"));
    this.language = new LanguageSelect({
      savePreferences: (fields) => this.savePreferences(fields),
      onError: (key, error) => this.showError(key, error),
    });
    this.confirm = new BatchConfirm();
    this.cancelButton.addEventListener("click", () => this.cancel());
    // A pending option change is saved before the page goes away (reload, close, hide).
    window.addEventListener("pagehide", () => this.saver.flush());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.saver.flush();
    });
  }

  /** `info` is `get_app_info`'s answer: the Options controls are built from its contract. */
  async start(info) {
    document.getElementById("app-version").textContent = `v${info.version}`;
    this.changelog = new ChangelogSection(info.version);
    this.menu.setup(info.contract);
    this.compare = new CompareView({
      contract: info.contract,
      invoke,
      onSaved: (result) => this.results.update(result),
      onApplyAll: (fields) => this.applyToAll(fields),
      onClosed: (path) => this.results.focusRow(path),
    });
    this.panel.setup(info.contract, info.shell);
    this.dropzone.setAccept(acceptList(info.contract));
    onLanguageChange(() => this.relabel(info));
    let settings = info.contract.defaults;
    try {
      settings = await invoke("load_settings");
    } catch (error) {
      this.showError("error.loadOptions", error);
    }
    this.menu.setSettings(settings);
    this.panel.setSettings(settings);
    this.showPlacement(settings);
    await listen(PROGRESS_EVENT, ({ payload }) => {
      // A watched folder's batch has its own events: they must not move this batch's arc.
      if (this.state === "working" && payload.source !== "watch") this.tracker.onEvent(payload);
    });
    // Not awaited: the window is usable before the Workers choice arrives.
    this.loadPreferences(info);
    this.watch.start();
    this.setState("idle");
    this.root.dataset.ready = "true";
  }

  async loadPreferences(info) {
    try {
      this.preferences = await invoke("load_preferences");
      this.workers.setup(info, this.preferences);
      this.panel.setPreferences(this.preferences);
    } catch (error) {
      // The window still works on the default pool; only the Workers choice is unavailable.
      this.showError("error.loadPreferences", error);
    }
  }

  /** After a language switch: rebuild the contract's choices in the new words, keeping values. */
  relabel(info) {
    this.menu.setup(info.contract);
    this.panel.setup(info.contract, info.shell);
    const settings = this.menu.settings;
    if (settings) {
      this.menu.setSettings(settings);
      this.panel.setSettings(settings);
      this.showPlacement(settings);
    }
    if (canDownload()) this.dropzone.setDefaultHint(t("placement.browser"));
    if (this.words) this.statusText.textContent = this.words();
  }

  showPlacement(settings) {
    if (!canDownload()) this.dropzone.setDefaultHint(placementHint(settings));
  }

  async savePreferences(fields) {
    const next = { ...this.preferences, ...fields };
    this.preferences = await invoke("save_preferences", { preferences: next });
    return this.preferences;
  }

  isBusy() {
    return this.state === "preparing" || this.state === "working";
  }

  setState(next) {
    this.state = next;
    this.root.dataset.state = next;
    const busy = this.isBusy();
    this.stage.setAttribute("aria-busy", String(busy));
    this.menu.setDisabled(busy);
    this.panel.setDisabled(busy);
    this.workers.setDisabled(busy);
    this.dropzone.setEnabled(next !== "working");
    if (!busy && document.activeElement === this.cancelButton) this.dropzone.zone.focus();
  }

  /** `words()` gives the status line; it is called again after a language switch. */
  announce(words) {
    this.words = words;
    this.statusText.textContent = words();
  }

  /** `key`: the catalogue's words for what failed; the error's kind and detail follow. */
  showError(key, error) {
    showError(this.toaster, key, error);
  }

  clearTimers() {
    this.timers.forEach(clearTimeout);
    this.timers = [];
  }

  async pick() {
    try {
      const picked = await pickFiles({
        recursive: this.preferences.recursiveDrops,
        settings: this.menu.getSettings(),
      });
      if (picked === null) this.dropzone.openFileInput();
      else await this.optimize(picked);
    } catch (error) {
      this.showError("error.picker", error);
    }
  }

  async run(files) {
    if (this.isBusy()) return;
    this.clearTimers();
    this.setState("preparing");
    const verb = canDownload() ? "app.uploading" : "app.reading";
    this.dropzone.setHint(t(verb, { count: files.length }));
    let prepared;
    try {
      prepared = await prepareFiles(files, {
        recursive: this.preferences.recursiveDrops,
        settings: this.menu.getSettings(),
      });
    } catch (error) {
      this.showError("error.readFiles", error);
      this.setState("idle");
      return;
    } finally {
      this.dropzone.setHint(null);
    }
    await this.optimize(prepared);
  }

  async optimize(prepared) {
    const { paths = [], skipped = [], roots = null, folders = 0 } = prepared;
    if (skipped.length) {
      this.toaster.show(t("app.skipped", { count: skipped.length }), "warning", skippedDetail(skipped));
    }
    if (!paths.length) {
      if (this.state === "preparing") this.setState("idle");
      return;
    }
    const settings = this.menu.getSettings();
    if (needsConfirm(prepared)) {
      // Still "preparing" while asking: drops are refused and the options stay as they are.
      this.setState("preparing");
      const go = await this.confirm.ask(prepared, placementHint(settings));
      if (!go) {
        this.announce(() => t("app.nothingOptimized"));
        this.setState("idle");
        return;
      }
    }
    this.clearTimers();
    this.lastBatch = { paths, roots, settings };
    this.cancelRequested = false;
    this.cancelButton.disabled = false;
    this.cancelButton.textContent = t("app.cancel");
    this.tracker.start(paths.length);
    this.setState("working");
    this.announce(() => (folders
      ? t("app.optimizingFound", {
        images: t("app.foundImages", { count: paths.length }),
        folders: t("app.foundFolders", { count: folders }),
      })
      : t("app.optimizing", { count: paths.length })));

    let batch;
    try {
      const tasks = paths.map((path) => ({ input_path: path, output_path: null, settings }));
      batch = await invoke("optimize_images", { tasks, roots });
    } catch (error) {
      this.tracker.stop();
      this.showError("error.optimize", error);
      this.announce(() => t("progress.failed"));
      this.setState("idle");
      return;
    }
    const final = this.tracker.finish(batch);
    this.results.render(batch);
    this.setState("done");
    this.announce(() => announcement(final));
    this.fadeBackLater();
  }

  /** The compare view's "Apply to all": its options become the Options, the batch runs again. */
  async applyToAll(fields) {
    if (this.isBusy() || !this.lastBatch) return;
    this.menu.setSettings({ ...this.menu.getSettings(), ...fields });
    this.menu.changed();
    await this.optimize({ paths: this.lastBatch.paths, roots: this.lastBatch.roots });
  }

  fadeBackLater() {
    this.timers.push(
      setTimeout(() => {
        this.setState("fading");
        this.timers.push(setTimeout(() => this.setState("idle"), FADE_MS));
      }, DONE_MS),
    );
  }

  async revert(batch) {
    try {
      const report = await invoke("revert_batch", { batch });
      const restored = t("app.restored", { count: report.restored.length });
      if (report.failed.length) {
        const first = report.failed[0];
        this.toaster.show([restored, t("app.notRestored", { name: first.path })], "error", first.error);
      } else {
        this.toaster.show(restored);
      }
      return report;
    } catch (error) {
      this.showError("error.revert", error);
      throw error;
    }
  }

  async cancel() {
    if (this.state !== "working" || this.cancelRequested) return;
    this.cancelRequested = true;
    this.cancelButton.disabled = true;
    this.cancelButton.textContent = t("app.cancelling");
    this.announce(() => t("app.cancelling"));
    try {
      await invoke("cancel_optimization");
    } catch (error) {
      this.cancelRequested = false;
      this.cancelButton.disabled = false;
      this.cancelButton.textContent = t("app.cancel");
      this.showError("error.cancel", error);
    }
  }
}

/** An error toast: what failed (`key`), the kind of error, then Python's detail as data. */
function showError(toaster, key, error) {
  const kind = has(`kind.${error?.kind}`) ? error.kind : "internal";
  toaster.show([t(key), t(`kind.${kind}`)], "error", String(error?.message ?? error));
}

async function main() {
  const toaster = new Toaster();
  let shell;
  try {
    shell = await ready();
  } catch (error) {
    // No catalogue is loaded yet: the English one is fetched for this toast.
    await setLanguage(initialLanguage(null)).catch(() => {});
    showError(toaster, "error.unreachable", error);
    return;
  }
  document.body.dataset.shell = shell;
  // The saved language first, so the window opens in it; without one, the browser's/system's.
  let saved = null;
  try {
    saved = (await invoke("load_preferences")).language;
  } catch {
    // App.loadPreferences reports an unreadable store; the locale decides meanwhile.
  }
  try {
    await setLanguage(initialLanguage(saved));
  } catch (error) {
    // Without a catalogue there are no words to translate with: this one stays English.
    toaster.show("Cannot load the page's words", "error", String(error?.message ?? error));
    return;
  }
  let info;
  try {
    info = await invoke("get_app_info");
  } catch (error) {
    showError(toaster, "error.appInfo", error);
    return;
  }
  await new App(toaster).start(info);
}

main();

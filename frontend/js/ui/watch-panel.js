/**
 * Watch folders, a section of the settings panel: the folders watched while the app runs, with
 * their state and counts, a form to add one, and the last files the watch handled.
 *
 * A folder is added with the Options menu's settings at that moment (the backend keeps that
 * copy: changing Options later does not change a watched folder) and "with sub-folders" as
 * ticked. The status is polled with `get_watch_status`: every 1.5 s while the panel is open,
 * every 5 s otherwise, only to keep the title bar's one-line summary ("Watching 2 folders ·
 * 14 optimized") current, so new files are noticed without a toast or a focus change. In the
 * browser the folder is typed (there is no folder dialog); on the desktop "Choose…" opens one.
 * Words are the catalogue's (redrawn on a language switch); the backend's messages and errors
 * are shown as data, in English.
 */

import { formatPercent, formatSize, has, onLanguageChange, t } from "../i18n.js";
import { percentOf } from "./format.js";

function counts(f) {
  const parts = [t("watch.optimized", { count: f.optimized })];
  if (f.failed) parts.push(t("progress.failedCount", { count: f.failed }));
  if (f.waiting + f.working) parts.push(t("watch.inProgress", { count: f.waiting + f.working }));
  if (f.savedBytes) parts.push(t("watch.saved", { size: formatSize(f.savedBytes) }));
  return parts.join(" · ");
}

/** Python's words (why a folder is missing, why a file failed), shown as they are. */
function data(className, text) {
  const node = document.createElement("span");
  node.className = className;
  node.lang = "en";
  node.translate = false;
  node.textContent = text;
  return node;
}

const OPEN_POLL_MS = 1500;
const IDLE_POLL_MS = 5000;
const RECENT_SHOWN = 8;

export class WatchPanel {
  /**
   * @param {{invoke: (command: string, args?: object) => Promise<any>,
   *          getSettings: () => object, pickFolder: (() => Promise<string|null>) | null,
   *          onError: (prefix: string, error: unknown) => void}} options
   */
  constructor({ invoke, getSettings, pickFolder, onError }) {
    this.invoke = invoke;
    this.getSettings = getSettings;
    this.pickFolder = pickFolder;
    this.onError = onError;
    this.dialog = document.getElementById("settings-panel");
    this.timer = null;
    this.watching = false;
    this.status = null;
    this.build();
    this.label();
    onLanguageChange(() => this.label());
  }

  label() {
    const section = this.section;
    section.querySelector("h3").textContent = t("watch.heading");
    section.querySelector(".watch__note").textContent = t("watch.note");
    this.path.placeholder = t("watch.pathPlaceholder");
    this.path.setAttribute("aria-label", t("watch.pathLabel"));
    this.choose.textContent = t("settings.choose");
    section.querySelector(".watch__recursive span").textContent = t("watch.recursive");
    section.querySelector('[data-testid="watch-submit"]').textContent = t("watch.add");
    section.querySelector(".watch__subheading").textContent = t("watch.recent");
    if (this.status) this.render(this.status);
  }

  build() {
    const section = document.createElement("section");
    section.className = "panel__section watch";
    section.dataset.testid = "watch-section";
    section.setAttribute("aria-labelledby", "watch-title");
    section.innerHTML = `
      <h3 class="panel__heading" id="watch-title"></h3>
      <p class="panel__note watch__note"></p>
      <ul class="watch__folders" data-testid="watch-folders"></ul>
      <form class="panel__row watch__add" data-testid="watch-add">
        <input class="text" type="text" data-testid="watch-path" />
        <button type="button" class="panel__button watch__choose"></button>
        <label class="panel__check watch__recursive">
          <input type="checkbox" data-testid="watch-recursive" /><span></span>
        </label>
        <button type="submit" class="panel__button" data-testid="watch-submit"></button>
      </form>
      <h4 class="watch__subheading"></h4>
      <ul class="watch__recent" data-testid="watch-recent"></ul>`;
    this.section = section;
    this.path = section.querySelector('[data-testid="watch-path"]');
    this.choose = section.querySelector(".watch__choose");
    this.choose.hidden = !this.pickFolder;
    this.recursive = section.querySelector('[data-testid="watch-recursive"]');
    this.folders = section.querySelector(".watch__folders");
    this.recent = section.querySelector(".watch__recent");
    section.querySelector("form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    this.choose.addEventListener("click", () => this.chooseFolder());
    document.getElementById("settings-about").before(section); // "About" stays last

    this.summary = document.createElement("span");
    this.summary.className = "title-bar__watch";
    this.summary.dataset.testid = "watch-summary";
    this.summary.hidden = true;
    document.getElementById("settings-button").before(this.summary);

    // Opening the panel shows the current state at once, then polls faster while it is open.
    document.getElementById("settings-button").addEventListener("click", () => this.refresh());
    this.dialog.addEventListener("close", () => this.schedule());
  }

  /** Start polling; the first answer arrives at once. */
  start() {
    this.refresh();
  }

  schedule() {
    clearTimeout(this.timer);
    // With the panel closed and nothing watched there is nothing to show: folders are added
    // here, and adding one (or opening the panel) polls again.
    if (!this.dialog.open && !this.watching) return;
    this.timer = setTimeout(() => this.refresh(), this.dialog.open ? OPEN_POLL_MS : IDLE_POLL_MS);
  }

  async refresh() {
    try {
      this.render(await this.invoke("get_watch_status"));
    } catch {
      // The next poll tries again; a status that cannot be read is not worth a toast each time.
    }
    this.schedule();
  }

  render(status) {
    this.status = status;
    this.folders.replaceChildren(...status.folders.map((folder) => this.folderRow(folder)));
    if (!status.folders.length) {
      const empty = item("watch__empty", status.message ? "" : t("watch.none"));
      if (status.message) empty.append(data("", status.message));
      this.folders.append(empty);
    }
    const recent = status.recent.slice(0, RECENT_SHOWN).map((entry) => recentRow(entry));
    this.recent.replaceChildren(...(recent.length ? recent : [item("watch__empty", t("watch.noRecent"))]));
    const optimized = status.folders.reduce((sum, f) => sum + f.optimized, 0);
    this.watching = status.folders.length > 0;
    this.summary.hidden = !this.watching;
    this.summary.textContent = [
      t("watch.summary", { count: status.folders.length }),
      t("watch.optimized", { count: optimized }),
    ].join(" · ");
  }

  folderRow(folder) {
    const row = document.createElement("li");
    row.className = "watch__folder";
    row.dataset.testid = "watch-folder";
    row.dataset.state = folder.state;
    const path = document.createElement("span");
    path.className = "watch__path";
    // The mark keeps the leading "/" at the start while the box cuts the path from the left.
    path.textContent = `\u200E${folder.path}`;
    path.title = folder.path;
    path.translate = false;
    const state = document.createElement("span");
    state.className = "watch__state";
    state.textContent = t(`watch.state.${folder.state}`);
    const why = folder.message && folder.state !== "watching";
    const numbers = why ? data("watch__counts", folder.message) : document.createElement("span");
    numbers.className = "watch__counts";
    if (!why) numbers.textContent = counts(folder);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "panel__button";
    remove.textContent = t("watch.remove");
    remove.setAttribute("aria-label", t("watch.removeLabel", { path: folder.path }));
    remove.addEventListener("click", () => this.remove(folder.id));
    row.append(path, state, numbers, remove);
    return row;
  }

  async chooseFolder() {
    try {
      const chosen = await this.pickFolder();
      if (chosen) this.path.value = chosen;
    } catch (error) {
      this.onError("watch.addFailed", error);
    }
    this.path.focus();
  }

  async add() {
    const path = this.path.value.trim();
    if (!path) {
      this.path.setAttribute("aria-invalid", "true");
      this.path.focus();
      return;
    }
    this.path.removeAttribute("aria-invalid");
    try {
      const status = await this.invoke("add_watch_folder", {
        path, recursive: this.recursive.checked, settings: this.getSettings(),
      });
      this.path.value = "";
      this.render(status);
    } catch (error) {
      this.path.setAttribute("aria-invalid", "true");
      this.onError("watch.addFailed", error);
    }
  }

  async remove(id) {
    try {
      this.render(await this.invoke("remove_watch_folder", { id }));
    } catch (error) {
      this.onError("watch.removeFailed", error);
    }
  }
}

function item(className, text) {
  const li = document.createElement("li");
  li.className = className;
  li.textContent = text;
  return li;
}

function recentRow(entry) {
  const row = document.createElement("li");
  row.className = "watch__item";
  row.dataset.testid = "watch-item";
  row.dataset.status = entry.status;
  const name = document.createElement("span");
  name.className = "watch__file";
  name.textContent = entry.fileName;
  name.title = entry.optimizedPath ?? entry.path;
  name.translate = false;
  let what;
  if (entry.error) {
    // The sentence for the error's kind, then Python's words as data.
    what = document.createElement("span");
    what.className = "watch__result watch__result--error";
    const key = `kind.${entry.errorKind}`;
    what.append(`${has(key) ? t(key) : t("kind.internal")} `, data("", entry.error));
  } else {
    what = document.createElement("span");
    what.className = "watch__result";
    const saved = formatPercent(percentOf(entry.savedBytes, entry.originalSize));
    what.textContent = `${formatSize(entry.originalSize)} → ${formatSize(entry.optimizedSize)} −${saved}`;
  }
  row.append(name, what);
  return row;
}

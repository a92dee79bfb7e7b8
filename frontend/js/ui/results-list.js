/**
 * The results panel: one row per image of the last batch, in task order.
 *
 * A row shows the file name, "before → after", the saving, and a note: the output's name when it
 * differs (format change) and, on the desktop, where it went when that is not the usual
 * `optimized/` folder ("beside the original", "in …/exports/a"; the full path is the note's
 * tooltip), "kept original" when the optimized file was not smaller, the error in red, or
 * "Cancelled". With Auto quality or a max size, a line says the quality the search chose and
 * the SSIMULACRA2 score reached; an output that could not be made small enough says "Target not
 * met" with the backend's reason (the file is still written, as small as it got). Each batch replaces the list (the panel is about the batch just run; the
 * files themselves stay on disk). Download buttons appear only where the shell can download
 * (the browser); on the desktop the outputs are already beside their sources.
 * A row opens the compare view (`onOpen`) on click or Enter, except a cancelled one and one of
 * a `replace` batch (its original is in the backup: there is nothing beside it to compare).
 *
 * Words are the catalogue's; a failed image shows the sentence for its `errorKind` with Python's
 * message below it as data (`lang="en"`), as does the reason a target was not met. Format names
 * (JPEG, WEBP) are names, not words (`translate="no"`). A language switch redraws the rows.
 */

import { formatDecimal, formatPercent, formatSize, has, onLanguageChange, t } from "../i18n.js";
import { basename, dirname, percentOf } from "./format.js";
import { isCancelled } from "./progress-tracker.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Python's words, kept as they are (English), marked so. */
function data(className, text) {
  const node = el("span", className, text);
  node.lang = "en";
  node.translate = false;
  return node;
}

function kindOf(result) {
  if (isCancelled(result)) return "cancelled";
  if (!result.success) return "error";
  return result.keptOriginal ? "kept" : "ok";
}

export class ResultsList {
  /**
   * @param {{canDownload: boolean, onDownload: (path: string) => void,
   *          onDownloadAll: (paths: string[]) => void,
   *          onRevert: (batch: string) => Promise<{restored: string[], failed: object[]}>}} options
   */
  constructor({ canDownload, onDownload, onDownloadAll, onRevert, onOpen }) {
    this.onOpen = onOpen;
    this.panel = document.getElementById("results");
    this.list = document.getElementById("results-list");
    this.summary = document.getElementById("results-summary");
    this.downloadAll = document.getElementById("download-all");
    this.closeButton = document.getElementById("results-close");
    this.canDownload = canDownload;
    this.onDownload = onDownload;
    this.downloadable = [];
    this.downloadAll.addEventListener("click", () => onDownloadAll(this.downloadable));
    // A "replace" batch can be undone: its originals are backed up (core/replace.py).
    this.revertButton = document.getElementById("revert-batch");
    this.batch = null;
    this.revertButton.addEventListener("click", () => this.revert(onRevert));
    this.closeButton.addEventListener("click", () => this.clear());
    this.results = [];
    onLanguageChange(() => this.relabel());
  }

  /** Redraw the rows in the new language, keeping what a revert marked. */
  relabel() {
    if (!this.results.length) return;
    const reverted = [...this.list.querySelectorAll('[data-status="reverted"]')].map(
      (row) => row.dataset.original);
    const batch = this.batch;
    this.render(this.results);
    this.batch = batch;
    this.revertButton.hidden = batch === null;
    this.markReverted(new Set(reverted));
  }

  render(results) {
    this.results = results;
    this.list.replaceChildren(...results.map((result) => this.row(result)));
    this.downloadable = results.filter((r) => r.success).map((r) => r.optimized_path);
    this.downloadAll.hidden = !this.canDownload || this.downloadable.length === 0;
    this.batch = results.find((r) => r.backupBatch)?.backupBatch ?? null;
    this.revertButton.hidden = this.batch === null;
    this.revertButton.disabled = false;
    this.summary.replaceChildren(...summaryLines(results).map((line) => el("span", "", line)));
    this.panel.classList.add("is-open");
  }

  async revert(onRevert) {
    if (!this.batch) return;
    this.revertButton.disabled = true;
    let report;
    try {
      report = await onRevert(this.batch);
    } catch {
      this.revertButton.disabled = false;
      return;
    }
    this.markReverted(new Set(report.restored));
    this.batch = report.failed.length ? this.batch : null;
    this.revertButton.hidden = this.batch === null;
    this.revertButton.disabled = false;
  }

  markReverted(restored) {
    for (const row of this.list.querySelectorAll("[data-original]")) {
      if (!restored.has(row.dataset.original)) continue;
      row.dataset.status = "reverted";
      row.querySelector(".result__saved").textContent = t("results.reverted");
      const note = row.querySelector(".result__note") ?? row.appendChild(el("span", "result__note"));
      note.textContent = t("results.restored");
    }
  }

  /** Clicking the row or pressing Enter on it opens the compare view. */
  openable(li, result, name) {
    li.tabIndex = 0;
    li.setAttribute("aria-haspopup", "dialog");
    li.title = t("results.open", { name });
    li.addEventListener("click", (event) => {
      if (!event.target.closest("button")) this.onOpen(result);
    });
    li.addEventListener("keydown", (event) => {
      if ((event.key === "Enter" || event.key === " ") && event.target === li) {
        event.preventDefault();
        this.onOpen(result);
      }
    });
  }

  /** Replace the row of `result.original_path` (the compare view saved a new output). */
  update(result) {
    const old = this.rowOf(result.original_path);
    if (!old) return;
    old.replaceWith(this.row(result));
    this.results = this.results.map((r) => (r.original_path === result.original_path ? result : r));
    const index = this.downloadable.indexOf(old.dataset.output);
    if (index >= 0) this.downloadable[index] = result.optimized_path;
  }

  rowOf(path) {
    return [...this.list.querySelectorAll("[data-original]")].find((r) => r.dataset.original === path);
  }

  /** Focus back on a row (the compare view closed). */
  focusRow(path) {
    this.rowOf(path)?.focus();
  }

  clear() {
    const hadFocus = this.panel.contains(document.activeElement);
    this.panel.classList.remove("is-open");
    this.list.replaceChildren();
    this.downloadable = [];
    if (hadFocus) document.getElementById("dropzone").focus();
  }

  row(result) {
    const kind = kindOf(result);
    const name = basename(result.original_path);
    const li = el("li", `result result--${kind}`);
    li.dataset.testid = "result-row";
    li.dataset.status = kind === "kept" ? "ok" : kind;
    li.dataset.original = result.original_path;
    li.dataset.output = result.optimized_path;
    if (this.onOpen && kind !== "cancelled" && !result.backupBatch) this.openable(li, result, name);

    const title = el("span", "result__name", name);
    title.title = result.original_path;
    title.translate = false;
    li.append(title, el("span", "result__saved", savedText(result, kind)));
    li.append(detailLine(result, kind));
    const search = searchText(result, kind);
    if (search) {
      const line = el("span", "result__search", search);
      line.dataset.testid = "result-search";
      li.append(line);
    }
    if (result.success && result.targetMet === false) {
      li.dataset.target = "unmet";
      const line = el("span", "result__target", `${t("results.targetNotMet")}: `);
      line.append(data("result__reason", result.targetMessage));
      line.dataset.testid = "result-target";
      li.append(line);
    }
    if (kind === "error") {
      const noteEl = el("span", "result__note", errorSentence(result));
      if (result.error) noteEl.append(" ", data("result__reason", result.error));
      li.append(noteEl);
    }
    const note = noteText(result, kind, name, !this.canDownload);
    if (note) {
      const noteEl = el("span", "result__note", note);
      noteEl.title = result.optimized_path;
      li.append(noteEl);
    }

    if (this.canDownload && result.success) {
      const button = el("button", "result__download");
      button.type = "button";
      button.dataset.testid = "download-file";
      const outName = basename(result.optimized_path);
      button.setAttribute("aria-label", t("results.download", { name: outName }));
      button.title = t("results.download", { name: outName });
      button.innerHTML = '<svg aria-hidden="true"><use href="#icon-download"></use></svg>';
      button.addEventListener("click", () => this.onDownload(result.optimized_path));
      li.append(button);
    }
    return li;
  }
}

function savedText(result, kind) {
  if (kind === "error") return t("results.failed");
  if (kind === "cancelled") return t("results.cancelled");
  const ratio = Math.round(result.compressionRatio ?? 0);
  return ratio > 0 ? `−${formatPercent(ratio)}` : ratio < 0 ? `+${formatPercent(-ratio)}` : formatPercent(0);
}

/** The sentence for a failed image's kind ("The image is damaged or incomplete."). */
function errorSentence(result) {
  const key = `kind.${result.errorKind}`;
  return has(key) ? t(key) : t("kind.internal");
}

/** "12.35 KB → 8.10 KB · 640×480 · PNG → WEBP"; the format names are names, not words. */
function detailLine(result, kind) {
  const line = el("span", "result__detail");
  const before = formatSize(result.original_size);
  if (kind === "error" || kind === "cancelled") {
    line.textContent = before;
    return line;
  }
  const parts = [`${before} → ${formatSize(result.optimized_size)}`];
  if (result.width && result.height) parts.push(`${result.width}×${result.height}`);
  line.textContent = parts.join(" · ");
  const from = formatName(result.inputFormat);
  const to = formatName(result.format);
  if (from && to && from !== to) {
    const formats = el("span", "", `${from} → ${to}`);
    formats.translate = false;
    line.append(" · ", formats);
  }
  return line;
}

/** "Quality 83 · SSIMULACRA2 85.1" for what Auto quality or a max size chose. */
function searchText(result, kind) {
  if (kind === "error" || kind === "cancelled") return "";
  const parts = [];
  if (result.chosenQuality != null) parts.push(t("results.quality", { quality: result.chosenQuality }));
  if (result.score != null) parts.push(t("score", { score: formatDecimal(result.score, 1) }));
  return parts.join(" · ");
}

function formatName(format) {
  const name = String(format ?? "").toUpperCase();
  return name === "JPG" ? "JPEG" : name;
}

/** "Saved as photo.webp · Saved beside the original"; "" when there is nothing to add. */
function noteText(result, kind, name, local) {
  if (kind === "error" || kind === "cancelled") return "";
  const where = local ? whereText(result) : "";
  const outName = basename(result.optimized_path);
  const first = kind === "kept" ? t("results.kept")
    : outName !== name ? t("results.savedAs", { name: outName }) : "";
  return [first, where].filter(Boolean).join(" · ");
}

/** Where the output went, when that is not `<source folder>/optimized/`. */
function whereText(result) {
  const folder = dirname(result.optimized_path);
  const source = dirname(result.original_path);
  if (folder === source) return t("results.beside");
  if (basename(folder) === "optimized" && dirname(folder) === source) return "";
  const parts = folder.split(/[\\/]/).filter(Boolean);
  return t("results.in", { folder: `${parts.length > 2 ? "…/" : "/"}${parts.slice(-2).join("/")}` });
}

function summaryLines(results) {
  const ok = results.filter((r) => r.success);
  const saved = ok.reduce((sum, r) => sum + (r.savedBytes || 0), 0);
  const original = ok.reduce((sum, r) => sum + (r.original_size || 0), 0);
  const cancelled = results.filter(isCancelled).length;
  const failed = results.length - ok.length - cancelled;
  const counts = [t("results.optimized", { count: ok.length })];
  if (failed) counts.push(t("progress.failedCount", { count: failed }));
  if (cancelled) counts.push(t("progress.cancelledCount", { count: cancelled }));
  const percent = formatPercent(percentOf(saved, original));
  return [counts.join(" · "), t("results.saved", { size: formatSize(saved), percent })];
}

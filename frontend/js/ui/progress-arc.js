/**
 * Draws a ProgressTracker snapshot: the semicircle arc, the percentage (or the final word),
 * "X MB / Y% saved" and "N images optimized in T s", in the page's language.
 */

import { formatDuration, formatPercent, formatSize, onLanguageChange, t } from "../i18n.js";
import { percentOf } from "./format.js";

const HEADLINES = {
  complete: "progress.complete",
  cancelled: "progress.cancelled",
  failed: "progress.failed",
};

export class ProgressArc {
  constructor(root = document) {
    this.progressbar = root.getElementById("progress");
    this.bar = root.getElementById("progress-bar");
    this.percent = root.getElementById("progress-percent");
    this.saved = root.getElementById("progress-saved");
    this.summary = root.getElementById("progress-summary");
    this.last = null;
    onLanguageChange(() => this.last && this.render(this.last));
  }

  render(s) {
    this.last = s;
    const percent = Math.max(0, Math.min(100, s.percent));
    this.bar.style.strokeDashoffset = String(100 - percent);
    this.bar.classList.toggle("is-empty", percent === 0);
    this.progressbar.setAttribute("aria-valuenow", String(percent));
    this.progressbar.setAttribute(
      "aria-valuetext",
      t("progress.valueText", { percent: formatPercent(percent), completed: s.completed, count: s.total }),
    );

    const headline = HEADLINES[s.phase];
    this.percent.textContent = headline ? t(headline) : formatPercent(percent);
    this.percent.classList.toggle("is-final", Boolean(headline));

    this.saved.textContent = t("progress.saved", {
      size: formatSize(s.savedBytes),
      percent: formatPercent(percentOf(s.savedBytes, s.originalBytes)),
    });
    this.summary.textContent = summaryLine(s);
  }
}

function summaryLine(s) {
  const count = s.phase === "working" ? s.completed : s.optimized;
  const parts = [t("progress.summary", { count, duration: formatDuration(s.seconds) })];
  if (s.phase !== "working" && s.failed > 0) parts.push(t("progress.failedCount", { count: s.failed }));
  if (s.cancelled > 0) parts.push(t("progress.cancelledCount", { count: s.cancelled }));
  return parts.join(" · ");
}

/** What a screen reader hears when a batch ends. */
export function announcement(s) {
  return t("progress.announce", {
    headline: t(HEADLINES[s.phase] ?? "progress.optimizing"),
    summary: summaryLine(s),
    size: formatSize(s.savedBytes),
    percent: formatPercent(percentOf(s.savedBytes, s.originalBytes)),
  });
}

/**
 * Draws a ProgressTracker snapshot: the semicircle arc, the percentage (or the final word),
 * "X MB / Y% saved" and "N images optimized in T s".
 */

import { formatBytes, formatDuration, percentOf, plural } from "./format.js";

const HEADLINES = {
  complete: "Optimization complete",
  cancelled: "Optimization cancelled",
  failed: "Optimization failed",
};

export class ProgressArc {
  constructor(root = document) {
    this.progressbar = root.getElementById("progress");
    this.bar = root.getElementById("progress-bar");
    this.percent = root.getElementById("progress-percent");
    this.saved = root.getElementById("progress-saved");
    this.summary = root.getElementById("progress-summary");
  }

  render(s) {
    const percent = Math.max(0, Math.min(100, s.percent));
    this.bar.style.strokeDashoffset = String(100 - percent);
    this.bar.classList.toggle("is-empty", percent === 0);
    this.progressbar.setAttribute("aria-valuenow", String(percent));
    this.progressbar.setAttribute(
      "aria-valuetext",
      `${percent}%, ${s.completed} of ${plural(s.total, "image", "images")}`,
    );

    const headline = HEADLINES[s.phase];
    this.percent.textContent = headline ?? `${percent}%`;
    this.percent.classList.toggle("is-final", Boolean(headline));

    const savedPercent = percentOf(s.savedBytes, s.originalBytes);
    this.saved.textContent = `${formatBytes(s.savedBytes)} / ${savedPercent}% saved`;
    this.summary.textContent = summaryLine(s);
  }
}

function summaryLine(s) {
  const count = s.phase === "working" ? s.completed : s.optimized;
  let line = `${plural(count, "image", "images")} optimized in ${formatDuration(s.seconds)}`;
  if (s.phase !== "working" && s.failed > 0) line += ` · ${s.failed} failed`;
  if (s.cancelled > 0) line += ` · ${s.cancelled} cancelled`;
  return line;
}

/** What a screen reader hears when a batch ends. */
export function announcement(s) {
  const head = HEADLINES[s.phase] ?? "Optimizing";
  const saved = `${formatBytes(s.savedBytes)} saved (${percentOf(s.savedBytes, s.originalBytes)}%)`;
  return `${head}. ${summaryLine(s)}, ${saved}.`;
}

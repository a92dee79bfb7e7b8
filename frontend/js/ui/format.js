/**
 * Text formatting shared by the progress view, the results list and the toasts. Pure functions.
 *
 * Sizes use 1024-based units with the original's precision (KB one decimal, MB two), so the
 * numbers read the same as in the original app.
 */

const KB = 1024;
const MB = KB * 1024;
const GB = MB * 1024;

/** "512 B", "12.3 KB", "20.40 MB", "1.25 GB". */
export function formatBytes(bytes) {
  const n = Math.abs(Number(bytes) || 0);
  const sign = bytes < 0 ? "−" : "";
  if (n < KB) return `${sign}${n} B`;
  if (n < MB) return `${sign}${(n / KB).toFixed(1)} KB`;
  if (n < GB) return `${sign}${(n / MB).toFixed(2)} MB`;
  return `${sign}${(n / GB).toFixed(2)} GB`;
}

/** "6.9s" below a minute, "2m 5.0s" above, as the original showed it. */
export function formatDuration(seconds) {
  const s = Math.max(0, Number(seconds) || 0);
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m ${(s % 60).toFixed(1)}s`;
}

/** Whole-number percentage of `part` in `whole` (0 when there is no whole). */
export function percentOf(part, whole) {
  return whole > 0 ? Math.round((part / whole) * 100) : 0;
}

/**
 * The quality slider's word for a value. The original said "Broken beyond repair" below 10; the
 * SPEC lists labels only down to 10, so the lowest band reads "Very poor".
 */
export function qualityLabel(quality) {
  if (quality >= 100) return "Lossless";
  if (quality >= 90) return "Near-lossless";
  if (quality >= 70) return "Excellent";
  if (quality >= 50) return "Good";
  if (quality >= 30) return "Fair";
  if (quality >= 10) return "Poor";
  return "Very poor";
}

/** The last segment of a POSIX or Windows path. */
export function basename(path) {
  return String(path ?? "").split(/[\\/]/).pop() || String(path ?? "");
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

const SKIPPED_NAMED = 3;

/** "2 files skipped: notes.txt (not an image), a.pdf (not an image)" — the first three by name. */
export function skippedMessage(skipped) {
  const named = skipped
    .slice(0, SKIPPED_NAMED)
    .map(({ path, reason }) => (reason ? `${basename(path)} (${reason})` : basename(path)));
  const more = skipped.length - named.length;
  const tail = more > 0 ? ` and ${more} more` : "";
  return `${plural(skipped.length, "file", "files")} skipped: ${named.join(", ")}${tail}`;
}

/**
 * Text formatting shared by the progress view, the results list and the toasts. Pure functions.
 */

const UNITS = ["KB", "MB", "GB"];

/**
 * "512 B", "12.35 KB", "20.40 MB", "1.25 GB": 1024-based, two decimals above bytes. The same rule
 * as Python's `backend/human_bytes.py` (e2e/test_contract.py runs both on the same numbers).
 */
export function formatBytes(bytes) {
  const count = Number(bytes) || 0;
  const sign = count < 0 ? "-" : "";
  let size = Math.abs(count);
  if (size < 1024) return `${sign}${size.toFixed(0)} B`;
  size /= 1024;
  let index = 0;
  while (size >= 1024 && index < UNITS.length - 1) {
    size /= 1024;
    index += 1;
  }
  return `${sign}${size.toFixed(2)} ${UNITS[index]}`;
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

/** The last segment of a POSIX or Windows path. */
export function basename(path) {
  return String(path ?? "").split(/[\\/]/).pop() || String(path ?? "");
}

/** The folder part of a path (either separator); "/" for a file at the root. */
export function dirname(path) {
  const text = String(path ?? "");
  const cut = Math.max(text.lastIndexOf("/"), text.lastIndexOf("\\"));
  return cut > 0 ? text.slice(0, cut) : text.slice(0, cut + 1);
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

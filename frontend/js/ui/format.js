/**
 * Path and number helpers shared by the progress view, the results list and the toasts. Pure
 * functions; what depends on the language (sizes, durations, percentages) is in `../i18n.js`.
 */

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

const SKIPPED_NAMED = 3;

/**
 * "notes.txt (not an image), a.pdf (not an image), …" — the first three by name with Python's
 * reason: the data under the toast's translated "5 files skipped".
 */
export function skippedDetail(skipped) {
  const named = skipped
    .slice(0, SKIPPED_NAMED)
    .map(({ path, reason }) => (reason ? `${basename(path)} (${reason})` : basename(path)));
  return skipped.length > named.length ? `${named.join(", ")}, …` : named.join(", ");
}

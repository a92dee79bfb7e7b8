/**
 * The compare view: a results row opened over the window, the original and the result side by
 * side under one zoom (`compare-stage.js`), a readout, and live re-tuning of that one image
 * (`compare-tuner.js`) through the `preview_image` command, which encodes in the worker pool
 * and writes nothing.
 *
 * Decisions:
 * - Previews: a change waits 120 ms for the next one (a dragged slider sends one request, not
 *   forty), then one `preview_image` runs; at most one is in flight, and a change made while it
 *   runs is sent when it returns. Every change invalidates the answers still on their way, so a
 *   stale answer is never shown, not even after a newer one failed.
 * - The new result is decoded (`img.decode()`, off the main thread) before it replaces the old
 *   one, so the picture never blanks and a large image does not freeze the page.
 * - Save re-runs `optimize_image` with the tuned settings into the row's own output path (its
 *   extension follows the format), so the file is written atomically by the batch's rules
 *   and is byte for byte the previewed one (the encoders are deterministic); the row is
 *   updated. A `replace` placement saves as the default one: the view never replaces originals.
 * - "Apply to all" puts the tuned quality, Auto quality, format and resize into the Options and
 *   runs the last batch again with them. Escape or × closes without changes; focus goes back
 *   to the row. Reopening a saved row starts from the settings it was saved with.
 * - Words are the catalogue's and follow a language switch: how a side is shown and what the
 *   score was measured on come as codes (`shownReason`, `scoreBasis`) the page has sentences
 *   for; Python's own words (why a preview failed, why a target was missed) are shown as data
 *   (`lang="en"`).
 */

import { formatDecimal, formatPercent, formatSize, onLanguageChange, t } from "../i18n.js";
import { basename } from "./format.js";
import { CompareStage, ZOOM_STEPS } from "./compare-stage.js";
import { CompareTuner } from "./compare-tuner.js";


const DEBOUNCE_MS = 120;

/** Python's words, shown as they are (English). */
/** What the score was measured on, in the page's words ("SSIMULACRA2 on 12 tiles …"). */
function scoreBasisText(p) {
  if (!p.scoreBasis) return "";
  return t(`score.${p.scoreBasis}`, { count: p.scoreTiles ?? 0 });
}

function data(text) {
  const node = document.createElement("span");
  node.lang = "en";
  node.translate = false;
  node.textContent = String(text);
  return node;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, text, testid) {
  const node = el("button", className, text);
  node.type = "button";
  node.dataset.testid = testid;
  return node;
}

function formatName(id) {
  return String(id ?? "").toUpperCase();
}

/** An <img> of one preview side, decoded before it is shown. */
async function decodedImage(side) {
  const img = new Image();
  img.decoding = "async";
  img.src = `data:${side.mime};base64,${side.data}`;
  await img.decode();
  return img;
}

export class CompareView {
  /**
   * @param {{contract: object, invoke: (command: string, args: object) => Promise<any>,
   *          onSaved: (result: object) => void, onApplyAll: (fields: object) => void,
   *          onClosed: (path: string) => void}} options
   */
  constructor({ contract, invoke, onSaved, onApplyAll, onClosed }) {
    this.invoke = invoke;
    this.onSaved = onSaved;
    this.onApplyAll = onApplyAll;
    this.onClosed = onClosed;
    this.ticket = 0;
    this.inFlight = false;
    this.pending = false;
    this.timer = null;
    this.haveOriginal = false;
    this.row = null;
    this.savedWith = new Map(); // input path → the settings its saved output was made with
    this.stage = new CompareStage({ onZoom: (scale, fit) => this.renderZoom(scale, fit) });
    this.tuner = new CompareTuner({ contract, onChange: () => this.schedule() });
    this.build();
    new ResizeObserver(() => this.stage.relayout()).observe(this.stage.root);
  }

  build() {
    this.dialog = el("dialog", "compare");
    this.dialog.dataset.testid = "compare-view";
    this.dialog.setAttribute("aria-labelledby", "compare-title");
    const header = el("div", "compare__header");
    this.title = el("h2", "compare__title");
    this.title.id = "compare-title";
    const zoom = el("div", "compare__zoom");
    zoom.setAttribute("role", "group");
    this.zoom = zoom;
    this.zoomButtons = [null, ...ZOOM_STEPS].map((scale) => {
      const node = button("compare__zoom-button", "",
        scale === null ? "compare-zoom-fit" : `compare-zoom-${scale * 100}`);
      node.setAttribute("aria-pressed", "false");
      node.addEventListener("click", () => (scale === null ? this.stage.fit() : this.stage.zoomTo(scale)));
      zoom.append(node);
      return { node, scale };
    });
    this.zoomValue = el("span", "compare__zoom-value");
    this.zoomValue.dataset.testid = "compare-zoom-value";
    zoom.append(this.zoomValue);
    const close = button("compare__close", "", "compare-close");
    this.closeButton = close;
    close.innerHTML = '<svg aria-hidden="true"><use href="#icon-close"></use></svg>';
    close.addEventListener("click", () => this.dialog.close());
    header.append(this.title, zoom, close);

    const body = el("div", "compare__body");
    const picture = el("div", "compare__picture");
    this.message = el("p", "compare__message");
    this.message.dataset.testid = "compare-error";
    this.message.setAttribute("role", "alert");
    this.message.hidden = true;
    this.spinner = el("div", "compare__busy");
    this.spinner.dataset.testid = "compare-busy";
    picture.append(this.stage.root, this.message, this.spinner);

    const side = el("aside", "compare__panel");
    this.readout = el("div", "compare__readout");
    this.readout.dataset.testid = "compare-readout";
    this.before = el("p", "compare__bytes");
    this.before.dataset.testid = "compare-before";
    this.after = el("p", "compare__bytes compare__bytes--after");
    this.after.dataset.testid = "compare-after";
    this.saved = el("p", "compare__saved");
    this.saved.dataset.testid = "compare-saved";
    this.facts = el("p", "compare__facts");
    this.facts.dataset.testid = "compare-facts";
    this.notes = el("ul", "compare__notes");
    this.notes.dataset.testid = "compare-notes";
    this.readout.append(this.before, this.after, this.saved, this.facts, this.notes);
    this.status = el("p", "compare__status");
    this.status.dataset.testid = "compare-status";
    this.status.setAttribute("aria-live", "polite");
    const actions = el("div", "compare__actions");
    this.saveButton = button("compare__action compare__action--primary", "", "compare-save");
    this.saveButton.addEventListener("click", () => this.save());
    this.applyButton = button("compare__action", "", "compare-apply-all");
    this.applyButton.addEventListener("click", () => {
      this.onApplyAll(this.tuner.tunedFields());
      this.dialog.close();
    });
    actions.append(this.saveButton, this.applyButton);
    side.append(this.readout, this.tuner.root, actions, this.status);
    body.append(picture, side);
    this.dialog.append(header, body);
    this.dialog.addEventListener("close", () => this.closed());
    document.getElementById("app").append(this.dialog);
    this.label();
    onLanguageChange(() => this.label());
  }

  /** The fixed words, and again after a language switch. */
  label() {
    this.zoom.setAttribute("aria-label", t("compare.zoom"));
    for (const { node, scale } of this.zoomButtons) {
      node.textContent = scale === null ? t("compare.fit") : formatPercent(scale * 100);
    }
    this.closeButton.setAttribute("aria-label", t("compare.close"));
    this.closeButton.title = t("compare.close");
    this.spinner.textContent = t("compare.encoding");
    this.saveButton.textContent = t("compare.save");
    this.applyButton.textContent = t("compare.applyAll");
    if (this.row) this.title.textContent = t("compare.title", { name: basename(this.row.original_path) });
    if (this.preview) this.renderReadout(this.preview);
  }

  isOpen() {
    return this.dialog.open;
  }

  /** Open on one result row; `settings` are what its batch ran with. */
  open(result, settings) {
    this.row = result;
    this.title.textContent = t("compare.title", { name: basename(result.original_path) });
    this.tuner.set(this.savedWith.get(result.original_path) ?? settings);
    this.tuner.setDisabled(false);
    this.haveOriginal = false;
    this.preview = null;
    this.showMessage(null);
    this.clearReadout();
    this.stage.setSplit(50);
    this.dialog.showModal();
    this.stage.divider.focus();
    this.stage.relayout();
    this.schedule(0);
  }

  closed() {
    this.ticket += 1; // whatever is still on its way is for a view that is gone
    clearTimeout(this.timer);
    this.pending = false;
    for (const img of [this.stage.originalImg, this.stage.resultImg]) img.removeAttribute("src");
    if (this.row) this.onClosed(this.row.original_path);
  }

  schedule(delay = DEBOUNCE_MS) {
    this.ticket += 1;
    this.setBusy(true);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), delay);
  }

  kick() {
    if (this.inFlight) this.pending = true;
    else this.run();
  }

  async run() {
    const ticket = this.ticket;
    const path = this.row.original_path;
    this.inFlight = true;
    let preview = null;
    let failure = null;
    try {
      preview = await this.invoke("preview_image", {
        input_path: path,
        settings: this.tuner.get(),
        original: !this.haveOriginal,
      });
    } catch (error) {
      failure = [t("compare.cannotPreview", { name: basename(path) }), error?.message ?? error];
    }
    this.inFlight = false;
    if (this.pending) {
      this.pending = false;
      this.run();
    }
    if (ticket !== this.ticket || !this.isOpen()) return; // stale: a newer request follows
    if (failure) {
      this.failed(...failure);
      return;
    }
    let images;
    try {
      images = await Promise.all([
        decodedImage(preview.result),
        preview.original ? decodedImage(preview.original) : null,
      ]);
    } catch {
      if (ticket === this.ticket) this.failed(t("compare.cannotDraw", { format: formatName(preview.format) }));
      return;
    }
    if (ticket !== this.ticket || !this.isOpen()) return;
    const [resultImg, originalImg] = images;
    if (originalImg) {
      this.stage.setImage("original", originalImg);
      this.stage.setSize(preview.originalWidth, preview.originalHeight);
      this.haveOriginal = true;
      this.originalShown = preview.original; // later answers do not resend it
    }
    this.stage.setImage("result", resultImg);
    this.stage.render();
    this.preview = preview;
    this.renderReadout(preview);
    this.showMessage(null);
    this.setBusy(false);
    this.saveButton.disabled = false;
    this.status.textContent = t("compare.ready", { ms: Math.round(preview.durationMs) });
  }

  failed(text, detail = null) {
    this.setBusy(false);
    this.showMessage(text, detail);
    this.saveButton.disabled = true;
    this.status.textContent = "";
  }

  async save() {
    const settings = this.tuner.get();
    if (settings.output === "replace") settings.output = "subfolder";
    this.saveButton.disabled = true;
    this.saveButton.textContent = t("compare.saving");
    try {
      const result = await this.invoke("optimize_image", {
        input_path: this.row.original_path,
        output_path: this.row.optimized_path || null,
        settings,
      });
      if (!result.success) throw Object.assign(new Error(result.error), { kind: result.errorKind });
      this.row = result;
      this.savedWith.set(result.original_path, settings);
      this.onSaved(result);
      this.status.textContent = t("compare.saved", { name: basename(result.optimized_path) });
    } catch (error) {
      this.status.replaceChildren(`${t("compare.cannotSave")}: `, data(error?.message ?? error));
    } finally {
      this.saveButton.textContent = t("compare.save");
      this.saveButton.disabled = !this.preview;
    }
  }

  setBusy(busy) {
    this.dialog.dataset.busy = String(busy);
    this.spinner.hidden = !busy;
  }

  showMessage(text, detail = null) {
    this.dialog.dataset.empty = String(!this.haveOriginal);
    this.message.hidden = !text;
    this.message.textContent = text ? `${text}${detail ? ": " : ""}` : "";
    if (detail) this.message.append(data(detail));
    this.dialog.dataset.error = String(Boolean(text));
  }

  clearReadout() {
    for (const node of [this.before, this.after, this.saved, this.facts]) node.textContent = "";
    this.notes.replaceChildren();
    this.status.textContent = "";
    this.saveButton.disabled = true;
  }

  renderReadout(p) {
    this.before.textContent = t("compare.before", { size: formatSize(p.original_size) });
    this.before.dataset.bytes = String(p.original_size);
    this.after.textContent = t("compare.after", { size: formatSize(p.size) });
    this.after.dataset.bytes = String(p.size);
    const ratio = formatPercent(Math.abs(p.compressionRatio), 1);
    this.saved.textContent = p.compressionRatio >= 0 ? `−${ratio}` : `+${ratio}`;
    this.saved.classList.toggle("is-larger", p.compressionRatio < 0);
    const dims = p.width === p.originalWidth && p.height === p.originalHeight
      ? `${p.width}×${p.height}`
      : `${p.originalWidth}×${p.originalHeight} → ${p.width}×${p.height}`;
    const formats = el("span", "", p.inputFormat === p.format ? formatName(p.format)
      : `${formatName(p.inputFormat)} → ${formatName(p.format)}`);
    formats.translate = false; // names, not words
    const score = p.score == null ? t("compare.noScore")
      : t("score", { score: formatDecimal(p.score, 1) });
    this.facts.replaceChildren(el("span", "", dims), formats, el("span", "", score));
    const basis = scoreBasisText(p);
    this.facts.title = basis;
    const notes = [
      p.chosenQuality != null ? t("compare.chosen", { quality: p.chosenQuality }) : null,
      p.keptOriginal ? t("results.kept") : null,
      p.frames > 1 ? t("compare.frames", { count: p.frames }) : null,
      p.downscaled ? t("compare.downscaled") : null,
      ...[["stage.original", this.originalShown, p.inputFormat],
        ["stage.optimized", p.result, p.format]]
        // The animation's line already says both sides show the first frame.
        .filter(([, shown]) => shown?.shownReason && !(p.frames > 1 && shown.shownReason === "first_frame"))
        .map(([side, shown, format]) => t(`compare.shown.${shown.shownReason}`, {
          side: t(side), width: shown.width, height: shown.height, format: formatName(format),
        })),
      basis,
    ].filter(Boolean).map((text) => el("li", "", text));
    if (p.targetMet === false) {
      const line = el("li", "", `${t("results.targetNotMet")}: `);
      line.append(data(p.targetMessage));
      notes.splice(notes.length - 1, 0, line);
    }
    this.notes.replaceChildren(...notes);
  }

  renderZoom(scale, fit) {
    this.zoomValue.textContent = formatPercent(Math.round(scale * 100));
    for (const { node, scale: step } of this.zoomButtons) {
      const pressed = step === null ? fit : !fit && Math.abs(step - scale) < 1e-6;
      node.setAttribute("aria-pressed", String(pressed));
    }
  }
}

/**
 * The compare view's picture: the original on the left, the result on the right of a draggable
 * divider, both under one shared zoom and pan.
 *
 * One state object ({scale, x, y}) makes one `transform` string, set on both images, so the two
 * sides always show the same region at the same scale. Both images are laid out in a box the
 * size of the original in image pixels; a resized result is stretched into that box, so the
 * divider compares the same spot. 100 % is one image pixel per CSS pixel; above 100 % both sides
 * are drawn `image-rendering: pixelated`, so artefacts show as the pixels they are.
 *
 * Decisions (where the issue left it open):
 * - Keys: while the divider has focus (it has on opening), ←/→ move it by 1 % (Shift: 10 %),
 *   Home/End to the edges. While the picture has focus, the arrows pan by 40 px (Shift: 200 px),
 *   + and − zoom, 0 fits, 1 is 100 %. So each key does one thing, and Tab moves between the two.
 * - Mouse and touch (pointer events): drag the divider's line or handle to move it, drag the
 *   picture to pan, wheel or pinch to zoom around the pointer. A click on the picture does not
 *   move the divider (Squoosh's habit), so panning never jumps it.
 * - "Fit" shows the whole image: a large one shrunk to the window, a small one (an icon) enlarged
 *   by the largest whole factor that fits, up to 800 %, so it is not a dot under the divider's
 *   handle. Zoom runs from 10 % (or fit, when smaller) to 800 %. Panning stops at the image's edges; an image smaller than the window stays centred.
 */

import { formatPercent, onLanguageChange, t } from "../i18n.js";


export const ZOOM_STEPS = [1, 2, 4, 8];
const MAX_SCALE = 8;
const MIN_SCALE = 0.1;
const PAN_STEP = 40;
const PAN_STEP_FAST = 200;
const WHEEL_RATE = 0.0015;

function el(tag, className, attributes = {}) {
  const node = document.createElement(tag);
  node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

export class CompareStage {
  /** @param {{onZoom: (scale: number, fit: boolean) => void}} options */
  constructor({ onZoom }) {
    this.onZoom = onZoom;
    this.root = el("div", "compare__viewport", {
      tabindex: "0",
      role: "img",
      "data-testid": "compare-viewport",
    });
    this.originalSide = el("div", "compare__side compare__side--original");
    this.resultSide = el("div", "compare__side compare__side--result", {
      "data-testid": "compare-result-side",
    });
    this.originalImg = el("img", "compare__img", { alt: "", "data-testid": "compare-original" });
    this.resultImg = el("img", "compare__img", { alt: "", "data-testid": "compare-result" });
    this.originalSide.append(this.originalImg);
    this.resultSide.append(this.resultImg);
    this.divider = el("div", "compare__divider", {
      role: "slider",
      tabindex: "0",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-orientation": "horizontal",
      "data-testid": "compare-divider",
    });
    this.divider.append(el("span", "compare__handle", { "aria-hidden": "true" }));
    this.left = el("span", "compare__tag compare__tag--left");
    this.right = el("span", "compare__tag compare__tag--right");
    this.root.append(this.originalSide, this.resultSide, this.divider, this.left, this.right);
    this.width = 1;
    this.height = 1;
    this.split = 50;
    this.view = { scale: 1, x: 0, y: 0 };
    this.fitted = true;
    this.pointers = new Map();
    this.bind();
    this.label();
    onLanguageChange(() => this.label());
  }

  label() {
    this.root.setAttribute("aria-label", t("stage.picture"));
    this.divider.setAttribute("aria-label", t("stage.divider"));
    this.divider.setAttribute("aria-valuetext", t("stage.dividerValue", { percent: formatPercent(this.split) }));
    this.left.textContent = t("stage.original");
    this.right.textContent = t("stage.optimized");
  }

  /** The box both sides are drawn in, in image pixels (the original's size); fits it. */
  setSize(width, height) {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    for (const img of [this.originalImg, this.resultImg]) {
      img.style.width = `${this.width}px`;
      img.style.height = `${this.height}px`;
    }
    this.fit();
  }

  /** Swap in an image element that is already decoded (so the swap never shows a blank). */
  setImage(side, img) {
    const current = side === "original" ? this.originalImg : this.resultImg;
    img.className = current.className;
    img.alt = "";
    img.dataset.testid = current.dataset.testid;
    img.style.cssText = current.style.cssText;
    img.draggable = false;
    current.replaceWith(img);
    if (side === "original") this.originalImg = img;
    else this.resultImg = img;
  }

  /** Re-apply the layout after the viewport itself changed size (window resize, opening). */
  relayout() {
    if (this.fitted) this.fit();
    else this.render();
  }

  fitScale() {
    const { clientWidth: vw, clientHeight: vh } = this.root;
    if (!vw || !vh) return 1;
    const scale = Math.min(vw / this.width, vh / this.height);
    // A small image is enlarged by a whole factor only (square pixels), up to the largest zoom.
    return scale < 1 ? scale : Math.min(MAX_SCALE, Math.floor(scale));
  }

  fit() {
    this.fitted = true;
    this.view.scale = this.fitScale();
    this.render();
  }

  /** Zoom to `scale` keeping the image point under (ax, ay) — viewport px — where it is. */
  zoomTo(scale, ax = this.root.clientWidth / 2, ay = this.root.clientHeight / 2) {
    const next = Math.min(MAX_SCALE, Math.max(Math.min(MIN_SCALE, this.fitScale()), scale));
    const { scale: s, x, y } = this.view;
    this.view = { scale: next, x: ax - ((ax - x) / s) * next, y: ay - ((ay - y) / s) * next };
    this.fitted = false;
    this.render();
  }

  panBy(dx, dy) {
    this.view.x += dx;
    this.view.y += dy;
    this.render();
  }

  setSplit(percent) {
    this.split = Math.min(100, Math.max(0, Math.round(percent * 10) / 10));
    this.render();
  }

  /** The one transform both sides share, with the pan held inside the image's edges. */
  render() {
    const { clientWidth: vw, clientHeight: vh } = this.root;
    const { scale } = this.view;
    const w = this.width * scale;
    const h = this.height * scale;
    this.view.x = w <= vw ? (vw - w) / 2 : Math.min(0, Math.max(vw - w, this.view.x));
    this.view.y = h <= vh ? (vh - h) / 2 : Math.min(0, Math.max(vh - h, this.view.y));
    const transform = `translate(${this.view.x}px, ${this.view.y}px) scale(${scale})`;
    this.originalImg.style.transform = transform;
    this.resultImg.style.transform = transform;
    this.root.classList.toggle("is-pixelated", scale > 1);
    this.resultSide.style.clipPath = `inset(0 0 0 ${this.split}%)`;
    this.divider.style.left = `${this.split}%`;
    this.divider.setAttribute("aria-valuenow", String(this.split));
    this.divider.setAttribute("aria-valuetext", t("stage.dividerValue", { percent: formatPercent(this.split) }));
    this.onZoom(scale, this.fitted);
  }

  bind() {
    this.divider.addEventListener("keydown", (event) => this.dividerKey(event));
    this.root.addEventListener("keydown", (event) => {
      if (event.target === this.root) this.pictureKey(event);
    });
    this.root.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = this.root.getBoundingClientRect();
      const factor = Math.exp(-event.deltaY * WHEEL_RATE);
      this.zoomTo(this.view.scale * factor, event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });
    this.root.addEventListener("pointerdown", (event) => this.pointerDown(event));
    this.root.addEventListener("pointermove", (event) => this.pointerMove(event));
    for (const type of ["pointerup", "pointercancel"]) {
      this.root.addEventListener(type, (event) => this.pointers.delete(event.pointerId));
    }
  }

  dividerKey(event) {
    const step = event.shiftKey ? 10 : 1;
    const moves = {
      ArrowLeft: this.split - step,
      ArrowDown: this.split - step,
      ArrowRight: this.split + step,
      ArrowUp: this.split + step,
      Home: 0,
      End: 100,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    this.setSplit(moves[event.key]);
  }

  pictureKey(event) {
    const step = event.shiftKey ? PAN_STEP_FAST : PAN_STEP;
    const pans = {
      ArrowLeft: [step, 0],
      ArrowRight: [-step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    if (event.key in pans) {
      event.preventDefault();
      this.panBy(...pans[event.key]);
    } else if (event.key === "+" || event.key === "=") {
      event.preventDefault();
      this.zoomTo(this.view.scale * 2);
    } else if (event.key === "-" || event.key === "_") {
      event.preventDefault();
      this.zoomTo(this.view.scale / 2);
    } else if (event.key === "0") {
      event.preventDefault();
      this.fit();
    } else if (event.key === "1") {
      event.preventDefault();
      this.zoomTo(1);
    }
  }

  pointerDown(event) {
    if (event.button !== 0) return;
    const onDivider = this.divider.contains(event.target);
    this.root.setPointerCapture(event.pointerId);
    this.pointers.set(event.pointerId, {
      x: event.clientX,
      y: event.clientY,
      divider: onDivider && this.pointers.size === 0,
    });
    if (onDivider) this.divider.focus({ preventScroll: true });
    else this.root.focus({ preventScroll: true });
    event.preventDefault();
  }

  pointerMove(event) {
    const last = this.pointers.get(event.pointerId);
    if (!last) return;
    const rect = this.root.getBoundingClientRect();
    if (last.divider) {
      this.setSplit(((event.clientX - rect.left) / rect.width) * 100);
    } else if (this.pointers.size === 2) {
      // Pinch: the distance between the two fingers scales the zoom, around their midpoint.
      const [a, b] = [...this.pointers.entries()].map(([id, p]) =>
        id === event.pointerId ? { x: event.clientX, y: event.clientY } : p,
      );
      const [c, d] = [...this.pointers.values()];
      const before = Math.hypot(c.x - d.x, c.y - d.y) || 1;
      const after = Math.hypot(a.x - b.x, a.y - b.y);
      const mx = (a.x + b.x) / 2 - rect.left;
      const my = (a.y + b.y) / 2 - rect.top;
      this.zoomTo(this.view.scale * (after / before), mx, my);
    } else {
      this.fitted = false;
      this.panBy(event.clientX - last.x, event.clientY - last.y);
    }
    this.pointers.set(event.pointerId, { ...last, x: event.clientX, y: event.clientY });
  }
}

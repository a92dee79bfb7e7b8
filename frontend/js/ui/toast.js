/**
 * One toast at a time at the bottom of the window; a new one replaces the old. Warnings go away
 * after 6 s, errors after 10 s (they take longer to read and may need acting on); both have a
 * close button. Errors use role="alert" so they are announced at once. While a modal dialog is
 * open the toast is shown inside it, above its backdrop.
 *
 * A toast is a sentence in the page's language and, optionally, a detail from Python (a file
 * name, the reason a codec gave) shown below it as data: `lang="en"`, never glued into the
 * translated sentence.
 */

import { t } from "../i18n.js";

const TIMEOUT_MS = { warning: 6000, error: 10000 };
const LEAVE_MS = 250;

export class Toaster {
  constructor(host = document.getElementById("toast-host")) {
    this.host = host;
    this.current = null;
    this.timer = null;
  }

  /**
   * `message`: translated text, or several sentences (each its own line); `detail`: Python's
   * words (English), shown as they are.
   */
  show(message, type = "warning", detail = null) {
    this.remove();
    const toast = document.createElement("div");
    toast.className = `toast toast--${type}`;
    toast.dataset.testid = "toast";
    toast.dataset.type = type;
    if (type === "error") toast.setAttribute("role", "alert");

    const text = document.createElement("span");
    text.className = "toast__message";
    for (const sentence of [message].flat()) {
      const line = document.createElement("span");
      line.className = "toast__line";
      line.textContent = sentence;
      text.append(line);
    }
    if (detail) {
      const data = document.createElement("span");
      data.className = "toast__detail";
      data.lang = "en";
      data.translate = false;
      data.textContent = detail;
      text.append(data);
    }

    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast__close";
    close.setAttribute("aria-label", t("toast.dismiss"));
    close.innerHTML = '<svg aria-hidden="true"><use href="#icon-close"></use></svg>';
    close.addEventListener("click", () => this.dismiss());

    toast.append(text, close);
    // A modal dialog (settings, compare) sits in the top layer over the page: a toast about
    // what happened in it goes inside it, or it would be drawn under the dialog's backdrop.
    const modal = [...document.querySelectorAll("dialog[open]")].at(-1);
    (modal ?? this.host).append(toast);
    this.current = toast;
    this.timer = setTimeout(() => this.dismiss(), TIMEOUT_MS[type] ?? TIMEOUT_MS.warning);
  }

  dismiss() {
    const toast = this.current;
    if (!toast || toast.classList.contains("is-leaving")) return;
    clearTimeout(this.timer);
    toast.classList.add("is-leaving");
    setTimeout(() => {
      if (this.current === toast) this.remove();
    }, LEAVE_MS);
  }

  remove() {
    clearTimeout(this.timer);
    this.current?.remove();
    this.current = null;
  }
}

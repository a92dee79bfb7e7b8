/**
 * One toast at a time at the bottom of the window; a new one replaces the old. Warnings go away
 * after 6 s, errors after 10 s (they take longer to read and may need acting on); both have a
 * close button. Errors use role="alert" so they are announced at once.
 */

const TIMEOUT_MS = { warning: 6000, error: 10000 };
const LEAVE_MS = 250;

export class Toaster {
  constructor(host = document.getElementById("toast-host")) {
    this.host = host;
    this.current = null;
    this.timer = null;
  }

  show(message, type = "warning") {
    this.remove();
    const toast = document.createElement("div");
    toast.className = `toast toast--${type}`;
    toast.dataset.testid = "toast";
    toast.dataset.type = type;
    if (type === "error") toast.setAttribute("role", "alert");

    const text = document.createElement("span");
    text.className = "toast__message";
    text.textContent = message;

    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast__close";
    close.setAttribute("aria-label", "Dismiss");
    close.innerHTML = '<svg aria-hidden="true"><use href="#icon-close"></use></svg>';
    close.addEventListener("click", () => this.dismiss());

    toast.append(text, close);
    this.host.append(toast);
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

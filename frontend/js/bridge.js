/**
 * The bridge to Python: the only file of the UI that knows which shell it runs in.
 *
 * Same two calls as Tauri's JS API — invoke(command, args) and listen(event, handler) — over
 * either transport:
 *   desktop  (page loaded as index.html#desktop)
 *            window.pywebview.api.invoke(command, args) → {ok, result, error}; Python pushes
 *            events with window.__bridgeEmit(name, payload) and dropped-file paths with
 *            window.__bridgeDropped(files).
 *   browser  POST /api/invoke/<command> and GET /api/events (server-sent events), with the
 *            per-launch token from the page URL (?token=…), kept in sessionStorage so a reload
 *            of the bare address still works.
 * Listen handlers get Tauri's event shape: {event, payload}.
 *
 * Files: on the desktop a dropped File has no path in JavaScript; Python reports each drop — the
 * files' names and sizes as the page sees them, with their full paths, in drop order — and
 * prepareFiles takes the report whose names and sizes match the File objects it is given. In the
 * browser, files are uploaded in batches small enough for the server's 200 MB request limit.
 */

const TOKEN_KEY = "image-optimizer.token";
const TOKEN_HEADER = "X-Image-Optimizer-Token";
const DESKTOP_HASH = "#desktop";
const READY_TIMEOUT_MS = 60000;
const DROP_WAIT_MS = 4000;
const DROP_KEEP_MS = 30000;
const UPLOAD_BATCH_BYTES = 64 * 1024 * 1024;
const UPLOAD_BATCH_FILES = 64;
const UPLOAD_LIMIT_BYTES = 200 * 1024 * 1024;

/** An error from the app, with the backend's error kind ("validation", "forbidden", …). */
export class BridgeError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = "BridgeError";
    this.kind = kind;
  }
}

let shell = null; // "desktop" | "browser" once known
let shellPromise = null;
let token = null;

function readToken() {
  const fromUrl = new URLSearchParams(window.location.search).get("token");
  try {
    if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
    return fromUrl || sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return fromUrl; // storage can be disabled; the URL still works
  }
}

function hasDesktopApi() {
  return typeof window.pywebview?.api?.invoke === "function";
}

/** pywebview defines its API before Qt's web channel is up, and a call made in between is lost
 * (its promise never settles); on Qt the API is usable only once the channel exists, which is
 * also when pywebview fires "pywebviewready". */
function desktopApiUsable() {
  return (
    hasDesktopApi() &&
    (window.pywebview.platform !== "qtwebengine" || Boolean(window.pywebview._QWebChannel))
  );
}

function detectShell() {
  if (desktopApiUsable()) return Promise.resolve("desktop");
  if (window.location.hash === DESKTOP_HASH) {
    // The window loads the page with this mark; pywebview injects its API after the page loaded.
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new BridgeError("internal", "The window's bridge to Python did not start."));
      }, READY_TIMEOUT_MS);
      window.addEventListener(
        "pywebviewready",
        () => {
          clearTimeout(timer);
          resolve("desktop");
        },
        { once: true },
      );
    });
  }
  token = readToken();
  if (token) return Promise.resolve("browser");
  return Promise.reject(
    new BridgeError(
      "forbidden",
      'No access token: open the address printed by "image-optimizer serve".',
    ),
  );
}

/** Resolves to "desktop" or "browser" once the transport can be used. */
export function ready() {
  shellPromise ??= detectShell().then((name) => {
    shell = name;
    return name;
  });
  return shellPromise;
}

// ---- invoke ------------------------------------------------------------------------------------

export async function invoke(command, args = {}) {
  if ((await ready()) === "desktop") return invokeDesktop(command, args);
  const response = await request(`/api/invoke/${encodeURIComponent(command)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(args ?? {}),
  });
  return response.json();
}

async function invokeDesktop(command, args) {
  let reply;
  try {
    reply = await window.pywebview.api.invoke(command, args ?? {});
  } catch (err) {
    throw new BridgeError("internal", err?.message || String(err));
  }
  if (reply?.ok) return reply.result;
  throw new BridgeError(
    reply?.error?.kind ?? "internal",
    reply?.error?.message ?? `No reply to ${command}`,
  );
}

async function request(url, init = {}) {
  let response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { ...init.headers, [TOKEN_HEADER]: token },
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch (err) {
    throw new BridgeError(
      "network",
      `The app's server cannot be reached (${err.message}); is "image-optimizer serve" running?`,
    );
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

async function errorFrom(response) {
  try {
    const body = await response.json();
    if (body?.error?.kind) return new BridgeError(body.error.kind, body.error.message);
  } catch {
    // not our JSON envelope (e.g. waitress refusing an oversized body): fall through
  }
  if (response.status === 413) {
    return new BridgeError("too_large", "Too large to upload (limit: 200 MB per request).");
  }
  const kind = { 403: "forbidden", 404: "not_found" }[response.status] ?? "http";
  return new BridgeError(kind, `${response.status} ${response.statusText}`.trim());
}

// ---- listen ------------------------------------------------------------------------------------

const handlers = new Map(); // event name -> Set of handlers
let source = null;
let sourceOpen = null;

function emit(event, payload) {
  for (const handler of [...(handlers.get(event) ?? [])]) {
    try {
      handler({ event, payload });
    } catch (err) {
      console.error(`listener for ${event} failed`, err);
    }
  }
}

// The desktop shell pushes events here from Python.
window.__bridgeEmit = emit;

function eventSource() {
  if (!source) {
    source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
    // Subscribed on the server once open: wait for it, so the first events of a batch started
    // right after listen() resolves are not lost. EventSource reconnects by itself afterwards.
    sourceOpen = new Promise((resolve) => {
      source.addEventListener("open", () => resolve(), { once: true });
      setTimeout(resolve, 5000);
    });
  }
  return sourceOpen;
}

/** Calls handler({event, payload}) for each event; resolves to a function that stops it. */
export async function listen(event, handler) {
  const where = await ready();
  let set = handlers.get(event);
  if (!set) {
    set = new Set();
    handlers.set(event, set);
    if (where === "browser") {
      eventSource();
      source.addEventListener(event, (message) => {
        let payload;
        try {
          payload = JSON.parse(message.data);
        } catch {
          return;
        }
        emit(event, payload);
      });
    }
  }
  set.add(handler);
  if (where === "browser") await eventSource();
  return () => {
    set.delete(handler);
  };
}

// ---- files -------------------------------------------------------------------------------------

/** Recent drops reported by Python: {files: [{name, size, path}], at}. */
const drops = [];
const dropWaiters = new Set();

window.__bridgeDropped = (files) => {
  const now = Date.now();
  while (drops.length && now - drops[0].at > DROP_KEEP_MS) drops.shift();
  drops.push({ files: Array.isArray(files) ? files : [], at: now });
  for (const wake of [...dropWaiters]) wake();
};

function sameFiles(drop, list) {
  return (
    drop.files.length === list.length &&
    drop.files.every((f, i) => f.name === list[i].name && f.size === list[i].size)
  );
}

/** The drop Python reported for these File objects (waits briefly: the two race). */
function dropFor(list) {
  const take = () => {
    const index = drops.findIndex((drop) => sameFiles(drop, list));
    return index < 0 ? null : drops.splice(index, 1)[0];
  };
  const found = take();
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const wake = () => {
      const drop = take();
      if (drop) finish(drop);
    };
    const finish = (drop) => {
      dropWaiters.delete(wake);
      clearTimeout(timer);
      resolve(drop);
    };
    const timer = setTimeout(() => finish(null), DROP_WAIT_MS);
    dropWaiters.add(wake);
  });
}

async function prepareDesktop(list, { recursive = false, settings = null }) {
  const drop = await dropFor(list);
  const paths = list.map((_, i) => drop?.files[i]?.path || null);
  const known = paths.filter(Boolean);
  const reason = "no file path (dragged from another application?)";
  const skipped = list.filter((_, i) => !paths[i]).map((file) => ({ path: file.name, reason }));
  if (!known.length) return { paths: [], skipped };
  const expanded = await invoke("expand_paths", { paths: known, recursive, settings });
  // What was dropped is the root whose tree a "One folder" output mirrors.
  return { ...expanded, skipped: [...skipped, ...expanded.skipped], roots: known };
}

function uploadBatches(list) {
  const batches = [];
  let batch = [];
  let bytes = 0;
  for (const file of list) {
    const full = bytes + file.size > UPLOAD_BATCH_BYTES || batch.length >= UPLOAD_BATCH_FILES;
    if (batch.length && full) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(file);
    bytes += file.size;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

async function uploadFiles(list) {
  const result = { paths: [], skipped: [] };
  const fitting = [];
  for (const file of list) {
    if (file.size > UPLOAD_LIMIT_BYTES) {
      result.skipped.push({ path: file.name, reason: "too large to upload (limit: 200 MB)" });
    } else {
      fitting.push(file);
    }
  }
  for (const batch of uploadBatches(fitting)) {
    const form = new FormData();
    for (const file of batch) form.append("files", file, file.name);
    const response = await request("/api/upload", { method: "POST", body: form });
    const body = await response.json();
    result.paths.push(...body.paths);
    result.skipped.push(...body.skipped);
  }
  return result;
}

/**
 * Files from a drop or an <input type=file> → paths the backend can optimize. Desktop: dropped
 * folders expand (with sub-folders when `recursive`), skipping what a batch with `settings`
 * wrote before; the dropped paths come back as `roots`.
 */
export async function prepareFiles(files, options = {}) {
  const list = Array.from(files ?? []);
  if (!list.length) return { paths: [], skipped: [] };
  if ((await ready()) === "desktop") return prepareDesktop(list, options);
  return uploadFiles(list);
}

/** Desktop: the native folder dialog's choice (null when cancelled). */
export async function pickFolder() {
  const { path } = await invoke("pick_folder");
  return path;
}

/**
 * Desktop: the native dialog's choice, expanded like a drop (`recursive`, `settings`); browser:
 * null (the UI opens its own file input).
 */
export async function pickFiles({ folders = false, recursive = false, settings = null } = {}) {
  if ((await ready()) === "browser") return null;
  return invoke("pick_files", { folders, recursive, settings });
}

// ---- downloads (browser only: on the desktop the outputs are already beside the sources) -------

/** True when results are downloaded through the page (the browser shell). */
export function canDownload() {
  if (shell) return shell === "browser";
  return !hasDesktopApi() && window.location.hash !== DESKTOP_HASH && Boolean(readToken());
}

function attachmentName(response, fallback) {
  const header = response.headers.get("Content-Disposition") ?? "";
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (encoded) return decodeURIComponent(encoded[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}

async function saveResponse(response, fallbackName) {
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = attachmentName(response, fallbackName);
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function requireBrowser() {
  if ((await ready()) !== "browser") {
    throw new BridgeError("unsupported", "Optimized files are already saved beside the originals.");
  }
}

export async function downloadFile(path) {
  await requireBrowser();
  const query = new URLSearchParams({ path });
  const response = await request(`/api/download?${query}`);
  await saveResponse(response, path.split(/[\\/]/).pop());
}

export async function downloadAll(paths) {
  await requireBrowser();
  const response = await request("/api/download-zip", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ paths }),
  });
  await saveResponse(response, "optimized-images.zip");
}

"""The browser shell: the same UI served to a browser tab by Flask under waitress, on 127.0.0.1.

``serve()`` prints one line, ``http://127.0.0.1:PORT/?token=TOKEN``, then serves until SIGINT or
SIGTERM. Routes (every ``/api/`` one needs the token; see ``http_guard`` for who gets in):

    GET  /                       the UI (frontend/index.html); other frontend files by path
    POST /api/invoke/<command>   JSON args → 200 + result JSON, or 4xx/5xx + {"error": {...}}
    GET  /api/events             server-sent image_optimization_progress events
    POST /api/upload             multipart "files" → {"paths", "skipped"} in the session folder
    GET  /api/download?path=P    one session file as an attachment
    POST /api/download-zip       {"paths": [...]} → one zip of session files

Decisions:
- waitress with 8 threads: each open event stream holds one, so a few tabs never starve invokes.
- Uploads are capped at 200 MB per request (413), enforced by waitress before the body is read
  and again by Flask for any other server.
- The session folder is a fresh private temp folder per launch, removed at exit; the commands are
  confined to it (see ``backend.commands``), so the page can only optimize what it uploaded.
- Responses carry a strict Content-Security-Policy, ``Referrer-Policy: no-referrer`` (the token is
  in the page URL) and no CORS headers at all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import webbrowser
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import msgspec
import waitress
from flask import Flask, Response, request, send_file, send_from_directory
from werkzeug.exceptions import HTTPException

from backend.commands import AppContext, ErrorBody, invoke
from backend.errors import OptimizerError, ValidationError, error_envelope, status_for_kind
from backend.settings_store import SettingsStore
from backend.shells import launch
from backend.shells.frontend_files import frontend_dir
from backend.shells.http_events import KEEPALIVE_SECONDS, EventStreams
from backend.shells.http_files import SessionFiles
from backend.shells.http_guard import Guard
from backend.validation import convert
from backend.watch.manager import WatchManager

if TYPE_CHECKING:
    from backend.core.optimizer import ImageOptimizer

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
THREADS = 8
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
EVENTS_KEY = "image_optimizer.events"

_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class ZipRequest(msgspec.Struct, forbid_unknown_fields=True):
    paths: list[str]


def _json(obj: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(obj), status=status, mimetype="application/json")


def _error(body: ErrorBody | dict[str, str], status: int | None = None) -> Response:
    kind = body.kind if isinstance(body, ErrorBody) else body["kind"]
    return _json({"error": body}, status or status_for_kind(kind))


def _json_body() -> Any:
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ValidationError(f"Invalid request body: not JSON ({exc})") from None


def create_app(
    optimizer: ImageOptimizer,
    token: str,
    session_dir: str,
    port: int,
    *,
    settings: SettingsStore | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    keepalive: float = KEEPALIVE_SECONDS,
    ui: Path | None = None,
    watch: WatchManager | None = None,
) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = max_upload_bytes
    context = AppContext(
        optimizer=optimizer,
        settings=settings or SettingsStore(),
        shell="browser",
        path_root=session_dir,
        watch=watch,
    )
    guard = Guard(token, port)
    events = EventStreams(optimizer, keepalive)
    files = SessionFiles(session_dir)
    app.extensions[EVENTS_KEY] = events

    @app.before_request
    def _check_caller() -> Response | None:
        reason = guard.refusal(request)
        if reason is None:
            return None
        log.warning("request refused: path=%s reason=%s", request.path, reason)
        return _error({"kind": "forbidden", "message": f"Refused: {reason}"}, 403)

    @app.after_request
    def _harden(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-cache")
        return response

    @app.errorhandler(OptimizerError)
    def _optimizer_error(exc: OptimizerError) -> Response:
        return _error(error_envelope(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        kind = {403: "forbidden", 404: "not_found", 413: "too_large"}.get(exc.code or 0, "http")
        return _error({"kind": kind, "message": exc.description or exc.name}, exc.code)

    ui = ui or frontend_dir()

    @app.get("/")
    def _index() -> Response:
        return send_from_directory(ui, "index.html")

    @app.get("/<path:path>")
    def _frontend(path: str) -> Response:
        return send_from_directory(ui, path)

    @app.post("/api/invoke/<command>")
    def _invoke(command: str) -> Response:
        reply = invoke(command, _json_body(), context)
        if reply.ok:
            return _json(reply.result)
        assert reply.error is not None
        return _error(reply.error)

    @app.get("/api/events")
    def _events() -> Response:
        return Response(
            events.stream(),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.post("/api/upload")
    def _upload() -> Response:
        uploads = request.files.getlist("files")
        if not uploads:
            raise ValidationError("Invalid upload: no files in the multipart field 'files'")
        return _json(files.save_uploads(uploads))

    @app.get("/api/download")
    def _download() -> Response:
        real = files.resolve(request.args.get("path", ""))
        return send_file(real, as_attachment=True, download_name=os.path.basename(real))

    @app.post("/api/download-zip")
    def _download_zip() -> Response:
        wanted = convert(_json_body(), ZipRequest, what="download-zip request")
        archive = files.zip_of(wanted.paths)
        return send_file(
            archive,
            mimetype="application/zip",
            as_attachment=True,
            download_name="optimized-images.zip",
        )

    return app


def serve(port: int = 0, open_browser: bool = False, workers: int | None = None) -> int:
    """Serve the UI on 127.0.0.1 until SIGINT/SIGTERM; returns the exit code."""
    prepared = launch.prepare(workers)
    if prepared is None:
        return 2
    ui, optimizer = prepared
    try:
        sock = socket.create_server((HOST, port))
    except OSError as exc:
        print(f"image-optimizer: cannot listen on {HOST}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(32)
    session_dir = tempfile.mkdtemp(prefix="image-optimizer-session-")
    watch = WatchManager(optimizer)  # the saved watch folders, watched while serving
    try:
        optimizer.start(wait=False)
        watch.start()
        app = create_app(optimizer, token, session_dir, port, ui=ui, watch=watch)
        server = waitress.create_server(
            app,
            sockets=[sock],
            threads=THREADS,
            max_request_body_size=MAX_UPLOAD_BYTES,
            ident="image-optimizer",
        )
        url = f"http://{HOST}:{port}/?token={token}"
        print(url, flush=True)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        _run_until_signal(server, app.extensions[EVENTS_KEY])
    finally:
        sock.close()
        watch.stop()
        optimizer.shutdown()
        shutil.rmtree(session_dir, ignore_errors=True)
    return 0


def _run_until_signal(server: Any, events: EventStreams) -> None:
    def stop(signum: int, _frame: FrameType | None) -> None:
        # End the event streams first: waitress waits for busy threads when it stops.
        events.close()
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        events.close()
        server.close()

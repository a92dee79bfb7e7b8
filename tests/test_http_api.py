"""The HTTP bridge over real HTTP: waitress serving ``create_app`` on 127.0.0.1 with a real
two-worker optimizer; uploads, invokes, server-sent events, downloads and zips of real images."""

from __future__ import annotations

import base64
import http.client
import io
import json
import queue
import secrets
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import piexif
import pytest
import skimage.data
import waitress
from flask import Flask
from PIL import Image, JpegImagePlugin

from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.settings_store import SettingsStore
from backend.shells.http import EVENTS_KEY, create_app
from backend.shells.http_events import EventStreams

UPLOAD_CAP = 2 * 1024 * 1024


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    port: int
    token: str
    session: Path
    app: Flask

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(
                method, path, body, {"X-Image-Optimizer-Token": self.token, **(headers or {})}
            )
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def invoke(self, command: str, args: Any) -> Reply:
        body = json.dumps(args).encode()
        return self.request(
            "POST", f"/api/invoke/{command}", body, {"Content-Type": "application/json"}
        )

    def upload(self, files: list[tuple[str, bytes]]) -> Reply:
        body, content_type = multipart(files)
        return self.request("POST", "/api/upload", body, {"Content-Type": content_type})

    @property
    def events(self) -> EventStreams:
        return self.app.extensions[EVENTS_KEY]


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    parts = [
        (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def _serve(server: Any, stop: threading.Event) -> None:
    # Stepping the loop ourselves lets the test stop it from its own thread, cleanly.
    while not stop.is_set():
        waitress.wasyncore.loop(timeout=0.05, map=server._map, count=1)
    server.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("http")
    session = root / "session"
    session.mkdir()
    optimizer = ImageOptimizer(ProcessPool(2))
    optimizer.start(wait=False)
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(32)
    app = create_app(
        optimizer, token, str(session), port,
        settings=SettingsStore(root / "config"), max_upload_bytes=UPLOAD_CAP, keepalive=0.2,
    )
    wsgi = waitress.create_server(app, sockets=[sock], threads=8)
    stop = threading.Event()
    thread = threading.Thread(target=_serve, args=(wsgi, stop), daemon=True)
    thread.start()
    yield Server(port=port, token=token, session=session, app=app)
    app.extensions[EVENTS_KEY].close()
    stop.set()
    thread.join(10)
    sock.close()
    optimizer.shutdown()


def jpeg_bytes(array: Any, quality: int = 98) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


CAT = jpeg_bytes(skimage.data.chelsea())
COFFEE = jpeg_bytes(skimage.data.coffee()[::2, ::2])


class EventReader:
    """A server-sent-events client on its own connection, parsing into a queue."""

    def __init__(self, server: Server) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        self.conn.request("GET", f"/api/events?token={server.token}")
        self.sock = self.conn.sock  # http.client lets go of it once the response streams
        self.response = self.conn.getresponse()
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        name, data = None, []
        try:
            while line := self.response.readline():
                self.opened.set()
                text = line.decode().rstrip("\r\n")
                if text.startswith("event: "):
                    name = text[7:]
                elif text.startswith("data: "):
                    data.append(text[6:])
                elif not text and name is not None:
                    self.events.put((name, json.loads("\n".join(data))))
                    name, data = None, []
        except (OSError, ValueError):
            pass  # closed by the test

    def until_complete(self, timeout: float = 60) -> list[Any]:
        received = []
        while True:
            name, payload = self.events.get(timeout=timeout)
            assert name == "image_optimization_progress"
            received.append(payload)
            if payload["status"] != "processing":
                return received

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(10)
        self.response.close()  # the last reference to the socket: now it is really closed
        self.sock.close()


def wait_until(condition: Any, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# ---- invoke -------------------------------------------------------------------------------------


def test_invoke_returns_the_result_as_json(server: Server) -> None:
    reply = server.invoke("get_app_info", {})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    info = reply.json()
    assert info["shell"] == "browser"
    assert info["workers"] == 2


def test_invoke_with_an_empty_body_means_no_arguments(server: Server) -> None:
    reply = server.request("POST", "/api/invoke/get_active_tasks")
    assert (reply.status, reply.json()) == (200, [])


@pytest.mark.parametrize(
    ("command", "body", "status", "kind", "mentions"),
    [
        ("optimise_images", b"{}", 404, "unknown_command", "optimise_images"),
        ("optimize_images", b'{"tasks": [["a.jpg", null, {"quality": {"global": 0}}]]}', 400,
         "validation", "tasks[0]: settings.quality.global = 0"),
        ("optimize_images", b"{tasks: oops", 400, "validation", "not JSON"),
        ("pick_files", b"{}", 501, "unsupported", "desktop"),
        ("optimize_image", b'{"input_path": "/etc/hostname"}', 403, "forbidden", "/etc/hostname"),
    ],
)
def test_invoke_errors_come_back_as_the_envelope(
    server: Server, command: str, body: bytes, status: int, kind: str, mentions: str
) -> None:
    reply = server.request(
        "POST", f"/api/invoke/{command}", body, {"Content-Type": "application/json"}
    )
    assert reply.status == status
    error = reply.json()["error"]
    assert error["kind"] == kind
    assert mentions in error["message"]


def test_settings_saved_over_http_are_loaded_back(server: Server) -> None:
    saved = server.invoke("save_settings", {"settings": {"outputFormat": "webp"}}).json()
    assert saved["outputFormat"] == "webp"
    assert server.invoke("load_settings", {}).json() == saved


# ---- upload, optimize, events, download ---------------------------------------------------------


def test_upload_optimize_and_download_each_and_all(server: Server) -> None:
    uploaded = server.upload([("photo.jpg", CAT), ("photo.jpg", COFFEE)])
    assert uploaded.status == 200
    paths = uploaded.json()["paths"]
    assert uploaded.json()["skipped"] == []
    assert len(set(paths)) == 2
    for path, data in zip(paths, (CAT, COFFEE), strict=True):
        assert Path(path).name == "photo.jpg"
        assert Path(path).is_relative_to(server.session)
        assert Path(path).read_bytes() == data

    tasks = [{"input_path": p, "output_path": None} for p in paths]
    results = server.invoke("optimize_images", {"tasks": tasks}).json()
    outputs = [r["optimized_path"] for r in results]
    assert [Path(o).parent for o in outputs] == [Path(p).parent / "optimized" for p in paths]

    for output, original in zip(outputs, (CAT, COFFEE), strict=True):
        reply = server.request("GET", f"/api/download?path={output}")
        assert reply.status == 200
        assert 'attachment; filename=photo.jpg' in reply.headers["Content-Disposition"]
        assert reply.body == Path(output).read_bytes()
        assert len(reply.body) < len(original)
        with Image.open(io.BytesIO(reply.body)) as im:
            assert im.format == "JPEG"
            assert im.size == Image.open(io.BytesIO(original)).size

    reply = server.request(
        "POST", "/api/download-zip", json.dumps({"paths": outputs}).encode(),
        {"Content-Type": "application/json"},
    )
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/zip"
    assert "optimized-images.zip" in reply.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(reply.body)) as archive:
        assert archive.namelist() == ["photo.jpg", "photo (2).jpg"]
        for name, original in zip(archive.namelist(), (CAT, COFFEE), strict=True):
            data = archive.read(name)
            assert len(data) < len(original)
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                assert im.format == "JPEG"


def test_events_stream_delivers_progress_of_a_real_batch(server: Server) -> None:
    paths = server.upload([("a.jpg", CAT), ("b.jpg", COFFEE), ("c.jpg", CAT)]).json()["paths"]
    reader = EventReader(server)
    try:
        assert reader.response.status == 200
        assert reader.response.headers["Content-Type"].startswith("text/event-stream")
        assert reader.opened.wait(10)
        results = server.invoke(
            "optimize_images", {"tasks": [{"input_path": p} for p in paths]}
        ).json()
        events = reader.until_complete()
    finally:
        reader.close()
    assert all(r["success"] for r in results)
    final = events[-1]
    assert final["status"] == "complete"
    assert final["completedTasks"] == final["totalTasks"] == 3
    assert final["progressPercentage"] == 100
    assert final["metadata"]["totalDuration"] > 0
    counts = [e["completedTasks"] for e in events]
    assert counts == sorted(counts)


def test_closed_event_stream_is_unsubscribed(server: Server) -> None:
    # Streams closed by earlier tests go first (noticed at their next keep-alive, 0.2 s here).
    wait_until(lambda: server.events.open_streams == 0, "earlier streams to be dropped")
    reader = EventReader(server)
    assert reader.opened.wait(10)
    assert server.events.open_streams == 1
    reader.close()
    wait_until(lambda: server.events.open_streams == 0, "the stream to be dropped")


# ---- upload names, skips, limits ----------------------------------------------------------------


def test_upload_names_stay_inside_the_session_folder(server: Server) -> None:
    marker = secrets.token_hex(4)
    names = [
        f"../../escape-{marker}.jpg",
        f"..\\..\\windows-{marker}.jpg",
        f"/tmp/absolute-{marker}.jpg",
        "фото.jpg",
        ".hidden.jpg",
        "..",
    ]
    reply = server.upload([(name, CAT) for name in names])
    assert reply.status == 200
    body = reply.json()
    stored = [Path(p) for p in body["paths"]]
    assert [p.name for p in stored] == [
        f"escape-{marker}.jpg", f"windows-{marker}.jpg", f"absolute-{marker}.jpg",
        "фото.jpg", "hidden.jpg",
    ]
    for path in stored:
        assert path.resolve().is_relative_to(server.session / "uploads")
    assert body["skipped"] == [{"path": "..", "reason": "no usable file name"}]
    root = server.session.parent.parent  # the test's whole temp area
    escaped = [p for p in root.rglob(f"*{marker}*") if not p.is_relative_to(server.session)]
    assert escaped == []
    assert not Path(f"/tmp/absolute-{marker}.jpg").exists()


def test_upload_of_a_non_image_is_skipped_and_removed(server: Server) -> None:
    reply = server.upload([("notes.txt", b"shopping list"), ("cat.jpg", CAT)])
    body = reply.json()
    assert [Path(p).name for p in body["paths"]] == ["cat.jpg"]
    assert body["skipped"] == [{"path": "notes.txt", "reason": "not an image"}]
    assert list(server.session.rglob("notes.txt")) == []


def test_upload_without_files_is_a_validation_error(server: Server) -> None:
    reply = server.upload([])
    assert reply.status == 400
    assert "files" in reply.json()["error"]["message"]


def test_oversized_upload_is_refused_with_413_and_nothing_written(server: Server) -> None:
    before = sorted(server.session.rglob("*"))
    big = secrets.token_bytes(UPLOAD_CAP + 1024)
    reply = server.upload([("huge.jpg", big)])
    assert reply.status == 413
    assert reply.json()["error"]["kind"] == "too_large"
    assert sorted(server.session.rglob("*")) == before


def test_downloads_are_limited_to_session_files(server: Server, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    for path in (str(outside), f"{server.session}/../{outside.name}", "/etc/hostname"):
        reply = server.request("GET", f"/api/download?path={path}")
        assert reply.status == 403
        assert reply.json()["error"]["kind"] == "forbidden"
        assert b"not yours" not in reply.body
    missing = server.request("GET", f"/api/download?path={server.session}/nope.jpg")
    assert (missing.status, missing.json()["error"]["kind"]) == (404, "not_found")
    zipped = server.request(
        "POST", "/api/download-zip", json.dumps({"paths": [str(outside)]}).encode(),
        {"Content-Type": "application/json"},
    )
    assert zipped.status == 403
    assert b"not yours" not in zipped.body


# ---- the page -----------------------------------------------------------------------------------


def test_page_and_modules_are_served_with_the_right_types(server: Server) -> None:
    index = server.request("GET", "/")
    assert index.status == 200
    assert index.headers["Content-Type"].startswith("text/html")
    assert b"<title>Image Optimizer</title>" in index.body
    bridge = server.request("GET", "/js/bridge.js")
    assert bridge.status == 200
    assert bridge.headers["Content-Type"].startswith("text/javascript")
    assert b"export async function invoke" in bridge.body
    assert "frame-ancestors 'none'" in index.headers["Content-Security-Policy"]
    assert index.headers["Referrer-Policy"] == "no-referrer"


def test_files_outside_the_frontend_are_not_served(server: Server) -> None:
    for path in ("/../pyproject.toml", "/%2e%2e/pyproject.toml", "/js/../../backend/commands.py"):
        reply = server.request("GET", path)
        assert reply.status == 404, path
        assert b"dependencies" not in reply.body
        assert b"register_command" not in reply.body


def test_serve_reports_a_busy_port_and_a_bad_pool_size() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "backend", "serve", "--port", str(port), "--workers", "1"],
            capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "backend", "serve", "--workers", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "workers" in proc.stderr


def test_metadata_icc_and_chroma_settings_cross_the_http_bridge(server: Server) -> None:
    exif = piexif.dump({"0th": {piexif.ImageIFD.Make: b"HttpCam"},
                        "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"S"}})
    buffer = io.BytesIO()
    Image.fromarray(skimage.data.chelsea()).save(buffer, "JPEG", quality=98, exif=exif)
    [path] = server.upload([("gps.jpg", buffer.getvalue())]).json()["paths"]
    settings = {"quality": {"global": 80}, "metadata": "keep-no-location", "icc": "srgb",
                "chroma": "4:4:4"}
    result = server.invoke("optimize_image", {"input_path": path, "output_path": None,
                                              "settings": settings}).json()
    assert result["success"], result
    kept = piexif.load(Path(result["optimized_path"]).read_bytes())
    assert kept["0th"][piexif.ImageIFD.Make] == b"HttpCam" and kept["GPS"] == {}
    with Image.open(result["optimized_path"]) as im:
        assert JpegImagePlugin.get_sampling(im) == 0

    bad = server.invoke("optimize_image", {"input_path": path, "output_path": None,
                                           "settings": {"metadata": "all"}})
    assert bad.status == 400
    assert bad.json()["error"]["kind"] == "validation"
    assert 'metadata = "all"' in bad.json()["error"]["message"]


def test_an_output_folder_outside_the_session_is_forbidden(server: Server, tmp_path: Path) -> None:
    [path] = server.upload([("cat.jpg", CAT)]).json()["paths"]
    outside = tmp_path / "elsewhere"
    reply = server.invoke("optimize_images", {"tasks": [{"input_path": path, "settings": {
        "output": "folder", "outputFolder": str(outside)}}]})
    assert reply.status == 403
    assert reply.json()["error"]["kind"] == "forbidden"
    assert not outside.exists()


def test_preview_image_crosses_the_http_bridge_for_session_files(server: Server) -> None:
    path = server.upload([("preview.jpg", CAT)]).json()["paths"][0]
    reply = server.invoke("preview_image", {"input_path": path, "original": True,
                                            "settings": {"outputFormat": "webp"}})
    assert reply.status == 200, reply.body[:300]
    body = reply.json()
    data = base64.b64decode(body["result"]["data"])
    assert body["size"] == len(data) and data[8:12] == b"WEBP"
    assert base64.b64decode(body["original"]["data"]) == CAT
    assert not (Path(path).parent / "optimized").exists()  # nothing written
    gone = server.invoke("preview_image", {"input_path": str(Path(path).parent / "gone.jpg")})
    assert gone.status >= 400 and "file not found" in gone.json()["error"]["message"]

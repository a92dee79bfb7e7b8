"""The HTTP bridge lets in only its own page: a real ``image-optimizer serve`` subprocess, probed
with raw HTTP (any header an attacker could send) and with a real Chromium on a foreign origin.

Every refusal is checked to be a 403 that did nothing: an upload that is refused writes no file,
an optimize that is refused creates no ``optimized/`` folder (and the same request with the right
credentials does, so the check could fail).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import skimage.data
from conftest import TOKEN_HEADER
from PIL import Image
from playwright.sync_api import Browser, Page

if TYPE_CHECKING:
    from conftest import Served


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(skimage.data.chelsea()[::2, ::2]).save(buffer, "JPEG", quality=98)
    return buffer.getvalue()


PHOTO = _jpeg()


def send(
    served: Served,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def good_headers(served: Served, **extra: str) -> dict[str, str]:
    return {"Host": f"127.0.0.1:{served.port}", TOKEN_HEADER: served.token, **extra}


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
        f"Content-Type: image/jpeg\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def uploaded_photo(served: Served) -> Path:
    body, content_type = multipart("cat.jpg", PHOTO)
    status, _, reply = send(
        served, "POST", "/api/upload", body, good_headers(served, **{"Content-Type": content_type})
    )
    assert status == 200, reply
    return Path(json.loads(reply)["paths"][0])


def files_in_session(served: Served) -> list[Path]:
    return sorted(p for d in served.session_dirs() for p in d.rglob("*") if p.is_file())


def optimize_request(photo: Path) -> bytes:
    return json.dumps({"tasks": [{"input_path": str(photo)}]}).encode()


def assert_refused(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 403
    assert json.loads(body)["error"]["kind"] == "forbidden"
    assert not any(name.startswith("access-control-") for name in headers)


def refusal_cases(served: Served) -> dict[str, dict[str, str]]:
    """Header sets that must be refused, each one thing wrong with the good set."""
    good = good_headers(served, **{"Content-Type": "application/json"})
    wrong_token = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
    without_token = {k: v for k, v in good.items() if k != TOKEN_HEADER}
    return {
        "no token": without_token,
        "empty token": {**good, TOKEN_HEADER: ""},
        "wrong token": {**good, TOKEN_HEADER: wrong_token},
        "token as query on POST": without_token,  # path gets ?token= below
        "rebinding host": {**good, "Host": f"evil.example:{served.port}"},
        "other port": {**good, "Host": f"127.0.0.1:{served.port + 1}"},
        "no port": {**good, "Host": "127.0.0.1"},
        "foreign origin": {**good, "Origin": "http://evil.example"},
        "same host other port origin": {**good, "Origin": f"http://127.0.0.1:{served.port + 1}"},
        "null origin": {**good, "Origin": "null"},
        "https origin": {**good, "Origin": f"https://127.0.0.1:{served.port}"},
        "cross-site fetch": {**good, "Sec-Fetch-Site": "cross-site"},
    }


def test_refused_invokes_do_nothing_and_the_good_one_works(server: Served) -> None:
    photo = uploaded_photo(server)
    optimized = photo.parent / "optimized"
    for case, headers in refusal_cases(server).items():
        path = "/api/invoke/optimize_images"
        if case == "token as query on POST":
            path += f"?token={server.token}"
        assert_refused(*send(server, "POST", path, optimize_request(photo), headers))
        assert not optimized.exists(), f"{case}: the optimization ran"

    good = good_headers(
        server, **{"Content-Type": "application/json", "Origin": f"http://localhost:{server.port}",
                   "Host": f"localhost:{server.port}", "Sec-Fetch-Site": "same-origin"}
    )
    status, headers, body = send(
        server, "POST", "/api/invoke/optimize_images", optimize_request(photo), good
    )
    assert status == 200, body
    assert not any(name.startswith("access-control-") for name in headers)
    result = json.loads(body)[0]
    assert result["success"] is True
    assert Path(result["optimized_path"]).parent == optimized
    assert Path(result["optimized_path"]).stat().st_size < len(PHOTO)


def test_refused_uploads_write_nothing(server: Served) -> None:
    uploaded_photo(server)  # the session folder exists and holds one file
    before = files_in_session(server)
    body, content_type = multipart("dropped.jpg", PHOTO)
    for case, headers in refusal_cases(server).items():
        headers = {**headers, "Content-Type": content_type}
        query = f"?token={server.token}" if case == "token as query on POST" else ""
        path = "/api/upload" + query
        assert_refused(*send(server, "POST", path, body, headers))
        assert files_in_session(server) == before, f"{case}: a file was written"


def test_event_stream_and_downloads_need_the_token(server: Served) -> None:
    photo = uploaded_photo(server)
    host = {"Host": f"127.0.0.1:{server.port}"}
    for path in (
        "/api/events",
        "/api/events?token=",
        f"/api/events?token={server.token[:-2]}",
        f"/api/download?path={photo}",
        f"/api/download?path={photo}&token=wrong",
    ):
        status, headers, body = send(server, "GET", path, None, host)
        assert_refused(status, headers, body)
        assert PHOTO not in body

    path = f"/api/download?path={photo}&token={server.token}"
    status, _, body = send(server, "GET", path, None, host)
    assert (status, body) == (200, PHOTO)


def test_rebinding_host_cannot_even_read_the_page(server: Served) -> None:
    for host in (f"evil.example:{server.port}", f"127.0.0.1.evil.example:{server.port}"):
        assert_refused(*send(server, "GET", "/", None, {"Host": host}))
        assert_refused(*send(server, "GET", "/js/bridge.js", None, {"Host": host}))
    status, _, body = send(server, "GET", "/", None, {"Host": f"localhost:{server.port}"})
    assert status == 200
    assert b"<title>Image Optimizer</title>" in body


def test_preflight_from_a_foreign_origin_gets_no_cors_grant(server: Served) -> None:
    headers = {
        "Host": f"127.0.0.1:{server.port}",
        "Origin": "http://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-image-optimizer-token",
    }
    assert_refused(*send(server, "OPTIONS", "/api/invoke/get_app_info", None, headers))


def test_oversized_upload_is_refused_before_it_is_read(server: Served) -> None:
    uploaded_photo(server)
    before = files_in_session(server)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.putrequest("POST", "/api/upload", skip_host=True)
        for name, value in good_headers(server).items():
            conn.putheader(name, value)
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(300 * 1024 * 1024))
        conn.endheaders()
        # The server answers from the headers alone; only a first slice of the body is sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.send(b"--x\r\n" + b"\0" * 65536)
        response = conn.getresponse()
        assert response.status == 413
        response.read()
    finally:
        conn.close()
    assert files_in_session(server) == before


def test_server_removes_its_session_folder_and_exits_cleanly(server: Served) -> None:
    uploaded_photo(server)
    assert len(server.session_dirs()) == 1
    assert server.stop() == 0
    assert server.session_dirs() == []


@pytest.fixture
def foreign_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    # A page on another site, served by Playwright: what a malicious tab would be.
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>evil</p>"),
    )
    page.goto("http://evil.example/")
    yield page
    context.close()


def test_a_foreign_site_in_chromium_cannot_call_the_api(foreign_page: Page, server: Served) -> None:
    photo = uploaded_photo(server)
    outcome = foreign_page.evaluate(
        """async ([base, token, body]) => {
            const tries = {};
            const attempt = async (name, init) => {
                try {
                    const r = await fetch(`${base}/api/invoke/optimize_images`, init);
                    tries[name] = `status ${r.status}`;
                } catch (err) {
                    tries[name] = "blocked";
                }
            };
            // Even knowing the token: the preflight is refused, so the request is never sent.
            await attempt("with token", {method: "POST", body,
                headers: {"Content-Type": "application/json", "X-Image-Optimizer-Token": token}});
            // A "simple" request needs no preflight, but carries the foreign Origin: refused.
            await attempt("simple", {method: "POST", body, mode: "no-cors"});
            return tries;
        }""",
        [server.base, server.token, optimize_request(photo).decode()],
    )
    assert outcome["with token"] == "blocked"
    assert outcome["simple"] in {"status 0", "blocked"}  # opaque: the page learns nothing
    assert not (photo.parent / "optimized").exists()


def test_ctrl_c_stops_the_server_cleanly(server: Served) -> None:
    uploaded_photo(server)
    reader = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    reader.request("GET", f"/api/events?token={server.token}")
    stream = reader.getresponse()  # an open event stream must not hold the shutdown up
    assert stream.status == 200
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(20) == 0
    assert server.session_dirs() == []
    reader.close()


def test_page_without_token_is_refused_at_once(page: Page, server: Served) -> None:
    page.goto(f"{server.base}/")
    outcome = page.evaluate(
        """() => import('/js/bridge.js').then((bridge) =>
            bridge.invoke('get_app_info').then(() => 'answered', (err) => err.kind))"""
    )
    assert outcome == "forbidden"


def test_token_is_kept_for_a_reload_of_the_bare_address(page: Page, server: Served) -> None:
    page.goto(server.url)
    page.goto(f"{server.base}/")  # same tab, the token no longer in the address
    info = page.evaluate("() => import('/js/bridge.js').then((b) => b.invoke('get_app_info'))")
    assert info["shell"] == "browser"

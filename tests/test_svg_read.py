"""SVG from strangers: each bad file is refused (or cleaned) with a reason, through the pipeline,
and nothing is ever expanded or fetched."""

from __future__ import annotations

import gzip
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from svg_renders import BAD, DATA, differing

from backend.core.discovery import expand_paths, sniff_bytes, sniff_format
from backend.core.formats.svg_read import active_content, read_svg
from backend.core.formats.svg_render import AREA_TOLERANCE
from backend.core.paths import assign_output_paths
from backend.core.pipeline import optimize_file
from backend.errors import ImageTooLargeError, UnsupportedFormatError
from backend.types import OptimizationResult, Task
from backend.validation import decode_settings


def run(src: Path) -> OptimizationResult:
    cfg = decode_settings({})
    [out] = assign_output_paths([Task(input_path=str(src), settings=cfg)])
    return optimize_file(str(src), out, cfg)[0]


def bad_copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copy(BAD / name, tmp_path / name))


@pytest.mark.parametrize(("name", "kind", "message"), [
    ("billion-laughs.svg", "unsupported_format", "built from other entities or markup (lol2)"),
    ("quadratic-blowup.svg", "unsupported_format", "entities would expand by more than 1024 KiB"),
    ("xxe.svg", "unsupported_format", "an external entity (secret)"),
    ("external-dtd-parameter-entity.svg", "unsupported_format", "a parameter entity (%remote)"),
    ("external-image.svg", "unsupported_format",
     'external resource (<image href="https://tracker.example/pixel.png">)'),
    ("local-file-image.svg", "unsupported_format", "file:///etc/ssl/private/key.png"),
    ("external-css-import.svg", "unsupported_format", "external resource (CSS @import)"),
    ("empty.svg", "unsupported_format", "empty file (0 bytes)"),
    ("truncated.svg", "decode", "truncated SVG data: the file ends before the document does"),
    ("truncated.svgz", "decode", "truncated SVGZ data"),
    ("not-xml.svg", "unsupported_format", "not an image (content is not JPEG, PNG"),
    ("not-svg-root.svg", "unsupported_format", "the XML's root element is <plist>, not <svg>"),
    ("malformed.svg", "decode", "not well-formed SVG/XML: mismatched tag at line 4, column 3"),
])
def test_each_bad_svg_gets_a_clear_error_and_no_output(
    tmp_path: Path, name: str, kind: str, message: str
) -> None:
    result = run(bad_copy(tmp_path, name))
    assert not result.success
    assert result.errorKind == kind, result.error
    assert message in (result.error or ""), result.error
    assert not (tmp_path / "optimized").exists() or not any((tmp_path / "optimized").iterdir())


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records every request it gets."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY leaked "fetched">')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_external_dtds_entities_and_images_are_never_fetched(
    tmp_path: Path, web_server: tuple[str, list[str]]
) -> None:
    url, requests = web_server
    svg_tail = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">{}</svg>'
    cases = {
        "public-dtd.svg": f'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "{url}/svg11.dtd">'
                          + svg_tail.format("<rect width='8' height='8'/>"),
        "xxe.svg": f'<!DOCTYPE svg [<!ENTITY x SYSTEM "{url}/x">]>' + svg_tail.format("&x;"),
        "param.svg": f'<!DOCTYPE svg [<!ENTITY % p SYSTEM "{url}/p"> %p;]>' + svg_tail.format(""),
        "image.svg": svg_tail.format(f'<image href="{url}/pixel.png" width="8" height="8"/>'),
        "pi.svg": f'<?xml-stylesheet href="{url}/style.css"?>' + svg_tail.format(""),
    }
    results = {}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        results[name] = run(tmp_path / name)
    assert requests == []
    # A DOCTYPE naming the standard DTD is harmless once dropped: that file is optimized.
    assert results.pop("public-dtd.svg").success
    assert all(r.errorKind == "unsupported_format" for r in results.values()), results


def test_script_handlers_and_javascript_links_are_removed_and_the_link_shapes_stay(
    tmp_path: Path,
) -> None:
    src = bad_copy(tmp_path, "script.svg")
    result = run(src)
    assert result.success, result.error
    out = Path(result.optimized_path).read_text()
    for active in ("<script", "onload", "onclick", "onmouseover", "javascript:", "alert("):
        assert active not in out
    assert 'fill="#26a269"' in out and 'fill="#f5c211"' in out  # both shapes are still drawn
    assert active_content(read_svg(src.read_bytes()).root) == "onload handler"
    assert active_content(read_svg(out.encode()).root) is None


def test_illustrator_entities_for_namespace_names_are_substituted_once() -> None:
    svg = read_svg((DATA / "illustrator-style.svg").read_bytes())
    assert "<!DOCTYPE" not in svg.text and "&ns_" not in svg.text
    assert svg.root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Café sign" in svg.text  # decoded from the ISO-8859-1 it declares
    assert 'encoding="iso-8859-1"' not in svg.text  # it is UTF-8 text from here on


def test_a_sodipodi_attlist_goes_with_the_doctype_and_the_file_is_optimized(
    tmp_path: Path,
) -> None:
    svg = read_svg((DATA / "sodipodi-attlist.svg").read_bytes())
    assert "<!DOCTYPE" not in svg.text and "<!ATTLIST" not in svg.text
    result = run(Path(shutil.copy(DATA / "sodipodi-attlist.svg", tmp_path / "flag.svg")))
    assert result.success, result.error
    out = Path(result.optimized_path).read_text()
    assert result.optimized_size < result.original_size
    assert differing(svg.text, out) <= AREA_TOLERANCE


def test_an_attlist_quoting_brackets_goes_whole_and_any_other_declaration_is_refused() -> None:
    attlist = b'<!ATTLIST svg title CDATA "a]b>c">'
    root = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    assert read_svg(b"<!DOCTYPE svg [" + attlist + b"]>" + root).text == root.decode()
    with pytest.raises(UnsupportedFormatError, match="more than plain text entities"):
        read_svg(b"<!DOCTYPE svg [" + attlist + b"<!ELEMENT svg ANY>]>" + root)

def test_a_gzip_bomb_is_refused_before_it_is_inflated_whole() -> None:
    bomb = gzip.compress(b'<svg xmlns="http://www.w3.org/2000/svg">' + b" " * (80 * 2**20))
    with pytest.raises(ImageTooLargeError, match="inflates to more than 64 MiB"):
        read_svg(bomb)


def test_svg_and_svgz_are_recognised_by_content_and_kept_when_a_folder_is_expanded(
    tmp_path: Path,
) -> None:
    for name in ("tango-edit-copy.svg", "illustrator-style.svg", "written-text-mask-clip.svg"):
        shutil.copy(DATA / name, tmp_path / f"{name}.dat")
        assert sniff_format(str(tmp_path / f"{name}.dat")) == "svg"
    svgz = (DATA / "tango-edit-copy.svgz").read_bytes()
    assert sniff_bytes(svgz[:4096]) == "svg"
    assert sniff_bytes(b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>") == "svg"
    assert sniff_bytes(b"plain text") is None

    folder = tmp_path / "art"
    folder.mkdir()
    for name in ("tango-undo.svg", "tango-edit-copy.svgz"):
        shutil.copy(DATA / name, folder / name)
    found = expand_paths([str(folder)])
    images, skipped = found.paths, found.skipped
    assert images == [str(folder / "tango-edit-copy.svgz"), str(folder / "tango-undo.svg")]
    assert skipped == []

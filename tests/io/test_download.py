"""Downloads against a local HTTP server on 127.0.0.1: mirrors, resume, bad checksums, HTML pages, dead hosts."""

from __future__ import annotations

import argparse
import hashlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from charbench.errors import DownloadError
from charbench.io import download as dl
from charbench.manifest import DatasetEntry, RawFile

BODY = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
HALF = len(BODY) // 2
HTML = b"<!DOCTYPE html><html><body>Sorry, this file has moved.</body></html>"
TIMEOUT = 5.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("Range")))
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        route(self)

    def log_message(self, *args):
        pass


def send(handler, body: bytes, *, ranges: bool = True, cut_at: int | None = None, ctype="application/zip"):
    """Reply with ``body`` (honouring Range unless told not to), optionally dropping the connection early."""
    status, start = 200, 0
    requested = handler.headers.get("Range")
    if ranges and requested:
        start = int(requested.removeprefix("bytes=").split("-")[0])
        if start >= len(body):
            handler.send_error(416, "Range Not Satisfiable")
            return
        status = 206
    data = body[start:]
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(data)))
    if status == 206:
        handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
    handler.end_headers()
    handler.wfile.write(data if cut_at is None else data[:cut_at])
    handler.wfile.flush()
    if cut_at is not None:
        handler.close_connection = True


def cut_first(times: int, body: bytes = BODY, *, ranges: bool = True, cut: int = HALF):
    """A route that drops the connection after ``cut`` bytes the first ``times`` requests, then serves normally."""
    calls = {"n": 0}

    def route(handler):
        calls["n"] += 1
        send(handler, body, ranges=ranges, cut_at=cut if calls["n"] <= times else None)

    return route


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.routes, srv.requests = {}, []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = lambda path: f"http://127.0.0.1:{srv.server_port}{path}"
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def raw_file(*urls: str, body: bytes = BODY, name: str = "data.bin", sha: bool = True, size: bool = True) -> RawFile:
    return RawFile(
        name=name, urls=tuple(urls), sha256=hashlib.sha256(body).hexdigest() if sha else None,
        size=len(body) if size else None, role="all", checksum_source="test" if sha else None,
    )  # fmt: skip


def get(file: RawFile, dest, **kw):
    return dl.download(file, dest, progress=False, timeout=TIMEOUT, **kw)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/data.bin"


def test_404_on_first_mirror_falls_back_to_the_second(server, tmp_path):
    server.routes["/b/data.bin"] = lambda h: send(h, BODY)
    path = get(raw_file(server.url("/a/data.bin"), server.url("/b/data.bin")), tmp_path)
    assert path == tmp_path / "data.bin" and path.read_bytes() == BODY
    assert [p for p, _ in server.requests] == ["/a/data.bin", "/b/data.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_progress_bar_path_downloads_too(server, tmp_path):
    server.routes["/data.bin"] = lambda h: send(h, BODY)
    path = dl.download(raw_file(server.url("/data.bin")), tmp_path, progress=True, timeout=TIMEOUT)
    assert path.read_bytes() == BODY


def test_checksum_mismatch_keeps_the_file_aside_and_fails(server, tmp_path):
    wrong = bytes(255 - b for b in BODY[:1000]) + BODY[1000:]
    server.routes["/data.bin"] = lambda h: send(h, wrong)
    with pytest.raises(DownloadError, match="kept as .*data.bin.bad") as info:
        get(raw_file(server.url("/data.bin")), tmp_path)
    assert server.url("/data.bin") in str(info.value) and "sha256" in str(info.value)
    assert (tmp_path / "data.bin.bad").read_bytes() == wrong
    assert not (tmp_path / "data.bin").exists() and not (tmp_path / "data.bin.part").exists()


def test_checksum_mismatch_on_first_mirror_then_good_second(server, tmp_path):
    server.routes["/a/data.bin"] = lambda h: send(h, BODY[::-1])
    server.routes["/b/data.bin"] = lambda h: send(h, BODY)
    path = get(raw_file(server.url("/a/data.bin"), server.url("/b/data.bin")), tmp_path)
    assert path.read_bytes() == BODY and (tmp_path / "data.bin.bad").read_bytes() == BODY[::-1]


def test_connection_cut_mid_file_is_resumed_with_range(server, tmp_path):
    server.routes["/data.bin"] = cut_first(1)
    path = get(raw_file(server.url("/data.bin")), tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(BODY).hexdigest()
    assert server.requests == [("/data.bin", None), ("/data.bin", f"bytes={HALF}-")]


def test_server_that_ignores_range_restarts_from_zero(server, tmp_path):
    server.routes["/data.bin"] = cut_first(1, ranges=False)
    path = get(raw_file(server.url("/data.bin")), tmp_path)
    assert path.read_bytes() == BODY
    assert server.requests[1] == ("/data.bin", f"bytes={HALF}-")  # asked to resume, got the whole file


def test_leftover_part_file_from_an_earlier_run_is_resumed(server, tmp_path):
    (tmp_path / "data.bin.part").write_bytes(BODY[:1234])
    server.routes["/data.bin"] = lambda h: send(h, BODY)
    assert get(raw_file(server.url("/data.bin")), tmp_path).read_bytes() == BODY
    assert server.requests == [("/data.bin", "bytes=1234-")]


def test_complete_part_file_is_verified_after_a_416(server, tmp_path):
    (tmp_path / "data.bin.part").write_bytes(BODY)
    server.routes["/data.bin"] = lambda h: send(h, BODY)
    assert get(raw_file(server.url("/data.bin")), tmp_path).read_bytes() == BODY


def test_connection_cut_every_time_gives_up_after_bounded_retries(server, tmp_path):
    server.routes["/data.bin"] = cut_first(100, cut=10_000)
    with pytest.raises(DownloadError, match="connection dropped 3 times"):
        get(raw_file(server.url("/data.bin")), tmp_path, retries=2)
    assert [r for _, r in server.requests] == [None, "bytes=10000-", "bytes=20000-"]
    assert (tmp_path / "data.bin.part").is_file()  # kept: the next fetch resumes it


@pytest.mark.parametrize("known", ["size", "sha256"])
def test_html_page_served_with_200_is_discarded(server, tmp_path, known):
    server.routes["/a/data.bin"] = lambda h: send(h, HTML, ctype="text/html")
    server.routes["/b/data.bin"] = lambda h: send(h, BODY)
    file = raw_file(server.url("/a/data.bin"), size=known == "size", sha=known == "sha256")
    with pytest.raises(DownloadError, match="HTML page"):
        get(file, tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither kept nor set aside
    both = raw_file(server.url("/a/data.bin"), server.url("/b/data.bin"))
    assert get(both, tmp_path).read_bytes() == BODY


def test_oversized_reply_is_refused_before_its_body_is_read(server, tmp_path):
    server.routes["/data.bin"] = lambda h: send(h, BODY + BODY)
    with pytest.raises(DownloadError, match=f"announces {2 * len(BODY)} bytes, expected {len(BODY)}"):
        get(raw_file(server.url("/data.bin")), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_every_mirror_failing_gives_one_message_listing_each(server, tmp_path):
    server.routes["/bad/data.bin"] = lambda h: send(h, BODY[::-1])
    urls = [server.url("/gone/data.bin"), closed_port_url(), server.url("/bad/data.bin")]
    with pytest.raises(DownloadError) as info:
        get(raw_file(*urls), tmp_path)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("could not download data.bin")
    assert [line.split(": ", 1)[0].strip(" -") for line in lines[1:]] == urls
    assert "HTTP 404" in lines[1] and "refused" in lines[2] and "sha256" in lines[3]


def test_unreachable_host_fails_fast_without_retries(tmp_path, monkeypatch):
    calls = []
    real = dl.urlopen
    monkeypatch.setattr(dl, "urlopen", lambda *a, **k: calls.append(a) or real(*a, **k))
    urls = [closed_port_url(), closed_port_url()]
    with pytest.raises(DownloadError, match="connection refused"):
        get(raw_file(*urls), tmp_path)
    assert len(calls) == 2  # one attempt per mirror, no retry loop


def test_unknown_sha256_is_computed_and_logged(server, tmp_path, caplog):
    server.routes["/data.bin"] = lambda h: send(h, BODY)
    with caplog.at_level(logging.WARNING, logger="charbench.io.download"):
        get(raw_file(server.url("/data.bin"), sha=False), tmp_path)
    assert hashlib.sha256(BODY).hexdigest() in caplog.text and "NOT verified" in caplog.text


def test_present_file_with_right_checksum_makes_no_request(server, tmp_path):
    (tmp_path / "data.bin").write_bytes(BODY)
    assert get(raw_file(server.url("/data.bin")), tmp_path).read_bytes() == BODY
    assert server.requests == []


def test_present_file_with_wrong_checksum_is_set_aside_and_fetched_again(server, tmp_path):
    (tmp_path / "data.bin").write_bytes(BODY[::-1])
    server.routes["/data.bin"] = lambda h: send(h, BODY)
    assert get(raw_file(server.url("/data.bin")), tmp_path).read_bytes() == BODY
    assert (tmp_path / "data.bin.bad").read_bytes() == BODY[::-1]


def _entry(files: tuple[RawFile, ...], access: str = "direct", command: str | None = None) -> DatasetEntry:
    return DatasetEntry(
        name="toy", title="Toy", format="idx", homepage="https://example.org/toy", license="MIT", citation="-",
        num_classes=2, splits={"train": 1}, files=files, access=access, access_command=command, raw_name="toy",
    )  # fmt: skip


def test_fetch_downloads_required_files_and_skips_verified_ones(server, tmp_path, monkeypatch):
    other = BODY[:5000]
    server.routes["/data.bin"] = lambda h: send(h, BODY)
    server.routes["/extra.bin"] = lambda h: send(h, other)
    optional = raw_file(server.url("/extra.bin"), body=other, name="extra.bin")
    optional = RawFile(**{**optional.__dict__, "optional": True})
    monkeypatch.setattr(dl, "get_entry", lambda name: _entry((raw_file(server.url("/data.bin")), optional)))
    assert [p.name for p in dl.fetch("toy", tmp_path, progress=False)] == ["data.bin"]
    assert len(server.requests) == 1
    paths = dl.fetch("toy", tmp_path, progress=False, include_optional=True)
    assert [p.name for p in paths] == ["data.bin", "extra.bin"] and len(server.requests) == 2


def test_fetch_failure_names_the_urls_and_the_source_option(tmp_path, monkeypatch):
    url = closed_port_url()
    monkeypatch.setattr(dl, "get_entry", lambda name: _entry((raw_file(url),)))
    with pytest.raises(DownloadError) as info:
        dl.fetch("toy", tmp_path, progress=False, timeout=TIMEOUT)
    assert url in str(info.value) and "--source" in str(info.value)


def test_fetch_of_a_kaggle_dataset_says_what_to_run(tmp_path, monkeypatch):
    command = "kaggle competitions download -c toy-competition"
    entry = _entry((RawFile("train.csv", (), None, None, "train_labels"),), access="kaggle", command=command)
    monkeypatch.setattr(dl, "get_entry", lambda name: entry)
    with pytest.raises(DownloadError, match="Kaggle") as info:
        dl.fetch("toy", tmp_path, progress=False)
    message = str(info.value)
    assert command in message and "train.csv" in message and "--source" in message


def test_fetch_of_the_real_kaggle_entry_makes_no_request(tmp_path):
    with pytest.raises(DownloadError, match="kaggle competitions download -c kuzushiji-recognition"):
        dl.fetch("kuzushiji", tmp_path, progress=False)


def test_fetch_command_downloads_into_dir(server, tmp_path, monkeypatch, capsys):
    from charbench.cli import fetch as cli_fetch

    server.routes["/data.bin"] = lambda h: send(h, BODY)
    monkeypatch.setattr(dl, "get_entry", lambda name: _entry((raw_file(server.url("/data.bin")),)))
    args = argparse.Namespace(name="toy", dir=str(tmp_path / "raw"), data_root=None, all=False, timeout=TIMEOUT,
                              no_progress=True)  # fmt: skip
    assert cli_fetch._run(args) == 0
    assert (tmp_path / "raw" / "data.bin").read_bytes() == BODY
    assert "1 file(s) of toy" in capsys.readouterr().out

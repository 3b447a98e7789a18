"""Tests of sources.download against a local HTTP server on 127.0.0.1 serving real snapshot files."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import socket
import threading
import time
import zipfile
from collections import Counter
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from conftest import EDITION as DATA  # the bundled edition: real files served locally

from sources.download import (
    ConfigError,
    DownloadError,
    DownloadSpec,
    NoNetworkError,
    check_network,
    download_all,
    load_download_config,
)
from sources.retrievals import assemble_source_dir, resolve_raw_dir

DAY = date(2025, 1, 2)
FAST = {"timeout": 5.0, "retries": 0, "backoff": 0.01}
# downloaded but read by no catalog entry (yet): the kept WB zips, the WPP 2024 single-age files
NOT_READ = (".zip", ".csv.gz", "RETRIEVALS.json")

Response = tuple[int, bytes] | tuple[int, bytes, int]  # status, body[, declared Content-Length]


class Server:
    """Routes (path, sorted form fields) to a list of responses; the last one repeats."""

    def __init__(self) -> None:
        self.routes: dict[tuple, list[Response]] = {}
        self.hits: Counter[tuple] = Counter()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._serve(())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._serve(tuple(sorted(parse_qsl(body.decode()))))

            def _serve(self, form: tuple) -> None:
                key = (urlsplit(self.path).path, form)
                owner.hits[key] += 1
                responses = owner.routes.get(key, [(404, b"<html>not found</html>")])
                status, body, *declared = responses[min(owner.hits[key], len(responses)) - 1]
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(declared[0] if declared else len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def add(self, spec: DownloadSpec, *responses: Response) -> None:
        self.routes[key(spec)] = list(responses)

    def hits_of(self, spec: DownloadSpec) -> int:
        return self.hits[key(spec)]


def key(spec: DownloadSpec) -> tuple:
    return (urlsplit(spec.url).path, tuple(sorted(spec.form.items())))


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def spec(server: Server, target: str, **kw: object) -> DownloadSpec:
    return DownloadSpec(id=target, publisher="test", url=f"{server.url}/files/{target}",
                        target=target, **kw)


def real(path: str) -> bytes:
    return (DATA / path).read_bytes()


def wb_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buf.getvalue()


def real_body(s: DownloadSpec) -> bytes:
    """A real snapshot file shaped like what the official URL of ``s`` returns."""
    wb = "world-bank/API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
    if s.format == "zip":  # a WB bulk zip made on the fly from the real CSVs
        members = {p.replace("*", "API_TEST_DS2_en_csv_v2_2160" if p.startswith("Metadata")
                             else "en_csv_v2_2160"): real(
            "world-bank/Metadata_Country_API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
            if p.startswith("Metadata") else wb) for p in s.unzip}
        return wb_zip({**members, "Metadata_Indicator_API_test.csv": b"INDICATOR_CODE,X\n"})
    if s.format == "csv" and s.form.get("seriesCodes"):
        series = s.form["seriesCodes"].lower()
        found = sorted((DATA / "un-sdg").glob(f"ddf--datapoints--{series}--*.csv"))
        return found[0].read_bytes() if found else real("un-sdg/sdg-api_IT_MOB_OWN_2020Q4.csv")
    if s.format == "csv":
        return real("classifications/country-codes.csv")
    if s.format == "csv.gz":
        return gzip.compress(real("un-wpp/wpp2019_pop_sex_10plus_1990_2030.csv"))
    if s.format == "json":
        name = "list-countries" if "countr" in s.target else "get-indicator"
        return real(f"itu/datahub-api-examples/datahub_itu-{name}.json")
    if s.format == "xlsx":
        return real("world-bank/CLASS_FY23.xlsx" if "CLASS" in s.target
                    else "world-bank/OGHIST_FY10-FY23.xlsx")
    raise AssertionError(f"no real file for format {s.format}")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- configuration ---------------------------------------------------------------------------

def test_config_lists_every_source_and_rewrites_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ICTSTATS_DOWNLOAD_BASE_URL", raising=False)
    specs = load_download_config()
    by_id = {s.id: s for s in specs}
    assert {s.source for s in specs} == {"world-bank", "un-sdg", "itu", "un-wpp",
                                         "classifications"}
    assert all(s.url.startswith("https://") and s.official_url is None for s in specs)
    sdg = [s for s in specs if s.source == "un-sdg"]
    assert {s.form["seriesCodes"] for s in sdg} == {
        "IT_USE_ii99", "IT_MOB_OWN", "IT_MOB_2GNTWK", "IT_MOB_3GNTWK", "IT_MOB_4GNTWK"}
    assert all(s.method == "post" for s in sdg)
    assert by_id["wb-internet-users"].unzip == ("API_IT.NET.USER.ZS_DS2_*.csv",
                                                "Metadata_Country_*.csv")

    monkeypatch.setenv("ICTSTATS_DOWNLOAD_BASE_URL", "http://127.0.0.1:8000/mirror/")
    pop = {s.id: s for s in load_download_config()}["wb-population"]
    assert pop.url == ("http://127.0.0.1:8000/mirror/v2/en/indicator/SP.POP.TOTL"
                       "?downloadformat=csv")
    assert pop.official_url == by_id["wb-population"].url
    explicit = {s.id: s for s in load_download_config(base_url="http://localhost:1")}
    assert explicit["country-codes"].url == (
        "http://localhost:1/datasets/country-codes/main/data/country-codes.csv")


@pytest.mark.parametrize("entry, problem", [
    ({"target": "world-bank/x.csv", "unzip": ["*.csv"]}, "unzip is only for zip"),
    ({"target": "x.csv"}, "target must be <source>/<file>"),
    ({"target": "itu/x.json", "form": {"a": 1}}, "form is only for method: post"),
    ({"target": "itu/x.json", "colour": "red"}, "unknown keys ['colour']"),
])
def test_config_rejects_bad_entries(tmp_path: Path, entry: dict, problem: str) -> None:
    config = tmp_path / "sources.yaml"
    base = {"id": "x", "url": "https://example.org/x"}
    source = {"id": "s", "publisher": "p", "licence": "l", "downloads": [{**base, **entry}]}
    config.write_text(json.dumps([source]))  # JSON is YAML
    with pytest.raises(ConfigError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        load_download_config(config)


# --- downloads -------------------------------------------------------------------------------

def test_download_all_real_files_layout_and_manifest(server: Server, tmp_path: Path) -> None:
    specs = load_download_config(base_url=server.url)
    bodies = {s.id: real_body(s) for s in specs}
    for s in specs:
        server.add(s, (200, bodies[s.id]))
    raw = tmp_path / "raw"

    current = download_all(specs, raw, DAY, **FAST)

    for s in specs:  # every file in raw/<source>/<date>/<rest>, byte for byte what was served
        assert (raw / s.source / "2025-01-02" / s.relpath).read_bytes() == bodies[s.id]
        assert server.hits_of(s) == 1
    wb = raw / "world-bank" / "2025-01-02"
    assert (wb / "API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv").read_bytes() == real(
        "world-bank/API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv")
    assert (wb / "Metadata_Country_API_TEST_DS2_en_csv_v2_2160.csv").is_file()
    assert (wb / "API_SP.POP.TOTL_DS2_en_csv_v2_2160.csv").is_file()
    assert not list(wb.glob("Metadata_Indicator_*"))  # not asked for
    sdg_own = raw / "un-sdg" / "2025-01-02" / "sdg-api_IT_MOB_OWN.csv"
    assert b"it_mob_own" in sdg_own.read_bytes()[:200]  # the POST form selected the series

    sources = {s.source for s in specs}
    for source in sources:
        folder = raw / source / "2025-01-02"
        manifest = json.loads((folder / "MANIFEST.json").read_text())
        assert manifest["complete"] and manifest["retrieved"] == "2025-01-02"
        listed = {f["file"] for f in manifest["files"]}
        on_disk = {p.relative_to(folder).as_posix() for p in all_files(folder)}
        assert listed == on_disk - {"MANIFEST.json"}
        for f in manifest["files"]:
            assert f["sha256"] == sha256(folder / f["file"])
            assert f["bytes"] == (folder / f["file"]).stat().st_size
            assert f["http_status"] == 200 and f["url"].startswith(server.url)
            assert f["retrieved_at"].endswith("Z") and f["official_url"].startswith("https://")

    assert current == raw / ".current"
    assert (current / "world-bank" / "API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv").is_file()
    assert (current / "itu" / "datahub" / "i99H.json").read_bytes() == bodies["itu-i99h"]
    assert not list(raw.glob(".incoming-*"))
    assert resolve_raw_dir(raw) == current

    # the readers find what was downloaded: each data file matches a catalog/sources.yaml glob
    catalog = Path(__file__).resolve().parents[1] / "catalog" / "sources.yaml"
    patterns = [e["pattern"] for e in yaml.safe_load(catalog.read_text())]
    unread = {p.relative_to(current).as_posix() for p in all_files(current)}
    unread -= {p.relative_to(current).as_posix() for pat in patterns for p in current.glob(pat)}
    assert {f for f in unread if not f.endswith(NOT_READ)} == set()


@pytest.mark.parametrize("failures", [[500], [429, 503]])
def test_transient_errors_are_retried(server: Server, tmp_path: Path, failures: list[int]) -> None:
    s = spec(server, "un-sdg/sdg-api_IT_MOB_OWN.csv")
    body = real("un-sdg/sdg-api_IT_MOB_OWN_2020Q4.csv")
    server.add(s, *[(code, b"busy") for code in failures], (200, body))

    start = time.monotonic()
    download_all([s], tmp_path, DAY, timeout=5, retries=2, backoff=0.05)

    assert server.hits_of(s) == len(failures) + 1
    assert time.monotonic() - start >= 0.05 * (2 ** len(failures) - 1)  # exponential backoff
    assert (tmp_path / "un-sdg" / "2025-01-02" / "sdg-api_IT_MOB_OWN.csv").read_bytes() == body


def test_retries_give_up_with_one_line(server: Server, tmp_path: Path) -> None:
    s = spec(server, "itu/datahub/i99H.json")
    server.add(s, (503, b"down"))
    with pytest.raises(DownloadError) as err:
        download_all([s], tmp_path, DAY, timeout=5, retries=2, backoff=0.01)
    assert server.hits_of(s) == 3
    assert str(err.value) == (
        f"download failed: {s.url}: HTTP 503 Service Unavailable (after 3 attempts)")
    assert all_files(tmp_path) == []


def test_truncated_body_is_retried_then_reported(server: Server, tmp_path: Path) -> None:
    s = spec(server, "classifications/country-codes.csv")
    server.add(s, (200, b"a,b\n1,2\n", 1000))
    with pytest.raises(DownloadError, match="truncated: got 8 of 1000 bytes"):
        download_all([s], tmp_path, DAY, timeout=5, retries=1, backoff=0.01)
    assert server.hits_of(s) == 2
    assert all_files(tmp_path) == []


def test_404_fails_at_once_and_leaves_nothing(server: Server, tmp_path: Path) -> None:
    good = spec(server, "world-bank/CLASS.xlsx")
    server.add(good, (200, real("world-bank/CLASS_FY23.xlsx")))
    missing = spec(server, "un-sdg/sdg-api_IT_USE_ii99.csv")  # no route: 404
    with pytest.raises(DownloadError) as err:
        download_all([good, missing], tmp_path, DAY, timeout=5, retries=3, backoff=5)
    message = str(err.value)
    assert message == f"download failed: {missing.url}: HTTP 404 Not Found"
    assert "\n" not in message
    assert server.hits_of(missing) == 1  # no retry (and no 5 s backoff)
    assert all_files(tmp_path) == []  # the good file of the failed run is not kept either


@pytest.fixture
def hanging_server():
    """Accepts connections and never answers; counts the connections."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.05)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conns.append(sock.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", conns
    stop.set()
    thread.join()
    for conn in conns:
        conn.close()
    sock.close()


def test_hanging_server_times_out(hanging_server: tuple[str, list], tmp_path: Path) -> None:
    url, conns = hanging_server
    s = DownloadSpec(id="hang", publisher="t", url=f"{url}/x.csv", target="un-wpp/x.csv")
    start = time.monotonic()
    with pytest.raises(DownloadError) as err:
        download_all([s], tmp_path, DAY, timeout=1, retries=1, backoff=0.01)
    elapsed = time.monotonic() - start
    assert str(err.value) == f"download failed: {s.url}: timed out after 1 s (after 2 attempts)"
    assert len(conns) == 2  # a timeout is transient: retried once
    assert elapsed < 5
    assert all_files(tmp_path) == []


def _zip_missing_member() -> bytes:
    return wb_zip({"Metadata_Indicator_x.csv": b"a,b\n"})


@pytest.mark.parametrize("target, body, extra, problem", [
    ("un-sdg/sdg-api_IT_MOB_OWN.csv", b"\n  <!DOCTYPE html><html><body>Maintenance</body></html>",
     {}, "HTML page instead of CSV"),
    ("world-bank/API_IT.NET.USER.ZS_DS2_en_csv_v2.zip", None, {}, "not a valid zip file"),
    ("itu/datahub/i99H.json", bytes(range(256)) * 4, {}, "not valid JSON"),
    ("classifications/country-codes.csv", "Côte d'Ivoire,CIV\n".encode("latin-1"), {},
     "not UTF-8 text"),
    ("classifications/country-codes.csv", b"just one column\n1\n", {}, "not a CSV file"),
    ("world-bank/CLASS.xlsx", b"", {}, "empty response"),
    ("world-bank/OGHIST.xlsx", b"<html><body>login</body></html>", {}, "HTML page instead of xlsx"),
    ("un-wpp/WPP.csv.gz", None, {}, "not a valid gzip file"),
    ("world-bank/API_SP.POP.TOTL.zip", _zip_missing_member(), {"unzip": ("API_SP.POP*.csv",)},
     "zip has no member matching 'API_SP.POP*.csv'"),
], ids=["html-for-csv", "truncated-zip", "random-json", "latin1-csv", "no-comma-csv", "empty",
        "html-for-xlsx", "truncated-gzip", "zip-member-missing"])
def test_garbage_is_rejected_without_leftovers(server: Server, tmp_path: Path, target: str,
                                               body: bytes | None, extra: dict,
                                               problem: str) -> None:
    if body is None and target.endswith(".zip"):  # a real WB zip cut in half
        whole = wb_zip({"API_IT.NET.USER.ZS_DS2_x.csv": real(
            "world-bank/API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv")})
        body = whole[: len(whole) // 2]
    elif body is None:  # a real gzip cut in half
        whole = gzip.compress(real("un-wpp/wpp2019_pop_sex_10plus_1990_2030.csv"))
        body = whole[: len(whole) // 2]
    s = spec(server, target, **extra)
    server.add(s, (200, body))
    with pytest.raises(DownloadError) as err:
        download_all([s], tmp_path, DAY, timeout=5, retries=2, backoff=0.01)
    assert str(err.value).startswith(f"download failed: {s.url}: {problem}")
    assert "\n" not in str(err.value)
    assert server.hits_of(s) == 1  # garbage is not retried
    assert all_files(tmp_path) == []


def test_failed_run_keeps_previous_retrieval(server: Server, tmp_path: Path) -> None:
    s = spec(server, "classifications/country-codes.csv")
    server.add(s, (200, real("classifications/country-codes.csv")))
    download_all([s], tmp_path, date(2025, 1, 1), **FAST)
    before = all_files(tmp_path)

    server.add(s, (200, b"<html>oops</html>"))
    with pytest.raises(DownloadError):
        download_all([s], tmp_path, DAY, **FAST)
    assert all_files(tmp_path) == before
    assert not (tmp_path / "classifications" / "2025-01-02").exists()

    # a same-day rerun replaces that day's folder
    server.add(s, (200, b"iso3,name\nCIV,Cote d'Ivoire\n"))
    current = download_all([s], tmp_path, date(2025, 1, 1), **FAST)
    assert (current / "classifications" / "country-codes.csv").read_bytes().startswith(b"iso3")


# --- network check ---------------------------------------------------------------------------

def test_check_network_closed_port_fails_fast(server: Server) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens on this port now
    start = time.monotonic()
    with pytest.raises(NoNetworkError) as err:
        check_network(f"http://127.0.0.1:{port}/v2/en/indicator", timeout=3)
    assert time.monotonic() - start < 5
    assert str(err.value) == "no network: cannot reach 127.0.0.1 (connection refused)"
    assert check_network(server.url + "/anything", timeout=3) is None  # reachable: no error


# --- source dir ------------------------------------------------------------------------------

def _retrieval(folder: Path, files: dict[str, str], complete: bool = True) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    if complete:
        (folder / "MANIFEST.json").write_text(json.dumps({"files": list(files)}))


def test_each_source_comes_from_its_latest_complete_retrieval(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    assert resolve_raw_dir(raw) is None  # nothing at all
    raw.mkdir()
    assert assemble_source_dir(raw) is None
    _retrieval(raw / "edition-2025-11", {"world-bank/CLASS_FY23.xlsx": "edition class",
                                         "world-bank/OGHIST_long_2000-2022.xlsx": "long",
                                         "itu/datahub-api-examples/x.json": "[]"})
    _retrieval(raw / "world-bank" / "2026-03-01", {"CLASS.xlsx": "new class"})
    _retrieval(raw / "world-bank" / "2026-04-01", {"CLASS.xlsx": "partial"}, complete=False)

    current = assemble_source_dir(raw)

    assert (current / "world-bank" / "CLASS.xlsx").read_text() == "new class"
    assert not (current / "world-bank" / "CLASS_FY23.xlsx").exists()  # replaced by the download
    assert (current / "world-bank" / "OGHIST_long_2000-2022.xlsx").read_text() == "long"
    assert (current / "itu" / "datahub-api-examples" / "x.json").read_text() == "[]"
    assert not list(current.rglob("MANIFEST.json"))
    picked = json.loads((current / "RETRIEVALS.json").read_text())
    assert picked["wb_class"]["retrieval"] == "world-bank/2026-03-01"
    assert picked["wb_oghist_long"]["retrieval"] == "edition-2025-11"
    assert picked["itu_datahub"]["files"] == ["itu/datahub-api-examples/x.json"]

    _retrieval(raw / "world-bank" / "2026-05-01", {"CLASS.xlsx": "newest"})
    assert resolve_raw_dir(raw, needed=["wb_class", "itu_datahub"]) == current
    assert (current / "world-bank" / "CLASS.xlsx").read_text() == "newest"
    assert resolve_raw_dir(raw, needed=["wb_class", "sdg_ddf"]) is None  # no SDG files
    assert sorted(p.name for p in raw.iterdir()) == [".current", "edition-2025-11", "world-bank"]

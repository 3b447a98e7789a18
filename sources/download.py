"""Download the official releases the source catalog lists (``downloads`` of each entry of
``catalog/sources.yaml``) into ``data/raw``.

Each download is a dated retrieval, ``data/raw/<source>/<YYYY-MM-DD>/`` with a
``MANIFEST.json`` (url, file, sha256, bytes, retrieved_at, http_status, content_type of every
file); ``<source>`` is the first part of a spec's ``target`` (world-bank, un-sdg, itu, un-wpp,
classifications). How runs choose among retrievals and the bundled edition:
sources/retrievals.py.

A download is all or nothing: every file is downloaded and validated in a hidden staging folder
(``data/raw/.incoming-*``); only when all files have arrived and passed their checks is
``MANIFEST.json`` written and each ``<source>/<date>`` folder moved into place (replacing a folder
of the same date). A failed download leaves no dated folder behind and removes its staging
folder. Members extracted from a zip (``unzip``) sit next to the zip, which is kept.

Tests and mirrors: ``base_url`` (or env ``ICTSTATS_DOWNLOAD_BASE_URL``) replaces the scheme and
host of every URL, keeping its path and query; a path in the base is put in front of the URL's
path. ``https://api.worldbank.org/v2/en/indicator/SP.POP.TOTL?downloadformat=csv`` with base
``http://127.0.0.1:8000/mirror`` becomes
``http://127.0.0.1:8000/mirror/v2/en/indicator/SP.POP.TOTL?downloadformat=csv``.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import ipaddress
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from http.client import HTTPException
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import urlencode, urlsplit, urlunsplit

import yaml

from catalog import sources as catalog_sources
from sources.retrievals import MANIFEST, assemble_source_dir

log = logging.getLogger(__name__)

ENV_BASE_URL = "ICTSTATS_DOWNLOAD_BASE_URL"
FORMATS = {"zip": "zip", "csv": "CSV", "csv.gz": "gzipped CSV", "json": "JSON",
           "xlsx": "xlsx", "xls": "xls"}
USER_AGENT = "ictstats/0.1 (official ICT statistics pipeline; urllib)"
_SPEC_KEYS = {"id", "publisher", "url", "target", "licence", "format", "unzip", "method", "form",
              "note"}
_CHUNK = 1 << 20


class AcquireError(Exception):
    """Base of the errors a CLI reports in one line (``str(err)``) before exiting non-zero."""


class ConfigError(AcquireError, ValueError):
    pass


class DownloadError(AcquireError):
    def __init__(self, url: str, reason: str):
        self.url, self.reason = url, " ".join(reason.split())
        super().__init__(f"download failed: {url}: {self.reason}")


class NoNetworkError(AcquireError):
    def __init__(self, host: str, reason: str):
        self.host, self.reason = host, " ".join(reason.split())
        super().__init__(f"no network: cannot reach {host} ({self.reason})")


class _Transient(Exception):
    """A failure worth retrying: connection error, timeout, HTTP 5xx/429, truncated body."""


class _Garbage(Exception):
    """What arrived is not what the spec promises; never retried."""


@dataclass(frozen=True)
class DownloadSpec:
    id: str
    publisher: str
    url: str
    target: str
    licence: str = ""
    format: str = ""
    unzip: tuple[str, ...] = ()
    method: str = "get"
    form: dict[str, str] = field(default_factory=dict)
    note: str = ""
    official_url: str | None = None  # the configured URL when ``url`` was rewritten

    def __post_init__(self) -> None:
        if not self.format:
            object.__setattr__(self, "format", _format_of(self.target))

    @property
    def source(self) -> str:
        return PurePosixPath(self.target).parts[0]

    @property
    def relpath(self) -> str:
        """Path of the file inside ``<source>/<date>/``."""
        return PurePosixPath(*PurePosixPath(self.target).parts[1:]).as_posix()


def _format_of(target: str) -> str:
    name = target.lower()
    if name.endswith(".csv.gz"):
        return "csv.gz"
    return name.rsplit(".", 1)[-1] if "." in name else ""


# --- configuration ---------------------------------------------------------------------------

def load_download_config(path: Path | str | None = None,
                         base_url: str | None = None) -> list[DownloadSpec]:
    """The download specs of the source catalog (or of the catalog file at ``path``); each
    takes its publisher and licence from its source. ``base_url`` (default: env
    ICTSTATS_DOWNLOAD_BASE_URL) rewrites every URL's scheme and host."""
    if path is None:
        entries = [asdict(e) for e in catalog_sources()]
        where = "catalog/sources.yaml"
    else:
        entries, where = yaml.safe_load(Path(path).read_text(encoding="utf-8")), str(path)
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: expected a list of sources")
    specs = [_spec_from_entry({**d, "publisher": e.get("publisher", ""),
                               "licence": e.get("licence", "")}, where)
             for e in entries if isinstance(e, dict) for d in e.get("downloads") or ()]
    if not specs:
        raise ConfigError(f"{where}: no source lists any downloads")
    _check_unique(specs, where)
    base_url = base_url if base_url is not None else os.environ.get(ENV_BASE_URL) or None
    if base_url:
        specs = [replace(s, url=rewrite_url(s.url, base_url), official_url=s.url) for s in specs]
    return specs


def rewrite_url(url: str, base_url: str) -> str:
    base, parts = urlsplit(base_url), urlsplit(url)
    if base.scheme not in ("http", "https") or not base.netloc:
        raise ConfigError(f"base URL must look like http://host[:port][/path], got {base_url!r}")
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path,
                       parts.query, ""))


def _spec_from_entry(entry: Any, where: str) -> DownloadSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: each download must be a mapping, got {entry!r}")
    name = entry.get("id", "?")
    unknown = set(entry) - _SPEC_KEYS
    missing = {"id", "url", "target"} - set(entry)
    if unknown or missing:
        raise ConfigError(f"{where}: download {name}: unknown keys {sorted(unknown)}, "
                          f"missing keys {sorted(missing)}")
    target = PurePosixPath(str(entry["target"]))
    if target.is_absolute() or ".." in target.parts or len(target.parts) < 2:
        raise ConfigError(f"{where}: download {name}: target must be <source>/<file>, "
                          f"got {entry['target']!r}")
    unzip = entry.get("unzip") or []
    spec = DownloadSpec(
        id=str(entry["id"]), publisher=str(entry["publisher"]), url=str(entry["url"]),
        target=target.as_posix(), licence=str(entry.get("licence", "")),
        format=str(entry.get("format") or ""),
        unzip=tuple(str(p) for p in ([unzip] if isinstance(unzip, str) else unzip)),
        method=str(entry.get("method", "get")).lower(),
        form={str(k): str(v) for k, v in (entry.get("form") or {}).items()},
        note=str(entry.get("note", "")),
    )
    problem = None
    if spec.format not in FORMATS:
        problem = f"unknown format {spec.format!r} (one of {', '.join(FORMATS)})"
    elif spec.method not in ("get", "post"):
        problem = f"method must be get or post, got {spec.method!r}"
    elif spec.form and spec.method != "post":
        problem = "form is only for method: post"
    elif spec.unzip and spec.format != "zip":
        problem = "unzip is only for zip files"
    elif urlsplit(spec.url).scheme not in ("http", "https"):
        problem = f"url must be http(s), got {spec.url!r}"
    if problem:
        raise ConfigError(f"{where}: download {name}: {problem}")
    return spec


def _check_unique(specs: list[DownloadSpec], where: str) -> None:
    for attr in ("id", "target"):
        seen: set[str] = set()
        for spec in specs:
            value = getattr(spec, attr)
            if value in seen:
                raise ConfigError(f"{where}: duplicate {attr} {value!r}")
            seen.add(value)


# --- network ---------------------------------------------------------------------------------

def check_network(url: str, timeout: float = 3.0) -> None:
    """Raise NoNetworkError unless a TCP connection to the URL's host (or its proxy) opens
    within ``timeout`` seconds, DNS lookup included."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in URL {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxy = None if _is_loopback(host) else urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        proxy_parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = proxy_parts.hostname or host, proxy_parts.port or 80
    deadline = time.monotonic() + timeout
    infos = _resolve(host, port, timeout)
    reason = "no address"
    for family, kind, proto, _, address in infos:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reason = f"timed out after {timeout:g} s"
            break
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(remaining)
                sock.connect(address)
            return
        except ConnectionRefusedError:
            reason = "connection refused"
        except TimeoutError:
            reason = f"timed out after {timeout:g} s"
        except OSError as err:
            reason = err.strerror or str(err)
    raise NoNetworkError(host, reason)


def _resolve(host: str, port: int, timeout: float) -> list[tuple]:
    # getaddrinfo ignores socket timeouts; run it in a daemon thread to bound the wait.
    result: dict[str, Any] = {}

    def lookup() -> None:
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as err:
            result["error"] = err

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise NoNetworkError(host, f"DNS lookup timed out after {timeout:g} s")
    if "error" in result:
        raise NoNetworkError(host, f"DNS lookup failed: {result['error']}")
    return result["infos"]


def _is_loopback(host: str | None) -> bool:
    if not host or host == "localhost":
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_DEFAULT = urllib.request.build_opener()


def _fetch_once(spec: DownloadSpec, dest: Path, timeout: float) -> dict[str, Any]:
    """Stream one URL into ``dest``; return its manifest fields."""
    data = urlencode(spec.form).encode() if spec.method == "post" else None
    request = urllib.request.Request(spec.url, data=data, method=spec.method.upper(),
                                     headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    opener = _DIRECT if _is_loopback(urlsplit(spec.url).hostname) else _DEFAULT
    digest, size = hashlib.sha256(), 0
    try:
        with opener.open(request, timeout=timeout) as response, dest.open("wb") as out:
            expected = response.headers.get("Content-Length")
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            status, content_type = response.status, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        err.close()
        what = f"HTTP {err.code} {err.reason}".strip()
        if err.code == 429 or err.code >= 500:
            raise _Transient(what) from err
        raise DownloadError(spec.url, what) from err
    except urllib.error.URLError as err:
        if isinstance(err.reason, TimeoutError):
            raise _Transient(f"timed out after {timeout:g} s") from err
        raise _Transient(f"connection failed: {err.reason}") from err
    except TimeoutError as err:
        raise _Transient(f"timed out after {timeout:g} s") from err
    except (HTTPException, ConnectionError) as err:
        raise _Transient(f"connection broken: {err!r}") from err
    if expected and expected.isdigit() and int(expected) != size:
        raise _Transient(f"truncated: got {size} of {expected} bytes")
    return {"url": spec.url, "sha256": digest.hexdigest(), "bytes": size,
            "retrieved_at": _utc_now(), "http_status": status, "content_type": content_type}


def _fetch(spec: DownloadSpec, dest: Path, timeout: float, retries: int,
           backoff: float) -> dict[str, Any]:
    for attempt in range(retries + 1):
        try:
            return _fetch_once(spec, dest, timeout)
        except _Transient as err:
            if attempt == retries:
                tries = f" (after {retries + 1} attempts)" if retries else ""
                raise DownloadError(spec.url, f"{err}{tries}") from err
            delay = backoff * 2**attempt
            log.warning("%s: %s; retrying in %.1f s", spec.url, err, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- validation ------------------------------------------------------------------------------

def _validate(path: Path, fmt: str) -> None:
    with path.open("rb") as stream:
        head = stream.read(512)
    if not head:
        raise _Garbage("empty response")
    start = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if start.startswith((b"<!doctype", b"<html")):
        raise _Garbage(f"HTML page instead of {FORMATS[fmt]}")
    if fmt in ("zip", "xlsx"):
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise _Garbage(f"not a valid {fmt} file ({err})") from err
        if bad:
            raise _Garbage(f"corrupt {fmt} file (bad CRC in member {bad})")
    elif fmt == "xls":
        if not head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            raise _Garbage("not an Excel .xls file")
    elif fmt == "csv":
        with path.open("rb") as stream:
            _check_csv(stream)
    elif fmt == "csv.gz":
        try:
            with gzip.open(path, "rb") as stream:
                _check_csv(stream)
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:
            raise _Garbage(f"not a valid gzip file ({err or 'truncated'})") from err
    elif fmt == "json":
        try:
            json.loads(path.read_bytes().decode("utf-8-sig"))
        except UnicodeDecodeError as err:
            raise _Garbage(f"not valid JSON (not UTF-8 at byte {err.start})") from err
        except json.JSONDecodeError as err:
            raise _Garbage(f"not valid JSON ({err.msg} at line {err.lineno} column "
                           f"{err.colno})") from err


def _check_csv(stream: BinaryIO) -> None:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    head, offset = "", 0
    try:
        while chunk := stream.read(_CHUNK):
            text = decoder.decode(chunk)
            if len(head) < 65536:
                head += text[:65536]
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as err:
        raise _Garbage(f"not UTF-8 text (invalid byte near offset {offset + err.start})") from err
    first = next((line for line in head.splitlines() if line.strip()), "")
    if "," not in first:
        raise _Garbage("not a CSV file (no header line with a comma)")


def _unzip(spec: DownloadSpec, archive_path: Path, entry: dict[str, Any]) -> list[dict]:
    extracted = []
    with zipfile.ZipFile(archive_path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        for pattern in spec.unzip:
            matches = [m for m in members if fnmatchcase(PurePosixPath(m.filename).name, pattern)]
            if not matches:
                raise _Garbage(f"zip has no member matching {pattern!r}")
            for member in matches:
                name = PurePosixPath(member.filename).name
                dest = archive_path.with_name(name)
                part = dest.with_name(dest.name + ".part")
                digest = hashlib.sha256()
                with archive.open(member) as src, part.open("wb") as out:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                fmt = _format_of(name)
                if fmt in FORMATS:
                    _validate(part, fmt)
                part.replace(dest)
                file = (PurePosixPath(spec.relpath).parent / name).as_posix()
                extracted.append({**entry, "file": file,
                                  "sha256": digest.hexdigest(), "bytes": dest.stat().st_size,
                                  "extracted_from": entry["file"]})
    return extracted


# --- download --------------------------------------------------------------------------------

def _download_one(spec: DownloadSpec, source_dir: Path, timeout: float, retries: int,
                  backoff: float) -> list[dict[str, Any]]:
    dest = source_dir / spec.relpath
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    info = _fetch(spec, part, timeout, retries, backoff)
    try:
        _validate(part, spec.format)
        part.replace(dest)
        entry = {"id": spec.id, "file": spec.relpath, **info, "publisher": spec.publisher,
                 "licence": spec.licence}
        if spec.official_url:
            entry["official_url"] = spec.official_url
        return [entry, *(_unzip(spec, dest, entry) if spec.unzip else [])]
    except _Garbage as err:
        raise DownloadError(spec.url, str(err)) from err


def download_all(specs: Iterable[DownloadSpec], raw_root: Path, retrieved: date | None = None,
                 timeout: float = 30, retries: int = 2, backoff: float = 1.0) -> Path:
    """Download every spec into ``raw_root/<source>/<retrieved>/``, all or nothing.

    Transient failures (connection errors, timeouts, HTTP 5xx/429, truncated bodies) are
    retried ``retries`` times after ``backoff * 2**attempt`` seconds; ``timeout`` bounds each
    wait for data. Raises DownloadError on the first file that fails. Returns the assembled
    source dir (``raw_root/.current``).
    """
    specs = list(specs)
    if not specs:
        raise ValueError("nothing to download")
    _check_unique(specs, "download specs")
    raw_root = Path(raw_root)
    raw_root.mkdir(parents=True, exist_ok=True)
    day = (retrieved or datetime.now(UTC).date()).isoformat()
    staging = Path(tempfile.mkdtemp(prefix=f".incoming-{day}-", dir=raw_root))
    try:
        entries: dict[str, list[dict[str, Any]]] = {}
        for spec in specs:
            log.info("downloading %s -> %s/%s/%s", spec.url, spec.source, day, spec.relpath)
            files = _download_one(spec, staging / spec.source, timeout, retries, backoff)
            entries.setdefault(spec.source, []).extend(files)
        for source, files in entries.items():
            manifest = {"source": source, "retrieved": day, "complete": True, "files": files}
            (staging / source / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n",
                                                     encoding="utf-8")
        for source in entries:
            final = raw_root / source / day
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():  # same-day rerun: the new retrieval replaces the old one
                final.rename(staging / f".replaced-{source}")
            (staging / source).rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    current = assemble_source_dir(raw_root)
    assert current is not None
    return current

"""Turn the paths a user gives into the list of files to parse.

Folders are walked recursively; ``.gz`` files are decompressed and ``.zip`` archives
(Garmin Connect and Strava bulk exports, nested zips as in Garmin's GDPR export) are read
member by member in memory — nothing is ever extracted to disk, so a member named
``../../etc/passwd`` cannot escape anywhere; it is refused all the same, with a reason.
Every decompression is capped (:data:`MAX_MEMBER_BYTES`): a zip bomb stops at the cap.
"""

from __future__ import annotations

import csv
import gzip
import io
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol, cast

from pipeline.parsers import detect_format
from pipeline.parsers.records import DetectedFormat, SourceFormat

MAX_MEMBER_BYTES = 128 * 1024 * 1024  # a 24 h 1 Hz GPX is ~30 MB; a bomb stops here
# members worth reading whole; anything else (an export's JSON, photos) is sniffed from its head
_DATA_SUFFIXES = (".fit", ".gpx", ".tcx", ".csv", ".gz", ".zip")
MAX_NESTING = 3
_CHUNK = 1 << 20


StravaInfo = tuple[str | None, str | None]  # (title, activity type) from Strava's activities.csv


@dataclass(frozen=True)
class SourceFile:
    """One file as ``ingest_log`` knows it: name, content hash, format and athlete.

    ``athlete_id`` is None only for a file refused before an athlete could be assigned (a file
    in the inbox root of a multi-athlete setup)."""

    file: str  # as given; archive members as archive.zip!member/path
    sha256: str
    format: SourceFormat | None
    athlete_id: str | None


@dataclass
class Item:
    """One file to ingest: a plain file (``path``) or an archive member (``data``)."""

    file: str  # as given; archive members as archive.zip!member/path
    format: SourceFormat | None  # detected format ("zip"/"gz" for an unreadable archive), None when unsupported
    path: Path | None = None
    data: bytes | None = None
    reason: str | None = None  # set when the item is refused before parsing
    strava: StravaInfo | None = None
    disk_path: Path | None = None  # the file on disk this item came from (for athlete lookup)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


class TooLarge(Exception):
    pass


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _detect(name: str, head: bytes) -> DetectedFormat | None:
    # detect_format returns a Format, "csv" (flavour decided by the whole file) or None
    return cast("DetectedFormat | None", detect_format(name, head))


def _read_capped(stream: _Readable, limit: int | None = None) -> bytes:
    limit = MAX_MEMBER_BYTES if limit is None else limit
    out = bytearray()
    while chunk := stream.read(_CHUNK):
        out += chunk
        if len(out) > limit:
            raise TooLarge(f"decompresses to more than {limit >> 20} MiB; refused as a possible zip bomb")
    return bytes(out)


def gunzip(data: bytes) -> bytes:
    return _read_capped(gzip.GzipFile(fileobj=io.BytesIO(data)))


def iter_paths(paths: list[Path]) -> Iterator[Path]:
    """Every regular file under the given paths, in a stable order; hidden files skipped."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts):
                    yield f
        else:
            yield p


def items_from_paths(paths: list[Path]) -> Iterator[Item]:
    for path in iter_paths(paths):
        yield from _items_from_file(path)


def _items_from_file(path: Path) -> Iterator[Item]:
    name = str(path)
    lower = path.name.lower()
    if lower.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as zf:
                yield from _items_from_zip(zf, name, 1, path)
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            yield Item(name, "zip", disk_path=path, reason=f"unreadable zip archive: {err}")
        return
    if lower.endswith(".gz"):
        try:
            data = gunzip(path.read_bytes())
        except (TooLarge, OSError, EOFError, zlib.error) as err:
            yield Item(name, "gz", disk_path=path, reason=f"bad gzip file: {err}")
            return
        yield Item(name, _detect(lower.removesuffix(".gz"), data[:4096]), data=data, disk_path=path)
        return
    with path.open("rb") as fh:
        head = fh.read(4096)
    yield Item(name, _detect(lower, head), path=path, disk_path=path)


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "absolute path in archive member; refused"
    if ".." in pure.parts:
        return "archive member escapes its folder ('..' in path); refused"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link in archive; refused"
    return None


def _strava_titles(zf: zipfile.ZipFile) -> dict[str, StravaInfo]:
    """Strava bulk export: activities.csv maps each file to its title and activity type."""
    member = next((n for n in zf.namelist() if PurePosixPath(n).name == "activities.csv"), None)
    if member is None:
        return {}
    try:
        with zf.open(member) as fh:
            text = _read_capped(fh, 64 * 1024 * 1024).decode("utf-8-sig", errors="replace")
    except (TooLarge, zipfile.BadZipFile, OSError):
        return {}
    titles: dict[str, StravaInfo] = {}
    for row in csv.DictReader(io.StringIO(text)):
        filename = (row.get("Filename") or "").strip()
        if filename:
            titles[filename] = (row.get("Activity Name") or None, row.get("Activity Type") or None)
    return titles


def _items_from_zip(zf: zipfile.ZipFile, prefix: str, depth: int, disk_path: Path) -> Iterator[Item]:
    titles = _strava_titles(zf)
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = f"{prefix}!{info.filename}"
        lower = info.filename.lower()
        if reason := _unsafe_member(info):
            yield Item(name, None, disk_path=disk_path, reason=reason)
            continue
        if PurePosixPath(lower).name == "activities.csv" and titles:
            continue  # metadata, consumed above
        if info.flag_bits & 0x1:
            yield Item(name, None, disk_path=disk_path, reason="password-protected archive member; cannot read")
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            yield Item(name, None, disk_path=disk_path, reason=f"member declares {info.file_size:,} bytes, over "
                       f"the {MAX_MEMBER_BYTES >> 20} MiB limit; refused as a possible zip bomb")
            continue
        try:
            if not lower.endswith(_DATA_SUFFIXES):
                with zf.open(info) as fh:
                    if _detect(lower, fh.read(4096)) is None:
                        yield Item(name, None, disk_path=disk_path)  # not an activity file: not read
                        continue
            with zf.open(info) as fh:
                data = _read_capped(fh)
            if lower.endswith(".gz"):
                data = gunzip(data)
                lower = lower.removesuffix(".gz")
        except (TooLarge, zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, NotImplementedError) as err:
            yield Item(name, None, disk_path=disk_path, reason=f"cannot read archive member: {err}")
            continue
        if lower.endswith(".zip"):
            if depth >= MAX_NESTING:
                yield Item(name, None, disk_path=disk_path, reason="zip nested too deeply; refused")
                continue
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as inner:
                    yield from _items_from_zip(inner, name, depth + 1, disk_path)
            except zipfile.BadZipFile as err:
                yield Item(name, "zip", disk_path=disk_path, reason=f"unreadable zip archive: {err}")
            continue
        strava = titles.get(info.filename)
        yield Item(name, _detect(lower, data[:4096]), data=data, strava=strava, disk_path=disk_path)

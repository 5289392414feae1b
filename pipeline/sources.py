"""Turn the paths a user gives into the list of files to parse.

Folders are walked recursively without following symbolic links; anything that is not a
regular file (a link, a FIFO, a device) is skipped with a reason and never opened. ``.gz`` files
are decompressed and ``.zip`` archives (Garmin Connect and Strava bulk exports, nested zips as in
Garmin's GDPR export) are read member by member in memory — nothing is ever extracted to disk,
so a member named ``../../etc/passwd`` cannot escape anywhere; it is refused all the same, with a
reason. Every decompression is capped: per member (:data:`MAX_MEMBER_BYTES`, and
:data:`MAX_RATIO` times its compressed size), per archive in total (:data:`MAX_ARCHIVE_BYTES`),
and an archive whose members overlap (a zip bomb reusing one compressed kernel) is refused before
anything is decompressed. Plain files are capped per format (:data:`MAX_FILE_BYTES`) from a stat.

File names are absolute (the same file is the same file however its path was spelled) and valid
UTF-8: bytes that do not decode are spelled as ``\\xNN`` (:func:`display_name`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path, PurePosixPath
from typing import Protocol, cast

from pipeline.parsers import detect_format
from pipeline.parsers.records import DetectedFormat, SourceFormat

MAX_MEMBER_BYTES = 128 * 1024 * 1024  # a 24 h 1 Hz GPX is ~30 MB; a bomb stops here
# what all the members of one archive on disk may decompress to together (nested zips included):
# a Garmin GDPR export of ten years holds ~1 GB of FIT files
MAX_ARCHIVE_BYTES = 4 * 1024 * 1024 * 1024
# a member may decompress to this many times its compressed size (past its first MiB): FIT
# compresses ~3x, GPX/TCX ~10-20x, a deflate bomb ~1000x
MAX_RATIO = 200
_RATIO_FREE_BYTES = 1 << 20
# Per-format caps, checked from a stat (plain files) or the header's size (members) before a file
# is read whole: the parsers hold a file's records in memory at several times its size (a 200 MB
# one-line GPX peaked at 5.2 GB in 95 s). A 24 h recording at 1 Hz with heart rate is ~5 MB as FIT,
# ~30 MB as GPX and ~45 MB as TCX; years of Strong/Hevy logs are a few MB.
MAX_FILE_BYTES: dict[str, int] = {"fit": 32 << 20, "gpx": 64 << 20, "tcx": 96 << 20}
MAX_CSV_BYTES = 32 << 20  # every CSV flavour
# members worth reading whole; anything else (an export's JSON, photos) is sniffed from its head
_DATA_SUFFIXES = (".fit", ".gpx", ".tcx", ".csv", ".gz", ".zip")
MAX_NESTING = 3
_CHUNK = 1 << 20
_HEAD = 4096


StravaInfo = tuple[str | None, str | None]  # (title, activity type) from Strava's activities.csv


@dataclass(frozen=True)
class SourceFile:
    """One file as ``ingest_log`` knows it: name, content hash, format and athlete.

    ``athlete_id`` is None only for a file refused before an athlete could be assigned (a file
    in the inbox root of a multi-athlete setup)."""

    file: str  # absolute; archive members as /abs/archive.zip!member/path
    sha256: str
    format: SourceFormat | None
    athlete_id: str | None


@dataclass(frozen=True)
class FileStamp:
    """A file's size and modification time: unchanged between two looks means it has settled."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileStamp:
        return cls(st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class ArchiveStamp:
    """An archive on disk as ``internal.known_archives`` remembers it."""

    file: str
    disk_path: Path
    stamp: FileStamp
    sha256: str


@dataclass(frozen=True)
class ArchiveCounts:
    """What a re-run of a known archive counts without reading it."""

    skipped: int
    unsupported: int


class KnownArchives(Protocol):
    """Recognises an archive whose every member is in ``ingest_log`` (the planner)."""

    def by_stat(self, file: str, disk_path: Path, stamp: FileStamp) -> ArchiveCounts | None: ...

    def by_sha256(self, file: str, disk_path: Path, stamp: FileStamp, sha256: str) -> ArchiveCounts | None: ...

    def file_by_stat(self, file: str, stamp: FileStamp) -> RememberedFile | None: ...


@dataclass(frozen=True)
class RememberedFile:
    """A loose file seen before with this very size and mtime (``internal.known_files``)."""

    sha256: str | None  # None: not an activity file (unsupported), never hashed


@dataclass
class Item:
    """One file to ingest: a plain file (``path``) or an archive member (``data``)."""

    file: str  # absolute, valid UTF-8; archive members as archive.zip!member/path
    format: SourceFormat | None  # detected format ("zip"/"gz" for an unreadable archive), None when unsupported
    path: Path | None = None
    data: bytes | None = None
    reason: str | None = None  # set when the item is refused before parsing (quarantined)
    strava: StravaInfo | None = None
    disk_path: Path | None = None  # the file on disk this item came from (for athlete lookup)
    skip: str | None = None  # not read this time (unreadable, not a regular file, a link): not logged
    stamp: FileStamp | None = None  # a plain file's size and mtime at walk time
    identity: str | None = None  # the sha256 a refused item without bytes is logged under
    archive: ArchiveStamp | None = None  # the archive on disk this item came from
    known: ArchiveCounts | None = None  # a known archive, not read again: its members are all logged
    # a loose file unchanged since it was hashed (same size and mtime): not read; the planner
    # reads it after all (:func:`item_from_file`) when its log row is gone
    remembered: str | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


class TooLarge(Exception):
    pass


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass
class _Budget:
    """What is left of one archive's total decompressed bytes."""

    left: int = field(default_factory=lambda: MAX_ARCHIVE_BYTES)


def display_name(path: Path | str) -> str:
    """An absolute, valid-UTF-8 spelling of a path: undecodable bytes (a file name in Latin-1 on a
    UTF-8 system) as ``\\xNN``, the same on every run."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _detect(name: str, head: bytes) -> DetectedFormat | None:
    # detect_format returns a Format, "csv" (flavour decided by the whole file) or None
    return cast("DetectedFormat | None", detect_format(name, head))


def size_cap(fmt: str) -> int:
    return MAX_FILE_BYTES.get(fmt, MAX_CSV_BYTES)


def _over_cap(size: int, fmt: str | None) -> str | None:
    if fmt is None or size <= size_cap(fmt):
        return None
    kind = fmt.split("_")[0].upper()
    return f"{size:,} bytes, over the {size_cap(fmt) >> 20} MiB limit for {kind} files; refused"


def _one_line(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return " ".join(text.split())[:300]


def _read_capped(stream: _Readable, limit: int | None = None, budget: _Budget | None = None,
                 compressed: int | None = None) -> bytes:
    limit = MAX_MEMBER_BYTES if limit is None else limit
    ratio_limit = None if compressed is None else max(_RATIO_FREE_BYTES, MAX_RATIO * compressed)
    out = bytearray()
    while chunk := stream.read(_CHUNK):
        out += chunk
        if len(out) > limit:
            raise TooLarge(f"decompresses to more than {limit >> 20} MiB; refused as a possible zip bomb")
        if ratio_limit is not None and len(out) > ratio_limit:
            raise TooLarge(f"decompresses to more than {MAX_RATIO} times its compressed size; "
                           "refused as a possible zip bomb")
        if budget is not None and len(out) > budget.left:
            raise TooLarge(f"the archive decompresses to more than {MAX_ARCHIVE_BYTES >> 20} MiB in total; "
                           "refused as a possible zip bomb")
    if budget is not None:
        budget.left -= len(out)
    return bytes(out)


def gunzip(data: bytes, budget: _Budget | None = None) -> bytes:
    return _read_capped(gzip.GzipFile(fileobj=io.BytesIO(data)), budget=budget, compressed=len(data))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


CHANGED_WHILE_READ = "the file changed while it was read (still being written?)"


def _not_read(reason: str) -> str:
    return f"{reason} (not logged; tried again next run)"


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device")):
        if test(mode):
            return kind
    return "special file"


@dataclass(frozen=True)
class _Entry:
    """A file found by the walk: a regular file with its stat, or a reason it is skipped."""

    path: Path
    st: os.stat_result | None
    skip: str | None = None
    name: str = ""  # display_name(path), when the walk had it as text already

    @property
    def file(self) -> str:
        return self.name or display_name(self.path)


def _walk(folder: Path) -> Iterator[_Entry]:
    """Every entry under ``folder``, sorted; hidden ones left out; links never followed."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: os.fsencode(e.name))
    except OSError as err:
        yield _Entry(folder, None, _not_read(f"cannot read the folder: {err.strerror or err}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name  # a child of a parsed path: cheaper than parsing entry.path
        try:
            if entry.is_symlink():
                yield _Entry(path, None, "symbolic link; not followed")
            elif entry.is_dir(follow_symlinks=False):
                yield from _walk(path)
            else:
                st = entry.stat(follow_symlinks=False)  # DirEntry's: no path to resolve again
                if stat.S_ISREG(st.st_mode):
                    yield _Entry(path, st, name=display_name(entry.path))
                else:
                    yield _Entry(path, None, f"not a regular file ({_kind(st.st_mode)}); not read")
        except OSError as err:  # vanished during the walk
            yield _Entry(path, None, _not_read(f"cannot read the file: {err.strerror or err}"))


def absolute(path: Path) -> Path:
    """``path`` made absolute with its folder's links resolved, its own name kept: an inbox given
    as ``inbox`` and as ``/srv/runlift/inbox`` names the same files."""
    if path.is_dir():
        return path.resolve()
    return path.parent.resolve() / path.name


def iter_entries(paths: list[Path]) -> Iterator[_Entry]:
    """Every file under the given paths, in a stable order, each with its stat (walk time)."""
    for given in paths:
        p = absolute(given)
        try:
            st = p.stat()  # a link given by name is followed: the user named it
        except OSError as err:
            yield _Entry(p, None, _not_read(f"cannot read the file: {err.strerror or err}"))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from list(_walk(p))  # the whole walk first: every stat is taken before any file is read
        elif stat.S_ISREG(st.st_mode):
            yield _Entry(p, st)
        else:
            yield _Entry(p, None, f"not a regular file ({_kind(st.st_mode)}); not read")


def iter_paths(paths: list[Path]) -> Iterator[Path]:
    """Every regular file under the given paths, in a stable order; hidden files, links and
    special files skipped."""
    for entry in iter_entries(paths):
        if entry.skip is None:
            yield entry.path


def items_from_paths(paths: list[Path], known: KnownArchives | None = None) -> Iterator[Item]:
    for entry in iter_entries(paths):
        name = entry.file
        if entry.skip is not None or entry.st is None:
            yield Item(name, None, disk_path=entry.path, skip=entry.skip)
            continue
        lower = entry.path.name.lower()
        if lower.endswith((".zip", ".gz")):
            yield from _items_from_archive(entry.path, name, FileStamp.of(entry.st), known)
        else:
            yield _loose_item(entry.path, name, FileStamp.of(entry.st), known)


def _loose_item(path: Path, name: str, stamp: FileStamp, known: KnownArchives | None) -> Item:
    """A loose file; one unchanged since the last sync is not opened at all: an unchanged inbox
    costs a directory listing."""
    seen = known.file_by_stat(name, stamp) if known is not None else None
    if seen is None:
        return item_from_file(path, name, stamp)
    if seen.sha256 is None:  # not an activity file
        return Item(name, None, disk_path=path, stamp=stamp)
    return Item(name, None, path=path, disk_path=path, stamp=stamp, remembered=seen.sha256)


def item_from_file(path: Path, name: str, stamp: FileStamp) -> Item:
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
    except OSError as err:  # unreadable, or vanished since the walk: tried again next run
        return Item(name, None, disk_path=path, skip=_not_read(f"cannot read the file: {err.strerror or err}"))
    fmt = _detect(path.name.lower(), head)
    if reason := _over_cap(stamp.size, fmt):
        # refused from its stat, never read whole: logged under its name, size and time, so a
        # smaller file written under the same name later is read
        identity = hashlib.sha256(f"{name}\0{stamp.size}\0{stamp.mtime_ns}".encode()).hexdigest()
        return Item(name, fmt, disk_path=path, reason=f"the file is {reason}", identity=identity)
    return Item(name, fmt, path=path, disk_path=path, stamp=stamp)


def _items_from_archive(path: Path, name: str, stamp: FileStamp, known: KnownArchives | None) -> Iterator[Item]:
    kind: SourceFormat = "zip" if name.lower().endswith(".zip") else "gz"
    if known is not None and (counts := known.by_stat(name, path, stamp)) is not None:
        yield Item(name, kind, disk_path=path, known=counts)
        return
    try:
        sha256 = _file_sha256(path)
        settled = FileStamp.of(path.stat()) == stamp
    except OSError as err:
        yield Item(name, None, disk_path=path, skip=_not_read(f"cannot read the file: {err.strerror or err}"))
        return
    if not settled:  # still being copied in: a truncated zip is no reason to quarantine it
        yield Item(name, None, disk_path=path, skip=_not_read(CHANGED_WHILE_READ))
        return
    if known is not None and (counts := known.by_sha256(name, path, stamp, sha256)) is not None:
        yield Item(name, kind, disk_path=path, known=counts)
        return
    archive = ArchiveStamp(name, path, stamp, sha256)
    for item in (_items_from_zip_file if kind == "zip" else _items_from_gz_file)(path, name, archive):
        item.archive = archive
        yield item


def _items_from_gz_file(path: Path, name: str, archive: ArchiveStamp) -> Iterator[Item]:
    try:
        data = gunzip(path.read_bytes())
    except OSError as err:
        if isinstance(err, gzip.BadGzipFile):
            yield Item(name, "gz", disk_path=path, reason=f"bad gzip file: {_one_line(err)}", identity=archive.sha256)
        else:
            yield Item(name, None, disk_path=path, skip=_not_read(f"cannot read the file: {err.strerror or err}"))
        return
    except Exception as err:  # a bomb (TooLarge), a truncated stream (EOFError), zlib.error
        yield Item(name, "gz", disk_path=path, reason=f"bad gzip file: {_one_line(err)}", identity=archive.sha256)
        return
    inner = name.lower().removesuffix(".gz")
    fmt = _detect(inner, data[:_HEAD])
    if reason := _over_cap(len(data), fmt):
        yield Item(name, fmt, disk_path=path, reason=f"decompresses to {reason}", identity=archive.sha256)
        return
    yield Item(name, fmt, data=data, disk_path=path)


def _items_from_zip_file(path: Path, name: str, archive: ArchiveStamp) -> Iterator[Item]:
    def refused(reason: str) -> Item:
        return Item(name, "zip", disk_path=path, reason=reason, identity=archive.sha256)

    try:
        zf = zipfile.ZipFile(path)
    except OSError as err:  # unreadable or vanished (BadZipFile is no OSError)
        yield Item(name, None, disk_path=path, skip=_not_read(f"cannot read the file: {err.strerror or err}"))
        return
    except Exception as err:  # BadZipFile, a name flagged UTF-8 that is not, a broken zip64 record...
        yield refused(f"unreadable zip archive: {_one_line(err)}")
        return
    with zf:
        if reason := _overlapping(zf):
            yield refused(reason)
            return
        yield from _items_from_zip(zf, name, 1, path, _Budget())


def _overlapping(zf: zipfile.ZipFile) -> str | None:
    """Members whose data overlap (many directory entries over one compressed kernel, the
    overlapping-file zip bomb): never in an archive a zip tool wrote."""
    infos = sorted((i for i in zf.infolist() if i.compress_size or not i.is_dir()), key=lambda i: i.header_offset)
    # a local header is at least 30 bytes before its data: the lower bound of where the next may start
    over = {id(b) for a, b in pairwise(infos) if b.header_offset < a.header_offset + 30 + a.compress_size}
    if not over:
        return None
    return f"{len(over) + 1} archive members overlap each other; refused as a possible zip bomb"


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


def _strava_titles(zf: zipfile.ZipFile, member: str) -> dict[str, StravaInfo]:
    """Strava bulk export: activities.csv maps each file to its title and activity type."""
    with zf.open(member) as fh:
        text = _read_capped(fh, 64 * 1024 * 1024).decode("utf-8-sig", errors="replace")
    titles: dict[str, StravaInfo] = {}
    for row in csv.DictReader(io.StringIO(text)):
        filename = (row.get("Filename") or "").strip()
        if filename:
            titles[filename] = (row.get("Activity Name") or None, row.get("Activity Type") or None)
    return titles


def _member_identity(prefix: str, info: zipfile.ZipInfo) -> str:
    """What a member refused unread is logged under: its name, size and checksum (the same member
    in a re-export is known; a corrected one is read)."""
    return hashlib.sha256(f"{prefix}!{info.filename}\0{info.file_size}\0{info.CRC}".encode()).hexdigest()


def _items_from_zip(zf: zipfile.ZipFile, prefix: str, depth: int, disk_path: Path, budget: _Budget) -> Iterator[Item]:
    titles: dict[str, StravaInfo] = {}
    metadata = next((i for i in zf.infolist() if PurePosixPath(i.filename).name == "activities.csv"), None)
    refused_metadata = False
    if metadata is not None:
        try:
            titles = _strava_titles(zf, metadata.filename)
        except Exception as err:  # encrypted, a field over csv's limit, an unknown compression...
            refused_metadata = True
            yield Item(f"{prefix}!{metadata.filename}", None, disk_path=disk_path,
                       reason=f"cannot read the archive's activities.csv: {_one_line(err)}",
                       identity=_member_identity(prefix, metadata))
    for info in zf.infolist():
        if info.is_dir() or (info is metadata and (titles or refused_metadata)):
            continue  # metadata, consumed (or refused) above
        name = f"{prefix}!{info.filename}"
        yield from _items_from_member(zf, info, name, depth, disk_path, budget, titles)


def _items_from_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, depth: int, disk_path: Path,
                       budget: _Budget, titles: dict[str, StravaInfo]) -> Iterator[Item]:
    lower = info.filename.lower()
    prefix = name[: -len(info.filename) - 1]

    def refused(reason: str) -> Item:
        return Item(name, None, disk_path=disk_path, reason=reason, identity=_member_identity(prefix, info))

    if reason := _unsafe_member(info):
        yield refused(reason)
        return
    if info.flag_bits & 0x1:
        yield refused("password-protected archive member; cannot read")
        return
    if info.file_size > MAX_MEMBER_BYTES:
        yield refused(f"member declares {info.file_size:,} bytes, over the {MAX_MEMBER_BYTES >> 20} MiB limit; "
                      "refused as a possible zip bomb")
        return
    try:
        if not lower.endswith(_DATA_SUFFIXES):
            with zf.open(info) as fh:
                if _detect(lower, fh.read(_HEAD)) is None:
                    yield Item(name, None, disk_path=disk_path)  # not an activity file: not read
                    return
        with zf.open(info) as fh:
            data = _read_capped(fh, budget=budget, compressed=info.compress_size)
        if lower.endswith(".gz"):
            data = gunzip(data, budget)
            lower = lower.removesuffix(".gz")
    except Exception as err:  # a bomb, a bad CRC, an unknown compression method, a truncated stream...
        yield refused(f"cannot read archive member: {_one_line(err)}")
        return
    if lower.endswith(".zip"):
        if depth >= MAX_NESTING:
            yield Item(name, None, disk_path=disk_path, reason="zip nested too deeply; refused",
                       identity=hashlib.sha256(data).hexdigest())
            return
        try:
            inner = zipfile.ZipFile(io.BytesIO(data))
        except Exception as err:
            yield Item(name, "zip", disk_path=disk_path, data=data, reason=f"unreadable zip archive: {_one_line(err)}")
            return
        with inner:
            if reason := _overlapping(inner):
                yield Item(name, "zip", disk_path=disk_path, data=data, reason=reason)
                return
            yield from _items_from_zip(inner, name, depth + 1, disk_path, budget)
        return
    fmt = _detect(lower, data[:_HEAD])
    if reason := _over_cap(len(data), fmt):
        yield Item(name, fmt, disk_path=disk_path, data=data, reason=f"the member is {reason}")
        return
    yield Item(name, fmt, data=data, strava=titles.get(info.filename), disk_path=disk_path)

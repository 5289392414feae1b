"""Mutation strategies for ``tests/test_fuzz.py``: damaged copies of real and generated files.

A :class:`Seed` is a corpus file (valid, edge or corrupt), a generated sample or a small inline
CSV. :func:`cases` draws a seed and applies one to five mutations to its bytes,
giving a :class:`Case`: the mutated bytes plus a readable list of what was done (that list is
what hypothesis prints for a failing example).

Mutations by format:

- any file: truncate, flip bytes, duplicate / delete a byte range, insert junk;
- FIT, aware of the message layout (:func:`walk_fit`) and *re-framed* afterwards (header
  ``data_size``, header CRC and file CRC fixed, so the damage passes the framing checks and
  reaches the decoder): duplicate whole messages or a byte range, drop messages, flip bytes,
  cut the data at any byte, a definition claiming up to 255 fields, timestamps moved to 1989
  (FIT values below 0x10000000 are device-relative), 2100, the FIT maximum or "invalid",
  heart rates of 0 / 255, extreme values in summary, set and record fields; plus a wrong
  file CRC (not re-framed);
- GPX/TCX, on the text: times moved to 1989 / 2100 / year 1 / 9999, reversed, removed or
  garbled; numbers replaced by ``NaN``, ``inf``, ``0``, ``255``, ``-1``, ``1e308`` ...;
  track points duplicated or reversed; a UTF-8 BOM or UTF-16;
- CSV, on the table: a column dropped, cells replaced (``NaN``, ``inf``, negatives, huge
  numbers, dates in 1989 / 2100 / year 1 / 9999, garbage), rows duplicated, weights
  relabelled as lbs; written back with ``;`` or tab separators, a ``sep=`` hint, CRLF, blank
  lines, a BOM, UTF-16 or cp1252.

Big seeds are shrunk first (:func:`shrink`): FIT files keep every message except record
messages past the first N, XML keeps the first N track points, CSV the first N lines. The
corpus is read where it lies (``tests/conftest.py``), never copied into the repository.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fitparse.profile import MESSAGE_TYPES
from hypothesis import strategies as st

from pipeline.parsers.fit import fit_crc

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"

Draw = Callable[[st.SearchStrategy], object]

# --------------------------------------------------------------------------------- seeds

SIMPLE_CSV = b"""date,time,exercise,set,reps,weight_kg,set_type,rpe,duration_min,title
2026-09-08,07:00,Back Squat,1,8,40,warmup,,45,Lower A
2026-09-08,07:00,Back Squat,2,5,80,,8,,Lower A
2026-09-08,07:00,Back Squat,3,5,80,,8.5,,Lower A
2026-09-08,07:00,Bulgarian Split Squat,1,8,20,,,,Lower A
2026-09-08,07:00,Nordic Curl,1,5,,failure,9,,Lower A
2026-09-10,18:30,Bench Press,1,10,40,warmup,,,Upper A
2026-09-10,18:30,Bench Press,2,6,70,,8,,Upper A
2026-09-10,18:30,Pull Up,1,8,,,,,Upper A
2026-09-10,18:30,Pull Up,2,6,10,drop,,,Upper A
"""


@dataclass(frozen=True)
class Seed:
    name: str  # file name as ingest would see it: the extension picks the parser
    origin: str  # "corpus/<path>", "sample_data/<path>" or "inline"
    data: bytes = field(repr=False)

    @property
    def kind(self) -> str:
        return {".fit": "fit", ".gpx": "xml", ".tcx": "xml", ".csv": "csv"}[Path(self.name).suffix.lower()]


def load_seeds(corpus: Path, corpus_files: list[str], limit: int) -> list[Seed]:
    """The generated samples (one file per kind) and the corpus files, shrunk to ``limit``
    records / track points / lines. Corpus files that are absent are left out."""
    picked = [
        SAMPLE / "runs" / "2026-08-09_0900_long.fit",
        SAMPLE / "runs" / "2026-08-11_1830_intervals.gpx",
        SAMPLE / "strength" / "watch_strength.fit",
        SAMPLE / "strength" / "strong.csv",
        SAMPLE / "strength" / "hevy.csv",
    ]
    seeds = [Seed(p.name, f"sample_data/{p.relative_to(SAMPLE)}", shrink(p.name, p.read_bytes(), limit))
             for p in picked if p.is_file()]
    seeds.append(Seed("simple.csv", "inline", SIMPLE_CSV))
    for rel in corpus_files:
        path = corpus / rel
        if path.is_file():
            seeds.append(Seed(path.name, f"corpus/{rel}", shrink(path.name, path.read_bytes(), limit)))
    return seeds


def shrink(name: str, data: bytes, limit: int) -> bytes:
    """A smaller file of the same kind, still as (in)valid as the original."""
    kind = Path(name).suffix.lower()
    if kind == ".fit":
        return _shrink_fit(data, limit)
    if kind in (".gpx", ".tcx"):
        return _shrink_xml(data, limit)
    lines = data.splitlines(keepends=True)
    return b"".join(lines[: limit + 1])


def _shrink_fit(data: bytes, limit: int) -> bytes:
    """Keep every message but the record messages after the first ``limit`` (per FIT file)."""
    try:
        segments = walk_fit(data)
    except FitWalkError:  # a damaged seed (truncated, bad header ...): cut its bytes instead
        return data[: max(limit * 40, 4096)]
    if all(sum(not m.definition and m.global_num == RECORD for m in seg.messages) <= limit for seg in segments):
        return data  # small enough: keep it byte for byte (a bad CRC stays bad)
    out = bytearray()
    for seg in segments:
        body = bytearray()
        records = 0
        for m in seg.messages:
            if not m.definition and m.global_num == RECORD:
                records += 1
                if records > limit:
                    continue
            body += data[m.start : m.end]
        out += frame_fit(data[seg.start : seg.start + seg.header_size], bytes(body))
    return bytes(out) + data[segments[-1].end :]


_POINT_BLOCK = re.compile(rb"<((?:\w+:)?(?:trkpt|Trackpoint))\b.*?</\1>", re.S)


def _shrink_xml(data: bytes, limit: int) -> bytes:
    count = 0

    def keep(m: re.Match[bytes]) -> bytes:
        nonlocal count
        count += 1
        return m.group(0) if count <= limit else b""

    return _POINT_BLOCK.sub(keep, data)


# ----------------------------------------------------------------------------- cases


@dataclass(frozen=True, repr=False)
class Case:
    """One mutated file. Its repr (what hypothesis prints for a failing example) shows the seed
    and the steps, not the bytes (tests/test_fuzz.py saves those of a failing case)."""

    name: str
    origin: str
    steps: tuple[str, ...]
    data: bytes

    def __repr__(self) -> str:
        return f"Case({self.origin!r} ({len(self.data):,} bytes) <- {'; '.join(self.steps)})"

    __str__ = __repr__

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:  # hypothesis' pretty printer
        printer.text(repr(self))


def cases(seeds: list[Seed]) -> st.SearchStrategy[Case]:
    """Draw a kind (fit, xml, csv), a seed of it, then one to five mutations that fit it."""

    by_kind: dict[str, list[Seed]] = {}
    for seed in seeds:
        by_kind.setdefault(seed.kind, []).append(seed)
    kinds = sorted(by_kind)

    @st.composite
    def build(draw: Draw) -> Case:  # each kind as likely as the others, however many seeds it has
        seed = draw(st.sampled_from(by_kind[draw(st.sampled_from(kinds))]))
        data, steps = seed.data, []
        if seed.kind == "csv":  # table edits and serialisation first, byte damage last
            data, steps = draw(csv_mutation(data))
        families = {"fit": FIT_MUTATIONS, "xml": XML_MUTATIONS, "csv": ()}[seed.kind]
        # format-aware edits first: after byte damage they would mostly find nothing to edit
        edits = draw(st.lists(st.sampled_from(families), max_size=3)) if families else []
        edits.sort(key=lambda fn: fn in LAYOUT_BREAKING)  # edits that need the FIT layout go first
        # at most one byte-level edit on top of format-aware ones: their damage is what is under test
        damage = draw(st.lists(st.sampled_from(BYTE_MUTATIONS), min_size=0 if steps or edits else 1,
                               max_size=1 if edits else 2))
        for fn in edits + damage:
            data, step = fn(draw, data)
            steps.append(step)
        return Case(seed.name, seed.origin, tuple(steps), data)

    return build()


# ------------------------------------------------------------------------ byte level


def position(draw: Draw, n: int) -> int:
    """A position in 0..n-1 spread over the whole range. Hypothesis draws integers mostly near
    the lower bound (good for shrinking, bad here: most byte edits would hit a file's first
    bytes, its header), so the draw is scrambled by a multiplicative hash; 0 stays 0."""
    if n <= 1:
        return 0
    return draw(st.integers(0, n - 1)) * 2654435761 % n


def truncate(draw: Draw, data: bytes) -> tuple[bytes, str]:
    n = position(draw, len(data))
    return data[:n], f"truncate to {n} bytes"


def flip_bytes(draw: Draw, data: bytes) -> tuple[bytes, str]:
    if not data:
        return data, "flip: nothing to flip"
    out = bytearray(data)
    spots = [(position(draw, len(data)), draw(st.integers(1, 255))) for _ in range(draw(st.integers(1, 8)))]
    for pos, mask in spots:
        out[pos] ^= mask
    return bytes(out), f"flip bytes {[p for p, _ in spots]}"


def _range(draw: Draw, size: int, max_len: int = 256) -> tuple[int, int]:
    a = position(draw, size)
    return a, min(size, a + draw(st.integers(1, max_len)))


def duplicate_range(draw: Draw, data: bytes) -> tuple[bytes, str]:
    a, b = _range(draw, len(data))
    return data[:b] + data[a:b] + data[b:], f"duplicate bytes {a}:{b}"


def delete_range(draw: Draw, data: bytes) -> tuple[bytes, str]:
    a, b = _range(draw, len(data))
    return data[:a] + data[b:], f"delete bytes {a}:{b}"


def insert_junk(draw: Draw, data: bytes) -> tuple[bytes, str]:
    at = position(draw, len(data) + 1)
    junk = draw(st.binary(min_size=1, max_size=32))
    return data[:at] + junk + data[at:], f"insert {junk!r} at {at}"


BYTE_MUTATIONS: tuple = (truncate, flip_bytes, duplicate_range, delete_range, insert_junk)


# ------------------------------------------------------------------------- FIT layout

RECORD, SESSION, LAP, SET = 20, 18, 19, 225


class FitWalkError(ValueError):
    """The bytes do not follow the FIT message layout (the mutation is skipped)."""


@dataclass(frozen=True)
class FitMessage:
    start: int  # offset of the record header byte in the whole file
    end: int
    definition: bool
    global_num: int
    big_endian: bool
    fields: tuple[tuple[int, int, int], ...]  # (field number, size, base type) of its definition

    def field_at(self, def_num: int) -> tuple[int, int] | None:
        """(absolute offset, size) of a field in this data message."""
        offset = self.start + 1
        for num, size, _ in self.fields:
            if num == def_num:
                return offset, size
            offset += size
        return None


@dataclass(frozen=True)
class FitSegment:
    """One FIT file (a chained file has several): header, messages, then a 2-byte CRC."""

    start: int
    header_size: int
    data_end: int
    messages: tuple[FitMessage, ...]

    @property
    def end(self) -> int:
        return self.data_end + 2


def walk_fit(data: bytes) -> list[FitSegment]:
    """The messages of every chained FIT file in ``data``; :class:`FitWalkError` if damaged."""
    segments, pos = [], 0
    try:
        while pos + 12 <= len(data) and data[pos + 8 : pos + 12] == b".FIT":
            header_size = data[pos]
            data_end = pos + header_size + int.from_bytes(data[pos + 4 : pos + 8], "little")
            if header_size < 12 or data_end + 2 > len(data):
                raise FitWalkError("bad header or size")
            messages, defs, p = [], {}, pos + header_size
            while p < data_end:
                head = data[p]
                if head & 0x80:  # compressed timestamp header: a data message of local type 0-3
                    message = _data_message(defs, (head >> 5) & 3, p)
                elif head & 0x40:
                    message = _definition(data, p, head)
                    defs[head & 0x0F] = message
                else:
                    message = _data_message(defs, head & 0x0F, p)
                messages.append(message)
                p = message.end
            if p != data_end:
                raise FitWalkError("last message overruns the data")
            segments.append(FitSegment(pos, header_size, data_end, tuple(messages)))
            pos = data_end + 2
    except (IndexError, KeyError) as err:
        raise FitWalkError(str(err)) from None
    if not segments:
        raise FitWalkError("no FIT header")
    return segments


def _definition(data: bytes, p: int, head: int) -> FitMessage:
    big = data[p + 2] == 1
    global_num = int.from_bytes(data[p + 3 : p + 5], "big" if big else "little")
    n = data[p + 5]
    fields = tuple((data[q], data[q + 1], data[q + 2]) for q in range(p + 6, p + 6 + 3 * n, 3))
    end = p + 6 + 3 * n
    if head & 0x20:  # developer fields: their bytes follow the normal fields in each data message
        m = data[end]
        fields += tuple((-1, data[q + 1], 13) for q in range(end + 1, end + 1 + 3 * m, 3))
        end += 1 + 3 * m
    if end > len(data):
        raise IndexError("definition runs past the end")
    return FitMessage(p, end, True, global_num, big, fields)


def _data_message(defs: dict[int, FitMessage], local: int, p: int) -> FitMessage:
    d = defs[local]
    return FitMessage(p, p + 1 + sum(size for _, size, _ in d.fields), False, d.global_num, d.big_endian, d.fields)


def frame_fit(header: bytes, body: bytes) -> bytes:
    """A FIT file around ``body``: data_size set, header CRC (14-byte header) and file CRC fixed."""
    head = bytearray(header)
    head[4:8] = len(body).to_bytes(4, "little")
    if len(head) >= 14:
        head[12:14] = fit_crc(head[:12]).to_bytes(2, "little")
    out = bytes(head) + body
    return out + fit_crc(out).to_bytes(2, "little")


def _reframed(data: bytes, seg: FitSegment, body: bytes) -> bytes:
    return data[: seg.start] + frame_fit(data[seg.start : seg.start + seg.header_size], body) + data[seg.end :]


def _segment(draw: Draw, data: bytes) -> FitSegment | None:
    try:
        segments = [s for s in walk_fit(data) if s.messages]
    except FitWalkError:
        return None
    return draw(st.sampled_from(segments)) if segments else None


def _body(data: bytes, seg: FitSegment) -> bytes:
    return data[seg.start + seg.header_size : seg.data_end]


# fields whose profile type is a FIT date_time, by message number (253 timestamp and others)
_TIME_FIELDS = {
    num: frozenset(d for d, f in m.fields.items() if f.type.name in ("date_time", "local_date_time"))
    for num, m in MESSAGE_TYPES.items()
}
_HR_FIELDS = {
    num: frozenset(d for d, f in m.fields.items() if f.name in ("heart_rate", "avg_heart_rate", "max_heart_rate"))
    for num, m in MESSAGE_TYPES.items()
}
_FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)


def fit_seconds(dt: datetime) -> int:
    return int((dt - _FIT_EPOCH).total_seconds())


def _fields_of(seg: FitSegment, wanted: dict[int, frozenset[int]]) -> list[tuple[FitMessage, int, int]]:
    """(message, offset, size) of every data-message field listed in ``wanted``."""
    out = []
    for m in seg.messages:
        if m.definition:
            continue
        for num in wanted.get(m.global_num, ()):
            where = m.field_at(num)
            if where is not None:
                out.append((m, *where))
    return out


def _get(data: bytes, m: FitMessage, offset: int, size: int) -> int:
    return int.from_bytes(data[offset : offset + size], "big" if m.big_endian else "little")


def _put(out: bytearray, m: FitMessage, offset: int, size: int, value: int) -> None:
    out[offset : offset + size] = (value % 2 ** (8 * size)).to_bytes(size, "big" if m.big_endian else "little")


def fit_duplicate_messages(draw: Draw, data: bytes) -> tuple[bytes, str]:
    seg = _segment(draw, data)
    if seg is None:
        return data, "fit duplicate messages: skipped (not walkable)"
    i = position(draw, len(seg.messages))
    j = min(len(seg.messages), i + draw(st.integers(1, 40)))
    a, b = seg.messages[i].start, seg.messages[j - 1].end
    base = seg.start + seg.header_size
    body = _body(data, seg)
    body = body[: b - base] + data[a:b] + body[b - base :]
    return _reframed(data, seg, body), f"fit duplicate messages {i}:{j} (re-framed)"


def fit_drop_messages(draw: Draw, data: bytes) -> tuple[bytes, str]:
    """Drop a run of messages, or every message of one type (sessions, laps, records ...)."""
    seg = _segment(draw, data)
    if seg is None:
        return data, "fit drop messages: skipped (not walkable)"
    by_type = draw(st.booleans())
    if by_type:
        kind = draw(st.sampled_from([SESSION, LAP, RECORD, SET, 0, 34]))
        keep = [m for m in seg.messages if m.definition or m.global_num != kind]
        what = f"every data message of type {kind}"
    else:
        i = position(draw, len(seg.messages))
        j = min(len(seg.messages), i + draw(st.integers(1, 40)))
        keep = list(seg.messages[:i] + seg.messages[j:])
        what = f"messages {i}:{j}"
    body = b"".join(data[m.start : m.end] for m in keep)
    return _reframed(data, seg, body), f"fit drop {what} (re-framed)"


def fit_duplicate_bytes(draw: Draw, data: bytes) -> tuple[bytes, str]:
    seg = _segment(draw, data)
    if seg is None:
        return data, "fit duplicate bytes: skipped (not walkable)"
    body = _body(data, seg)
    a, b = _range(draw, len(body), 128)
    return _reframed(data, seg, body[:b] + body[a:b] + body[b:]), f"fit duplicate data bytes {a}:{b} (re-framed)"


def fit_flip_reframed(draw: Draw, data: bytes) -> tuple[bytes, str]:
    seg = _segment(draw, data)
    if seg is None or seg.data_end == seg.start + seg.header_size:
        return data, "fit flip: skipped"
    body = bytearray(_body(data, seg))
    spots = [(position(draw, len(body)), draw(st.integers(1, 255))) for _ in range(draw(st.integers(1, 6)))]
    for pos, mask in spots:
        body[pos] ^= mask
    return _reframed(data, seg, bytes(body)), f"fit flip data bytes {[p for p, _ in spots]} (re-framed)"


def fit_cut_reframed(draw: Draw, data: bytes) -> tuple[bytes, str]:
    """Cut the data anywhere (mid-message too) and give the rest a valid size and CRC."""
    seg = _segment(draw, data)
    if seg is None:
        return data, "fit cut: skipped"
    body = _body(data, seg)
    if draw(st.booleans()):
        n = position(draw, len(body) + 1)
    else:
        n = draw(st.sampled_from(seg.messages)).end - seg.start - seg.header_size
    return _reframed(data, seg, body[:n]), f"fit cut data at {n} of {len(body)} (re-framed)"


def fit_bad_crc(draw: Draw, data: bytes) -> tuple[bytes, str]:
    seg = _segment(draw, data)
    if seg is None:
        return data, "fit bad crc: skipped"
    out = bytearray(data)
    mask = draw(st.integers(1, 0xFFFF))
    out[seg.data_end] ^= mask & 0xFF
    out[seg.data_end + 1] ^= mask >> 8
    return bytes(out), f"fit file CRC xor {mask:#06x}"


def fit_huge_field_count(draw: Draw, data: bytes) -> tuple[bytes, str]:
    seg = _segment(draw, data)
    defs = [m for m in seg.messages if m.definition] if seg else []
    if not defs:
        return data, "fit huge field count: skipped"
    m = draw(st.sampled_from(defs))
    count = draw(st.sampled_from([255, 254, 128, 86]))
    body = bytearray(_body(data, seg))
    body[m.start + 5 - seg.start - seg.header_size] = count
    return _reframed(data, seg, bytes(body)), f"fit definition at {m.start} claims {count} fields (re-framed)"


_TIME_TARGETS = {
    "1989 (device-relative)": 3600,
    "just past the relative limit (1998)": 0x10000000,
    "2100": fit_seconds(datetime(2100, 1, 1, 12, tzinfo=UTC)),
    "2126 (max)": 0xFFFFFFFE,
    "invalid 0xFFFFFFFF": 0xFFFFFFFF,
    "0": 0,
}


def fit_timestamps(draw: Draw, data: bytes) -> tuple[bytes, str]:
    """Move every date_time of the file (keeping their spacing) or set one to a nonsense value."""
    seg = _segment(draw, data)
    spots = _fields_of(seg, _TIME_FIELDS) if seg else []
    spots = [s for s in spots if s[2] == 4]
    if not spots:
        return data, "fit timestamps: skipped"
    label = draw(st.sampled_from(sorted(_TIME_TARGETS)))
    target = _TIME_TARGETS[label]
    out = bytearray(data)
    if draw(st.booleans()):
        absolute = [v for v in (_get(data, *s) for s in spots) if 0x10000000 <= v < 0xFFFFFFFF]
        delta = target - min(absolute, default=target)
        for m, offset, size in spots:
            value = _get(data, m, offset, size)
            if value != 0xFFFFFFFF:
                _put(out, m, offset, size, min(max(value + delta, 0), 0xFFFFFFFE))
        what = f"all {len(spots)} date_times shifted to {label}"
    else:
        m, offset, size = draw(st.sampled_from(spots))
        _put(out, m, offset, size, target)
        what = f"the date_time at {offset} (message {m.global_num}) set to {label}"
    return _reframed(bytes(out), seg, _body(bytes(out), seg)), f"fit {what} (re-framed)"


def fit_heart_rate(draw: Draw, data: bytes) -> tuple[bytes, str]:
    seg = _segment(draw, data)
    spots = [s for s in _fields_of(seg, _HR_FIELDS) if s[2] == 1] if seg else []
    if not spots:
        return data, "fit heart rate: skipped"
    value = draw(st.sampled_from([0, 255, 254, 1]))
    if draw(st.booleans()):
        chosen = spots
    else:
        i = position(draw, len(spots))
        chosen = spots[i : i + draw(st.integers(1, 50))]
    out = bytearray(data)
    for m, offset, size in chosen:
        _put(out, m, offset, size, value)
    what = f"fit {len(chosen)} heart rates set to {value} (re-framed)"
    return _reframed(bytes(out), seg, _body(bytes(out), seg)), what


def fit_extreme_field(draw: Draw, data: bytes) -> tuple[bytes, str]:
    """One field of a summary, set or record message at 0, its maximum, 'invalid', or random."""
    seg = _segment(draw, data)
    wanted = {SESSION, LAP, SET, RECORD, 0, 34}
    messages = [m for m in seg.messages if not m.definition and m.global_num in wanted and m.fields] if seg else []
    if not messages:
        return data, "fit extreme field: skipped"
    m = draw(st.sampled_from(messages))
    num, size, _ = draw(st.sampled_from(m.fields))
    where = m.field_at(num)
    if num < 0 or where is None or size == 0:
        return data, "fit extreme field: skipped (developer field)"
    offset, size = where
    fill = draw(st.sampled_from(["00", "ff", "fe", "7f", "80", "random"]))
    raw = draw(st.binary(min_size=size, max_size=size)) if fill == "random" else bytes.fromhex(fill) * size
    if fill == "fe":  # the largest valid unsigned value
        raw = (2 ** (8 * size) - 2).to_bytes(size, "big" if m.big_endian else "little")
    out = bytearray(data)
    out[offset : offset + size] = raw
    return (_reframed(bytes(out), seg, _body(bytes(out), seg)),
            f"fit message {m.global_num} field {num} set to {raw.hex()} (re-framed)")


FIT_MUTATIONS: tuple = (
    fit_duplicate_messages, fit_drop_messages, fit_duplicate_bytes, fit_flip_reframed, fit_cut_reframed,
    fit_bad_crc, fit_huge_field_count, fit_timestamps, fit_heart_rate, fit_extreme_field,
)  # fmt: skip
# after these the message layout is usually gone, so the other FIT edits would find nothing
LAYOUT_BREAKING = frozenset({fit_duplicate_bytes, fit_flip_reframed, fit_cut_reframed, fit_huge_field_count})


# ------------------------------------------------------------------------- GPX / TCX

_TIME_ELEMENT = re.compile(rb"(<(?:\w+:)?(?:time|Time|Id)>)([^<]*)(</)")
_TIME_ATTRIBUTE = re.compile(rb'(StartTime=")([^"]*)(")')
_YEAR = re.compile(rb"^\s*\d{4}")
_BAD_TIMES = [b"garbage", b"", b"2026-13-45T99:99:99Z", b"9999-12-31T23:59:59-05:00", b"0001-01-01T00:00:00+05:00",
              b"2100-01-01T00:00:00Z", b"1989-06-01T00:00:00Z"]
_BAD_NUMBERS = ["NaN", "nan", "inf", "-inf", "Infinity", "0", "255", "-1", "1e308", "-1e308", "1e400", "", "x"]
_NUMBER_ELEMENTS = [
    "hr", "heartrate", "cad", "ele", "speed", "Value", "AltitudeMeters", "DistanceMeters", "LatitudeDegrees",
    "LongitudeDegrees", "Cadence", "RunCadence", "Speed", "TotalTimeSeconds", "Calories", "Watts",
]  # fmt: skip


def _time_spots(data: bytes) -> list[re.Match[bytes]]:
    return sorted([*_TIME_ELEMENT.finditer(data), *_TIME_ATTRIBUTE.finditer(data)], key=lambda m: m.start())


def _replace_groups(data: bytes, spots: list[re.Match[bytes]], texts: list[bytes]) -> bytes:
    out, last = [], 0
    for m, text in zip(spots, texts, strict=True):
        out += [data[last : m.start(2)], text]
        last = m.end(2)
    return b"".join(out) + data[last:]


def xml_times(draw: Draw, data: bytes) -> tuple[bytes, str]:
    spots = _time_spots(data)
    if not spots:
        return data, "xml times: none"
    texts = [m.group(2) for m in spots]
    mode = draw(st.sampled_from(["year", "one", "reverse", "remove", "same"]))
    if mode == "year":
        year = draw(st.sampled_from([b"1989", b"1901", b"2100", b"2099", b"0001", b"9999"]))
        texts = [_YEAR.sub(year, t, count=1) for t in texts]
        return _replace_groups(data, spots, texts), f"xml every time in year {year.decode()}"
    if mode == "one":
        i = position(draw, len(texts))
        texts[i] = draw(st.sampled_from(_BAD_TIMES))
        return _replace_groups(data, spots, texts), f"xml time {i} set to {texts[i]!r}"
    if mode == "reverse":
        return _replace_groups(data, spots, texts[::-1]), "xml times reversed"
    if mode == "same":
        return _replace_groups(data, spots, [texts[0]] * len(texts)), "xml every time equal to the first"
    elements = [m for m in spots if m.group(1).startswith(b"<")]
    out, last = [], 0
    for m in elements:  # remove the whole element: <time>...</time>
        close = data.find(b">", m.end(3))
        out.append(data[last : m.start(1)])
        last = close + 1
    return b"".join(out) + data[last:], "xml time elements removed"


def _number_pattern(tag: str) -> re.Pattern[bytes]:
    if tag in ("lat", "lon"):
        return re.compile(rb"(\b" + tag.encode() + rb'=")([^"]*)(")')
    return re.compile(rb"(<(?:\w+:)?" + tag.encode() + rb">)([^<]*)(</)")


def xml_numbers(draw: Draw, data: bytes) -> tuple[bytes, str]:
    present = [t for t in _NUMBER_ELEMENTS + ["lat", "lon"] if _number_pattern(t).search(data)]
    if not present:
        return data, "xml numbers: none"
    tag = draw(st.sampled_from(present))
    spots = list(_number_pattern(tag).finditer(data))
    value = draw(st.sampled_from(_BAD_NUMBERS)).encode()
    chosen = spots if draw(st.booleans()) else [spots[position(draw, len(spots))]]
    return _replace_groups(data, chosen, [value] * len(chosen)), f"xml {len(chosen)} <{tag}> set to {value!r}"


def xml_points(draw: Draw, data: bytes) -> tuple[bytes, str]:
    blocks = list(_POINT_BLOCK.finditer(data))
    if not blocks:
        return data, "xml points: none"
    i = position(draw, len(blocks))
    j = min(len(blocks), i + draw(st.integers(1, 30)))
    a, b = blocks[i].start(), blocks[j - 1].end()
    if draw(st.booleans()):
        return data[:b] + data[a:b] + data[b:], f"xml points {i}:{j} duplicated"
    chunk = b"".join(m.group(0) for m in blocks[i:j][::-1])
    return data[:a] + chunk + data[b:], f"xml points {i}:{j} reversed"


def xml_encoding(draw: Draw, data: bytes) -> tuple[bytes, str]:
    how = draw(st.sampled_from(["utf-8 BOM", "utf-16"]))
    if how == "utf-8 BOM":
        return codecs.BOM_UTF8 + data, "xml UTF-8 BOM added"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data, "xml utf-16: skipped (not UTF-8)"
    return text.encode("utf-16"), "xml re-encoded as UTF-16"


XML_MUTATIONS: tuple = (xml_times, xml_numbers, xml_points, xml_encoding)


# ------------------------------------------------------------------------------- CSV

_CELL_VALUES = [
    "NaN", "nan", "inf", "-inf", "-5", "0", "1e9", "1e400", "", "abc", "99999999999999999999", "2.5e3", "1001",
    "1989-06-01 10:00:00", "2100-01-01 00:00:00", "0001-01-01 00:00:00", "9999-12-31 23:59:59",
    "1989-06-01", "2100-06-01", "25:61", "7 Aug 1989, 17:00", "31 Dec 9999, 23:59", "12h 99m", "-1h", "lbs", "stone",
]  # fmt: skip


def csv_mutation(data: bytes) -> st.SearchStrategy[tuple[bytes, list[str]]]:
    """Table edits, then how the table is written (separator, line ends, blank lines, encoding)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))

    @st.composite
    def build(draw: Draw) -> tuple[bytes, list[str]]:
        table = [list(r) for r in rows]
        steps = []
        for _ in range(draw(st.integers(0, 3))):
            table, step = draw(st.sampled_from(_TABLE_EDITS))(draw, table)
            steps.append(step)
        text, step = _write(draw, table)
        steps.append(step)
        return _encode(draw, text, steps), steps

    return build()


def _drop_column(draw: Draw, table: list[list[str]]) -> tuple[list[list[str]], str]:
    i = position(draw, len(table[0]))
    return [r[:i] + r[i + 1 :] for r in table], f"csv column {table[0][i]!r} dropped"


def _set_cells(draw: Draw, table: list[list[str]]) -> tuple[list[list[str]], str]:
    if len(table) < 2:
        return table, "csv cells: no rows"
    col = position(draw, len(table[0]))
    value = draw(st.sampled_from(_CELL_VALUES))
    rows = range(1, len(table)) if draw(st.booleans()) else [1 + position(draw, len(table) - 1)]
    for r in rows:
        if col < len(table[r]):
            table[r][col] = value
    return table, f"csv {len(rows)} cell(s) of {table[0][col]!r} set to {value!r}"


def _duplicate_rows(draw: Draw, table: list[list[str]]) -> tuple[list[list[str]], str]:
    if len(table) < 2:
        return table, "csv duplicate rows: none"
    i = 1 + position(draw, len(table) - 1)
    j = min(len(table), i + draw(st.integers(1, 20)))
    return table[:j] + table[i:j] + table[j:], f"csv rows {i}:{j} duplicated"


def _pounds(draw: Draw, table: list[list[str]]) -> tuple[list[list[str]], str]:
    """Weights labelled as pounds the way each format does it."""
    header = [h.strip().lower() for h in table[0]]
    if "weight" in header:
        if draw(st.booleans()):
            table[0][header.index("weight")] = "Weight (lbs)"
            return table, "csv Weight -> Weight (lbs)"
        table = [r + ["Weight Unit" if i == 0 else "lbs"] for i, r in enumerate(table)]
        return table, "csv Weight Unit column of lbs"
    if "weight_kg" in header:
        table[0][header.index("weight_kg")] = "weight_lbs"
        return table, "csv weight_kg -> weight_lbs"
    return table, "csv pounds: no weight column"


_TABLE_EDITS = (_drop_column, _set_cells, _set_cells, _duplicate_rows, _pounds)


def _write(draw: Draw, table: list[list[str]]) -> tuple[str, str]:
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=ending).writerows(table)
    text = buf.getvalue()
    extras = []
    if draw(st.booleans()):  # blank lines (before the header, between rows, at the end)
        lines = text.split(ending)
        for _ in range(draw(st.integers(1, 5))):
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  ", delimiter * 3])))
        text = ending.join(lines)
        extras.append("blank lines")
    if delimiter != "," and draw(st.booleans()):
        text = f"sep={delimiter}{ending}" + text
        extras.append("sep= hint")
    return text, f"csv written with {delimiter!r}, quoting {quoting}, {ending!r}" + "".join(f", {e}" for e in extras)


def _encode(draw: Draw, text: str, steps: list[str]) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    steps.append(f"csv encoded {encoding}")
    return text.encode(encoding, errors="replace")

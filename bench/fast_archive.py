"""Fast benchmark archives: thousands of distinct, valid FIT files in seconds.

fit-tool (bench/make_archive.py) needs 2-3 s per one-hour run, so ten years of daily runs would
take hours. Here a few template runs are made once with it (bench/.cache/fit8/) and every archive
file is a template moved in time: this module walks the FIT framing itself (headers, definition
messages with developer fields, normal and compressed-timestamp record headers), adds the shift to
every date_time field of the profile (``timestamp`` of every message, file_id.time_created,
lap/session start_time, activity.local_timestamp, ...), moves each athlete's heart rate by a few
beats (so files differ beyond time), and writes fresh file CRCs (header CRCs too when records were
dropped). The club's "smart recording" templates drop 1 Hz records to irregular 1-6 s intervals.

Archives (deterministic, fixed seeds; cached: a folder holding a matching stamp is reused):

* :func:`ten_years`: one athlete, one run a day (1 Hz, HR + GPS, one hour) for ``days`` days, two
  strength sessions a week for the whole span (Strong CSV, then Hevy CSV after switching apps);
* :func:`club`: ``athletes`` athletes x ``weeks`` weeks, 4 runs a week, smart recording, Strong or
  Hevy logs, laid out as ``inbox/<athlete id>/`` with a runlift.toml of ``[[athletes]]``.

Both also write ``next/``: one run after the archive's last day, for "one new file" timings.

Usage:  .venv/bin/python bench/fast_archive.py ten-years|club [--out DIR] [--days N] [--athletes N]
(default DIR: bench/.cache/ten-years-<days>/ or bench/.cache/club-<athletes>/, git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import struct
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.make_archive import CACHE, LOCAL_ZONE, ensure_archive, run_path, run_start  # noqa: E402

__all__ = ["Archive", "Layout", "club", "crc_rows", "render", "shift_fit", "templates", "ten_years", "thin"]

VERSION = 2  # bump when the output changes: cached archives with another version are made again
SEED = 3_000
N_TEMPLATES = 8  # make_archive runs 0-7: four parks, every fourth a tempo run
FIT_EPOCH_UNIX_S = 631_065_600
MIN_ABSOLUTE = 0x10000000  # FIT: a smaller date_time counts seconds since power-on, not a time
INVALID_U32 = 0xFFFFFFFF
INVALID_U8 = 0xFF
TIMESTAMP = 253
RECORD, LAP, SESSION = 20, 19, 18
HR_FIELDS = {RECORD: (3,), LAP: (15, 16), SESSION: (16, 17)}  # heart_rate; avg/max_heart_rate
U32_TYPES = {0x86, 0x8C, 0x85}  # uint32, uint32z, sint32: what a date_time is stored as
TEN_YEARS_START = datetime(2017, 1, 2, 5, 30, tzinfo=UTC)  # a Monday
CLUB_START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday


def _date_fields() -> dict[int, dict[int, bool]]:
    """message number -> {field number -> is local_date_time} for every date_time field of the profile."""
    from fitparse.profile import MESSAGE_TYPES

    out: dict[int, dict[int, bool]] = {}
    for num, mesg in MESSAGE_TYPES.items():
        kinds = {f.def_num: f.type.name == "local_date_time" for f in mesg.fields.values()
                 if f.type.name in ("date_time", "local_date_time")}
        if kinds:
            out[num] = kinds
    return out


DATE_FIELDS = _date_fields()

# --------------------------------------------------------------------------- CRC


def _crc_tables() -> tuple[np.ndarray, np.ndarray]:
    """CRC-16/ARC (FIT) tables: one byte a step, and two bytes a step (the 16-bit state is
    consumed whole by two bytes, so the pair's result depends on ``state ^ word`` alone)."""
    one = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        one.append(crc)
    t1 = np.array(one, dtype=np.uint16)
    v = np.arange(65536, dtype=np.uint32)
    t2 = (t1[v & 0xFF] >> 8) ^ t1[((v >> 8) ^ t1[v & 0xFF]) & 0xFF]
    return t1, t2.astype(np.uint16)


_T1, _T2 = _crc_tables()


def crc_rows(rows: np.ndarray) -> np.ndarray:
    """FIT CRC of each row of a (files x bytes) uint8 array: one numpy step per two bytes for all
    files at once (a pure-Python CRC costs ~10 ms per 100 KB file)."""
    k, n = rows.shape
    crc = np.zeros(k, dtype=np.uint16)
    even = n - n % 2
    words = np.ascontiguousarray(np.ascontiguousarray(rows[:, :even]).view("<u2").T)
    for word in words:
        crc = _T2[crc ^ word]
    if n % 2:
        crc = (crc >> 8) ^ _T1[(crc ^ rows[:, -1]) & 0xFF]
    return crc


# --------------------------------------------------------------------------- FIT framing


@dataclass
class _Definition:
    num: int
    big: bool
    size: int  # bytes of a data message's content
    dates: list[tuple[int, int, bool]]  # (offset, values, local) of each date_time field
    hr: list[int]  # offsets of the heart-rate bytes
    timestamp: int | None  # offset of field 253


@dataclass
class Layout:
    """Where the bytes a shift changes sit in one FIT file (found once per template)."""

    data: bytes
    utc: list[int] = field(default_factory=list)  # byte offsets of absolute date_time values
    utc_big: list[bool] = field(default_factory=list)
    local: list[int] = field(default_factory=list)  # local_date_time values
    local_big: list[bool] = field(default_factory=list)
    compressed: list[tuple[int, int]] = field(default_factory=list)  # (header offset, its absolute time)
    hr: list[int] = field(default_factory=list)
    records: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, time) of normal-header records
    segments: list[tuple[int, int]] = field(default_factory=list)  # (file start, CRC offset) of each chained file
    first_time: int | None = None  # first absolute timestamp (FIT seconds)

    @classmethod
    def of(cls, data: bytes) -> Layout:
        layout = cls(data)
        pos = 0
        while pos < len(data):
            header = data[pos]
            if data[pos + 8:pos + 12] != b".FIT":
                raise ValueError(f"no FIT header at byte {pos}")
            end = pos + header + struct.unpack_from("<I", data, pos + 4)[0]
            layout._walk(pos + header, end)
            layout.segments.append((pos, end))
            pos = end + 2
        return layout

    def _walk(self, p: int, end: int) -> None:
        data = self.data
        defs: dict[int, _Definition] = {}
        last: int | None = None  # the time compressed-timestamp headers count from
        while p < end:
            h = data[p]
            if h & 0x80:  # compressed timestamp: a 5-bit offset from the last full timestamp
                if last is None:
                    raise ValueError(f"compressed timestamp before any timestamp at byte {p}")
                offset = h & 0x1F
                last = (last & ~0x1F) + offset + (0x20 if offset < (last & 0x1F) else 0)
                if last >= MIN_ABSOLUTE:
                    self.compressed.append((p, last))
                d = defs[(h >> 5) & 0x3]
                last = self._data(p + 1, d, last)
                p += 1 + d.size
            elif h & 0x40:
                d, p = self._definition(p, bool(h & 0x20))
                defs[h & 0x0F] = d
            else:
                d = defs[h & 0x0F]
                last = self._data(p + 1, d, last)
                if d.num == RECORD and last is not None:
                    self.records.append((p, p + 1 + d.size, last))
                p += 1 + d.size
        if p != end:
            raise ValueError("the last message runs past the data size")

    def _definition(self, p: int, dev: bool) -> tuple[_Definition, int]:
        data = self.data
        big = data[p + 2] == 1
        num = struct.unpack_from(">H" if big else "<H", data, p + 3)[0]
        q, size = p + 6, 0
        dates, hr, timestamp = [], [], None
        kinds = DATE_FIELDS.get(num, {})
        for _ in range(data[p + 5]):
            fnum, fsize, base = data[q], data[q + 1], data[q + 2]
            if base in U32_TYPES and fsize % 4 == 0 and (fnum in kinds or fnum == TIMESTAMP):
                dates.append((size, fsize // 4, kinds.get(fnum, False)))
                if fnum == TIMESTAMP and fsize == 4:
                    timestamp = size
            if fnum in HR_FIELDS.get(num, ()) and fsize == 1:
                hr.append(size)
            size += fsize
            q += 3
        if dev:  # developer fields: (number, size, developer index) each; none holds a profile date
            count = data[q]
            size += sum(data[q + 2 + 3 * i] for i in range(count))
            q += 1 + 3 * count
        return _Definition(num, big, size, dates, hr, timestamp), q

    def _data(self, p: int, d: _Definition, last: int | None) -> int | None:
        data = self.data
        fmt = ">I" if d.big else "<I"
        for offset, count, local in d.dates:
            for i in range(count):
                at = p + offset + 4 * i
                value = struct.unpack_from(fmt, data, at)[0]
                if value == INVALID_U32 or value < MIN_ABSOLUTE:
                    continue
                (self.local if local else self.utc).append(at)
                (self.local_big if local else self.utc_big).append(d.big)
                if self.first_time is None and not local:
                    self.first_time = value
        for offset in d.hr:
            if data[p + offset] != INVALID_U8:
                self.hr.append(p + offset)
        if d.timestamp is not None:
            value = struct.unpack_from(fmt, data, p + d.timestamp)[0]
            if value != INVALID_U32:
                last = value
        return last

    def start(self) -> datetime:
        """The file's first absolute time, as aware UTC."""
        if self.first_time is None:
            raise ValueError("the file holds no absolute time")
        return datetime.fromtimestamp(self.first_time + FIT_EPOCH_UNIX_S, UTC)


def _byte_index(offsets: list[int], big: list[bool]) -> np.ndarray:
    """(n, 4) indexes of each uint32's bytes, least significant first."""
    pos = np.asarray(offsets, dtype=np.int64)[:, None]
    order = np.where(np.asarray(big, dtype=bool)[:, None], [3, 2, 1, 0], [0, 1, 2, 3])
    return pos + order


def _add_u32(row: np.ndarray, index: np.ndarray, delta: int) -> None:
    if not len(index):
        return
    parts = row[index].astype(np.int64)
    value = parts[:, 0] | parts[:, 1] << 8 | parts[:, 2] << 16 | parts[:, 3] << 24
    value = (value + delta) & 0xFFFFFFFF
    for i in range(4):
        row[index[:, i]] = (value >> (8 * i)) & 0xFF


def _dst_change(old: datetime | None, shift: int, zone: ZoneInfo) -> int:
    """Seconds by which ``zone``'s UTC offset at ``old + shift`` differs from the one at ``old``."""
    if old is None:
        return 0
    new = old + timedelta(seconds=shift)
    change = (new.astimezone(zone).utcoffset() or timedelta()) - (old.astimezone(zone).utcoffset() or timedelta())
    return int(change.total_seconds())


def render(layout: Layout, shifts: Sequence[int], hr_deltas: Sequence[int] | None = None,
           zone: ZoneInfo = LOCAL_ZONE) -> list[bytes]:
    """Copies of ``layout``'s file, copy ``k`` moved by ``shifts[k]`` seconds and its heart rates by
    ``hr_deltas[k]`` beats. Local times move by the shift and by ``zone``'s change of UTC offset
    (a January template moved into July gains the summer hour)."""
    deltas = list(hr_deltas) if hr_deltas is not None else [0] * len(shifts)
    base = np.frombuffer(layout.data, dtype=np.uint8)
    rows = np.tile(base, (len(shifts), 1))
    utc, local = _byte_index(layout.utc, layout.utc_big), _byte_index(layout.local, layout.local_big)
    ch_pos = np.array([p for p, _ in layout.compressed], dtype=np.int64)
    ch_time = np.array([t for _, t in layout.compressed], dtype=np.int64)
    hr_pos = np.array(layout.hr, dtype=np.int64)
    old = layout.start() if layout.first_time is not None else None
    for row, shift, dhr in zip(rows, shifts, deltas, strict=True):
        _add_u32(row, utc, shift)
        _add_u32(row, local, shift + _dst_change(old, shift, zone))
        if len(ch_pos):
            row[ch_pos] = (row[ch_pos] & 0xE0) | ((ch_time + shift) & 0x1F)
        if dhr and len(hr_pos):
            row[hr_pos] = np.clip(row[hr_pos].astype(np.int64) + dhr, 30, 240)
    for start, end in layout.segments:
        crc = crc_rows(rows[:, start:end])
        rows[:, end] = crc & 0xFF
        rows[:, end + 1] = crc >> 8
    return [r.tobytes() for r in rows]


def shift_fit(data: bytes, shift_s: int, hr_delta: int = 0, zone: ZoneInfo = LOCAL_ZONE) -> bytes:
    """One FIT file moved by ``shift_s`` seconds (heart rates by ``hr_delta`` beats)."""
    return render(Layout.of(data), [shift_s], [hr_delta], zone)[0]


def thin(layout: Layout, seed: int, gaps: tuple[int, int] = (1, 6)) -> bytes:
    """Smart recording: keep a record, then the first one at least 1-6 s (random) later, and the
    last; header data size, header CRC and file CRC rewritten."""
    if len(layout.segments) != 1 or layout.compressed:
        raise ValueError("thin() takes one FIT file without compressed timestamps")
    rng = random.Random(seed)
    data = layout.data
    (start, end), = layout.segments
    drop: list[tuple[int, int]] = []
    due = -1
    for i, (a, b, t) in enumerate(layout.records):
        if t >= due or i == len(layout.records) - 1:
            due = t + rng.randint(*gaps)
        else:
            drop.append((a, b))
    header_size = data[start]
    body = bytearray()
    p = start + header_size
    for a, b in drop:
        body += data[p:a]
        p = b
    body += data[p:end]
    header = bytearray(data[start:start + header_size])
    struct.pack_into("<I", header, 4, len(body))
    if header_size >= 14:
        struct.pack_into("<H", header, 12, int(crc_rows(np.frombuffer(bytes(header[:12]), np.uint8)[None])[0]))
    out = bytes(header + body)
    return out + struct.pack("<H", int(crc_rows(np.frombuffer(out, np.uint8)[None])[0]))


# --------------------------------------------------------------------------- templates


@dataclass
class Template:
    layout: Layout
    start: datetime  # when its run starts (UTC)


def templates(smart_seeds: Sequence[int] = ()) -> list[Template]:
    """The 1 Hz template runs (made once, 2-3 s each), or with ``smart_seeds`` one thinned copy of
    each per seed."""
    folder = ensure_archive(N_TEMPLATES)
    out = []
    for i in range(N_TEMPLATES):
        layout = Layout.of(run_path(folder, i).read_bytes())
        if layout.start() != run_start(i):
            raise ValueError(f"template {i} starts at {layout.start()}, expected {run_start(i)}")
        if not smart_seeds:
            out.append(Template(layout, layout.start()))
        for seed in smart_seeds:
            out.append(Template(Layout.of(thin(layout, seed)), layout.start()))
    return out


@dataclass(frozen=True)
class Job:
    """One archive file: ``template`` moved to start at ``start``."""

    path: Path
    template: int
    start: datetime
    hr_delta: int


def _write_jobs(jobs: Sequence[Job], temps: Sequence[Template], batch: int = 512) -> None:
    by_template: dict[int, list[Job]] = {}
    for job in jobs:
        by_template.setdefault(job.template, []).append(job)
    for index, group in sorted(by_template.items()):
        t = temps[index]
        for i in range(0, len(group), batch):
            chunk = group[i:i + batch]
            shifts = [round((j.start - t.start).total_seconds()) for j in chunk]
            for job, data in zip(chunk, render(t.layout, shifts, [j.hr_delta for j in chunk]), strict=True):
                job.path.parent.mkdir(parents=True, exist_ok=True)
                job.path.write_bytes(data)


# --------------------------------------------------------------------------- strength logs

# (name as Strong and Hevy spell it, reps, first working kg, kg gained a year (until year 5)); None kg: body weight
DAY_A = [("Back Squat (Barbell)", 5, 60.0, 8.0), ("Romanian Deadlift (Barbell)", 8, 50.0, 7.0),
         ("Calf Raise (Dumbbell)", 12, 16.0, 2.0), ("Box Jump", 5, None, 0.0)]
DAY_B = [("Bulgarian Split Squat (Dumbbell)", 8, 10.0, 2.0), ("Step Up (Dumbbell)", 10, 10.0, 2.0),
         ("Single Leg Romanian Deadlift (Dumbbell)", 8, 12.0, 2.0), ("Pogo Hops", 20, None, 0.0)]
STRONG_HEADER = ["Date", "Workout Name", "Duration", "Exercise Name", "Set Order", "Weight", "Reps", "Distance",
                 "Seconds", "Notes", "Workout Notes", "RPE"]
HEVY_HEADER = ["title", "start_time", "end_time", "description", "exercise_title", "superset_id", "exercise_notes",
               "set_index", "set_type", "weight_kg", "reps", "distance_km", "duration_seconds", "rpe"]


@dataclass(frozen=True)
class LiftSet:
    exercise: str
    warmup: bool
    reps: int
    kg: float | None


@dataclass(frozen=True)
class Session:
    title: str
    start: datetime  # naive local
    minutes: int
    sets: list[LiftSet]


def strength_sessions(first: date, last: date, seed: int, strength: float = 1.0,
                      clocks: tuple[str, str] = ("12:15", "12:15")) -> Iterator[Session]:
    """Two sessions a week (Tuesday: squat, RDL, calf raises, box jumps; Friday: single-leg work,
    single-leg RDL, pogo hops) from ``first`` to ``last``; loads grow for five years in 8-week
    waves, about one session in 25 is missed."""
    rng = random.Random(seed)
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        for weekday, plan, title, clock in ((1, DAY_A, "Lower A", clocks[0]), (4, DAY_B, "Lower B", clocks[1])):
            day = monday + timedelta(days=weekday)
            if not first <= day <= last or rng.random() < 0.04:
                continue
            years = min((day - first).days / 365.25, 5.0)
            wave = 1.0 + 0.05 * ((((day - first).days // 7) % 8) - 4) / 4
            sets = []
            for name, reps, kg, per_year in plan:
                work = None if kg is None else round((kg + per_year * years) * strength * wave / 2.5) * 2.5
                if work is not None:
                    sets.append(LiftSet(name, True, reps + 3, round(work * 0.5 / 2.5) * 2.5))
                sets += [LiftSet(name, False, reps, work) for _ in range(3)]
            hh, mm = map(int, clock.split(":"))
            yield Session(title, datetime(day.year, day.month, day.day, hh, mm), 45 + rng.randint(0, 15), sets)
        monday += timedelta(days=7)


def write_strong(path: Path, sessions: Iterator[Session]) -> int:
    """Strong's classic export; returns the number of rows."""
    rows = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(STRONG_HEADER)
        for s in sessions:
            order = 0
            for x in s.sets:
                order += not x.warmup
                out.writerow([s.start.strftime("%Y-%m-%d %H:%M:%S"), s.title, f"{s.minutes}m", x.exercise,
                              "W" if x.warmup else order, "" if x.kg is None else x.kg, x.reps, 0, 0, "", "", ""])
                rows += 1
    return rows


def write_hevy(path: Path, sessions: Iterator[Session]) -> int:
    """Hevy's export ("6 Oct 2026, 18:00" times); returns the number of rows."""
    rows = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh, quoting=csv.QUOTE_ALL)
        out.writerow(HEVY_HEADER)
        for s in sessions:
            start = s.start.strftime("%-d %b %Y, %H:%M")
            end = (s.start + timedelta(minutes=s.minutes)).strftime("%-d %b %Y, %H:%M")
            index: dict[str, int] = {}
            for x in s.sets:
                i = index[x.exercise] = index.get(x.exercise, -1) + 1
                out.writerow([s.title, start, end, "", x.exercise, "", "", i, "warmup" if x.warmup else "normal",
                              "" if x.kg is None else x.kg, x.reps, "", "", ""])
                rows += 1
    return rows


# --------------------------------------------------------------------------- archives


@dataclass
class Archive:
    """A generated archive: what to ingest, its config, and one later run per athlete."""

    root: Path
    config: Path
    ingest: list[Path]  # the paths to pass to `runlift ingest`
    next_runs: dict[str, Path]  # athlete id -> a run after the archive's last day
    runs: int
    strength_rows: int
    next_day: date  # the first day after the archive (the day of its next runs)
    seconds: float = 0.0  # generation time (0 when cached)


def _cached(root: Path, stamp: dict[str, object]) -> dict[str, object] | None:
    """The archive's summary when ``root`` holds this very archive, else None (after clearing a
    stale one of ours; a non-empty folder that is not ours is refused)."""
    marker = root / ".fast_archive.json"
    if marker.is_file():
        saved = json.loads(marker.read_text())
        if saved.get("stamp") == stamp:
            return dict(saved["summary"])
        for child in root.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    elif root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty and holds no fast_archive stamp: refusing to write into it")
    return None


def _finish(root: Path, stamp: dict[str, object], summary: dict[str, object]) -> None:
    (root / ".fast_archive.json").write_text(json.dumps({"stamp": stamp, "summary": summary}, indent=1))


def _archive(root: Path, summary: dict[str, object], seconds: float) -> Archive:
    return Archive(root, root / "runlift.toml", [root / p for p in summary["ingest"]],  # type: ignore[attr-defined]
                   {k: root / v for k, v in summary["next"].items()},  # type: ignore[attr-defined]
                   int(summary["runs"]), int(summary["strength_rows"]),  # type: ignore[call-overload]
                   date.fromisoformat(str(summary["next_day"])), seconds)


ATHLETE_TOML = """id = "{id}"
timezone = "Europe/Berlin"
max_hr = {max_hr}
resting_hr = {resting_hr}
sex = "{sex}"
threshold_hr = {threshold_hr}
strength_experience = "{experience}"
"""


def ten_years(out_dir: Path, days: int = 3000, strength_days: int | None = None, seed: int = SEED) -> Archive:
    """One athlete: a one-hour 1 Hz run (HR + GPS) every day for ``days`` days from 2017-01-02, and
    two strength sessions a week over the last ``strength_days`` days up to the last run (default:
    ten years) — Strong for the first half, Hevy after. ``runs/``, ``strength/``, ``next/``, runlift.toml."""
    root = Path(out_dir)
    strength_days = 3653 if strength_days is None else strength_days
    stamp = {"kind": "ten-years", "version": VERSION, "days": days, "strength_days": strength_days, "seed": seed}
    if (saved := _cached(root, stamp)) is not None:
        return _archive(root, saved, 0.0)
    t0 = time.perf_counter()
    temps = templates()
    rng = random.Random(seed)
    jobs = []
    for k in range(days + 1):  # the last one goes to next/
        t = k % N_TEMPLATES
        clock = run_start(t) - run_start(0) - timedelta(days=t)  # the template's time of day
        start = TEN_YEARS_START + timedelta(days=k, minutes=rng.randint(0, 20)) + clock
        folder = root / ("next" if k == days else "runs") / ("" if k == days else f"{start.year}")
        jobs.append(Job(folder / f"{start:%Y-%m-%d_%H%M}.fit", t, start, rng.randint(-4, 4)))
    _write_jobs(jobs, temps)
    last = (TEN_YEARS_START + timedelta(days=days - 1)).date()
    first = last - timedelta(days=strength_days - 1)
    middle = first + (last - first) / 2
    rows = write_strong(root / "strength" / "strong.csv", strength_sessions(first, middle, seed))
    rows += write_hevy(root / "strength" / "hevy.csv",
                       strength_sessions(middle + timedelta(days=1), last, seed + 1, strength=1.1))
    (root / "runlift.toml").write_text("[athlete]\n" + ATHLETE_TOML.format(
        id="me", max_hr=190, resting_hr=50, sex="m", threshold_hr=172, experience="new"))
    summary = {"ingest": ["runs", "strength"], "next": {"me": str(jobs[-1].path.relative_to(root))},
               "runs": days, "strength_rows": rows, "next_day": jobs[-1].start.date().isoformat()}
    _finish(root, stamp, summary)
    return _archive(root, summary, time.perf_counter() - t0)


def club(out_dir: Path, athletes: int = 200, weeks: int = 52, seed: int = SEED) -> Archive:
    """``athletes`` athletes for ``weeks`` weeks from 2025-01-06: 4 runs a week on each one's own
    days and times (smart recording), each athlete's heart rate a few beats off the templates,
    two strength sessions a week in Strong (even athletes) or Hevy (odd). ``inbox/<id>/``,
    ``next/<id>/``, runlift.toml with ``[[athletes]]`` and ``[inbox]``."""
    root = Path(out_dir)
    stamp = {"kind": "club", "version": VERSION, "athletes": athletes, "weeks": weeks, "seed": seed}
    if (saved := _cached(root, stamp)) is not None:
        return _archive(root, saved, 0.0)
    t0 = time.perf_counter()
    temps = templates(smart_seeds=(seed, seed + 1))
    rng = random.Random(seed)
    jobs: list[Job] = []
    toml: list[str] = []
    nexts: dict[str, str] = {}
    rows = 0
    for a in range(athletes):
        aid = f"a{a + 1:03d}"
        offset = rng.randint(-8, 8)  # the athlete's heart rate against the templates'
        weekdays = sorted(rng.sample(range(7), 4))
        minute = rng.choice((6 * 60, 6 * 60 + 45, 17 * 60 + 30, 18 * 60 + 15)) + rng.randint(0, 20)
        for w in range(weeks + 1):
            for d in weekdays:
                start = CLUB_START + timedelta(weeks=w, days=d, minutes=minute + rng.randint(-10, 10))
                path = (root / "inbox" / aid if w < weeks else root / "next" / aid) / f"{start:%Y-%m-%d_%H%M}.fit"
                jobs.append(Job(path, rng.randrange(len(temps)), start, offset + rng.randint(-3, 3)))
                if w == weeks:
                    nexts.setdefault(aid, str(path.relative_to(root)))
        last = (CLUB_START + timedelta(weeks=weeks) - timedelta(days=1)).date()
        lunch = f"{rng.randint(11, 13)}:{rng.choice(('00', '30'))}"
        sessions = strength_sessions(CLUB_START.date(), last, seed + a, rng.uniform(0.7, 1.3), (lunch, lunch))
        rows += (write_strong if a % 2 == 0 else write_hevy)(
            root / "inbox" / aid / ("strong.csv" if a % 2 == 0 else "hevy.csv"), sessions)
        toml.append("[[athletes]]\n" + ATHLETE_TOML.format(
            id=aid, max_hr=190 + offset, resting_hr=50 + offset // 2, sex="mf"[a % 2], threshold_hr=172 + offset,
            experience=("new", "trained")[a % 3 == 0]))
    _write_jobs(jobs, temps)
    toml.append('[inbox]\npath = "./inbox"\n')
    (root / "runlift.toml").write_text("\n".join(toml))
    summary = {"ingest": ["inbox"], "next": nexts, "runs": athletes * weeks * 4, "strength_rows": rows,
               "next_day": (CLUB_START + timedelta(weeks=weeks + 1)).date().isoformat()}
    _finish(root, stamp, summary)
    return _archive(root, summary, time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make a benchmark archive fast (time-shifted template runs).")
    parser.add_argument("kind", choices=["ten-years", "club"])
    parser.add_argument("--out", type=Path, help="folder (default bench/.cache/<kind>-<size>/)")
    parser.add_argument("--days", type=int, default=3000, help="ten-years: days with one run each")
    parser.add_argument("--strength-days", type=int, help="ten-years: days of strength logs (default ten years)")
    parser.add_argument("--athletes", type=int, default=200, help="club: athletes")
    parser.add_argument("--weeks", type=int, default=52, help="club: weeks")
    args = parser.parse_args(argv)
    if args.kind == "ten-years":
        archive = ten_years(args.out or CACHE / f"ten-years-{args.days}", days=args.days,
                            strength_days=args.strength_days)
    else:
        archive = club(args.out or CACHE / f"club-{args.athletes}", athletes=args.athletes, weeks=args.weeks)
    size = sum(p.stat().st_size for p in archive.root.rglob("*") if p.is_file())
    made = f"made in {archive.seconds:.1f} s" if archive.seconds else "cached"
    print(f"{archive.root}: {archive.runs} runs, {archive.strength_rows} strength rows, {size / 1e6:.0f} MB, {made}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

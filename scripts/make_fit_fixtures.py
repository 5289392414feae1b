"""Write the small, redistributable FIT fixtures in tests/fixtures/fit/ (deterministic bytes).

* ``chained.fit``: two complete FIT files (two runs) concatenated, written by fitgen.
* ``strength_sets.fit``: a strength_training activity with active and rest ``set`` messages (fitgen).
* ``structured_laps.fit``: a structured interval workout, one lap per step with its FIT
  ``intensity`` (warm-up, 3 x 60 s interval with 45 s recoveries, cool-down) (:class:`FitWriter`).
* ``developer_fields.fit`` and ``compressed_timestamps.fit``: fitgen writes neither developer
  fields nor compressed-timestamp headers, and fit-tool's FitFileBuilder (auto_define) writes
  its own definitions and plain headers; rather than drive fit-tool's record-level classes,
  :class:`FitWriter` below writes those files byte by byte (FIT protocol 2.0: header,
  definition and data messages, CRC-16), so every byte is under our control.

``tests/test_ingest_fit.py`` regenerates every fixture and asserts the committed bytes, and
compares every record the lean decoder reads from them with stock fitparse.

Usage: ``.venv/bin/python scripts/make_fit_fixtures.py [OUT_DIR]`` (default tests/fixtures/fit).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fitgen  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "tests" / "fixtures" / "fit"
START = datetime(2026, 5, 3, 7, 15, tzinfo=UTC)
FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)

# FIT base type numbers
ENUM, UINT8, UINT16, SINT32, UINT32, STRING, UINT32Z, BYTE = 0x00, 0x02, 0x84, 0x85, 0x86, 0x07, 0x8C, 0x0D
_FMT = {ENUM: "B", UINT8: "B", UINT16: "H", SINT32: "i", UINT32: "I", UINT32Z: "I"}
_SIZE = {ENUM: 1, UINT8: 1, UINT16: 2, SINT32: 4, UINT32: 4, UINT32Z: 4}

# global message numbers and the field numbers used below (FIT profile)
FILE_ID, EVENT, RECORD, FIELD_DESCRIPTION, DEVELOPER_DATA_ID = 0, 21, 20, 206, 207
SESSION, LAP = 18, 19
# FIT intensity enum (lap): active 0, rest 1, warmup 2, cooldown 3, recovery 4, interval 5, other 6
WARMUP, COOLDOWN, RECOVERY, INTERVAL = 2, 3, 4, 5


def _crc(data: bytes, crc: int = 0) -> int:
    """FIT CRC-16 (the SDK's nibble-table algorithm)."""
    table = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
             0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)  # fmt: skip
    for byte in data:
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[byte & 0xF]
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[(byte >> 4) & 0xF]
    return crc


def _fit_seconds(when: datetime) -> int:
    return int((when - FIT_EPOCH).total_seconds())


# a field definition: (field number, base type, size in bytes)
Field = tuple[int, int, int]


class FitWriter:
    """Little-endian FIT messages into one complete file (header, data, CRC)."""

    def __init__(self) -> None:
        self._body = bytearray()
        self._fields: dict[int, list[Field]] = {}
        self._dev_fields: dict[int, list[Field]] = {}

    def define(self, local: int, global_num: int, fields: Sequence[Field], dev_fields: Sequence[Field] = ()) -> None:
        """A definition message; ``dev_fields`` are (field number, size, developer data index)."""
        header = 0x40 | local | (0x20 if dev_fields else 0)
        self._body += struct.pack("<BBBHB", header, 0, 0, global_num, len(fields))
        for num, base, size in fields:
            self._body += struct.pack("<3B", num, size, base)
        if dev_fields:
            self._body += struct.pack("<B", len(dev_fields))
            for num, size, index in dev_fields:
                self._body += struct.pack("<3B", num, size, index)
        self._fields[local] = list(fields)
        self._dev_fields[local] = list(dev_fields)

    def data(self, local: int, values: Sequence[object], *, time_offset: int | None = None) -> None:
        """A data message of local type ``local``; ``time_offset`` (the low 5 bits of the
        timestamp) makes it a compressed-timestamp message (local types 0-3 only)."""
        if time_offset is None:
            self._body += struct.pack("<B", local)
        else:
            self._body += struct.pack("<B", 0x80 | (local << 5) | (time_offset & 0x1F))
        for (_, base, size), value in zip(self._fields[local], values, strict=True):
            self._body += _encode(base, size, value)

    def data_dev(self, local: int, values: Sequence[object], dev_values: Sequence[bytes]) -> None:
        """A data message with developer fields (their bytes given already encoded)."""
        self.data(local, values)
        for (_, size, _), raw in zip(self._dev_fields[local], dev_values, strict=True):
            assert len(raw) == size
            self._body += raw

    def to_bytes(self) -> bytes:
        header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(self._body), b".FIT")
        header += struct.pack("<H", _crc(header))
        data = header + bytes(self._body)
        return data + struct.pack("<H", _crc(data))


def _encode(base: int, size: int, value: object) -> bytes:
    if base == STRING:
        assert isinstance(value, str)
        return value.encode().ljust(size, b"\0")[:size]
    if base == BYTE:
        assert isinstance(value, bytes) and len(value) == size
        return value
    fmt = _FMT[base]
    return struct.pack(f"<{size // _SIZE[base]}{fmt}", *(value if isinstance(value, tuple) else (value,)))


FILE_ID_FIELDS: list[Field] = [(0, ENUM, 1), (1, UINT16, 2), (2, UINT16, 2), (3, UINT32Z, 4), (4, UINT32, 4)]


def _file_id(w: FitWriter, local: int = 0) -> None:
    w.define(local, FILE_ID, FILE_ID_FIELDS)
    w.data(local, [4, 1, fitgen.DEFAULT_PRODUCT, fitgen.DEFAULT_SERIAL, _fit_seconds(START)])  # activity, garmin


def developer_fields_fit() -> bytes:
    """A run whose records carry two developer fields (a Stryd-like power and a form metric)
    next to heart rate, distance and speed."""
    w = FitWriter()
    _file_id(w)
    w.define(1, DEVELOPER_DATA_ID, [(1, BYTE, 16), (3, UINT8, 1)])
    w.data(1, [bytes(range(16)), 0])
    # field_description: developer_data_index, field_definition_number, fit_base_type_id,
    # field_name, units, native_mesg_num
    w.define(2, FIELD_DESCRIPTION, [(0, UINT8, 1), (1, UINT8, 1), (2, UINT8, 1), (3, STRING, 16), (8, STRING, 8)])
    w.data(2, [0, 0, UINT16, "Power", "Watts"])
    w.data(2, [0, 1, UINT8, "Form Power", "Watts"])
    record = [(253, UINT32, 4), (0, SINT32, 4), (1, SINT32, 4), (3, UINT8, 1), (5, UINT32, 4), (73, UINT32, 4)]
    w.define(3, RECORD, record, [(0, 2, 0), (1, 1, 0)])
    t0 = _fit_seconds(START)
    for i in range(90):
        lat = round((52.52 + i * 2.5e-5) * 2**31 / 180)
        lon = round((13.405 + i * 1.5e-5) * 2**31 / 180)
        values = [t0 + i, lat, lon, 120 + i % 40, i * 295, 2950 + (i % 7) * 10]
        w.data_dev(3, values, [struct.pack("<H", 240 + i % 25), struct.pack("<B", 70 + i % 9)])
    return w.to_bytes()


def compressed_timestamps_fit() -> bytes:
    """Records with compressed-timestamp headers (5-bit offsets that roll over), a full
    timestamp re-anchoring the clock after a pause, and compressed_speed_distance values."""
    w = FitWriter()
    _file_id(w)
    w.define(1, RECORD, [(253, UINT32, 4), (3, UINT8, 1), (8, BYTE, 3)])  # full timestamp
    w.define(2, RECORD, [(3, UINT8, 1), (8, BYTE, 3)])  # compressed: no timestamp field
    w.define(3, EVENT, [(253, UINT32, 4), (0, ENUM, 1), (1, ENUM, 1)])
    t = _fit_seconds(START)
    distance_16 = 0  # compressed_speed_distance: 12 bits speed (1/100 m/s), 12 bits distance (1/16 m)
    w.data(3, [t, 0, 0])  # timer start
    w.data(1, [t, 100, _speed_distance(280, distance_16)])
    for i in range(1, 120):
        t += 3 if i % 10 else 7  # steps that roll the 5-bit offset over
        distance_16 += 45 * 16 // 10
        if i == 60:  # a pause longer than 31 s: the watch writes a full timestamp again
            t += 95
            w.data(3, [t, 0, 0])
            w.data(1, [t, 130, _speed_distance(300, distance_16)])
            continue
        w.data(2, [100 + i % 60, _speed_distance(280 + i % 30, distance_16)], time_offset=t)
    w.data(3, [t, 0, 4])  # timer stop_all
    return w.to_bytes()


def _speed_distance(speed_cm_s: int, distance_16: int) -> bytes:
    packed = (speed_cm_s & 0xFFF) | ((distance_16 & 0xFFF) << 12)
    return packed.to_bytes(3, "little")


def chained_fit() -> bytes:
    """Two complete FIT files back to back: a short run, then a second one (no GPS) an hour later."""
    run = fitgen.synth_run(START, fitgen.easy_run(240), seed=11, route=fitgen.loop_route(52.5, 13.4, 400, seed=2),
                           interval_s=4)  # fmt: skip
    later = START + timedelta(hours=1)
    second = fitgen.synth_run(later, fitgen.steady_run(1200, speed_mps=3.4, hr=148), seed=12, route=None,
                            interval_s=5)  # fmt: skip
    return fitgen.run_fit_bytes(run, lap_m=500) + fitgen.run_fit_bytes(second, lap_m=500)


def strength_sets_fit() -> bytes:
    """A strength_training activity: leg press (squat category, subtype 0), a bulgarian split squat,
    push-ups, with rests."""
    category = fitgen.ExerciseCategory
    sets = [
        fitgen.WatchSet(category.SQUAT, 0, 8, 60.0, 40.0, rest_s=90.0),
        fitgen.WatchSet(category.SQUAT, 0, 8, 70.0, 42.0, rest_s=90.0),
        fitgen.WatchSet(category.LUNGE, 18, 10, 16.0, 55.0, rest_s=75.0),
        fitgen.WatchSet(category.PUSH_UP, 77, 15, None, 35.0),
    ]
    return fitgen.strength_fit_bytes(START, sets, seed=5, lead_in_s=30.0, tail_s=30.0)


# (seconds, speed m/s, heart rate, FIT intensity) per step of the structured workout
STRUCTURED_STEPS = [(120, 3.0, 135, WARMUP), (60, 4.6, 172, INTERVAL), (45, 2.2, 150, RECOVERY),
                    (60, 4.6, 176, INTERVAL), (45, 2.2, 152, RECOVERY), (60, 4.6, 178, INTERVAL),
                    (90, 2.8, 145, COOLDOWN)]  # fmt: skip
LAP_FIELDS: list[Field] = [(253, UINT32, 4), (2, UINT32, 4), (7, UINT32, 4), (8, UINT32, 4), (9, UINT32, 4),
                           (23, ENUM, 1), (254, UINT16, 2), (0, ENUM, 1), (1, ENUM, 1)]  # fmt: skip


def structured_laps_fit() -> bytes:
    """A structured workout as a Garmin writes it from a planned workout: one lap per step, each
    with its intensity; a record every 5 s (speed, distance, heart rate), then laps and session."""
    w = FitWriter()
    _file_id(w)
    w.define(1, EVENT, [(253, UINT32, 4), (0, ENUM, 1), (1, ENUM, 1)])
    w.define(2, RECORD, [(253, UINT32, 4), (3, UINT8, 1), (5, UINT32, 4), (6, UINT16, 2)])
    w.define(3, LAP, LAP_FIELDS)
    w.define(4, SESSION, [(253, UINT32, 4), (2, UINT32, 4), (7, UINT32, 4), (8, UINT32, 4), (9, UINT32, 4),
                          (5, ENUM, 1), (6, ENUM, 1), (0, ENUM, 1), (1, ENUM, 1)])  # fmt: skip
    t0 = _fit_seconds(START)
    w.data(1, [t0, 0, 0])  # timer start
    laps: list[list[int]] = []
    t, metres = 0, 0.0
    for seconds, speed, hr, intensity in STRUCTURED_STEPS:
        lap_start, lap_metres = t, metres
        for _ in range(0, seconds, 5):
            w.data(2, [t0 + t, hr, round(metres * 100), round(speed * 1000)])
            t, metres = t + 5, metres + 5 * speed
        laps.append([t0 + t, t0 + lap_start, seconds * 1000, seconds * 1000, round((metres - lap_metres) * 100),
                     intensity, len(laps), 9, 1])  # event lap, event_type stop
    w.data(2, [t0 + t, 140, round(metres * 100), 0])
    w.data(1, [t0 + t, 0, 4])  # timer stop_all
    for lap in laps:
        w.data(3, lap)
    w.data(4, [t0 + t, t0, t * 1000, t * 1000, round(metres * 100), 1, 0, 8, 1])  # running, generic; session stop
    return w.to_bytes()


FIXTURES: dict[str, Callable[[], bytes]] = {
    "chained.fit": chained_fit,
    "compressed_timestamps.fit": compressed_timestamps_fit,
    "developer_fields.fit": developer_fields_fit,
    "strength_sets.fit": strength_sets_fit,
    "structured_laps.fit": structured_laps_fit,
}


def main(out: Path = DEFAULT_OUT) -> None:
    for name, make in FIXTURES.items():
        fitgen.write_bytes(make(), out / name)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)

"""Many distinct FIT runs in seconds: time-shifted copies of the generated benchmark runs.

fit-tool needs 2-3 s per file (bench/make_archive.py); a copy of a run with every date_time field
moved by whole days is a new run (new bytes, new times, no overlap with the others) in ~1 ms.
Copy ``k`` of run ``i`` of the 120 is moved by ``k * 120`` days, so ``n`` files are one run a day.

    .venv/bin/python bench/fit_shift.py --n 3000     # bench/.cache/shifted3000/
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

from fitparse.profile import MESSAGE_TYPES

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pipeline.parsers.fit import fit_crc  # noqa: E402

DAY = 86_400  # a multiple of 32 s: compressed timestamps (5-bit offsets) stay valid
_TIME_FIELDS = {num: {d for d, f in t.fields.items() if f.type.name in ("date_time", "local_date_time")}
                for num, t in MESSAGE_TYPES.items()}


def shifted(data: bytes, seconds: int) -> bytes:
    """``data`` (one FIT file) with every date_time field moved by ``seconds``, CRC recomputed."""
    out = bytearray(data)
    header = data[0]
    end = header + int.from_bytes(data[4:8], "little")
    layouts: dict[int, tuple[str, list[tuple[int, int]], int]] = {}  # local type -> (endian, fields, size)
    p = header
    while p < end:
        head = data[p]
        if head & 0x80:  # compressed timestamp header
            local = (head >> 5) & 0x3
        elif head & 0x40:
            endian = ">" if data[p + 2] == 1 else "<"
            num = struct.unpack(endian + "H", data[p + 3 : p + 5])[0]
            count, q, offset = data[p + 5], p + 6, 0
            times = _TIME_FIELDS.get(num, set())
            fields = []
            for _ in range(count):
                def_num, size = data[q], data[q + 1]
                if def_num in times and size == 4:
                    fields.append((offset, size))
                offset, q = offset + size, q + 3
            if head & 0x20:
                dev = data[q]
                offset += sum(data[q + 2 : q + 1 + 3 * dev : 3])
                q += 1 + 3 * dev
            layouts[head & 0x0F] = (endian, fields, offset)
            p = q
            continue
        else:
            local = head & 0x0F
        endian, fields, size = layouts[local]
        for offset, _ in fields:
            at = p + 1 + offset
            value = struct.unpack(endian + "I", data[at : at + 4])[0]
            if 0x10000000 <= value < 0xFFFFFFFF:  # absolute, valid
                out[at : at + 4] = struct.pack(endian + "I", value + seconds)
        p += 1 + size
    out[end : end + 2] = fit_crc(bytes(out[:end])).to_bytes(2, "little")
    return bytes(out)


def ensure_shifted_archive(n: int) -> Path:
    from bench.make_archive import CACHE, ensure_archive

    folder = CACHE / f"shifted{n}"
    runs = sorted(ensure_archive(120).glob("*.fit"))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        target = folder / f"run_{i:05d}.fit"
        if not target.exists():
            copy, run = divmod(i, len(runs))
            target.write_bytes(shifted(runs[run].read_bytes(), copy * len(runs) * DAY))
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000)
    print(ensure_shifted_archive(parser.parse_args().n))
    return 0


if __name__ == "__main__":
    sys.exit(main())

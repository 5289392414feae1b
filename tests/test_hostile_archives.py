"""Archives built to hurt: password-protected members, bombs with honest and lying headers."""

from __future__ import annotations

import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import duckdb
import pytest

from pipeline import commands, sources
from pipeline.config import Config


def _log(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT file, status, reason FROM ingest_log ORDER BY file").fetchall()
    finally:
        con.close()


def test_password_protected_member_is_quarantined_with_a_reason(tmp_path: Path) -> None:
    archive = tmp_path / "locked.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("activities/run.gpx", b"ciphertext")
    data = bytearray(archive.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general purpose flags: bit 0 = encrypted
        data[data.find(sig) + offset] |= 0x1
    archive.write_bytes(bytes(data))
    db = tmp_path / "p.duckdb"
    assert commands.ingest(db, Config(), [archive]).quarantined == 1
    assert _log(db) == [(f"{archive}!activities/run.gpx", "quarantined",
                         "password-protected archive member; cannot read")]


def _lying_bomb(path: Path, real_size: int, claimed_size: int) -> None:
    """A zip whose headers claim ``claimed_size`` bytes for a member that inflates to ``real_size``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.gpx", b"\0" * real_size)
    data = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size field
        at = data.find(sig)
        struct.pack_into("<I", data, at + offset, claimed_size)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("claimed", "reason"), [
    (100, "cannot read archive member: Bad CRC-32 for file 'big.gpx'"),  # a lying header: read stops, CRC fails
    (64 << 20, "member declares 67,108,864 bytes, over the 4 MiB limit; refused as a possible zip bomb"),
])
def test_zip_bomb_stops_at_the_cap_whatever_the_header_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             claimed: int, reason: str) -> None:
    monkeypatch.setattr(sources, "MAX_MEMBER_BYTES", 4 << 20)
    archive = tmp_path / "bomb.zip"
    _lying_bomb(archive, real_size=64 << 20, claimed_size=claimed)
    assert archive.stat().st_size < 128 * 1024
    tracemalloc.start()
    items = list(sources.items_from_paths([archive]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [(i.data, i.reason) for i in items] == [(None, reason)]
    assert peak < 3 * (4 << 20)  # bounded by the cap, not by what the member inflates to


def test_gzip_bomb_stops_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_MEMBER_BYTES", 4 << 20)
    bomb = tmp_path / "run.fit.gz"
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb.write_bytes(comp.compress(b"\0" * (64 << 20)) + comp.flush())
    db = tmp_path / "g.duckdb"
    assert commands.ingest(db, Config(), [bomb]).quarantined == 1
    assert "zip bomb" in _log(db)[0][2]

"""bench/fast_archive.py: time-shifted copies of template runs are valid FIT files that runlift
parses with every time moved by exactly the shift, and `runlift ingest` loads them as distinct runs."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fitparse
import numpy as np
import pytest
from typer.testing import CliRunner

from bench import fast_archive as fa
from bench.make_archive import ensure_archive, run_path
from pipeline.app.cli import app
from pipeline.parsers import fit
from pipeline.parsers.fit import fit_crc
from pipeline.parsers.records import Activity, NotAnActivity, ParseContext, QuarantineError
from tests.conftest import CORPUS

SHIFT = 86_400 * 200 + 17  # January into July (the summer hour) and not a multiple of 32 s


@pytest.fixture(scope="module")
def template() -> bytes:
    return run_path(ensure_archive(fa.N_TEMPLATES), 0).read_bytes()


def _activity(data: bytes) -> Activity:
    (activity,) = fit.parse(data, "run.fit", ParseContext()).activities
    return activity


def test_crc_rows_is_the_fit_crc(template: bytes) -> None:
    rows = np.frombuffer(template[:-2], np.uint8)[None]
    assert int(fa.crc_rows(rows)[0]) == fit_crc(template[:-2]) == struct.unpack("<H", template[-2:])[0]
    odd = np.frombuffer(template[:1001], np.uint8)[None]
    assert int(fa.crc_rows(odd)[0]) == fit_crc(template[:1001])


def test_a_zero_shift_gives_the_same_bytes(template: bytes) -> None:
    assert fa.shift_fit(template, 0) == template


def test_shifted_copy_parses_with_times_moved_and_samples_kept(template: bytes) -> None:
    before = _activity(template)
    after = _activity(fa.shift_fit(template, SHIFT, hr_delta=3))
    shift = timedelta(seconds=SHIFT)
    assert after.start_utc == before.start_utc + shift and after.end_utc == before.end_utc + shift
    assert [lap.start_utc for lap in after.laps] == [lap.start_utc + shift for lap in before.laps if lap.start_utc]
    assert len(after.samples) == len(before.samples) == 3601
    assert ((after.samples.to_pandas().ts_utc - before.samples.to_pandas().ts_utc) == shift).all()
    assert (after.samples.to_pandas().heart_rate == before.samples.to_pandas().heart_rate + 3).all()
    assert before.avg_hr is not None and before.max_hr is not None
    assert (after.avg_hr, after.max_hr) == (before.avg_hr + 3, before.max_hr + 3)
    assert after.samples.to_pandas().distance_m.equals(before.samples.to_pandas().distance_m)
    messages = {m.name: m.get_values() for m in fitparse.FitFile(fa.shift_fit(template, SHIFT)).get_messages()}
    assert messages["file_id"]["time_created"] == datetime(2025, 7, 25, 5, 30, 17)
    # local time: Berlin's summer offset (+2 h) in July, where the January template had +1 h
    assert messages["activity"]["local_timestamp"] - messages["activity"]["timestamp"] == timedelta(hours=2)


def _message(header: int, body: bytes) -> bytes:
    return bytes([header]) + body


def _compressed_fit(first: int, gaps: list[int]) -> bytes:
    """file_id, one record with a full timestamp, then records with compressed-timestamp headers."""
    body = _message(0x40, struct.pack("<BBHB", 0, 0, 0, 2) + bytes([4, 4, 0x86, 0, 1, 0x00]))  # time_created, type
    body += _message(0x00, struct.pack("<IB", first, 4))
    body += _message(0x41, struct.pack("<BBHB", 0, 0, 20, 2) + bytes([253, 4, 0x86, 3, 1, 0x02]))  # timestamp, hr
    body += _message(0x01, struct.pack("<IB", first, 100))
    body += _message(0x42, struct.pack("<BBHB", 0, 0, 20, 1) + bytes([3, 1, 0x02]))  # hr only: local 2
    t = first
    for i, gap in enumerate(gaps):
        t += gap
        body += _message(0x80 | (2 << 5) | (t & 0x1F), bytes([101 + i]))
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    return header + body + struct.pack("<H", fit_crc(header + body))


def _record_times(data: bytes) -> list[datetime]:
    return [m.get_value("timestamp") for m in fitparse.FitFile(data).get_messages("record")]


def test_compressed_timestamps_move_too() -> None:
    first = round(datetime(2024, 3, 1, 7, 0, 3, tzinfo=UTC).timestamp()) - fa.FIT_EPOCH_UNIX_S
    data = _compressed_fit(first, [5, 9, 20, 31, 3, 7, 30])
    layout = fa.Layout.of(data)
    assert len(layout.compressed) == 7
    for shift in (SHIFT, 13, 32, -1000):
        moved = _record_times(fa.shift_fit(data, shift))
        assert moved == [t + timedelta(seconds=shift) for t in _record_times(data)]


def test_thinned_template_keeps_1_to_6_s_gaps(template: bytes) -> None:
    before = _activity(template)
    after = _activity(fa.thin(fa.Layout.of(template), seed=1))
    gaps = after.samples.to_pandas().ts_utc.diff().dropna().dt.total_seconds()
    assert gaps.between(1, 6).all() and 900 < len(after.samples) < 1400
    assert (after.start_utc, after.end_utc) == (before.start_utc, before.end_utc)


@pytest.mark.skipif(not (CORPUS / "fit").is_dir(), reason="corpus absent")
def test_real_files_shift_exactly() -> None:
    """Real devices' files (developer fields, chained files, multisport) move as a whole."""
    checked = 0
    for path in sorted((CORPUS / "fit").glob("*.fit")):
        data = path.read_bytes()
        try:
            before = fit.parse(data, path.name, ParseContext()).activities
        except (QuarantineError, NotAnActivity):
            continue
        after = fit.parse(fa.shift_fit(data, SHIFT), path.name, ParseContext()).activities
        assert [a.start_utc + timedelta(seconds=SHIFT) for a in before] == [a.start_utc for a in after], path.name
        for x, y in zip(before, after, strict=True):
            xs, ys = x.samples.to_pandas(), y.samples.to_pandas()
            assert ((ys.ts_utc - xs.ts_utc) == timedelta(seconds=SHIFT)).all(), path.name
            assert ys.heart_rate.equals(xs.heart_rate), path.name
        checked += 1
    assert checked >= 20


def test_ten_years_small_ingests_as_distinct_runs(tmp_path: Path) -> None:
    archive = fa.ten_years(tmp_path / "a", days=5, strength_days=21)
    assert fa.ten_years(tmp_path / "a", days=5, strength_days=21).seconds == 0.0  # cached
    runs = sorted((tmp_path / "a" / "runs").rglob("*.fit"))
    assert len(runs) == 5 and len({p.read_bytes() for p in runs}) == 5
    db = tmp_path / "x.duckdb"
    result = CliRunner().invoke(app, ["--db", str(db), "--config", str(archive.config), "ingest",
                                      *map(str, archive.ingest)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "ingest: 7 new, 0 duplicate, 0 skipped, 0 quarantined" in result.output  # 5 runs, 2 logs
    result = CliRunner().invoke(app, ["--db", str(db), "sql", "--format", "csv",
                                      "select count(distinct start_utc), count(*) from activities"])
    assert result.output.splitlines()[1] == "5,5"
    result = CliRunner().invoke(app, ["--db", str(db), "sql", "--format", "csv",
                                      "select count(*), count(*) filter (where qualifies), sum(working_sets) "
                                      "from strength_sessions"])
    sessions, qualifying, _ = map(int, result.output.splitlines()[1].split(","))
    assert sessions == qualifying >= 5  # two a week over three weeks, a few missed; all complete sessions
    result = CliRunner().invoke(app, ["--db", str(db), "sql", "--format", "csv", "select count(*) from strength_sets"])
    assert int(result.output.splitlines()[1]) == archive.strength_rows


def test_club_small_ingests_per_athlete(tmp_path: Path) -> None:
    archive = fa.club(tmp_path / "c", athletes=2, weeks=1)
    db = tmp_path / "x.duckdb"
    result = CliRunner().invoke(app, ["--db", str(db), "--config", str(archive.config), "ingest",
                                      *map(str, archive.ingest)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "ingest: 10 new, 0 duplicate, 0 skipped, 0 quarantined" in result.output  # 2 x (4 runs + 1 log)
    result = CliRunner().invoke(app, ["--db", str(db), "sql", "--format", "csv",
                                      "select athlete_id, count(*) from activities group by all order by 1"])
    assert result.output.splitlines()[1:] == ["a001,4", "a002,4"]

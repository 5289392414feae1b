"""Hostile and misleading activity files (issue 12): each test reproduces one report.

- XML nested 200,000 levels deep (GPX and TCX), which crashed the parse worker with SIGSEGV;
- quarantine reasons that quoted file content;
- a FIT file of millions of compressed-timestamp records, which needed 1.5 GB;
- chained copies of one activity inside one FIT file, which became that many activities;
- GPX/TCX without a sport of their own, which were all ``other``;
- a TCX whose trackpoints start late, which took the trackpoints' shorter distance;
- device settings FIT files, which were quarantined instead of ignored.

Crashing and memory-hungry cases run in a subprocess, so a regression fails the test instead of
killing pytest.
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import CORPUS
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import FileType, Manufacturer, Sport

from pipeline import commands
from pipeline.config import parse_config
from pipeline.parsers import fit, fit_decoder, gpx, safe_xml, tcx
from pipeline.parsers.records import Activity, NotAnActivity, ParseContext, QuarantineError

REPO = Path(__file__).resolve().parents[1]
CTX = ParseContext()
CONFIG = parse_config({"athlete": {"id": "me", "timezone": "Europe/Berlin"}})
SECRET = "SECRET-c0ntent-Zq9"  # planted in hostile files: must never reach a reason


def run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter from the repo root (a crash there is only a return code)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, check=False)


# ------------------------------------------------------------------------- deep XML nesting

DEEP = 200_000  # the reported file: 200,000 nested elements inside <extensions>, 1.4 MB


def deep_gpx(depth: int) -> bytes:
    nest = "<a>" * depth + "</a>" * depth
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
        '<trk><trkseg><trkpt lat="52.0" lon="13.0"><time>2026-01-01T00:00:00Z</time>'
        f"<extensions>{nest}</extensions></trkpt></trkseg></trk></gpx>"
    ).encode()


def deep_tcx(depth: int) -> bytes:
    nest = "<x>" * depth + "</x>" * depth
    return (
        '<?xml version="1.0"?><TrainingCenterDatabase><Activities><Activity Sport="Running">'
        '<Id>2026-01-01T00:00:00Z</Id><Lap StartTime="2026-01-01T00:00:00Z"><Track><Trackpoint>'
        f"<Time>2026-01-01T00:00:00Z</Time><Extensions>{nest}</Extensions></Trackpoint></Track></Lap>"
        "</Activity></Activities></TrainingCenterDatabase>"
    ).encode()


@pytest.mark.parametrize("fmt", ["gpx", "tcx"])
def test_deeply_nested_xml_is_refused_before_the_tree_parser_in_a_subprocess(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"deep.{fmt}"
    path.write_bytes(deep_gpx(DEEP) if fmt == "gpx" else deep_tcx(DEEP))
    assert 1_400_000 <= path.stat().st_size <= 1_500_000
    done = run_python(f"""
        import time
        from pathlib import Path
        from pipeline.parsers import {fmt}
        from pipeline.parsers.records import ParseContext, QuarantineError
        data = Path({str(path)!r}).read_bytes()
        started = time.perf_counter()
        try:
            {fmt}.parse(data, "deep.{fmt}", ParseContext())
        except QuarantineError as err:
            print(err)
        print(f"{{time.perf_counter() - started:.3f}}")
    """)
    assert done.returncode == 0, f"the parser process died (return code {done.returncode}): {done.stderr[-500:]}"
    reason, seconds = done.stdout.splitlines()
    assert reason == "XML nested deeper than 64 levels; refused"
    assert float(seconds) < 0.5  # the scan stops at level 65: no linear walk of the whole file


def test_nesting_up_to_the_limit_still_loads() -> None:
    # gpx/trk/trkseg/trkpt/extensions are 5 levels: 59 more reach the limit exactly
    act, = gpx.parse(deep_gpx(59).replace(b"</trkpt>", b'</trkpt><trkpt lat="52.1" lon="13.0">'
                                          b"<time>2026-01-01T00:10:00Z</time></trkpt>"), "ok.gpx", CTX).activities
    assert act.duration_s == 600
    with pytest.raises(QuarantineError, match=r"^XML nested deeper than 64 levels; refused$"):
        gpx.parse(deep_gpx(60), "deep.gpx", CTX)


# ------------------------------------------------------------------- no file content in reasons

GPX_HEAD = '<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
TCX_ACTIVITY = (
    '<TrainingCenterDatabase><Activities><Activity Sport="Running"><Id>2026-01-01T00:00:00Z</Id>'
    '<Lap StartTime="2026-01-01T00:00:00Z"><Track>{points}</Track></Lap></Activity></Activities>'
    "</TrainingCenterDatabase>"
)


def _trkpt(lat: str = "52.0", ele: str = "10", time: str = "2026-01-01T00:00:00Z") -> str:
    return f'<trkpt lat="{lat}" lon="13.0"><ele>{ele}</ele><time>{time}</time></trkpt>'


def _gpx(points: str) -> bytes:
    return f"{GPX_HEAD}<trk><trkseg>{points}</trkseg></trk></gpx>".encode()


def _tcx_point(inner: str) -> str:
    return f"<Trackpoint><Time>2026-01-01T00:00:01Z</Time>{inner}</Trackpoint>"


LONG = SECRET * 3000  # 54 kB of text in one place


@pytest.mark.parametrize(
    ("module", "data", "reason"),
    [
        (gpx, _gpx(_trkpt(lat=SECRET)), "invalid GPX: a position (lat/lon) is not a number"),
        (gpx, _gpx(_trkpt(ele=SECRET)), "invalid GPX: a <ele> value cannot be read"),
        (gpx, _gpx(_trkpt(time=SECRET) + _trkpt()), "invalid GPX: track point 0 has a <time> that is not a date-time"),
        (gpx, f"<{LONG}/>".encode(), f"not a GPX document (root element <{LONG[:40]}...>)"),
        (gpx, f"<gpx>&{SECRET};</gpx>".encode(), "invalid XML: undefined entity: line 1, column 5"),
        (gpx, f"<gpx><a></{SECRET}></gpx>".encode(), "invalid XML: mismatched tag: line 1, column 10"),
        (gpx, f"<gpx><{SECRET}:x/></gpx>".encode(), "invalid XML: unbound prefix: line 1, column 5"),
        (gpx, _gpx(_trkpt().replace(' lon="13.0"', "")), "invalid GPX: a point lacks its mandatory longitude"),
        (gpx, f'<?xml version="1.0" encoding="x{SECRET * 10}"?><gpx/>'.encode(),
         f"invalid XML: unsupported encoding 'x{LONG[:39]}...'"),
        (tcx, TCX_ACTIVITY.format(points=_tcx_point(f"<DistanceMeters>{SECRET}</DistanceMeters>")).encode(),
         "invalid TCX: DistanceMeters in trackpoint 0 is not a number"),
        (tcx, TCX_ACTIVITY.format(points=f"<Trackpoint><Time>{SECRET}</Time></Trackpoint>").encode(),
         "invalid TCX: trackpoint 0 Time is not a date-time"),
        (tcx, TCX_ACTIVITY.replace("2026-01-01T00:00:00Z", SECRET).format(points="").encode(),
         "invalid TCX: Lap StartTime is not a date-time"),
        (tcx, f"<{LONG}/>".encode(), f"not a TCX document (root element <{LONG[:40]}...>)"),
    ],
    ids=["gpx-lat", "gpx-ele", "gpx-time", "gpx-root", "xml-entity", "xml-mismatch", "xml-prefix", "gpx-no-lon",
         "xml-encoding",
         "tcx-number", "tcx-time", "tcx-lap-start", "tcx-root"],
)  # fmt: skip
def test_quarantine_reasons_quote_no_file_content(module: object, data: bytes, reason: str) -> None:
    with pytest.raises(QuarantineError) as err:
        module.parse(data, "hostile", CTX)  # type: ignore[attr-defined]
    assert str(err.value) == reason  # an element or encoding name is cut at 40 characters
    assert len(str(err.value)) <= 120


def test_safe_xml_depth_check_is_one_bounded_pass() -> None:
    # a DOCTYPE is refused by the same scan, before any entity is declared
    with pytest.raises(QuarantineError, match="DOCTYPE"):
        safe_xml.load(b'<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
    assert safe_xml.parse_root(b"<a>" + b"<b>" * 63 + b"</b>" * 63 + b"</a>").tag == "a"


# ------------------------------------------------------------------ device settings FIT files


def _fit_of_type(file_type: FileType) -> bytes:
    builder = FitFileBuilder(auto_define=True)
    file_id = FileIdMessage()
    file_id.type = file_type
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.serial_number = 1234
    builder.add(file_id)
    return builder.build().to_bytes()


@pytest.mark.skipif(not (CORPUS / "fit" / "fitparse__Settings.fit").is_file(), reason="shared corpus not present")
def test_real_device_settings_fit_is_not_an_activity() -> None:
    data = (CORPUS / "fit" / "fitparse__Settings.fit").read_bytes()  # Garmin Edge 510 settings
    with pytest.raises(NotAnActivity) as err:
        fit.parse(data, "Settings.fit", CTX)
    assert str(err.value) == "device settings file (FIT file type 'settings'); holds no activity"


@pytest.mark.parametrize(
    ("file_type", "reason"),
    [
        (FileType.MONITORING_B, "daily monitoring file (FIT file type 'monitoring_b'); holds no activity"),
        (FileType.TOTALS, "lifetime totals file (FIT file type 'totals'); holds no activity"),
        (FileType.SPORT, "sport settings file (FIT file type 'sport'); holds no activity"),
        (FileType.WORKOUT, "planned workout file (FIT file type 'workout'); holds no activity"),
        (FileType.DEVICE, "device description file (FIT file type 'device'); holds no activity"),
    ],
)
def test_non_activity_fit_types_are_ignored_saying_what_they_are(file_type: FileType, reason: str) -> None:
    with pytest.raises(NotAnActivity) as err:
        fit.parse(_fit_of_type(file_type), "x.fit", CTX)
    assert str(err.value) == reason


def test_an_activity_file_holding_nothing_is_ignored_and_a_broken_settings_file_stays_quarantined() -> None:
    with pytest.raises(NotAnActivity, match=r"^FIT activity file with no session and no record messages; "
                                            r"holds no activity$"):
        fit.parse(_fit_of_type(FileType.ACTIVITY), "empty.fit", CTX)
    damaged = bytearray(_fit_of_type(FileType.SETTINGS))
    damaged[-1] ^= 0xFF
    with pytest.raises(QuarantineError, match="^corrupt FIT file: CRC mismatch"):
        fit.parse(bytes(damaged), "Settings.fit", CTX)
    with pytest.raises(QuarantineError, match="^truncated FIT file"):
        fit.parse(_fit_of_type(FileType.SETTINGS)[:-5], "Settings.fit", CTX)


def test_settings_fit_is_logged_ignored_by_the_ingest(tmp_path: Path) -> None:
    path = tmp_path / "Settings.fit"
    path.write_bytes(_fit_of_type(FileType.SETTINGS))
    db = tmp_path / "x.duckdb"
    summary = commands.ingest(db, CONFIG, [path], workers=1)
    assert (summary.new, summary.quarantined, summary.ignored) == (0, 0, 1)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT status, reason FROM ingest_log").fetchall() == [
            ("ignored", "device settings file (FIT file type 'settings'); holds no activity")]
    finally:
        con.close()


# ------------------------------------------------------------- TCX trackpoints that start late

LATE_TCX = """<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
<Activities><Activity Sport="Running"><Id>2026-04-10T16:00:00Z</Id>
<Lap StartTime="2026-04-10T16:00:00Z"><TotalTimeSeconds>1200</TotalTimeSeconds>
<DistanceMeters>4000</DistanceMeters><Track>{points}</Track></Lap></Activity></Activities>
</TrainingCenterDatabase>"""


def late_points(first_s: int, last_s: int, speed: float = 3.0) -> str:
    """Trackpoints every 10 s from ``first_s`` to ``last_s`` after the lap start, their
    DistanceMeters counted from the first one (the device's distance restarted with the GPS)."""
    return "".join(
        f"<Trackpoint><Time>2026-04-10T16:{t // 60:02d}:{t % 60:02d}Z</Time>"
        f"<DistanceMeters>{(t - first_s) * speed}</DistanceMeters></Trackpoint>"
        for t in range(first_s, last_s + 1, 10)
    )


def test_tcx_whose_trackpoints_start_late_takes_the_lap_totals() -> None:
    act, = tcx.parse(LATE_TCX.format(points=late_points(600, 1200)).encode(), "late.tcx", CTX).activities
    assert act.distance_m == 4000  # the lap's DistanceMeters, not the trackpoints' 1,800 m
    assert (act.duration_s, act.moving_s) == (1200, 1200)
    assert len(act.samples) == 61 and act.samples.to_pandas()["distance_m"].max() == 1800
    # without a lap StartTime (nor Id) the lap's timer time still places the start before the points
    no_start = LATE_TCX.replace(' StartTime="2026-04-10T16:00:00Z"', "").replace("<Id>2026-04-10T16:00:00Z</Id>", "")
    act, = tcx.parse(no_start.format(points=late_points(600, 1200)).encode(), "late.tcx", CTX).activities
    assert (act.start_utc.isoformat(), act.duration_s, act.distance_m) == ("2026-04-10T16:00:00+00:00", 1200, 4000)


def test_tcx_trackpoints_reaching_further_than_the_laps_keep_their_distance() -> None:
    act, = tcx.parse(LATE_TCX.format(points=late_points(0, 1500, speed=4.0)).encode(), "long.tcx", CTX).activities
    assert act.distance_m == 6000 and act.duration_s == 1500


# ------------------------------------------------------------------ FIT record bombs (memory)


def compressed_records_fit(n: int, t0: int = 1_100_000_000 & ~31, hr: int = 140) -> bytes:
    """A FIT file of ``n`` records one second apart: one with a full timestamp, the rest with
    compressed-timestamp headers and a heart rate, 2 bytes a record (3 million make 6 MB)."""
    body = bytearray()
    body += bytes([0x40, 0, 0]) + struct.pack("<HB", 20, 2) + bytes([253, 4, 0x86, 3, 1, 0x02])  # local 0: ts, hr
    body += bytes([0x00]) + struct.pack("<IB", t0, hr)
    body += bytes([0x41, 0, 0]) + struct.pack("<HB", 20, 1) + bytes([3, 1, 0x02])  # local 1: heart rate only
    block = b"".join(bytes([0x80 | 1 << 5 | (t0 + i) & 31, hr]) for i in range(1, 33))
    blocks, rest = divmod(n - 1, 32)
    body += block * blocks + block[: 2 * rest]
    header = bytearray(struct.pack("<BBHI4s", 14, 0x10, 2093, len(body), b".FIT"))
    header += fit.fit_crc(bytes(header)).to_bytes(2, "little")
    data = bytes(header) + bytes(body)
    return data + fit.fit_crc(data).to_bytes(2, "little")


MEASURE = """
import resource, subprocess, sys
inner = '''
import sys, time
from pathlib import Path
from pipeline.parsers import fit
from pipeline.parsers.records import ParseContext, QuarantineError
data = Path(sys.argv[1]).read_bytes()
started = time.perf_counter()
try:
    print(len(fit.parse(data, "bomb.fit", ParseContext()).activities[0].samples))
except QuarantineError as err:
    print(err)
print(time.perf_counter() - started)
'''
done = subprocess.run([sys.executable, "-c", inner, sys.argv[1]], capture_output=True, text=True, check=False)
print(done.returncode)
print(done.stdout, end="")
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)  # KiB on Linux -> MiB
"""


def parse_in_child(path: Path, timeout: float = 120) -> tuple[str, float, int]:
    """(outcome, parse seconds, peak RSS MiB) of ``fit.parse`` of ``path`` in a fresh process."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)
    code, outcome, seconds, peak = done.stdout.splitlines()
    assert code == "0", done.stderr[-500:]
    return outcome, float(seconds), int(peak)


def test_fit_of_three_million_compressed_records_is_refused_cheaply(tmp_path: Path) -> None:
    path = tmp_path / "bomb.fit"
    path.write_bytes(compressed_records_fit(3_000_000))
    assert path.stat().st_size == 6_000_041
    outcome, seconds, peak_mib = parse_in_child(path)
    assert outcome == ("FIT file holds more than 1,000,000 record messages (11 days at one a second: "
                       "more than any recorded activity); refused")
    assert peak_mib < 600, f"peak RSS {peak_mib} MiB"  # was 1,352 MiB (and 43 s) before the limit
    assert seconds < 10


def test_fit_records_cost_little_memory_each() -> None:
    """Records go into typed arrays, not per-record Python objects (which cost ~420 B a record)."""
    data = compressed_records_fit(20_000)
    fit.parse(compressed_records_fit(100), "warm.fit", CTX)  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        act, = fit.parse(data, "many.fit", CTX).activities
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(act.samples) == 20_000 and (act.samples.to_pandas()["heart_rate"] == 140).all()
    assert act.duration_s == 19_999
    assert peak / 20_000 < 300, f"{peak / 20_000:.0f} B per record"


def test_the_record_limit_holds_inside_the_decoder_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # the framing walk is the first guard; a file it cannot follow still stops at the limit
    monkeypatch.setattr(fit_decoder, "count_messages", lambda data: None)
    monkeypatch.setattr(fit_decoder, "MAX_RECORDS", 500)
    with pytest.raises(QuarantineError, match=r"^FIT file holds more than 1,000,000 record messages"):
        fit.parse(compressed_records_fit(501), "many.fit", CTX)
    assert len(fit.parse(compressed_records_fit(500), "ok.fit", CTX).activities[0].samples) == 500


@pytest.mark.slow
def test_fit_with_a_million_records_loads_within_600_mib(tmp_path: Path) -> None:
    path = tmp_path / "million.fit"
    path.write_bytes(compressed_records_fit(1_000_000))
    outcome, seconds, peak_mib = parse_in_child(path)
    assert outcome == "1000000"
    assert peak_mib < 600, f"peak RSS {peak_mib} MiB"  # measured 348 MiB, 13.6 s


# ------------------------------------------------------ chained copies of one FIT activity

RUN_START = datetime(2026, 9, 8, 6, 0, tzinfo=UTC)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def run_fit(sessions: list[tuple[int, int, Sport]], records: range = range(30), hr: int = 150) -> bytes:
    """A FIT activity with records at the ``records`` offsets (seconds) and one lap + session per
    (start offset, seconds, sport). fit-tool takes ~1 ms a record: keep them few."""
    builder = FitFileBuilder(auto_define=True)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.serial_number = 1234
    file_id.time_created = _ms(RUN_START)
    builder.add(file_id)
    for i in records:
        record = RecordMessage()
        record.timestamp = _ms(RUN_START + timedelta(seconds=i))
        record.distance = 3.0 * i
        record.heart_rate = hr
        builder.add(record)
    for offset, seconds, sport in sessions:
        for message in (LapMessage(), SessionMessage()):
            message.start_time = _ms(RUN_START + timedelta(seconds=offset))
            message.timestamp = _ms(RUN_START + timedelta(seconds=offset + seconds))
            message.total_elapsed_time = seconds
            message.total_timer_time = seconds
            message.total_distance = 3.0 * seconds
            message.sport = sport
            builder.add(message)
    return builder.build().to_bytes()


def summary(act: Activity) -> tuple[object, ...]:
    return (act.sport, act.start_utc, act.duration_s, act.moving_s, act.distance_m, len(act.samples), len(act.laps))


def check_chained_copies(n: int) -> None:
    one = run_fit([(0, 30, Sport.RUNNING)], records=range(0, 30, 6))
    single, = fit.parse(one, "run.fit", CTX).activities
    copies = fit.parse(one * n, "copies.fit", CTX).activities  # n chained FIT files
    assert [summary(a) for a in copies] == [summary(single)] == [("running", RUN_START, 30.0, 30.0, 90.0, 5, 1)]
    assert copies[0].samples.equals(single.samples) and copies[0].laps == single.laps


def test_chained_copies_of_one_activity_are_one_activity() -> None:
    check_chained_copies(300)


@pytest.mark.slow
def test_two_thousand_chained_copies_are_one_activity() -> None:
    check_chained_copies(2000)  # the reported file: 2,000 runs, 20,000 minutes on one day


def test_overlapping_sessions_of_one_sport_merge_keeping_the_richer() -> None:
    # one run recorded twice: 0-600 s and again 100-600 s; the records cover 0-600 s
    act, = fit.parse(run_fit([(0, 600, Sport.RUNNING), (100, 500, Sport.RUNNING)], records=range(0, 600, 10)),
                     "twice.fit", CTX).activities
    assert summary(act) == ("running", RUN_START, 600.0, 600.0, 1800.0, 60, 2)
    assert act.samples.to_pandas()["ts_utc"].is_unique


@pytest.mark.parametrize(
    ("sessions", "sports"),
    [
        ([(0, 600, Sport.RUNNING), (400, 600, Sport.RUNNING)], ["running", "running"]),  # overlap 200 s < 300 s
        ([(0, 600, Sport.RUNNING), (0, 600, Sport.CYCLING)], ["running", "cycling"]),  # another sport
        ([(0, 600, Sport.RUNNING), (600, 600, Sport.RUNNING)], ["running", "running"]),  # back to back
    ],
    ids=["overlap-under-half", "other-sport", "back-to-back"],
)
def test_sessions_that_are_not_one_activity_stay_apart(sessions: list[tuple[int, int, Sport]],
                                                       sports: list[str]) -> None:
    acts = fit.parse(run_fit(sessions, records=range(0, 1200, 10)), "two.fit", CTX).activities
    assert [a.sport for a in acts] == sports
    assert sum(len(a.samples) for a in acts) == 120


def test_chained_copies_of_a_strength_session_keep_each_set_once() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    import fitgen

    squat = fitgen.ExerciseCategory.SQUAT
    sets = [fitgen.WatchSet(squat, 0, 5, 100.0, 30.0, 90.0), fitgen.WatchSet(squat, 0, 5, 100.0, 30.0, 90.0)]
    one = fitgen.strength_fit_bytes(RUN_START, sets, seed=1)
    single = fit.parse(one, "strength.fit", CTX)
    copies = fit.parse(one * 50, "copies.fit", CTX)
    assert len(copies.activities) == len(copies.sessions) == 1
    assert [(s.start_utc, s.reps, s.weight_kg) for s in copies.sessions[0].sets] == [
        (s.start_utc, s.reps, s.weight_kg) for s in single.sessions[0].sets]
    assert len(single.sessions[0].sets) == 2


# ------------------------------------------------------------------- sport from the file itself

WGS84_DEG_PER_M = 180 / (math.pi * 6_378_137.0)


def moving_gpx(speed: float, seconds: int = 600, *, step_s: int = 2, cadence: float | None = None,
               track_extensions: str = "", creator: str = "runlift-tests", stop_s: int = 0) -> bytes:
    """An untyped GPX heading north at ``speed`` m/s (optionally standing still for the first
    ``stop_s`` seconds), one point every ``step_s`` seconds."""
    start = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
    points, lat = [], 47.0
    for t in range(0, seconds + 1, step_s):
        if t > stop_s:
            lat += speed * step_s * WGS84_DEG_PER_M
        cad = f"<extensions><gpxtpx:TrackPointExtension><gpxtpx:cad>{cadence:g}</gpxtpx:cad>" \
              "</gpxtpx:TrackPointExtension></extensions>" if cadence is not None else ""
        points.append(f'<trkpt lat="{lat:.7f}" lon="8.0"><time>{(start + timedelta(seconds=t)).isoformat()}'
                      f"</time>{cad}</trkpt>")
    return (
        f'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<gpx version="1.1" creator="{creator}" '
        'xmlns="http://www.topografix.com/GPX/1/1" xmlns:locus="http://www.locusmap.eu" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
        f"<trk><name>2026-05-04 09:00</name>{track_extensions}<trkseg>{''.join(points)}</trkseg></trk></gpx>"
    ).encode()


def locus(activity: str) -> str:
    """A track's extensions as Locus Map (Android) writes them: line style, then the activity."""
    return ('<extensions><line xmlns="http://www.topografix.com/GPX/gpx_style/0/2"><color>#0000FF</color>'
            f"<width>6.0</width></line><locus:activity>{activity}</locus:activity></extensions>")


@pytest.mark.parametrize(
    ("activity", "sport"),
    [("running", ("running", None)), ("cycling_mtb", ("cycling", "cycling_mtb")),
     ("walking", ("other", "walking")), ("transport_car", ("other", "transport_car"))],
)
def test_locus_map_gpx_is_typed_by_its_activity_extension(activity: str, sport: tuple[str, str | None]) -> None:
    # 2.0 m/s with no cadence: the movement alone would leave it unclear; Locus says what it was
    data = moving_gpx(2.0, track_extensions=locus(activity), creator="Locus Map, Android")
    act, = gpx.parse(data, "locus.gpx", CTX).activities
    assert (act.sport, act.sub_sport) == sport


@pytest.mark.parametrize(
    ("speed", "cadence", "sport"),
    [
        (2.8, None, ("running", None)),  # 5:57 min/km
        (3.6, 88, ("running", None)),
        (2.1, 86, ("running", None)),  # slow, but a running cadence
        (1.7, 172, ("running", None)),  # a shuffle at 172 steps a minute (both feet)
        (1.4, None, ("other", "walking")),
        (2.1, 60, ("other", "walking")),
        (1.4, 40, "unclear"),  # a gait of 40 per foot is poles or paddles, not walking
        (2.1, None, "unclear"),  # the walk-run transition speed, no cadence
        (3.0, 55, "unclear"),  # running speed at a walking cadence: a slow pedaller?
        (4.8, None, "unclear"),  # a fast run or a slow ride
        (7.5, None, ("cycling", None)),
        (7.5, 0, ("cycling", None)),  # a cadence of 0 throughout: coasting or no sensor
        (2.8, 0, "unclear"),  # a device that counts no steps at running speed: skis, a boat
        (25.0, None, "unclear"),  # a car
        (0.5, None, "unclear"),
    ],
)  # fmt: skip
def test_untyped_gpx_is_typed_from_its_movement(speed: float, cadence: float | None,
                                                sport: tuple[str, str | None] | str) -> None:
    act, = gpx.parse(moving_gpx(speed, cadence=cadence), "untyped.gpx", CTX).activities
    assert (act.sport, act.sub_sport) == (("other", None) if sport == "unclear" else sport)


def test_too_little_movement_stays_other() -> None:
    short, = gpx.parse(moving_gpx(3.0, seconds=240), "short.gpx", CTX).activities  # 4 moving minutes
    idle, = gpx.parse(moving_gpx(3.0, seconds=1200, stop_s=700), "idle.gpx", CTX).activities  # mostly standing
    sparse, = gpx.parse(moving_gpx(3.0, seconds=3600, step_s=60), "sparse.gpx", CTX).activities  # points 1 min apart
    assert [(a.sport, a.sub_sport) for a in (short, idle, sparse)] == [("other", None)] * 3


def test_a_type_of_its_own_wins_over_movement() -> None:
    data = moving_gpx(1.4).replace(b"<trk><name>", b"<trk><type>running</type><name>")
    assert gpx.parse(data, "typed.gpx", CTX).activities[0].sport == "running"
    hiking = moving_gpx(2.8).replace(b"<trk><name>", b"<trk><type>hiking</type><name>")
    assert [(a.sport, a.sub_sport) for a in gpx.parse(hiking, "hike.gpx", CTX).activities] == [("other", "hiking")]


OTHER_TCX = """<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
 xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"><Activities>
<Activity Sport="{sport}"><Id>2026-04-10T16:00:00Z</Id><Lap StartTime="2026-04-10T16:00:00Z">
<TotalTimeSeconds>600</TotalTimeSeconds><Track>{points}</Track></Lap></Activity></Activities></TrainingCenterDatabase>"""


def other_tcx(sport: str, speed: float, run_cadence: int | None) -> bytes:
    points = "".join(
        f"<Trackpoint><Time>{(datetime(2026, 4, 10, 16, tzinfo=UTC) + timedelta(seconds=t)).isoformat()}</Time>"
        f"<DistanceMeters>{t * speed}</DistanceMeters>"
        + (f"<Extensions><ns3:TPX><ns3:RunCadence>{run_cadence}</ns3:RunCadence></ns3:TPX></Extensions>"
           if run_cadence is not None else "")
        + "</Trackpoint>"
        for t in range(0, 601, 5)
    )
    return OTHER_TCX.format(sport=sport, points=points).encode()


@pytest.mark.parametrize(
    ("sport_attr", "speed", "run_cadence", "sport"),
    [("Other", 3.0, 88, "running"), ("Other", 8.0, None, "cycling"), ("Other", 3.0, 0, "other"),
     ("Other", 5.0, None, "other"), ("Running", 8.0, None, "running"), ("Biking", 3.0, 88, "cycling")],
)
def test_tcx_sport_other_is_typed_from_its_movement(sport_attr: str, speed: float, run_cadence: int | None,
                                                    sport: str) -> None:
    act, = tcx.parse(other_tcx(sport_attr, speed, run_cadence), "other.tcx", CTX).activities
    assert act.sport == sport


REAL_TYPING = [
    ("gpx/togeojson__run.gpx", [("running", None)]),  # Garmin Connect run without <type>
    ("gpx/gpxpy__around-visnjan-with-car.gpx", [("other", None)]),  # a car drive
    ("gpx/togeojson__blue_hills.gpx", [("other", None)] * 3),  # a hike, points ~30 s apart
    ("tcx/tcxreader__cross-country-skiing_activity_1.tcx", [("other", None)]),  # Sport="Other", poling cadence
]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize(("file", "sports"), REAL_TYPING, ids=[f for f, _ in REAL_TYPING])
def test_real_untyped_files_are_typed_from_their_movement(file: str, sports: list[tuple[str, str | None]]) -> None:
    module = gpx if file.endswith(".gpx") else tcx
    result = module.parse((CORPUS / file).read_bytes(), file, CTX)
    assert [(a.sport, a.sub_sport) for a in result.activities] == sports


def test_a_truncated_record_bomb_is_refused_as_one_before_decoding() -> None:
    data = compressed_records_fit(1_200_000)[:-100]  # cut: the reason would decode it to say how far it got
    started = time.perf_counter()
    with pytest.raises(QuarantineError, match=r"^FIT file holds more than 1,000,000 record messages"):
        fit.parse(data, "cut.fit", CTX)
    assert time.perf_counter() - started < 5  # decoding a million records takes ~14 s

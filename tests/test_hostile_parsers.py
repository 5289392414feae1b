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

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from conftest import CORPUS
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.profile_type import FileType, Manufacturer

from pipeline import commands
from pipeline.config import parse_config
from pipeline.parsers import fit, gpx, safe_xml, tcx
from pipeline.parsers.records import NotAnActivity, ParseContext, QuarantineError

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
    ids=["gpx-lat", "gpx-ele", "gpx-time", "gpx-root", "xml-entity", "xml-mismatch", "xml-encoding",
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
    assert len(act.samples) == 61 and act.samples["distance_m"].max() == 1800
    # without a lap StartTime (nor Id) the lap's timer time still places the start before the points
    no_start = LATE_TCX.replace(' StartTime="2026-04-10T16:00:00Z"', "").replace("<Id>2026-04-10T16:00:00Z</Id>", "")
    act, = tcx.parse(no_start.format(points=late_points(600, 1200)).encode(), "late.tcx", CTX).activities
    assert (act.start_utc.isoformat(), act.duration_s, act.distance_m) == ("2026-04-10T16:00:00+00:00", 1200, 4000)


def test_tcx_trackpoints_reaching_further_than_the_laps_keep_their_distance() -> None:
    act, = tcx.parse(LATE_TCX.format(points=late_points(0, 1500, speed=4.0)).encode(), "long.tcx", CTX).activities
    assert act.distance_m == 6000 and act.duration_s == 1500

"""GPX and TCX parsers and the XML safety gate in front of them.

Three layers: files generated here with exactly known values; hostile XML (entity bombs,
external entities) that must be refused fast; and every GPX/TCX file of the shared
real-file corpus, whose expected sample counts are computed independently (gpxpy's own
reading for GPX, a plain tree walk for TCX).
"""

from __future__ import annotations

import csv
import itertools
import math
import re
import time
import tracemalloc
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as DefusedET
import gpxpy
import gpxpy.gpx
import pandas as pd
import pyarrow as pa
import pytest

from pipeline.parsers import gpx, safe_xml, tcx
from pipeline.parsers.records import EARLIEST, SAMPLE_COLUMNS, Activity, ParseContext, QuarantineError

CTX = ParseContext()
TPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
WGS84_RADIUS_M = 6_378_137.0  # the sphere gpxpy measures on


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Independent haversine, so the parser's distances are checked against our own truth."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * WGS84_RADIUS_M * math.asin(math.sqrt(a))


def only(result_activities: list[Activity]) -> Activity:
    assert len(result_activities) == 1
    return result_activities[0]


def assert_sample_invariants(activity: Activity) -> None:
    assert activity.samples.schema.types == [pa.timestamp("us", tz="UTC"), *[pa.float64()] * (len(SAMPLE_COLUMNS) - 1)]
    s = activity.samples.to_pandas()
    assert list(s.columns) == list(SAMPLE_COLUMNS)
    assert str(s["ts_utc"].dtype) == "datetime64[us, UTC]"
    assert s["ts_utc"].is_monotonic_increasing
    assert activity.start_utc.utcoffset() == timedelta(0)
    assert activity.end_utc >= activity.start_utc
    if len(s):
        assert s["ts_utc"].iloc[0] >= pd.Timestamp(activity.start_utc)
        assert s["ts_utc"].iloc[-1] <= pd.Timestamp(activity.end_utc)


# --------------------------------------------------------------------------- generated GPX

START = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 on 29 March in Berlin (UTC+1)
STEP_M = 2.5
LAT0, LON0 = 47.0, 8.0


def straight_run_gpx(n: int = 601, version: str = "1.1") -> bytes:
    """``n`` points 1 s apart, 2.5 m apart due north, HR 150 and cadence 85 on each."""
    doc = gpxpy.gpx.GPX()
    doc.nsmap["gpxtpx"] = TPX_NS
    track = gpxpy.gpx.GPXTrack(name="Morning Run")
    track.type = "running"
    doc.tracks.append(track)
    segment = gpxpy.gpx.GPXTrackSegment()
    track.segments.append(segment)
    deg_per_step = math.degrees(STEP_M / WGS84_RADIUS_M)
    for i in range(n):
        point = gpxpy.gpx.GPXTrackPoint(
            LAT0 + i * deg_per_step, LON0, elevation=400.0, time=START + timedelta(seconds=i)
        )
        ext = ET.Element(f"{{{TPX_NS}}}TrackPointExtension")
        ET.SubElement(ext, f"{{{TPX_NS}}}hr").text = "150"
        ET.SubElement(ext, f"{{{TPX_NS}}}cad").text = "85"
        point.extensions.append(ext)
        segment.points.append(point)
    return doc.to_xml(version=version).encode("utf-8")


def test_generated_gpx_has_exactly_known_values() -> None:
    data = straight_run_gpx()
    act = only(gpx.parse(data, "run.gpx", CTX).activities)
    s = act.samples.to_pandas()
    assert len(s) == 601
    assert act.sport == "running" and act.sub_sport is None
    assert act.title == "Morning Run"
    assert act.start_utc == START and act.end_utc == START + timedelta(seconds=600)
    assert act.duration_s == 600
    assert act.moving_s == pytest.approx(600, abs=1)
    assert act.avg_hr == 150 and act.max_hr == 150
    assert (s["heart_rate"] == 150).all() and (s["cadence"] == 85).all()
    assert (s["altitude_m"] == 400).all()
    # Truth from the coordinates as written in the file (gpxpy rounds them when writing).
    written = gpxpy.parse(data.decode()).tracks[0].segments[0].points
    truth = sum(haversine_m(a.latitude, a.longitude, b.latitude, b.longitude) for a, b in itertools.pairwise(written))
    assert truth == pytest.approx(1500, rel=1e-3)
    assert act.distance_m == pytest.approx(truth, rel=1e-3)
    assert s["distance_m"].iloc[0] == 0 and s["distance_m"].is_monotonic_increasing
    assert s["distance_m"].iloc[-1] == pytest.approx(act.distance_m)
    assert math.isnan(s["speed_mps"].iloc[0])
    assert s["speed_mps"].iloc[1:].to_numpy() == pytest.approx(2.5, rel=1e-2)
    assert act.start_utc.astimezone(ZoneInfo("Europe/Berlin")).date() == date(2026, 3, 29)
    assert_sample_invariants(act)


def test_generated_gpx_1_0() -> None:
    act = only(gpx.parse(straight_run_gpx(n=61, version="1.0"), "run10.gpx", CTX).activities)
    assert len(act.samples) == 61
    assert act.duration_s == 60
    assert act.sport == "other"  # GPX 1.0 has no <type> on tracks: no sport claimed
    assert act.distance_m == pytest.approx(150, rel=1e-3)


GPX10_HANDWRITTEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.0" creator="hand" xmlns="http://www.topografix.com/GPX/1/0">
<trk><name>naive times</name><trkseg>
<trkpt lat="52.0" lon="13.0"><time>2026-06-01T06:00:00</time></trkpt>
<trkpt lat="52.001" lon="13.0"></trkpt>
<trkpt lat="52.002" lon="13.0"><time>2026-06-01T06:01:00</time></trkpt>
<trkpt lat="52.003" lon="13.0"><time>2026-06-01T06:02:00</time></trkpt>
</trkseg></trk></gpx>"""


def test_gpx_naive_times_are_utc_and_untimed_points_are_dropped() -> None:
    act = only(gpx.parse(GPX10_HANDWRITTEN, "naive.gpx", CTX).activities)
    assert act.start_utc == datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    assert len(act.samples) == 3
    assert act.duration_s == 120
    assert act.distance_m == pytest.approx(haversine_m(52.0, 13.0, 52.003, 13.0), rel=1e-3)


def gpx11(body: str, *, encoding: str = "UTF-8", decl: bool = True) -> str:
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n' if decl else ""
    return (
        head + '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1" '
        f'xmlns:ns3="{TPX_NS}">\n{body}\n</gpx>'
    )


def trkpts(start: str, n: int, lat0: float = 50.0, step_s: int = 10) -> str:
    t0 = datetime.fromisoformat(start)
    return "\n".join(
        f'<trkpt lat="{lat0 + i * 1e-4:.6f}" lon="7.0"><time>{(t0 + timedelta(seconds=i * step_s)).isoformat()}'
        f"</time></trkpt>"
        for i in range(n)
    )


def test_gpx_offsets_become_utc_and_ns3_prefix_is_read() -> None:
    body = (
        "<trk><type>Run</type><trkseg>"
        '<trkpt lat="50" lon="7"><time>2026-05-01T08:00:00+01:00</time>'
        "<extensions><ns3:TrackPointExtension><ns3:hr>140</ns3:hr></ns3:TrackPointExtension></extensions></trkpt>"
        '<trkpt lat="50.001" lon="7"><time>2026-05-01T08:00:10.5+01:00</time>'
        "<extensions><ns3:TrackPointExtension><ns3:hr>160</ns3:hr></ns3:TrackPointExtension></extensions></trkpt>"
        "</trkseg></trk>"
    )
    act = only(gpx.parse(gpx11(body).encode(), "offset.gpx", CTX).activities)
    assert act.start_utc == datetime(2026, 5, 1, 7, 0, tzinfo=UTC)
    assert act.duration_s == 10.5
    assert act.sport == "running"
    assert act.avg_hr == 150 and act.max_hr == 160


def test_gpx_iso_8859_1_and_bom() -> None:
    body = f"<trk><name>Café Lauf</name><trkseg>{trkpts('2026-05-02T07:00:00+00:00', 3)}</trkseg></trk>"
    latin = gpx11(body, encoding="ISO-8859-1").encode("latin-1")
    assert only(gpx.parse(latin, "latin.gpx", CTX).activities).title == "Café Lauf"
    bom = b"\xef\xbb\xbf" + gpx11(body).encode("utf-8")
    assert only(gpx.parse(bom, "bom.gpx", CTX).activities).title == "Café Lauf"
    no_decl = gpx11(body, decl=False).encode("utf-8")
    assert only(gpx.parse(no_decl, "nodecl.gpx", CTX).activities).title == "Café Lauf"


def test_gpx_tracks_of_one_session_make_one_activity_without_bridging_gaps() -> None:
    first = f"<trk><name>Part 1</name><trkseg>{trkpts('2026-05-03T07:00:00+00:00', 10)}</trkseg></trk>"
    # Resumes 10 min later 1 km further north: the jump is not distance run.
    second = f"<trk><name>Part 2</name><trkseg>{trkpts('2026-05-03T07:11:30+00:00', 10, lat0=50.01)}</trkseg></trk>"
    act = only(gpx.parse(gpx11(first + second).encode(), "multi.gpx", CTX).activities)
    assert act.title == "Part 1"
    assert len(act.samples) == 20
    assert act.duration_s == (11 * 60 + 30) + 90
    leg = haversine_m(50.0, 7.0, 50.0009, 7.0)
    assert act.distance_m == pytest.approx(2 * leg, rel=1e-3)


def test_gpx_days_apart_become_separate_activities() -> None:
    day1 = f"<trk><name>Day 1</name><trkseg>{trkpts('2026-05-03T07:00:00+00:00', 10)}</trkseg></trk>"
    day2 = f"<trk><name>Day 2</name><trkseg>{trkpts('2026-05-05T07:00:00+00:00', 5)}</trkseg></trk>"
    acts = gpx.parse(gpx11(day2 + day1).encode(), "trip.gpx", CTX).activities
    assert [a.title for a in acts] == ["Day 1", "Day 2"]  # time order, each named by its track
    assert [len(a.samples) for a in acts] == [10, 5]


@pytest.mark.parametrize(
    ("gpx_type", "sport", "sub_sport"),
    [
        ("running", "running", None),
        ("Run", "running", None),
        ("9", "running", None),
        ("trail_running", "running", "trail_running"),
        ("cycling", "cycling", None),
        ("Ride", "cycling", None),
        ("1", "cycling", None),
        ("swimming", "swimming", None),
        ("hiking", "other", "hiking"),
        ("walking", "other", "walking"),
        (None, "other", None),
    ],
)
def test_gpx_sport_mapping(gpx_type: str | None, sport: str, sub_sport: str | None) -> None:
    type_el = f"<type>{gpx_type}</type>" if gpx_type else ""
    body = f"<trk>{type_el}<trkseg>{trkpts('2026-05-04T07:00:00+00:00', 3)}</trkseg></trk>"
    act = only(gpx.parse(gpx11(body).encode(), "t.gpx", CTX).activities)
    assert (act.sport, act.sub_sport) == (sport, sub_sport)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('<rte><rtept lat="1" lon="2"><time>2026-01-01T00:00:00Z</time></rtept></rte>', "no track"),
        ('<wpt lat="1" lon="2"/>', "no track"),
        ("<trk><trkseg></trkseg></trk>", "empty"),
        ('<trk><trkseg><trkpt lat="1" lon="2"/><trkpt lat="1.1" lon="2"/></trkseg></trk>', "no timestamps"),
        (f'<trk><trkseg>{trkpts("1901-12-13T20:45:52+00:00", 3, step_s=0)}</trkseg></trk>', "placeholder"),
        (f'<trk><trkseg>{trkpts("2026-01-01T00:00:00+00:00", 1)}</trkseg></trk>', "spans no time"),
        ('<trk><trkseg><trkpt lat="undefined" lon="2"><time>2026-01-01T00:00:00Z</time></trkpt></trkseg></trk>',
         "invalid GPX"),
        ('<trk><trkseg><trkpt lat="95" lon="2"><time>2026-01-01T00:00:00Z</time></trkpt></trkseg></trk>',
         "invalid GPX"),
        ('<trk><trkseg><trkpt lat="nan" lon="2"><time>2026-01-01T00:00:00Z</time></trkpt></trkseg></trk>',
         "invalid GPX"),
        ('<trk><trkseg><trkpt lat="1" lon="2"><time>yesterday</time></trkpt></trkseg></trk>', "invalid GPX"),
    ],
)  # fmt: skip
def test_gpx_quarantine_reasons(body: str, reason: str) -> None:
    with pytest.raises(QuarantineError, match=reason):
        gpx.parse(gpx11(body).encode(), "bad.gpx", CTX)


def test_gpx_malformed_and_foreign_xml() -> None:
    with pytest.raises(QuarantineError, match="invalid XML"):
        gpx.parse(b"<gpx><trk>", "cut.gpx", CTX)
    with pytest.raises(QuarantineError, match="not a GPX"):
        gpx.parse(b"<kml/>", "other.gpx", CTX)
    with pytest.raises(QuarantineError, match="invalid XML"):
        gpx.parse(b"<gpx>\xff\xfe</gpx>", "binary.gpx", CTX)


# --------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE gpx [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
    )
    + b']>\n<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
    b"<trk><name>&lol9;</name></trk></gpx>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&xxe;</name>'
    b'<trkseg><trkpt lat="1" lon="2"><time>2026-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>'
)
TCX_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b"<TrainingCenterDatabase><Activities><Activity><Notes>&b;</Notes></Activity></Activities>"
    b"</TrainingCenterDatabase>"
)


@pytest.mark.parametrize(
    ("module", "data"),
    [(gpx, BILLION_LAUGHS), (gpx, EXTERNAL_ENTITY), (tcx, TCX_BOMB), (tcx, EXTERNAL_ENTITY)],
    ids=["gpx-billion-laughs", "gpx-external-entity", "tcx-entity-bomb", "tcx-external-entity"],
)
def test_hostile_xml_is_refused_fast(module: object, data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    # gpxpy must never see the bytes: fail loudly if the gate let them through.
    monkeypatch.setattr(gpxpy, "parse", lambda *a, **k: pytest.fail("gpxpy reached with hostile XML"))
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(QuarantineError) as err:
        module.parse(data, "evil", CTX)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 5 * 1024 * 1024
    assert "DOCTYPE" in str(err.value) and "entity" in str(err.value)


def test_safe_xml_keeps_line_numbers_and_tolerates_leading_blanks() -> None:
    with pytest.raises(QuarantineError, match="line 3"):
        safe_xml.load(b'<?xml version="1.0"?>\n<a>\n<b></a>')
    assert safe_xml.parse_root(b'\n  <?xml version="1.0"?>\n<a/>').tag == "a"
    with pytest.raises(QuarantineError, match="unsupported encoding"):
        safe_xml.load(b'<?xml version="1.0" encoding="x-klingon"?><a/>')


# --------------------------------------------------------------------------- generated TCX

TCX_DOC = """<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
    xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
  <Activities>
    <Activity Sport="Running">
      <Id>2026-04-10T16:00:00Z</Id>
      <Notes>Easy 1k</Notes>
      {laps}
    </Activity>
  </Activities>
</TrainingCenterDatabase>
"""


def tcx_lap(
    start: datetime, n: int, first_index: int, *, with_distance: bool = True, total_s: float | None = None
) -> str:
    """A lap of ``n`` trackpoints 1 s apart, 2 m apart due north, HR 140 + index % 2;
    its timer time is ``n`` seconds unless given."""
    points = []
    for k in range(n):
        i = first_index + k
        dist = f"<DistanceMeters>{2.0 * i}</DistanceMeters>" if with_distance else ""
        lat = 48.0 + math.degrees(2.0 * i / WGS84_RADIUS_M)
        points.append(
            f"<Trackpoint><Time>{(START_TCX + timedelta(seconds=i)).isoformat()}</Time>"
            f"<Position><LatitudeDegrees>{lat!r}</LatitudeDegrees><LongitudeDegrees>11.0</LongitudeDegrees>"
            f"</Position><AltitudeMeters>500</AltitudeMeters>{dist}"
            f"<HeartRateBpm><Value>{140 + i % 2}</Value></HeartRateBpm>"
            f"<Extensions><ns3:TPX><ns3:Speed>2.0</ns3:Speed><ns3:RunCadence>88</ns3:RunCadence></ns3:TPX>"
            f"</Extensions></Trackpoint>"
        )
    return (
        f'<Lap StartTime="{start.isoformat()}"><TotalTimeSeconds>{total_s or float(n)}</TotalTimeSeconds>'
        f"<DistanceMeters>{2.0 * n}</DistanceMeters><Track>{''.join(points)}</Track></Lap>"
    )


START_TCX = datetime(2026, 4, 10, 16, 0, tzinfo=UTC)


def test_generated_tcx_has_exactly_known_values() -> None:
    # Lap 2 holds points 250..500: 250 s of timer time, like a device writes it.
    laps = tcx_lap(START_TCX, 250, 0) + tcx_lap(START_TCX + timedelta(seconds=250), 251, 250, total_s=250)
    # Noise a real file carries: a trackpoint without Time, and empty position fields.
    laps = laps.replace(
        "<Track>",
        "<Track><Trackpoint><Position><LatitudeDegrees>1</LatitudeDegrees>"
        "<LongitudeDegrees>1</LongitudeDegrees></Position></Trackpoint>",
        1,
    ).replace(
        "<LatitudeDegrees>48.0</LatitudeDegrees><LongitudeDegrees>11.0</LongitudeDegrees>",
        "<LatitudeDegrees></LatitudeDegrees><LongitudeDegrees/>",
        1,
    )
    act = only(tcx.parse(TCX_DOC.format(laps=laps).encode(), "run.tcx", CTX).activities)
    s = act.samples.to_pandas()
    assert len(s) == 501
    assert (act.sport, act.title) == ("running", "Easy 1k")
    assert act.start_utc == START_TCX and act.duration_s == 500
    assert act.moving_s == 500  # the laps' timer time
    assert act.distance_m == 1000
    assert act.avg_hr == pytest.approx(140.5, abs=0.01) and act.max_hr == 141
    assert (s["cadence"] == 88).all() and (s["speed_mps"] == 2.0).all()
    assert s["lat"].isna().sum() == 1 and (s["altitude_m"] == 500).all()
    assert_sample_invariants(act)


def test_tcx_without_distance_fields_measures_the_path() -> None:
    laps = tcx_lap(START_TCX, 101, 0, with_distance=False)
    act = only(tcx.parse(TCX_DOC.format(laps=laps).encode(), "nodist.tcx", CTX).activities)
    assert act.samples.to_pandas()["distance_m"].iloc[-1] == pytest.approx(200, rel=1e-3)
    assert act.distance_m == pytest.approx(200, rel=1e-3)


def test_tcx_trackpoints_out_of_order_are_sorted() -> None:
    lap = tcx_lap(START_TCX, 10, 0)
    head, rest = lap.split("<Track>", 1)
    body, tail = rest.rsplit("</Track>", 1)
    points = ["<Trackpoint>" + p for p in body.split("<Trackpoint>")[1:]]
    reversed_lap = head + "<Track>" + "".join(reversed(points)) + "</Track>" + tail
    act = only(tcx.parse(TCX_DOC.format(laps=reversed_lap).encode(), "rev.tcx", CTX).activities)
    assert act.start_utc == START_TCX and act.duration_s == 10  # the lap's 10 s timer reaches 1 s further
    assert act.samples.to_pandas()["distance_m"].is_monotonic_increasing
    assert_sample_invariants(act)


def test_tcx_laps_only_activity_is_placed_by_its_laps() -> None:
    laps = (
        f'<Lap StartTime="{START_TCX.isoformat()}"><TotalTimeSeconds>1800</TotalTimeSeconds>'
        "<DistanceMeters>5000</DistanceMeters><AverageHeartRateBpm><Value>150</Value></AverageHeartRateBpm>"
        "<MaximumHeartRateBpm><Value>170</Value></MaximumHeartRateBpm></Lap>"
    )
    act = only(tcx.parse(TCX_DOC.format(laps=laps).encode(), "manual.tcx", CTX).activities)
    assert act.duration_s == 1800 and act.distance_m == 5000
    assert (act.avg_hr, act.max_hr) == (150, 170)
    assert act.samples.num_rows == 0


def test_tcx_one_activity_per_element_and_sport_map() -> None:
    doc = TCX_DOC.format(laps=tcx_lap(START_TCX, 5, 0)).replace(
        "</Activities>",
        '<Activity Sport="Biking"><Id>2026-04-11T10:00:00Z</Id>'
        + tcx_lap(START_TCX + timedelta(days=1), 5, 0).replace("2026-04-10", "2026-04-11")
        + '</Activity><Activity Sport="Other"><Id>2026-04-12T10:00:00Z</Id>'
        + tcx_lap(START_TCX, 5, 0).replace("2026-04-10", "2026-04-12")
        + "</Activity></Activities>",
    )
    acts = tcx.parse(doc.encode(), "three.tcx", CTX).activities
    assert [a.sport for a in acts] == ["running", "cycling", "other"]
    assert [a.title for a in acts] == ["Easy 1k", None, None]


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ("<TrainingCenterDatabase><Courses><Course><Name>x</Name></Course></Courses></TrainingCenterDatabase>",
         "TCX course, not an activity"),
        ("<TrainingCenterDatabase><Activities/></TrainingCenterDatabase>", "no activity"),
        (TCX_DOC.format(laps=""), "neither timed trackpoints nor lap times"),
        (TCX_DOC.format(laps=tcx_lap(START_TCX, 3, 0)).replace("<LatitudeDegrees>48.0<", "<LatitudeDegrees>no<"),
         "invalid TCX: LatitudeDegrees in trackpoint 0 is not a number"),
        (TCX_DOC.format(laps=tcx_lap(START_TCX, 3, 0)).replace("<Value>141<", "<Value>fast<"),
         "invalid TCX: Value in trackpoint 1 is not a number"),
        (TCX_DOC.format(laps=tcx_lap(START_TCX, 3, 0)).replace("2026-04-10T16:00:01+00:00", "soon"),
         "invalid TCX: trackpoint 1 Time is not a date-time"),
        ("<gpx/>", "not a TCX"),
        ("<TrainingCenterDatabase><Activities>", "invalid XML"),
    ],
)  # fmt: skip
def test_tcx_quarantine_reasons(doc: str, reason: str) -> None:
    with pytest.raises(QuarantineError, match=re.escape(reason)):
        tcx.parse(doc.encode(), "bad.tcx", CTX)


def test_tcx_with_blank_before_declaration_loads() -> None:
    data = b"   \n" + TCX_DOC.format(laps=tcx_lap(START_TCX, 3, 0)).encode()
    assert len(only(tcx.parse(data, "garmin.tcx", CTX).activities).samples) == 3


# --------------------------------------------------------------------------- real-file corpus

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_rows() -> list[dict[str, str]]:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        return []
    with open(CORPUS / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["format"] in ("gpx", "tcx")]


ROWS = corpus_rows()
PARSERS = {"gpx": gpx, "tcx": tcx}


def gpxpy_timed_points(data: bytes) -> tuple[int, int]:
    """(timed track points, of them at a real time) as gpxpy itself reads the file."""
    doc = gpxpy.parse(data.decode("utf-8-sig"))
    times = [p.time for t in doc.tracks for s in t.segments for p in s.points if p.time is not None]
    real = [t for t in times if (t if t.tzinfo else t.replace(tzinfo=UTC)) >= EARLIEST]
    return len(times), len(real)


def tcx_timed_trackpoints(data: bytes) -> int:
    root = DefusedET.fromstring(data)
    local = safe_xml.local_name
    return sum(
        1
        for el in root.iter()
        if local(el.tag) == "Trackpoint" and any(local(c.tag) == "Time" and (c.text or "").strip() for c in el)
    )


def expected_samples(fmt: str, data: bytes) -> int | None:
    """Independent sample count; None when the file's times are all placeholders."""
    if fmt == "tcx":
        return tcx_timed_trackpoints(data)
    _, real = gpxpy_timed_points(data)
    return real or None


@pytest.mark.skipif(not ROWS, reason="shared corpus not present")
@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_corpus_file(row: dict[str, str]) -> None:
    data = (CORPUS / row["file"]).read_bytes()
    parser = PARSERS[row["format"]]
    if row["kind"] == "corrupt":
        with pytest.raises(QuarantineError) as err:
            parser.parse(data, row["file"], CTX)
        assert str(err.value).strip()
        return
    if row["kind"] == "edge":
        try:
            result = parser.parse(data, row["file"], CTX)
        except QuarantineError as err:
            assert str(err).strip()
            return
        for act in result.activities:
            assert_sample_invariants(act)
        return
    expected = expected_samples(row["format"], data)
    if expected is None:
        # gpxpy__Mojstrovka.gpx: every point carries GPSBabel's 1901-12-13 "no time" value.
        with pytest.raises(QuarantineError, match="no timestamps"):
            parser.parse(data, row["file"], CTX)
        return
    result = parser.parse(data, row["file"], CTX)
    assert result.format == row["format"] and result.activities
    assert sum(len(a.samples) for a in result.activities) == expected
    for act in result.activities:
        assert_sample_invariants(act)
        assert 2000 <= act.start_utc.year <= 2030
        assert act.duration_s > 0
        assert act.moving_s is None or 0 < act.moving_s <= act.duration_s
        assert act.distance_m is None or act.distance_m >= 0
    match = re.search(r"heart rate \(gpxtpx:hr\) on all (\d+) points", row["notes"])
    if match:
        act = only(result.activities)
        assert len(act.samples) == int(match.group(1))
        assert act.samples.to_pandas()["heart_rate"].notna().all()
        assert act.avg_hr is not None and 40 < act.avg_hr < 230


@pytest.mark.skipif(not ROWS, reason="shared corpus not present")
def test_corpus_covers_both_formats_and_all_kinds() -> None:
    kinds = {(r["format"], r["kind"]) for r in ROWS}
    assert {("gpx", "valid"), ("gpx", "corrupt"), ("gpx", "edge"), ("tcx", "valid"), ("tcx", "corrupt")} <= kinds

"""Fuzzed inputs: damaged copies of corpus files and generated samples load plausibly or are
quarantined, and never crash, hang or half-load.

Each case (``tests/mutations.py``) goes through format detection and
``pipeline.parsers.parse`` exactly as ``parse_job`` would call them, under
``time_limit``. The only acceptable outcomes are

- a :class:`QuarantineError` with a reason, or
- a :class:`NotAnActivity` with a reason (a readable file that holds no activity: ``ignored``), or
- a :class:`ParseResult` whose values are plausible (:func:`check_plausible`).

Any other exception fails the test: ``parse_job`` would turn it into a quarantine reason
``parser error: ...``, i.e. a bug the parser did not anticipate. A parse running past
:data:`PARSE_LIMIT_S` fails it too (a hang).

Plausible, for every parser (the parsers quarantine what falls outside):

- an activity starts and ends within [1990-01-01, 2100-01-01) UTC, start <= end, and so do
  its samples. The window is fixed, not "today + 1 year", so results never depend on the day
  the tests run. 1990: consumer GPS and heart-rate recorders with a data export start in the
  1990s, and FIT itself cannot express an absolute time before 1998 (smaller values count
  seconds since power-on). 2100: a date there is corruption (FIT's uint32 seconds reach 2126,
  so a damaged FIT timestamp easily lands there), and any fixed bound closer to today would
  start rejecting real files one day;
- durations and distances finite and >= 0; heart rates (summary and samples) strictly between
  0 and 255: 0 is "no strap" and 255 FIT's invalid value, both become missing;
- samples have the canonical columns and dtypes, no infinities (NaN is "not recorded");
- a strength session starts within the window and ends no earlier than it starts; reps are
  None or 0..1000, weights None or finite -200..1000 kg (negative: assistance).

``test_deeply_nested_xml_loads_or_is_refused_for_its_depth`` inserts element chains up to 3,000
deep into GPX/TCX seeds: deeper than ``safe_xml.MAX_DEPTH`` they are refused for their depth.

The CI tests run a fixed, derandomized example budget (2,000 parse cases, 24 ingest cases) on
seeds shrunk to 120 records / track points / lines: ~25 s on 2 cores. ``-m slow`` runs 5,000
cases on seeds shrunk to 2,000 and prints the outcome counts (``pytest tests/test_fuzz.py -m
slow``, ~1.5 min). A failing case names its seed and mutations, and its bytes are saved under
``$TMPDIR/runlift-fuzz/``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from conftest import CORPUS, corpus_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import Case, Seed, cases, load_seeds

from pipeline import commands
from pipeline.config import Config, parse_config
from pipeline.ingest import ParseTimeout, time_limit
from pipeline.parsers import detect_format, parse, safe_xml
from pipeline.parsers.records import (  # noqa: E402
    EARLIEST,
    LATEST,
    SAMPLE_COLUMNS,
    SET_TYPES,
    SPORTS,
    Activity,
    NotAnActivity,
    ParseContext,
    ParseResult,
    QuarantineError,
    StrengthSession,
)

PARSE_LIMIT_S = 10.0
MAX_REPS = 1000
MAX_WEIGHT_KG = 1000.0
MIN_WEIGHT_KG = -200.0  # assistance, as Strong logs an assisted pull-up (kept as logged)
CTX = ParseContext(timezone="Europe/Berlin", strong_weight_unit="kg")
CONFIG = parse_config({"athlete": {"id": "me", "timezone": "Europe/Berlin"}})

# The strategies never touch the global `random` (checked with -W error on this file alone), but
# after tests/test_flows.py the session-wide Prefect harness keeps threads that do, and hypothesis
# blames whatever strategy is generating at that moment.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning")

CI_SEED_LIMIT = 120  # records / track points / lines per seed in the CI runs
SLOW_SEED_LIMIT = 2000
CI = settings(max_examples=2000, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@functools.cache
def seeds(limit: int) -> list[Seed]:
    return load_seeds(CORPUS, [r["file"] for r in corpus_rows()], limit)


def run_case(case: Case) -> tuple[str, str, ParseResult | None]:
    """("loaded", format, result), ("quarantined", reason, None) or ("ignored", reason, None);
    anything else raises (a test failure)."""
    try:
        fmt = detect_format(case.name, case.data[:4096])
        assert fmt is not None, f"{case.name}: the extension alone should pick a parser"
        try:
            with time_limit(PARSE_LIMIT_S):
                result = parse(case.data, case.name, fmt, CTX)
        except QuarantineError as err:
            assert str(err).strip(), "a quarantine needs a reason a person can act on"
            return "quarantined", str(err), None
        except NotAnActivity as err:
            assert str(err).strip(), "an ignored file needs a reason saying what it is"
            return "ignored", str(err), None
        except ParseTimeout:
            pytest.fail(f"parse took longer than {PARSE_LIMIT_S:g} s")
        check_plausible(result)
        return "loaded", result.format, result
    except BaseException as err:  # a parser bug or an implausible value: keep the bytes to debug with
        err.add_note(f"fuzz case {case!r}, bytes saved to {_save(case)}")
        raise


def _save(case: Case) -> Path:
    folder = Path(tempfile.gettempdir()) / "runlift-fuzz"
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha256(case.data).hexdigest()[:16]}-{case.name}"
    path.write_bytes(case.data)
    return path


# ------------------------------------------------------------------------- plausibility


def check_plausible(result: ParseResult) -> None:
    assert isinstance(result, ParseResult), type(result)
    for a in result.activities:
        check_activity(a)
    for s in result.sessions:
        check_session(s)


def _in_window(dt: datetime) -> bool:
    return EARLIEST <= dt <= LATEST


def _finite_nonneg(value: float | None, what: str, optional: bool = True) -> None:
    if value is None:
        assert optional, f"{what} is None"
        return
    assert isinstance(value, int | float) and math.isfinite(value) and value >= 0, f"{what} = {value!r}"


def _heart_rate(value: float | None, what: str) -> None:
    assert value is None or (math.isfinite(value) and 0 < value < 255), f"{what} = {value!r}"


def check_activity(a: Activity) -> None:
    assert a.sport in SPORTS
    assert a.start_utc.tzinfo is not None and a.end_utc.tzinfo is not None
    assert a.start_utc <= a.end_utc, (a.start_utc, a.end_utc)
    assert _in_window(a.start_utc) and _in_window(a.end_utc), f"implausible time {a.start_utc} .. {a.end_utc}"
    _finite_nonneg(a.duration_s, "duration_s", optional=False)
    _finite_nonneg(a.moving_s, "moving_s")
    _finite_nonneg(a.distance_m, "distance_m")
    _heart_rate(a.avg_hr, "avg_hr")
    _heart_rate(a.max_hr, "max_hr")
    assert tuple(a.samples.column_names) == SAMPLE_COLUMNS
    assert a.samples.schema.types == [pa.timestamp("us", tz="UTC"), *[pa.float64()] * (len(SAMPLE_COLUMNS) - 1)]
    assert a.samples.column("ts_utc").null_count == 0
    s = a.samples.to_pandas()
    assert str(s["ts_utc"].dtype) == "datetime64[us, UTC]"
    assert all(str(s[c].dtype) == "float64" for c in SAMPLE_COLUMNS[1:])
    if len(s):
        assert s["ts_utc"].notna().all()
        assert _in_window(s["ts_utc"].min()) and _in_window(s["ts_utc"].max()), (s["ts_utc"].min(), s["ts_utc"].max())
        values = s[list(SAMPLE_COLUMNS[1:])].to_numpy()
        assert not np.isinf(values).any(), "inf in samples"
        hr = s["heart_rate"].dropna()
        assert ((hr > 0) & (hr < 255)).all(), f"heart rate samples {sorted(set(hr))[:5]} ... {sorted(set(hr))[-5:]}"


def check_session(s: StrengthSession) -> None:
    assert s.start_utc.tzinfo is not None and s.end_utc.tzinfo is not None
    assert s.start_utc <= s.end_utc, (s.start_utc, s.end_utc)
    assert EARLIEST <= s.start_utc < LATEST, f"implausible start {s.start_utc}"
    for x in s.sets:
        assert x.set_type in SET_TYPES
        assert x.reps is None or (isinstance(x.reps, int) and 0 <= x.reps <= MAX_REPS), f"reps = {x.reps!r}"
        assert x.weight_kg is None or (math.isfinite(x.weight_kg) and MIN_WEIGHT_KG <= x.weight_kg <= MAX_WEIGHT_KG), (
            f"weight_kg = {x.weight_kg!r}")
        for name in ("rpe", "duration_s"):
            value = getattr(x, name)
            assert value is None or math.isfinite(value), f"{name} = {value!r}"


# ------------------------------------------------------------------------------- tests


def _seeds_or_skip(limit: int) -> list[Seed]:
    found = seeds(limit)
    if not found:
        pytest.skip("neither sample_data nor the shared corpus is present")
    return found


def test_seeds_parse_as_expected() -> None:
    """The unmutated seeds behave: every generated sample loads plausibly (the corpus's own
    tests check the corpus files; a shrunk corrupt seed must still quarantine)."""
    for seed in _seeds_or_skip(CI_SEED_LIMIT):
        outcome, detail, _ = run_case(Case(seed.name, seed.origin, (), seed.data))
        if not seed.origin.startswith("corpus/"):
            assert outcome == "loaded", (seed.origin, detail)


def test_fuzzed_files_load_plausibly_or_are_quarantined() -> None:
    @CI
    @given(case=cases(_seeds_or_skip(CI_SEED_LIMIT)))
    def fuzz(case: Case) -> None:
        run_case(case)

    fuzz()


_OPEN_TAG = re.compile(rb"<(?:\w+:)?(?:trkpt|Trackpoint|trk|Lap|extensions|Extensions)\b[^>]*(?<!/)>")


@st.composite
def deep_nesting(draw: st.DrawFn, seeds: list[Seed]) -> tuple[Case, int]:
    """A GPX/TCX seed with a chain of nested elements (any depth up to 3,000, with prefixes,
    attributes and text) inserted inside one of its elements; also returns the chain's depth."""
    xml = [s for s in seeds if s.kind == "xml" and _OPEN_TAG.search(s.data)]
    seed = draw(st.sampled_from(xml))
    spots = list(_OPEN_TAG.finditer(seed.data))
    at = spots[draw(st.integers(0, len(spots) - 1))].end()
    depth = draw(st.one_of(st.integers(1, 80), st.integers(1, 3000)))
    tag = draw(st.sampled_from([b"a", b"gpxtpx:TrackPointExtension", b"ns3:TPX", b"Value"]))
    declared = b' xmlns:%s="urn:runlift-fuzz"' % tag.split(b":")[0] if b":" in tag else b""  # a bound prefix
    opener = b"<" + tag + declared + draw(st.sampled_from([b"", b' k="v"'])) + b">"
    inner = draw(st.sampled_from([b"", b"12", b"<z/>"]))
    nest = opener * depth + inner + (b"</" + tag + b">") * depth
    data = seed.data[:at] + nest + seed.data[at:]
    return Case(seed.name, seed.origin, (f"nest <{tag.decode()}> x{depth} at byte {at}",), data), depth


def test_deeply_nested_xml_loads_or_is_refused_for_its_depth() -> None:
    """Deep nesting anywhere in a GPX/TCX: never a crash or hang; a chain deeper than the
    limit on its own is refused for its depth (the scan meets it before any later damage)."""

    @settings(CI, max_examples=60)
    @given(drawn=deep_nesting(_seeds_or_skip(CI_SEED_LIMIT)))
    def nest(drawn: tuple[Case, int]) -> None:
        case, depth = drawn
        outcome, detail, _ = run_case(case)
        if depth > safe_xml.MAX_DEPTH:
            assert (outcome, detail) == ("quarantined", safe_xml.DEPTH_REFUSED)

    nest()


def _one(db: Path, sql: str, params: list) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def check_whole_file_in_db(db: Path, path: Path, parsed: ParseResult | None) -> str:
    """After ``commands.ingest`` of one file: its ingest_log row exists and agrees with what the
    parser gave (``parsed``; None = quarantined); every activity has exactly n_samples sample
    rows and every session n_sets set rows; a quarantined file has no rows at all."""
    file = str(path)
    (status, reason, n_acts, n_sessions), = _one(
        db, "SELECT status, reason, activities, sessions FROM ingest_log WHERE file = ?", [file])
    acts = _one(db, "SELECT activity_id, n_samples, n_hr_samples FROM raw.activities WHERE source_file = ?", [file])
    sessions = _one(db, "SELECT session_id, n_sets FROM raw.strength_sessions WHERE source_file = ?", [file])
    if status in ("quarantined", "ignored"):
        assert not acts and not sessions, f"{status} ({reason}) but rows were written"
        assert parsed is None or not (parsed.activities or parsed.sessions), f"parsed fine, yet quarantined: {reason}"
        return status
    assert parsed is not None, f"the parser quarantined the file, ingest did not: {status}"
    assert (n_acts, n_sessions) == (len(acts), len(sessions)) == (len(parsed.activities), len(parsed.sessions))
    for aid, n, n_hr in acts:
        (rows, hr_rows), = _one(db, "SELECT count(*), count(heart_rate) FROM raw.samples WHERE activity_id = ?", [aid])
        assert (rows, hr_rows) == (n, n_hr), f"activity {aid}: {rows} sample rows, n_samples {n}"
    for sid, n in sessions:
        (rows,), = _one(db, "SELECT count(*) FROM raw.strength_sets WHERE session_id = ?", [sid])
        assert rows == n, f"session {sid}: {rows} set rows, n_sets {n}"
    return status


def test_fuzzed_files_load_whole_or_not_at_all() -> None:
    """A few mutated files through ``commands.ingest`` into a fresh DuckDB each."""
    statuses: Counter[str] = Counter()

    @settings(CI, max_examples=24)
    @given(case=cases(_seeds_or_skip(CI_SEED_LIMIT)))
    def ingest_one(case: Case) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / case.name
            path.write_bytes(case.data)
            db = Path(tmp) / "fuzz.duckdb"
            _, _, parsed = run_case(case)
            commands.ingest(db, CONFIG, [path], workers=1)
            statuses[check_whole_file_in_db(db, path, parsed)] += 1

    ingest_one()
    assert statuses["loaded"] >= 3 and statuses["quarantined"] >= 3, f"too one-sided to check: {dict(statuses)}"


# ------------------------------------------------------------------------------ slow run


_TWO_PART = ("invalid XML", "invalid GPX", "invalid TCX", "corrupt FIT file", "truncated FIT file",
             "unreadable FIT file")


def reason_category(reason: str) -> str:
    """A quarantine reason without its specifics: numbers, quoted values, line numbers, the
    details after ';' or '('. Keeps the second clause for XML and FIT damage (what kind)."""
    text = reason.split(";")[0].split(" (")[0].split("...")[0]
    text = re.sub(r"=\S+", "=…", text)
    text = re.sub(r"'[^']*'?|\"[^\"]*\"?", "…", text)
    text = re.sub(r"\d[\d,.]*(e[+-]?\d+)?", "N", text)
    parts = text.split(": ")
    if parts[0].startswith("line N"):
        parts = parts[1:] or parts
    keep = 2 if parts[0].startswith(_TWO_PART) else 1
    return ": ".join(parts[:keep])[:80]


@pytest.mark.slow
def test_fuzz_many_cases_and_count_outcomes(capsys: pytest.CaptureFixture[str]) -> None:
    loaded: Counter[str] = Counter()
    quarantined: Counter[str] = Counter()

    @settings(CI, max_examples=5000)
    @given(case=cases(_seeds_or_skip(SLOW_SEED_LIMIT)))
    def fuzz(case: Case) -> None:
        outcome, detail, _ = run_case(case)
        if outcome == "loaded":
            loaded[detail] += 1
        else:
            quarantined[reason_category(detail)] += 1

    fuzz()
    total = sum(loaded.values()) + sum(quarantined.values())
    lines = [f"{total} fuzz cases: {sum(loaded.values())} loaded, {sum(quarantined.values())} quarantined",
             "loaded by format: " + ", ".join(f"{k} {v}" for k, v in loaded.most_common())]
    lines += ["quarantined by reason:"] + [f"  {v:5d}  {k}" for k, v in quarantined.most_common()]
    with capsys.disabled():
        print("\n" + "\n".join(lines))


# --- hostile file names: markup, control characters, bytes that are not UTF-8 -------------------

_NAME_PARTS = st.lists(st.one_of(
    st.sampled_from(["[/b]", "[bold]", "[/]", "[link=x]", "\x1b[2J", "\x1b]0;t\x07", "\r", "\u202e", "é", "\\"]),
    st.binary(min_size=1, max_size=3).filter(lambda b: b"/" not in b and b"\0" not in b),
    st.text(alphabet="abc-_ .", min_size=1, max_size=4),
), min_size=1, max_size=5)


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=_NAME_PARTS)
def test_hostile_file_names_load_once_and_print_as_text(parts: list[str | bytes], tmp_path: Path) -> None:
    import io
    import os
    from datetime import UTC

    from gpxgen import gpx_run
    from rich.console import Console

    from pipeline.app import cli

    raw = b"".join(p if isinstance(p, bytes) else p.encode() for p in parts).lstrip(b".") or b"x"
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # hypothesis reuses tmp_path across examples
    target = os.path.join(os.fsencode(folder), raw.replace(b"/.", b"/x") + b".gpx")  # "/" makes sub-folders
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as fh:
        fh.write(gpx_run(datetime(2026, 5, 4, 6, tzinfo=UTC), points=20).encode())
    db = folder / "x.duckdb"
    first = commands.ingest(db, Config(), [folder], refresh_models=False, workers=1)
    again = commands.ingest(db, Config(), [folder], refresh_models=False, workers=1)
    assert (first.new, again.new, again.skipped) == (1, 0, 1)
    con = duckdb.connect(str(db), read_only=True)
    try:
        (logged,), = con.execute("SELECT file FROM ingest_log").fetchall()
    finally:
        con.close()
    logged.encode("utf-8")  # stored as valid UTF-8, whatever the bytes were
    screen = io.StringIO()
    cli.out, saved = Console(file=screen, width=200), cli.out
    try:
        first.quarantine_reasons.append((logged, f"reason naming {logged}"))  # printed as the CLI would
        cli._print_summary(first)
    finally:
        cli.out = saved
    text = screen.getvalue()
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert text.count("reason naming") == 1

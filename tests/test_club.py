"""A club in one DB: the rules and the report fan out over athletes without per-athlete queries.

Three athletes from the sample data with different per-athlete config: "me" (the whole sample,
Europe/Berlin, a new lifter), "ana" (its runs only, UTC, trained) and "bo" (the whole sample,
trained, with an A race of her own three weeks before the shared one). Each athlete built alone
(own DB, own one-athlete config) must give exactly the flags and the report the club DB gives
them; the number of queries the rules and the report data issue must not grow with the roster.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import commands
from pipeline.app.cli import app
from pipeline.config import Config, load_config
from pipeline.db import connect
from pipeline.report.data import gather, gather_all
from pipeline.report.render import render_report
from pipeline.rules import REGISTRY, evaluate

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
AS_OF = date(2026, 10, 26)
WEEKS = ["2026-W36", "2026-W38", "2026-W39", "2026-W40", "2026-W42"]


@dataclass(frozen=True)
class Member:
    id: str
    timezone: str
    experience: str
    data: tuple[Path, ...]


CLUB = [Member("me", "Europe/Berlin", "new", (SAMPLE,)),
        Member("ana", "UTC", "trained", (SAMPLE / "runs",)),
        Member("bo", "Europe/Berlin", "trained", (SAMPLE,))]
OWN_RACES = {"bo": '[[races]]\ndate = "2026-09-27"\nname = "Hill Half"\npriority = "A"\nathlete = "bo"\n'}


def write_config(folder: Path, members: list[Member], extra_ids: int = 0) -> Config:
    """The sample's config with ``members`` as ``[[athletes]]`` (plus ``extra_ids`` athletes without
    data), the sample's race for everyone and each member's own races."""
    body = (SAMPLE / "runlift.toml").read_text()
    head, rest = body.split("[athlete]\n", 1)
    athlete, rest = rest.split("\n\n", 1)
    settings = [line for line in athlete.splitlines() if not line.startswith(("id ", "timezone", "strength_exp"))]
    blocks = ["\n".join(["[[athletes]]", f'id = "{m.id}"', f'timezone = "{m.timezone}"',
                         f'strength_experience = "{m.experience}"', *settings]) for m in members]
    blocks += [f'[[athletes]]\nid = "x{i:02d}"' for i in range(extra_ids)]
    races = "".join(OWN_RACES.get(m.id, "") for m in members)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "runlift.toml"
    path.write_text(head + "\n\n".join(blocks) + "\n\n" + races + "\n" + rest + '\n[report]\nout = "reports"\n')
    return load_config(path)


def built(folder: Path, members: list[Member]) -> tuple[Path, Config, list[dict[str, Any]]]:
    config = write_config(folder, members)
    db = folder / "runlift.duckdb"
    for m in members:
        commands.ingest(db, config, list(m.data), athlete=m.id, workers=1, refresh_models=False)
    result = commands.build(db, config, AS_OF)
    return db, config, [f.as_json() for f in result.flags]


@pytest.fixture(scope="module")
def club(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config, list[dict[str, Any]]]:
    return built(tmp_path_factory.mktemp("club"), CLUB)


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Config, list[dict[str, Any]]]]:
    return {m.id: built(tmp_path_factory.mktemp(f"alone-{m.id}"), [m]) for m in CLUB}


def test_club_flags_are_each_athletes_flags_built_alone(club, alone) -> None:
    _, _, flags = club
    for member in CLUB:
        own = [f for f in flags if f["athlete"] == member.id]
        assert own == alone[member.id][2], member.id
    # the per-athlete config made a difference: the same files judged differently
    by = {m.id: {(f["rule"], f["date"]) for f in flags if f["athlete"] == m.id} for m in CLUB}
    assert by["me"] != by["bo"]
    assert {f["rule"] for f in flags if f["athlete"] == "me"} >= {"program.beginner_too_heavy"}
    assert not [f for f in flags if f["athlete"] != "me" and f["rule"] == "program.beginner_too_heavy"]
    taper_races = {a: {f["evidence"]["race_date"] for f in flags
                       if f["athlete"] == a and f["rule"].startswith("taper.")} for a in ("me", "bo")}
    assert taper_races == {"me": {"2026-10-18"}, "bo": {"2026-09-27", "2026-10-18"}}  # bo's own A race is hers only
    assert len({f["athlete"] for f in flags}) == 3


class Counting:
    """A connection that counts the statements issued through it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.statements = con, 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self.con.execute(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def _rule_statements(db: Path, config: Config) -> tuple[int, int]:
    con = connect(db, read_only=True)
    try:
        counting = Counting(con)
        flags = evaluate(counting, config, AS_OF)  # type: ignore[arg-type]
        return counting.statements, len(flags)
    finally:
        con.close()


def test_rule_queries_do_not_grow_with_the_roster(club, tmp_path: Path) -> None:
    db, config, flags = club
    one = write_config(tmp_path / "one", [CLUB[2]])
    many = write_config(tmp_path / "many", CLUB, extra_ids=40)
    counts = {n: _rule_statements(db, c) for n, c in ((1, one), (3, config), (43, many))}
    assert counts[3][1] == len(flags) and counts[43][1] == len(flags)  # the extra athletes have no data
    assert counts[1][0] == counts[3][0] == counts[43][0]
    assert counts[1][0] <= 2 * len(REGISTRY) + 4  # a query or two per rule, the roster tables


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits: the models' sums over a bigger table may differ in the last bits."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def test_report_data_of_the_club_is_each_athletes_alone(club, alone) -> None:
    """Exactly what one athlete's gather reads from the club DB, and (to the models' float sums)
    what the athlete's own DB gives."""
    db, config, _ = club
    ids = [m.id for m in CLUB]
    con = connect(db, read_only=True)
    try:
        for week in WEEKS:
            together = gather_all(con, config, ids, week)
            assert list(together) == ids
            for a in ids:
                assert together[a] == gather(con, config, a, week), (a, week)
                own_db, own_config, _ = alone[a]
                own = connect(own_db, read_only=True)
                try:
                    alone_data = gather(own, own_config, a, week)
                    assert _rounded(asdict(together[a])) == _rounded(asdict(alone_data)), (a, week)
                finally:
                    own.close()
    finally:
        con.close()


def test_report_queries_do_not_grow_with_the_roster(club, tmp_path: Path) -> None:
    db, config, _ = club
    many = write_config(tmp_path / "many", CLUB, extra_ids=40)
    con = connect(db, read_only=True)
    try:
        counts = []
        for cfg in (config, many):
            counting = Counting(con)
            gather_all(counting, cfg, [a.id for a in cfg.all_athletes], "2026-W39")  # type: ignore[arg-type]
            counts.append(counting.statements)
    finally:
        con.close()
    assert counts[0] == counts[1] <= 24  # about two per part of the report


def test_written_reports_are_the_per_athlete_reports(club, tmp_path: Path) -> None:
    db, config, _ = club
    written = commands.write_reports(db, config, "2026-W39", tmp_path)
    assert [w.report.athlete for w in written] == ["me", "ana", "bo"]
    con = connect(db, read_only=True)
    try:
        for w in written:
            one = render_report(con, config, w.report.athlete, "2026-W39")
            assert (w.report.subject, w.report.markdown, w.report.html) == (one.subject, one.markdown, one.html)
            assert w.paths["markdown"].read_text() == one.markdown
    finally:
        con.close()


runner = CliRunner()


def test_flags_of_one_athlete_and_an_unknown_one(club) -> None:
    db, _, flags = club
    cfg = db.parent / "runlift.toml"
    result = runner.invoke(app, ["--db", str(db), "--config", str(cfg), "flags", "--athlete", "bo", "--format", "json"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [f for f in flags if f["athlete"] == "bo"]
    bad = runner.invoke(app, ["--db", str(db), "--config", str(cfg), "flags", "--athlete", "zoe"])
    assert bad.exit_code == 2
    assert "unknown athlete 'zoe'; athletes: me, ana, bo" in bad.output

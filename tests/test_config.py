"""runlift.toml (SPEC "Config"): every v2 key with its default, the one-line errors of issue 12,
and the `runlift init` template."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest

from pipeline.config import TEMPLATE, Athlete, Config, ConfigError, check_exercise_aliases, load_config, parse_config


def error_of(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ v2 keys and defaults

def test_v2_defaults() -> None:
    config = Config()
    athlete = config.all_athletes[0]
    assert (athlete.strength_experience, athlete.long_run_minutes, athlete.email_to) == ("new", 90, None)
    assert athlete.threshold_pace_s_per_km is None
    assert config.rules.model_dump() == {
        "min_gap_hours": 3, "optimal_gap_hours": 6, "detraining_days": 28, "taper_days": 14,
        "taper_max_minutes": 30, "acwr_max": 1.5, "light_reps": 15, "beginner_weeks": 4,
        "quality_lead_hours": 12, "warmup_max_minutes": 15, "warmup_window_minutes": 30,
        "min_session_minutes": 15, "min_working_sets": 6, "acwr_method": "rolling", "acwr_min_weekly_load": 60,
        "monotony_max": 2.0, "hr_min_coverage": 0.8, "heavy_pct_e1rm": 70, "heavy_max_reps": 6,
        "long_run_gap_hours": 24}
    assert dict(config.exercise_aliases) == {}
    assert config.report.coach_email_to == []
    assert (config.engine.task_runner, config.engine.dask_address) == ("processes", "")


SPEC_EXAMPLE = '''
[[athletes]]
id = "me"
timezone = "Europe/Berlin"
threshold_hr = 172
threshold_pace = "4:10"
strength_experience = "trained"
long_run_minutes = 100
email_to = ["me@example.org"]

[[athletes]]
id = "ana"
timezone = "America/New_York"

[[races]]
date = "2026-10-18"
name = "Autumn Marathon"
athlete = "me"

[[races]]
date = 2026-06-07
name = "City 10k"
priority = "B"

[rules]
quality_lead_hours = 10
acwr_method = "ewma"
hr_min_coverage = 0.9
heavy_pct_e1rm = 75.5
long_run_gap_hours = 36

[exercise_aliases]
"Bulgarian SS" = "bulgarian split squat"

[report]
email_to = ["team@example.org"]
coach_email_to = ["coach@example.org"]

[engine]
task_runner = "dask"
dask_address = "tcp://10.0.0.5:8786"
'''


def test_v2_keys_parse_with_their_types(tmp_path: Path) -> None:
    path = tmp_path / "runlift.toml"
    path.write_text(SPEC_EXAMPLE)
    config = load_config(path)
    me, ana = config.athlete_by_id("me"), config.athlete_by_id("ana")
    assert (me.strength_experience, me.long_run_minutes, me.threshold_pace_s_per_km) == ("trained", 100, 250)
    assert (ana.strength_experience, ana.long_run_minutes, ana.threshold_pace_s_per_km) == ("new", 90, None)
    assert config.email_to_for("me") == ["me@example.org"]
    assert config.email_to_for("ana") == ["team@example.org"]  # no own list: the [report] one
    assert config.report.coach_email_to == ["coach@example.org"]
    rules = config.rules
    assert (rules.quality_lead_hours, rules.acwr_method, rules.hr_min_coverage, rules.heavy_pct_e1rm,
            rules.long_run_gap_hours, rules.min_gap_hours) == (10, "ewma", 0.9, 75.5, 36, 3)
    assert config.exercise_aliases == {"Bulgarian SS": "bulgarian split squat"}
    assert (config.engine.task_runner, config.engine.dask_address) == ("dask", "tcp://10.0.0.5:8786")


def test_a_race_naming_an_athlete_is_only_that_athletes() -> None:
    config = parse_config(tomllib.loads(SPEC_EXAMPLE))
    assert [(r.name, r.date) for r in config.races_for("me")] == [
        ("City 10k", date(2026, 6, 7)), ("Autumn Marathon", date(2026, 10, 18))]
    assert [r.name for r in config.races_for("ana")] == ["City 10k"]
    assert [r.name for r in config.a_races("ana")] == []
    assert [r.name for r in config.a_races("me")] == ["Autumn Marathon"]


@pytest.mark.parametrize(("pace", "seconds"), [("4:10", 250), ("10:05", 605), ("2:00", 120), ("20:00", 1200)])
def test_threshold_pace_in_seconds_per_km(pace: str, seconds: int) -> None:
    assert Athlete(threshold_pace=pace).threshold_pace_s_per_km == seconds


@pytest.mark.parametrize("pace", ["4.10", "4:60", "0:00", "1:59", "20:01", "250", "4:1", ""])
def test_bad_threshold_pace(pace: str) -> None:
    assert "invalid value for 'athlete.threshold_pace'" in error_of({"athlete": {"threshold_pace": pace}})


# ------------------------------------------------------------------ issue 12: one-line errors naming the key

@pytest.mark.parametrize(("data", "message"), [
    ({"report": {"cron": "every monday"}},
     "runlift.toml: invalid value for 'report.cron': not a cron schedule: 'every monday' "
     "(minute hour day month weekday, e.g. '0 7 * * MON')"),
    ({"report": {"cron": "0 7 * *"}}, "invalid value for 'report.cron': not a cron schedule: '0 7 * *'"),
    ({"report": {"cron": "61 7 * * MON"}}, "invalid value for 'report.cron': not a cron schedule"),
    ({"report": {"cron": "H 7 * * MON"}}, "invalid value for 'report.cron': not a cron schedule"),
    ({"report": {"cron": "R 7 * * MON"}}, "invalid value for 'report.cron': not a cron schedule"),
    ({"report": {"cron": "0 7 31 2 *"}}, "invalid value for 'report.cron': cron schedule '0 7 31 2 *' never fires"),
])
def test_invalid_cron(data: dict, message: str) -> None:
    assert message in error_of(data)


@pytest.mark.parametrize("cron", ["0 7 * * MON", "0 7 * * 1", "30 6 * * mon-fri", "@weekly", "0 7 29 2 *"])
def test_valid_cron(cron: str) -> None:
    assert parse_config({"report": {"cron": cron}}).report.cron == cron


def test_cron_check_agrees_with_prefect() -> None:
    pytest.importorskip("prefect")
    from prefect._internal.schemas.validators import validate_cron_string

    for cron in ["every monday", "0 7 * * MON", "H 7 * * MON", "61 7 * * *", "0 7 * * MON *", "@daily"]:
        try:
            validate_cron_string(cron)
            prefect_ok = True
        except ValueError:
            prefect_ok = False
        try:
            parse_config({"report": {"cron": cron}})
            ours_ok = True
        except ConfigError:
            ours_ok = False
        assert ours_ok == prefect_ok, cron


def test_validating_a_cron_does_not_import_prefect(tmp_path: Path) -> None:
    import subprocess

    code = ("import sys; from pipeline.config import parse_config; "
            "parse_config({'report': {'cron': '0 7 * * MON'}}); print('prefect' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("key", ["min_gap_hours", "optimal_gap_hours", "taper_max_minutes", "acwr_max",
                                 "quality_lead_hours", "warmup_max_minutes", "monotony_max", "hr_min_coverage",
                                 "heavy_pct_e1rm", "acwr_min_weekly_load", "long_run_gap_hours"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_thresholds(key: str, value: float) -> None:
    message = error_of({"rules": {key: value}})
    assert message == f"runlift.toml: invalid value for 'rules.{key}': must be a finite number"


def test_non_finite_thresholds_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "runlift.toml"
    path.write_text("[rules]\nacwr_max = nan\n")
    with pytest.raises(ConfigError, match=r"^.*runlift.toml: invalid value for 'rules.acwr_max': must be a finite"):
        load_config(path)
    path.write_text("[inbox]\ninterval_minutes = inf\n")
    with pytest.raises(ConfigError, match=r"invalid value for 'inbox.interval_minutes': must be a finite number$"):
        load_config(path)


@pytest.mark.parametrize(("key", "value"), [("min_gap_hours", -1), ("taper_days", -1), ("min_working_sets", -3),
                                            ("acwr_max", 0), ("hr_min_coverage", -0.1), ("light_reps", 0),
                                            ("heavy_max_reps", -1)])
def test_negative_thresholds(key: str, value: float) -> None:
    assert re.fullmatch(rf"runlift.toml: invalid value for 'rules.{key}': must be greater than (or equal to )?[01]",
                        error_of({"rules": {key: value}}))


def test_min_gap_above_optimal_gap() -> None:
    assert error_of({"rules": {"min_gap_hours": 7}}) == (
        "runlift.toml: invalid value for 'rules.min_gap_hours': 7 is above rules.optimal_gap_hours (6)")
    message = error_of({"rules": {"min_gap_hours": 2, "optimal_gap_hours": 1.5}})
    assert message.endswith("'rules.min_gap_hours': 2 is above rules.optimal_gap_hours (1.5)")
    assert parse_config({"rules": {"min_gap_hours": 4, "optimal_gap_hours": 4}}).rules.min_gap_hours == 4


def test_race_naming_an_unknown_athlete() -> None:
    data = {"athletes": [{"id": "me"}, {"id": "ana"}],
            "races": [{"date": "2026-05-01", "athlete": "ana"}, {"date": "2026-10-18", "athlete": "bob"}]}
    assert error_of(data) == ("runlift.toml: invalid value for 'races[1].athlete': "
                              "unknown athlete 'bob' (configured: me, ana)")


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "right/UTC", "posix/Europe/Berlin", "Mars/Olympus",
                                  "europe/berlin", "../etc/passwd", ""])
def test_time_zones_duckdb_cannot_use(zone: str) -> None:
    assert error_of({"athlete": {"timezone": zone}}) == (
        f"runlift.toml: invalid value for 'athlete.timezone': unknown time zone {zone!r} "
        "(use an IANA name such as 'Europe/Berlin' or 'UTC')")
    assert f"'sources.hevy.timezone': unknown time zone {zone!r}" in error_of({"sources": {"hevy": {"timezone": zone}}})


@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_time_zones_duckdb_knows(zone: str) -> None:
    import duckdb

    config = parse_config({"athlete": {"timezone": zone}})
    assert config.all_athletes[0].timezone == zone
    # the property the check stands for: DuckDB converts times in that zone
    with duckdb.connect() as con:
        converted = con.execute(f"SELECT timezone('{zone}', TIMESTAMPTZ '2026-03-29 12:00:00+00')").fetchall()
    assert converted[0][0] is not None


def test_duckdbs_zone_list_is_asked_once_per_installed_duckdb(tmp_path: Path) -> None:
    import subprocess

    probe = ("import sys\nfrom pipeline.config import parse_config\n"
             "for zone in ('Europe/Berlin', 'posixrules'):\n"
             "    try:\n        parse_config({'athlete': {'timezone': zone}}); print(zone, 'ok')\n"
             "    except Exception as e:\n        print(zone, 'refused')\n"
             "print('duckdb imported:', 'duckdb' in sys.modules)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}

    def validate() -> str:
        return subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                              check=True).stdout

    assert validate() == "Europe/Berlin ok\nposixrules refused\nduckdb imported: True\n"
    [kept] = (tmp_path / "runlift").iterdir()
    import duckdb

    with duckdb.connect() as con:
        zones = sorted(r[0] for r in con.execute("SELECT name FROM pg_timezone_names()").fetchall())
    assert kept.read_text(encoding="utf-8").split("\n") == zones
    # the next command reads the list: same answers, no DuckDB started to validate a config
    assert validate() == "Europe/Berlin ok\nposixrules refused\nduckdb imported: False\n"
    kept.write_text("", encoding="utf-8")  # not a list DuckDB gave: asked again, and kept again
    assert validate() == "Europe/Berlin ok\nposixrules refused\nduckdb imported: True\n"
    assert kept.read_text(encoding="utf-8").split("\n") == zones


@pytest.mark.parametrize("athlete_id", ["..", ".", "/", "", "a/b", "a\\b", ".hidden", "me.", "with space",
                                        "ümlaut", "x" * 65, "nul", "CON", "com1.txt", "a:b", "*"])
def test_unsafe_athlete_ids(athlete_id: str) -> None:
    message = error_of({"athlete": {"id": athlete_id}})
    assert message.startswith("runlift.toml: invalid value for 'athlete.id': ")
    assert message == error_of({"athletes": [{"id": athlete_id}]}).replace("athletes[0].id", "athlete.id")


@pytest.mark.parametrize("athlete_id", ["me", "ana-2", "A.B_c", "x" * 64, "_", "console"])
def test_safe_athlete_ids(athlete_id: str) -> None:
    assert parse_config({"athlete": {"id": athlete_id}}).all_athletes[0].id == athlete_id


@pytest.mark.parametrize(("data", "key"), [
    ({"rules": {"taper_days": 10**30}}, "rules.taper_days"),
    ({"rules": {"taper_days": 367}}, "rules.taper_days"),
    ({"rules": {"detraining_days": 2**63}}, "rules.detraining_days"),
    ({"rules": {"beginner_weeks": 10**6}}, "rules.beginner_weeks"),
    ({"rules": {"min_gap_hours": 1e300, "optimal_gap_hours": 1e300}}, "rules.min_gap_hours"),
    ({"athlete": {"max_hr": 2**40}}, "athlete.max_hr"),
    ({"athlete": {"strength_target_per_week": 10**9}}, "athlete.strength_target_per_week"),
    ({"athlete": {"long_run_minutes": 0}}, "athlete.long_run_minutes"),
    ({"inbox": {"interval_minutes": 1e12}}, "inbox.interval_minutes"),
    ({"races": [{"date": "0001-01-01"}]}, "races[0].date"),
    ({"races": [{"date": date(9999, 12, 31)}]}, "races[0].date"),
])
def test_values_are_bounded(data: dict, key: str) -> None:
    assert error_of(data).startswith(f"runlift.toml: invalid value for '{key}': must be ")


def test_extreme_values_that_pass_still_compute() -> None:
    # the largest taper before the earliest and after the last allowed race: date arithmetic holds
    config = parse_config({"rules": {"taper_days": 366}, "races": [{"date": "1900-01-01"}, {"date": "2100-12-31"}]})
    from datetime import timedelta

    assert [r.date - timedelta(days=config.rules.taper_days) for r in config.races_for("me")] == [
        date(1898, 12, 31), date(2099, 12, 30)]


@pytest.mark.parametrize(("data", "message"), [
    ({"athlete": {"resting_hr": 200}}, "'athlete.resting_hr': must be below max_hr (200 >= 190)"),
    ({"athlete": {"threshold_hr": 195}}, "'athlete.threshold_hr': must be above resting_hr and at most max_hr"),
    ({"athlete": {"email_to": ["not an address"]}}, "'athlete.email_to': not an e-mail address: 'not an address'"),
    ({"report": {"coach_email_to": ["a@b", "coach"]}}, "'report.coach_email_to': not an e-mail address: 'coach'"),
    ({"athletes": []}, "'athletes': needs at least one athlete"),
    ({"athletes": [{"id": "me"}, {"id": "me"}]}, "'athletes': athlete ids must be unique, got ['me', 'me']"),
    ({"rules": {"acwr_method": "exponential"}}, "'rules.acwr_method'"),
    ({"athlete": {"strength_experience": "expert"}}, "'athlete.strength_experience'"),
    ({"engine": {"task_runner": "ray"}}, "'engine.task_runner'"),
    ({"engine": {"dask_adress": "x"}}, "unknown key 'engine.dask_adress'"),
    ({"rules": {"min_working_sets": 6.5}}, "'rules.min_working_sets': must be a valid integer"),
    ({"rules": {"min_working_sets": True}}, "'rules.min_working_sets': must be a valid integer"),
    ({"exercise_aliases": {"Bulgarian SS": 3}}, "'exercise_aliases.Bulgarian SS': must be a valid string"),
    ({"exercise_aliases": {"x": ""}}, "'exercise_aliases.\"x\"': an alias and its exercise must not be empty"),
    ({"exercise_aliases": {"Bench": "bench press", "bench": "bench press"}},
     "'exercise_aliases.\"bench\"': the same name as \"Bench\""),
])
def test_other_one_line_errors(data: dict, message: str) -> None:
    assert message in error_of(data)


# ------------------------------------------------------------------ exercise aliases hook

KNOWN = {"bulgarian split squat", "back squat", "romanian deadlift"}


def test_aliases_to_known_exercises_pass() -> None:
    config = parse_config({"exercise_aliases": {"Bulgarian SS": "bulgarian split squat", "RDL": "Romanian  Deadlift"}})
    check_exercise_aliases(config, KNOWN)


def test_alias_to_an_unknown_exercise(tmp_path: Path) -> None:
    path = tmp_path / "runlift.toml"
    path.write_text('[exercise_aliases]\n"Bulgarian SS" = "bulgarian split squat"\n"BSS" = "bulgarian split squats"\n'
                    '"Sled" = "sled push"\n')
    config = load_config(path)
    with pytest.raises(ConfigError) as info:
        check_exercise_aliases(config, KNOWN)
    assert str(info.value) == (f"{path}: invalid value for 'exercise_aliases.\"BSS\"': unknown exercise "
                               "'bulgarian split squats' (did you mean 'bulgarian split squat'? "
                               "`runlift exercises` lists the table)")
    with pytest.raises(ConfigError, match=r"'exercise_aliases.\"Sled\"': unknown exercise 'sled push' "
                                          r"\(`runlift exercises` lists the table\)$"):
        check_exercise_aliases(config, KNOWN | {"bulgarian split squats"})


# ------------------------------------------------------------------ the `runlift init` template

PLACEHOLDERS = {"threshold_hr": 172, "threshold_pace": "4:10"}


def test_template_states_the_defaults() -> None:
    config = parse_config(tomllib.loads(TEMPLATE))
    defaults = Config()
    athlete = config.all_athletes[0].model_dump()
    assert {k: athlete.pop(k) for k in PLACEHOLDERS} == PLACEHOLDERS
    assert athlete == {k: v for k, v in defaults.all_athletes[0].model_dump().items() if k not in PLACEHOLDERS}
    dumped, default_dump = config.model_dump(), defaults.model_dump()
    for section in ("races", "rules", "exercise_aliases", "sources", "inbox", "report", "engine"):
        assert dumped[section] == default_dump[section], section
    # every key of every section is written out (active or commented)
    for model in (defaults.rules, defaults.sources.hevy, defaults.sources.strong, defaults.inbox,
                  defaults.report, defaults.engine, defaults.all_athletes[0]):
        for key in type(model).model_fields:
            assert re.search(rf"^(# )?{key} = ", TEMPLATE, re.M), key


def test_template_threshold_comment_says_what_leaving_them_out_costs() -> None:
    # both thresholds are real keys, under a comment (its lines joined) saying what omitting them costs
    head, _, _ = TEMPLATE.partition("\nthreshold_hr = 172 ")
    comment = " ".join(line.removeprefix("# ") for line in head.splitlines()[-5:])
    assert comment.startswith("Placeholders"), comment
    assert "set them to your own" in comment
    assert "FIT files carry no titles, so only titled runs, structured laps and race days are quality runs" in comment
    assert re.search(r'^threshold_pace = "4:10" ', TEMPLATE, re.M)


def test_template_commented_keys_are_valid_when_uncommented() -> None:
    uncommented = re.sub(r'^# ((?:\w+|"[^"]+") = |\[)', r"\1", TEMPLATE, flags=re.M)
    config = parse_config(tomllib.loads(uncommented))
    assert [(r.name, r.date, r.athlete) for r in config.races] == [("Autumn Marathon", date(2026, 10, 18), "me")]
    assert config.all_athletes[0].email_to == ["me@example.org"]
    assert config.exercise_aliases == {"Bulgarian SS": "bulgarian split squat"}


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "nope.toml") == Config()
    assert load_config(None) == Config()


# ------------------------------------------------------------------ from every command

BAD_CONFIGS = {
    "report.cron": ('[report]\ncron = "every monday"\n', "not a cron schedule: 'every monday'"),
    "athlete.timezone": ('[athlete]\ntimezone = "posixrules"\n', "unknown time zone 'posixrules'"),
    "athlete.id": ('[athlete]\nid = ".."\n', "'..': use 1-64 letters"),
    "rules.taper_days": ("[rules]\ntaper_days = 9223372036854775807\n", "must be less than or equal to 366"),
    "rules.acwr_max": ("[rules]\nacwr_max = nan\n", "must be a finite number"),
    "rules.min_gap_hours": ("[rules]\nmin_gap_hours = 8\n", "8 is above rules.optimal_gap_hours (6)"),
    "races[0].date": ("[[races]]\ndate = 0001-01-01\n", "must be greater than or equal to 1900-01-01"),
    "races[0].athlete": ('[[races]]\ndate = 2026-10-18\nathlete = "bob"\n', "unknown athlete 'bob'"),
    'exercise_aliases."BSS"': ('[exercise_aliases]\n"BSS" = "bulgarian split squatt"\n', "unknown exercise"),
}
COMMANDS = [["init"], ["ingest", "inbox"], ["build"], ["run", "inbox"], ["flags"], ["sql", "select 1"],
            ["exercises"], ["exercises", "--unknown"], ["models"], ["report"], ["serve"]]


@pytest.mark.parametrize("key", list(BAD_CONFIGS))
def test_a_bad_config_is_one_line_naming_the_key_from_every_command(
        key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.app import cli

    text, reason = BAD_CONFIGS[key]
    path = tmp_path / "runlift.toml"
    path.write_text(text)
    monkeypatch.chdir(tmp_path)  # `init` reads the runlift.toml of its folder
    for command in COMMANDS:
        monkeypatch.setattr(sys, "argv", ["runlift", "--config", str(path), "--db", str(tmp_path / "x.duckdb"),
                                          *command])
        with pytest.raises(SystemExit) as stop:
            cli.main()
        err = capsys.readouterr().err
        assert stop.value.code == 1, command
        assert err.startswith(f"runlift: {path.name if command == ['init'] else path}: invalid value for '{key}': "), \
            (command, err)
        assert reason in err and err.count("\n") == 1, (command, err)
    assert not (tmp_path / "x.duckdb").exists()

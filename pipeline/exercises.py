"""Exercise names → canonical name, movement pattern and flags, from one table in the repo.

Strong, Hevy and FIT spell the same exercise differently ("Bulgarian Split Squat
(Dumbbell)", "bulgarian_split_squat"). :func:`classify` normalises a name and looks it up in
``exercise_map.csv`` (next to this module), a CSV with columns
``match,canonical,pattern,unilateral``; ``#`` lines are comments. ``docs/exercises.md`` is the
user's guide to it.

Normalisation (syntax only, no exercise knowledge): lower case, ``_`` and ``-`` become
spaces, runs of spaces collapse. The *base* name also drops trailing parenthesised
qualifiers — Strong's and Hevy's equipment suffixes such as "(Barbell)" or "(Cable - Straight
Bar)".

Matching (all exercise knowledge lives in the table):
- ``match`` is a case-insensitive Python regex, searched (``re.search``);
- *name rows* have a ``canonical`` and a ``pattern``: they are matched against the base name
  and the first matching one names the exercise and gives its pattern, so the table lists
  specific rows before generic ones;
- *keyword rows* have an empty ``canonical``: they are matched against the whole normalised
  name (parenthesised text included, e.g. "Glute Bridge (Single Leg)"); they add the
  unilateral flag, and the first matching keyword row with a ``pattern`` gives the pattern of a
  name that no name row matches (so "Zercher Squat (Barbell)" is a squat without a row of its
  own);
- the unilateral flag is OR-ed over the naming row and every matching keyword row, so
  "Single-Leg Box Jump" is a unilateral box jump;
- ``is_plyometric`` is ``pattern == "plyometric"`` and ``is_lower_body`` is the pattern being
  one of :data:`LOWER_BODY_PATTERNS`; the table holds neither;
- a name no name row matches keeps its base name as canonical; with no keyword pattern either,
  its pattern is ``other`` (the table does not know it: ``runlift exercises --unknown``).

To teach runlift a new exercise, add a row to the table; no code changes.

The loader stores names as logged; every model build classifies them again
(:func:`load_exercise_names` fills ``internal.exercise_names``), so an edit to the table
reaches sets loaded before it.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Mapping

    import duckdb

    from pipeline.config import Config

TABLE_PATH = Path(str(files("pipeline") / "exercise_map.csv"))
PATTERNS = ("squat", "hinge", "single_leg", "calf", "plyometric", "core", "upper", "carry", "mobility", "cardio",
            "other")
LOWER_BODY_PATTERNS = frozenset({"squat", "hinge", "single_leg", "calf", "plyometric"})
UNKNOWN = "other"  # the pattern of a name the table does not know
_SEPARATORS_RE = re.compile(r"[_\-\u2010-\u2015]+")
_SPACES_RE = re.compile(r"\s+")
_TRAILING_PARENS_RE = re.compile(r"\s*\([^()]*\)\s*$")


class ExerciseInfo(NamedTuple):
    canonical: str
    is_unilateral: bool
    is_plyometric: bool
    pattern: str = UNKNOWN
    is_lower_body: bool = False


class _Rule(NamedTuple):
    regex: re.Pattern[str]
    canonical: str  # "" for a keyword row
    pattern: str  # "" for a keyword row without a fallback pattern
    unilateral: bool
    line: int


class Exercise(NamedTuple):
    """One canonical exercise of the table (what ``runlift exercises`` lists)."""

    name: str
    pattern: str
    is_unilateral: bool
    is_plyometric: bool
    is_lower_body: bool


def _flag(value: str, line: int) -> bool:
    if value.strip() not in ("0", "1", ""):
        raise ValueError(f"exercise_map.csv line {line}: flag must be 0 or 1, got {value!r}")
    return value.strip() == "1"


def _pattern(value: str, canonical: str, line: int) -> str:
    pattern = value.strip()
    if pattern and (pattern not in PATTERNS or pattern == UNKNOWN):
        known = ", ".join(p for p in PATTERNS if p != UNKNOWN)
        raise ValueError(f"exercise_map.csv line {line}: pattern must be one of {known}, got {pattern!r}")
    if canonical and not pattern:
        raise ValueError(f"exercise_map.csv line {line}: a row with a canonical name needs a pattern")
    return pattern


def load_rules(path: Path = TABLE_PATH) -> tuple[_Rule, ...]:
    """Read and compile the table; a bad row is a ValueError naming its line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(line for _, line in numbered)
    missing = {"match", "canonical", "pattern", "unilateral"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"exercise_map.csv line {numbered[0][0] if numbered else 1}: "
                         f"header lacks {', '.join(sorted(missing))}")
    rules: list[_Rule] = []
    seen: dict[str, _Rule] = {}
    for (number, _), row in zip(numbered[1:], reader, strict=True):
        try:
            regex = re.compile(row["match"] or "", re.IGNORECASE)
        except re.error as err:
            raise ValueError(f"exercise_map.csv line {number}: bad match regex: {err}") from err
        canonical = normalise(row["canonical"] or "")
        rule = _Rule(regex, canonical, _pattern(row["pattern"] or "", canonical, number),
                     _flag(row["unilateral"] or "", number), number)
        if canonical:
            # one exercise, one set of facts: two rows naming it must agree
            first = seen.setdefault(canonical, rule)
            if (first.pattern, first.unilateral) != (rule.pattern, rule.unilateral):
                raise ValueError(f"exercise_map.csv line {number}: {canonical!r} has another pattern or "
                                 f"unilateral flag on line {first.line}")
        rules.append(rule)
    return tuple(rules)


@lru_cache(maxsize=1)
def _rules() -> tuple[_Rule, ...]:
    return load_rules()


def normalise(name: str) -> str:
    """Lower case, ``_``/``-`` as spaces, single spaces."""
    return _SPACES_RE.sub(" ", _SEPARATORS_RE.sub(" ", name.lower())).strip()


def base_name(name: str) -> str:
    """The normalised name without trailing "(...)" qualifiers (equipment)."""
    stripped = name
    while (shorter := _TRAILING_PARENS_RE.sub("", stripped)) != stripped:
        stripped = shorter
    return normalise(stripped) or normalise(name)


@lru_cache(maxsize=4096)
def classify(name: str) -> ExerciseInfo:
    """Canonical lower-case name, pattern and flags for an exercise name as a source spells it."""
    return classify_with(name, _rules())


def _info(canonical: str, pattern: str, unilateral: bool) -> ExerciseInfo:
    return ExerciseInfo(canonical, unilateral, pattern == "plyometric", pattern, pattern in LOWER_BODY_PATTERNS)


def classify_with(name: str, rules: tuple[_Rule, ...]) -> ExerciseInfo:
    """:func:`classify` against a given table (uncached)."""
    base = base_name(name)
    full = normalise(name.replace("(", " ").replace(")", " "))
    canonical = pattern = fallback = ""
    unilateral = False
    for rule in rules:
        if rule.canonical:
            # Only the first matching name row counts: it is the most specific one.
            if canonical or not rule.regex.search(base):
                continue
            canonical, pattern = rule.canonical, rule.pattern
        elif not rule.regex.search(full):
            continue
        elif not fallback:
            fallback = rule.pattern
        unilateral |= rule.unilateral
    return _info(canonical or base, pattern or fallback or UNKNOWN, unilateral)


EXERCISE_NAMES = "internal.exercise_names"


def canonical_names(table: Path | None = None) -> set[str]:
    """Every canonical exercise name the table knows (what ``[exercise_aliases]`` may point at)."""
    return {r.canonical for r in load_rules(table or TABLE_PATH) if r.canonical}


def table_exercises(table: Path | None = None) -> list[Exercise]:
    """The table's canonical exercises, by name (what ``runlift exercises`` prints)."""
    rules = load_rules(table or TABLE_PATH)
    named = {r.canonical: _info(r.canonical, r.pattern, r.unilateral) for r in reversed(rules) if r.canonical}
    return [Exercise(name, i.pattern, i.is_unilateral, i.is_plyometric, i.is_lower_body)
            for name, i in sorted(named.items())]


def classify_logged(names: list[str], aliases: Mapping[str, str] | None,
                    rules: tuple[_Rule, ...]) -> list[ExerciseInfo]:
    """Classify logged names after ``[exercise_aliases]``: a name that is an alias's key (compared
    normalised, the whole name first, then without its equipment suffix) is classified as the
    alias's target."""
    targets = {normalise(k): v for k, v in (aliases or {}).items()}
    return [classify_with(targets.get(normalise(n)) or targets.get(base_name(n)) or n, rules) for n in names]


def load_exercise_names(con: duckdb.DuckDBPyConnection, aliases: Mapping[str, str] | None = None,
                        table: Path | None = None) -> int:
    """(Re)build ``internal.exercise_names``: each distinct logged name in ``raw.strength_sets``
    with its canonical name, pattern and flags, from the table as it is now (read afresh: a
    long-running process sees an edit). A logged name that is a key of ``aliases``
    (``[exercise_aliases]``; compared normalised, with or without the name's trailing "(...)") is
    classified as its target. Returns the number of names."""
    rules = load_rules(table or TABLE_PATH)
    con.execute(f"CREATE OR REPLACE TABLE {EXERCISE_NAMES} (exercise_raw VARCHAR PRIMARY KEY, "
                "exercise VARCHAR NOT NULL, pattern VARCHAR NOT NULL, is_unilateral BOOLEAN NOT NULL, "
                "is_plyometric BOOLEAN NOT NULL, is_lower_body BOOLEAN NOT NULL)")
    has_sets = con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_schema = 'raw' AND table_name = 'strength_sets'").fetchone()
    if not has_sets or not has_sets[0]:  # a DB without the raw layout (a bare model project)
        return 0
    names = [r[0] for r in con.execute("SELECT DISTINCT exercise_raw FROM raw.strength_sets "
                                       "WHERE exercise_raw IS NOT NULL ORDER BY 1").fetchall()]
    if not names:
        return 0
    infos = classify_logged(names, aliases, rules)
    con.execute(f"INSERT INTO {EXERCISE_NAMES} SELECT unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), "
                "unnest(?)",
                [names, [i.canonical for i in infos], [i.pattern for i in infos], [i.is_unilateral for i in infos],
                 [i.is_plyometric for i in infos], [i.is_lower_body for i in infos]])
    return len(names)


class UnknownExercise(NamedTuple):
    """A logged exercise the table does not know (pattern ``other``), with its set count."""

    exercise: str  # normalised base name: what strength_sets.exercise shows, usable as an alias key
    sets: int
    logged_as: str  # the spellings as logged, " | "-separated


def unknown_exercises(con: duckdb.DuckDBPyConnection, aliases: Mapping[str, str] | None = None,
                      table: Path | None = None) -> list[UnknownExercise]:
    """Logged exercises of the kept sessions that the table as it is now does not know, after
    ``aliases``; most sets first. Reads ``main.strength_sets`` (empty before the first build), so it
    works read-only and shows the effect of a table or alias edit before the next build."""
    built = con.execute("SELECT count(*) FROM information_schema.tables "
                        "WHERE table_schema = 'main' AND table_name = 'strength_sets'").fetchone()
    if not built or not built[0]:
        return []
    counts = con.execute("SELECT exercise_raw, count(*) FROM main.strength_sets WHERE exercise_raw IS NOT NULL "
                         "GROUP BY 1 ORDER BY 1").fetchall()
    infos = classify_logged([r[0] for r in counts], aliases, load_rules(table or TABLE_PATH))
    sets: dict[str, int] = {}
    spellings: dict[str, list[str]] = {}
    for (raw, n), info in zip(counts, infos, strict=True):
        if info.pattern == UNKNOWN:
            sets[info.canonical] = sets.get(info.canonical, 0) + n
            spellings.setdefault(info.canonical, []).append(raw)
    return [UnknownExercise(name, n, " | ".join(spellings[name]))
            for name, n in sorted(sets.items(), key=lambda kv: (-kv[1], kv[0]))]


def unclassified_notice(con: duckdb.DuckDBPyConnection, config: Config) -> list[str]:
    """The build's one line about logged sets the exercise table could not classify (none when
    every set has a pattern)."""
    from pipeline.wording import plural

    unknown = unknown_exercises(con, config.exercise_aliases)
    if not unknown:
        return []
    sets = sum(u.sets for u in unknown)
    return [f"{plural(sets, 'logged set')} of {plural(len(unknown), 'exercise name')} "
            f"{'has' if sets == 1 else 'have'} no pattern in the exercise table; "
            "`runlift exercises --unknown` lists them (alias them in [exercise_aliases])"]

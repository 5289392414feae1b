"""Exercise names → canonical name + unilateral/plyometric flags, from a mapping table.

Strong, Hevy and FIT spell the same exercise differently ("Bulgarian Split Squat
(Dumbbell)", "bulgarian_split_squat"). :func:`classify` normalises a name and looks it up in
``exercise_map.csv`` (next to this module), a CSV with columns
``pattern,canonical,unilateral,plyometric``; ``#`` lines are comments.

Normalisation (syntax only, no exercise knowledge): lower case, ``_`` and ``-`` become
spaces, runs of spaces collapse. The *base* name also drops trailing parenthesised
qualifiers — Strong's and Hevy's equipment suffixes such as "(Barbell)" or "(Cable - Straight
Bar)".

Matching (all exercise knowledge lives in the table):
- ``pattern`` is a case-insensitive Python regex, searched (``re.search``);
- *name rows* have a ``canonical``: they are matched against the base name and the first
  matching one names the exercise, so the table lists specific rows before generic ones;
- *keyword rows* have an empty ``canonical``: they are matched against the whole normalised
  name (parenthesised text included, e.g. "Glute Bridge (Single Leg)") and only add flags;
- the flags are OR-ed over the naming row and every matching keyword row, so
  "Single-Leg Box Jump" is unilateral (keyword "single leg") and plyometric ("jump");
- a name no name row matches keeps its base name as canonical; with no keyword match either,
  both flags are False.

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

TABLE_PATH = Path(str(files("pipeline") / "exercise_map.csv"))
_SEPARATORS_RE = re.compile(r"[_\-\u2010-\u2015]+")
_SPACES_RE = re.compile(r"\s+")
_TRAILING_PARENS_RE = re.compile(r"\s*\([^()]*\)\s*$")


class ExerciseInfo(NamedTuple):
    canonical: str
    is_unilateral: bool
    is_plyometric: bool


class _Rule(NamedTuple):
    regex: re.Pattern[str]
    canonical: str  # "" for a keyword row
    unilateral: bool
    plyometric: bool


def _flag(value: str, line: int) -> bool:
    if value.strip() not in ("0", "1", ""):
        raise ValueError(f"exercise_map.csv line {line}: flag must be 0 or 1, got {value!r}")
    return value.strip() == "1"


def load_rules(path: Path = TABLE_PATH) -> tuple[_Rule, ...]:
    """Read and compile the table; a bad row is a ValueError naming its line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(line for _, line in numbered)
    rules = []
    for (number, _), row in zip(numbered[1:], reader, strict=True):
        try:
            regex = re.compile(row["pattern"], re.IGNORECASE)
        except re.error as err:
            raise ValueError(f"exercise_map.csv line {number}: bad pattern: {err}") from err
        flags = _flag(row["unilateral"], number), _flag(row["plyometric"], number)
        rules.append(_Rule(regex, normalise(row["canonical"] or ""), *flags))
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
    """Canonical lower-case name and flags for an exercise name as a source spells it."""
    return classify_with(name, _rules())


def classify_with(name: str, rules: tuple[_Rule, ...]) -> ExerciseInfo:
    """:func:`classify` against a given table (uncached)."""
    base = base_name(name)
    full = normalise(name.replace("(", " ").replace(")", " "))
    canonical = ""
    unilateral = plyometric = False
    for rule in rules:
        if rule.canonical:
            # Only the first matching name row counts: it is the most specific one.
            if canonical or not rule.regex.search(base):
                continue
            canonical = rule.canonical
        elif not rule.regex.search(full):
            continue
        unilateral |= rule.unilateral
        plyometric |= rule.plyometric
    return ExerciseInfo(canonical or base, unilateral, plyometric)


EXERCISE_NAMES = "internal.exercise_names"


def canonical_names(table: Path | None = None) -> set[str]:
    """Every canonical exercise name the table knows (what ``[exercise_aliases]`` may point at)."""
    return {r.canonical for r in load_rules(table or TABLE_PATH) if r.canonical}


def load_exercise_names(con: duckdb.DuckDBPyConnection, aliases: Mapping[str, str] | None = None,
                        table: Path | None = None) -> int:
    """(Re)build ``internal.exercise_names``: each distinct logged name in ``raw.strength_sets``
    with its canonical name and flags, from the table as it is now (read afresh: a long-running
    process sees an edit). A logged name that is a key of ``aliases`` (``[exercise_aliases]``;
    compared normalised, with or without the name's trailing "(...)") is classified as its
    target. Returns the number of names."""
    rules = load_rules(table or TABLE_PATH)
    targets = {normalise(k): v for k, v in (aliases or {}).items()}
    con.execute(f"CREATE OR REPLACE TABLE {EXERCISE_NAMES} (exercise_raw VARCHAR PRIMARY KEY, "
                "exercise VARCHAR NOT NULL, is_unilateral BOOLEAN NOT NULL, is_plyometric BOOLEAN NOT NULL)")
    has_sets = con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_schema = 'raw' AND table_name = 'strength_sets'").fetchone()
    if not has_sets or not has_sets[0]:  # a DB without the raw layout (a bare model project)
        return 0
    names = [r[0] for r in con.execute("SELECT DISTINCT exercise_raw FROM raw.strength_sets "
                                       "WHERE exercise_raw IS NOT NULL ORDER BY 1").fetchall()]
    if not names:
        return 0
    # the whole name first, then without its equipment suffix ("Bulgarian SS (Dumbbell)")
    infos = [classify_with(targets.get(normalise(n)) or targets.get(base_name(n)) or n, rules) for n in names]
    con.execute(f"INSERT INTO {EXERCISE_NAMES} SELECT unnest(?), unnest(?), unnest(?), unnest(?)",
                [names, [i.canonical for i in infos], [i.is_unilateral for i in infos],
                 [i.is_plyometric for i in infos]])
    return len(names)

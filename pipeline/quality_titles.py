"""Quality-run title keywords (SPEC Definitions, "Quality run", the title part).

A title is a quality title when it holds a quality term as a whole word and no easy term. The
terms live in one table, ``sql/seeds/quality_keywords.csv`` (its header explains the format); this
module turns it into two equivalent matchers:

- :func:`title_is_quality`, a Python matcher for code and tests;
- :func:`quality_regex` / :func:`easy_regex`, RE2 patterns for DuckDB's ``regexp_matches``.

The two engines differ where a pattern leans on shorthands (``\\b`` and ``\\d`` are ASCII-only
in RE2, Unicode in Python), so terms may not use them and the word boundary is spelled out per
engine: "not a letter or digit" is ``[^\\p{L}\\p{N}]`` in RE2 and ``[\\W_]`` in Python. Titles are
NFC-normalised on both sides (``nfc_normalize`` in DuckDB), so a decomposed "é" matches too.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pipeline.resources import sql_dir

Kind = Literal["quality", "easy"]
KINDS: tuple[Kind, ...] = ("quality", "easy")
LANGUAGES = ("any", "en", "de", "fr", "es", "nl")

# What a space inside a term stands for: any run of blanks or hyphens, or none ("warm-up", "warmup").
_SEPARATORS = r"[\t \xa0-]*"  # \t and \xa0 (no-break space) mean the same in both engines
# Python and RE2 spellings of "a character that is neither a letter nor a digit".
_RE2_NOT_WORD = r"[^\p{L}\p{N}]"
_PY_NOT_WORD = r"[\W_]"
# Syntax whose meaning differs between Python re and RE2, or that RE2 lacks.
_FORBIDDEN = re.compile(r"\\[dDwWsSbBpPAZ]|(?<!\\)\((?!\?:)")


def table_path() -> Path:
    return sql_dir() / "seeds" / "quality_keywords.csv"


@dataclass(frozen=True)
class Keyword:
    kind: Kind
    language: str
    case_sensitive: bool
    term: str  # as written in the table
    meaning: str

    @property
    def fragment(self) -> str:
        """The term as a regex fragment valid in both engines (spaces become separator runs)."""
        return self.term.replace(" ", _SEPARATORS)


def _parse_row(row: dict[str, str | None], line: int, name: str) -> Keyword:
    def field(key: str) -> str:
        return (row.get(key) or "").strip()

    kind, language, case, term = field("kind"), field("language"), field("case") or "i", field("term")
    where = f"{name} line {line}"
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be quality or easy, got {kind!r}")
    if language not in LANGUAGES:
        raise ValueError(f"{where}: language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    if case not in ("i", "s"):
        raise ValueError(f"{where}: case must be i or s, got {case!r}")
    if not term:
        raise ValueError(f"{where}: empty term")
    if bad := _FORBIDDEN.search(term):
        raise ValueError(f"{where}: '{bad.group()}' is not allowed in a term (see the header)")
    keyword = Keyword(kind, language, case == "s", term, field("meaning"))
    try:
        re.compile(keyword.fragment)
    except re.error as err:
        raise ValueError(f"{where}: bad term {term!r}: {err}") from err
    return keyword


def load_keywords(path: Path | None = None) -> tuple[Keyword, ...]:
    """The table's rows in file order; ``#`` lines are comments. A malformed row is a ValueError."""
    path = path or table_path()
    lines = path.read_text(encoding="utf-8").splitlines()
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    if not numbered:
        raise ValueError(f"{path.name}: no header")
    reader = csv.DictReader(line for _, line in numbered)
    missing = {"kind", "language", "case", "term"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"{path.name} line {numbered[0][0]}: missing columns {', '.join(sorted(missing))}")
    return tuple(_parse_row(row, numbered[n][0], path.name) for n, row in enumerate(reader, start=1))


def _alternation(keywords: tuple[Keyword, ...], kind: Kind) -> str:
    """One group over the kind's terms: case-insensitive ones under ``(?i:...)``, the rest as written."""
    chosen = [k for k in keywords if k.kind == kind]
    folded = "|".join(dict.fromkeys(k.fragment for k in chosen if not k.case_sensitive))
    exact = "|".join(dict.fromkeys(k.fragment for k in chosen if k.case_sensitive))
    parts = ([f"(?i:{folded})"] if folded else []) + ([f"(?:{exact})"] if exact else [])
    if not parts:
        raise ValueError(f"the keyword table has no {kind} term")
    return "|".join(parts)


Engine = Literal["re2", "python"]


def build_regex(keywords: tuple[Keyword, ...], kind: Kind, engine: Engine = "re2") -> str:
    """A pattern that finds any of the kind's terms as a whole word, spelled for ``engine``."""
    not_word = _RE2_NOT_WORD if engine == "re2" else _PY_NOT_WORD
    return f"(?:^|{not_word})(?:{_alternation(keywords, kind)})(?:$|{not_word})"


@cache
def _keywords() -> tuple[Keyword, ...]:
    return load_keywords()


@cache
def quality_regex() -> str:
    """RE2 pattern for DuckDB: true when a title (NFC) holds a quality term as a whole word."""
    return build_regex(_keywords(), "quality")


@cache
def easy_regex() -> str:
    """RE2 pattern for DuckDB: true when a title (NFC) holds an easy term as a whole word."""
    return build_regex(_keywords(), "easy")


@cache
def _python_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    keywords = _keywords()
    quality, easy = (re.compile(build_regex(keywords, kind, "python")) for kind in KINDS)
    return quality, easy


def normalise(title: str) -> str:
    return unicodedata.normalize("NFC", title)


def title_is_quality(title: str | None) -> bool:
    """A quality keyword as a whole word and no easy word (SPEC Definitions, "Quality run")."""
    if not title:
        return False
    quality, easy = _python_patterns()
    text = normalise(title)
    return quality.search(text) is not None and easy.search(text) is None


MACRO_NAME = "internal.is_quality_title"  # internal like the models that call it


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def macro_sql() -> str:
    """``CREATE OR REPLACE MACRO is_quality_title(title)``: the SQL twin of :func:`title_is_quality`.

    Not a temporary macro: views that call it keep working on other connections to the DB file.
    The patterns are literals, so DuckDB compiles each once per query.
    """
    text = "nfc_normalize(coalesce(title, ''))"
    return (
        f"CREATE OR REPLACE MACRO {MACRO_NAME}(title) AS "
        f"regexp_matches({text}, {_sql_string(quality_regex())}) "
        f"AND NOT regexp_matches({text}, {_sql_string(easy_regex())})"
    )

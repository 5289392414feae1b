"""How runlift writes counts, numbers, weeks and severities: one voice for the rules, the
report, the CLI and the flows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date

SEVERITIES = ("error", "warning", "info")  # most to least severe; the order every listing uses

_UNCOUNTABLE = frozenset({"info"})  # "2 info", not "2 infos"


def plural(n: int, word: str) -> str:
    """``"1 run"``, ``"3 runs"``; the last word takes the ``s`` (``"2 working sets"``)."""
    if n == 1 or word.rsplit(" ", 1)[-1] in _UNCOUNTABLE:
        return f"{n} {word}"
    return f"{n} {word}s"


def number(x: float) -> str:
    """A threshold as a runner reads it: 3, not 3.0; 1.5 stays 1.5."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def iso_week(day: date) -> str:
    """The ISO week of ``day`` written ``YYYY-Www`` (``2026-W07``)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def severity_counts(severities: Iterable[str]) -> dict[str, int]:
    """How many of each severity, keyed in :data:`SEVERITIES` order (zeros included)."""
    counts = Counter(severities)
    return {sev: counts.get(sev, 0) for sev in SEVERITIES}


def counts_text(counts: Mapping[str, int]) -> str:
    """``"3 errors, 6 warnings, 1 info"`` (most severe first, zeros left out); ``"no flags"``."""
    parts = [plural(counts[sev], sev) for sev in SEVERITIES if counts.get(sev, 0)]
    return ", ".join(parts) if parts else "no flags"

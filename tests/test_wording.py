"""The shared wording helpers: counts, thresholds, ISO weeks and the severity phrase."""

from datetime import date

from pipeline.wording import SEVERITIES, counts_text, iso_week, number, plural, severity_counts


def test_plural_takes_the_s_on_the_last_word_and_not_on_info():
    assert [plural(1, "run"), plural(0, "run"), plural(3, "working set")] == ["1 run", "0 runs", "3 working sets"]
    assert [plural(1, "info"), plural(2, "info"), plural(2, "info note")] == ["1 info", "2 info", "2 info notes"]


def test_number_drops_a_zero_fraction_only():
    assert [number(3), number(3.0), number(1.5), number(0.25)] == ["3", "3", "1.5", "0.25"]


def test_iso_week_uses_the_iso_year_at_year_ends():
    assert iso_week(date(2026, 2, 9)) == "2026-W07"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"  # a Friday: the last week of the ISO year 2026
    assert iso_week(date(2024, 12, 30)) == "2025-W01"  # a Monday: the first week of the ISO year 2025


def test_counts_are_keyed_and_phrased_most_severe_first():
    counts = severity_counts(["info", "warning", "error", "warning", "error", "error"])
    assert list(counts.items()) == [("error", 3), ("warning", 2), ("info", 1)]
    assert counts_text(counts) == "3 errors, 2 warnings, 1 info"
    assert counts_text(severity_counts(["warning"])) == "1 warning"
    assert counts_text(severity_counts([])) == "no flags"
    assert SEVERITIES == ("error", "warning", "info")

"""Quality-run titles (SPEC Definitions, "Quality run", title part): the keyword table, the Python
matcher and the DuckDB (RE2) regexes built from it, which must agree on every title."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import duckdb
import pytest

from pipeline import quality_titles
from pipeline.quality_titles import build_regex, easy_regex, load_keywords, macro_sql, quality_regex, title_is_quality

# (title, is a quality title). Real-world style titles in the five languages.
TITLES: list[tuple[str, bool]] = [
    # the cases: no word boundaries made the first three quality and missed the last two
    ("Easy loop around the racetrack", False),
    ("Back on track after the flu", False),
    ("Recovery jog post-race", False),
    ("Hill sprints", True),
    ("Parkrun", True),
    ("Parkrun PB", True),
    # English
    ("6x800m", True),
    ("6 x 800", True),
    ("10×400", True),
    ("Track session: 5 X 1000m @ 5k pace", True),
    ("Tuesday track workout", True),
    ("Track & field meet spectating", False),
    ("Cruise intervals", True),
    ("Threshold Thursday", True),
    ("Hill repeats on Box Hill", True),
    ("VO2max", True),
    ("VO2 max session", True),
    ("Yasso 800s", True),
    ("Ladder 400-800-1200", True),
    ("Progression run", True),
    ("Speed work at the park", True),
    ("2 x 3 mi @ LT", True),
    ("LT2 efforts", True),
    ("Salt flats run", False),
    ("Last mile alt route", False),
    ("Race day!", True),
    ("Easy + strides", False),
    ("Warm-up", False),
    ("Cool down", False),
    ("Shakeout before the race", False),
    ("Tempo with warm-up and cool-down", False),
    ("Morning Run", False),
    ("Long run with friends", False),
    ("Hillside trail", False),
    ("Temporary detour", False),
    ("Trackless wilderness", False),
    ("Run_tempo", True),
    # German
    ("Intervalltraining 5x1000", True),
    ("Tempo-Dauerlauf", True),
    ("Tempodauerlauf 8 km", True),
    ("Schwellenlauf", True),
    ("Fahrtspiel im Wald", True),
    ("Bergläufe am Kahlenberg", True),
    ("BERGSPRINTS", True),
    ("Wettkampf: Stadtlauf", True),
    ("Lockerer Dauerlauf", False),
    ("Dauerlauf", False),
    ("Regenerationslauf", False),
    ("Ruhiger Lauf mit Steigerungen", False),
    ("Einlaufen vor dem Wettkampf", False),
    # French
    ("Sortie fractionné 10x400", True),
    ("Fractionne 30/30", True),
    ("Séance seuil 3x10'", True),
    ("Côtes à Meudon", True),
    ("VMA courte", True),
    ("Allure spécifique marathon", True),
    ("Course à pied le matin", False),
    ("Footing + lignes droites", False),
    ("Récup après la compétition", False),
    ("Footing EF", False),
    ("Sortie tranquille au bord de la côte", False),
    ("Sortie au bord de la côte", False),
    # Spanish
    ("Series 6x1000", True),
    ("Umbral en la pista", True),
    ("Cuestas en el Retiro", True),
    ("Fartlek", True),
    ("Ritmo maratón", True),
    ("Rodaje suave", False),
    ("Carrera matutina", False),
    ("Recuperación", False),
    ("Rodaje + 6 rectas", False),
    ("Trote regenerativo", False),
    # Dutch
    ("Intervallen op de baan", True),
    ("Drempeltraining", True),
    ("Heuveltraining", True),
    ("Wedstrijd 10 km", True),
    ("Tempoloop", True),
    ("Rustige duurloop", False),
    ("Herstelloop", False),
    ("Duurloop met versnellingen", False),
    ("Rennen in het park", False),
    ("Uitlopen", False),
    # unicode, punctuation, empty
    (unicodedata.normalize("NFD", "Séance fractionnée"), True),  # decomposed é
    ("VO₂max", True),
    ("🏃 Intervals 🔥", True),
    ("(race)", True),
    ("Tempo\u00a0run", True),
    ("", False),
    # everyday titles (Strava's automatic ones and the like) carry no keyword
    ("Afternoon Run", False),
    ("Lunch run by the canal", False),
    ("Commute home", False),
    ("Run with the dog", False),
    ("Sunday long run", False),
    ("Laufen am Abend", False),
    ("Lauf im Regen", False),
    ("Course à pied matinale", False),
    ("Carrera por la tarde", False),
    ("Ochtendloop", False),
    ("Avondloop in het bos", False),
    ("   ", False),
]


def test_title_cases_are_balanced() -> None:
    expected = [is_quality for _, is_quality in TITLES]
    assert len(TITLES) >= 40
    assert len({t for t, _ in TITLES}) == len(TITLES)
    assert abs(expected.count(True) - expected.count(False)) <= 10


@pytest.mark.parametrize(("title", "expected"), TITLES, ids=[t or "<empty>" for t, _ in TITLES])
def test_python_matcher(title: str, expected: bool) -> None:
    assert title_is_quality(title) is expected


def test_none_title_is_not_quality() -> None:
    assert title_is_quality(None) is False


def test_duckdb_regexes_agree_with_python_matcher() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE titles (title VARCHAR)")
    con.executemany("INSERT INTO titles VALUES (?)", [[t] for t, _ in TITLES] + [[None]])
    rows = con.execute(
        "SELECT title, regexp_matches(nfc_normalize(coalesce(title, '')), ?) "
        "AND NOT regexp_matches(nfc_normalize(coalesce(title, '')), ?) FROM titles",
        [quality_regex(), easy_regex()],
    ).fetchall()
    assert len(rows) == len(TITLES) + 1
    assert {title: got for title, got in rows} == {title: title_is_quality(title) for title, _ in rows}
    assert {title: got for title, got in rows if title is not None} == dict(TITLES)


def test_macro_matches_python_matcher() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA internal")
    con.execute(macro_sql())
    for title, expected in [*TITLES, (None, False)]:
        got = con.execute("SELECT internal.is_quality_title(?)", [title]).fetchone()
        assert got == (expected,), title


def test_every_term_matches_alone_and_not_inside_a_word() -> None:
    """Each term, on its own, matches in both engines, and its boundary holds on both sides (Unicode too)."""
    con = duckdb.connect()
    samples = {
        "LT[12]?": "LT", "EF": "EF", "v[o0][2₂](?: max)?": "VO2", "(?:15|30|45|60) / (?:15|30)": "30/30",
        "[0-9]+ [x×] [0-9]+(?:[.][0-9]+)?(?:m|km|k|mi|min|mins|mn|s|sec)?": "6x800m",
    }
    for keyword in load_keywords():
        word = samples.get(keyword.term) or _simplest_text(keyword.term)
        re2 = build_regex((keyword,), keyword.kind)
        python = re.compile(build_regex((keyword,), keyword.kind, "python"))
        for text, expected in [(word, True), (f"({word}!", True), (f"é{word}", False), (f"{word}ß", False),
                               (f"{word}9", False), (f"_{word}_", True)]:
            assert con.execute("SELECT regexp_matches(?, ?)", [text, re2]).fetchone() == (expected,), text
            assert (python.search(text) is not None) is expected, text


def _simplest_text(term: str) -> str:
    """A text a plain term matches: optional parts dropped, first alternative and class member kept."""
    text = term
    while True:  # innermost groups first: (?:a|b)? -> "", (?:a|b) -> a
        reduced = re.sub(r"\(\?:([^()]*)\)(\?)?", lambda m: "" if m.group(2) else m.group(1).split("|")[0], text)
        if reduced == text:
            break
        text = reduced
    text = re.sub(r".\?", "", text)  # x? -> ""
    text = re.sub(r"\[(.)[^\]]*\]", r"\1", text)  # [ée] -> é
    assert not set(text) & set("()[]?|*+\\"), (term, text)
    return text


def _table(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "quality_keywords.csv"
    path.write_text("# comment\nkind,language,case,term,meaning\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("fast,en,i,tempo,", "line 3: kind must be quality or easy, got 'fast'"),
        ("quality,it,i,ripetute,", "line 3: language must be one of any, en, de, fr, es, nl, got 'it'"),
        ("quality,en,x,tempo,", "line 3: case must be i or s, got 'x'"),
        ("quality,en,i,,", "line 3: empty term"),
        (r"quality,en,i,\d+ x \d+,", r"line 3: '\d' is not allowed in a term"),
        ("quality,en,i,race(?!track),", "line 3: '(' is not allowed in a term"),
        ("quality,en,i,(tempo),", "line 3: '(' is not allowed in a term"),
        ("quality,en,i,tempo[,", "line 3: bad term 'tempo['"),
    ],
)
def test_malformed_rows_name_their_line(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape("quality_keywords.csv " + message)):
        load_keywords(_table(tmp_path, row))


def test_table_loads_from_sql_dir_and_covers_five_languages() -> None:
    keywords = load_keywords()
    assert quality_titles.table_path().parent.name == "seeds"
    for language in ("en", "de", "fr", "es", "nl"):
        assert {k.kind for k in keywords if k.language == language} == {"quality", "easy"}, language

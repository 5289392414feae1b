"""The exercise table v2: movement patterns for the names Strong, Hevy and FIT log, the table's
own checks, and the share of real logged sets it classifies (docs/exercises.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline import exercises
from pipeline.exercises import LOWER_BODY_PATTERNS, PATTERNS, classify, classify_with, load_rules, table_exercises
from pipeline.parsers.fit_profile import UNKNOWN_CATEGORY, exercise_name
from pipeline.parsers.fit_profile_data import EXERCISE_CATEGORIES, EXERCISE_NAMES
from pipeline.parsers.records import ParseContext
from tests.conftest import CORPUS, corpus_rows

NAMES = Path(__file__).resolve().parent / "fixtures" / "exercise_names"


def _names(file: str) -> list[str]:
    lines = (NAMES / file).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


# (logged name, canonical, pattern, unilateral, plyometric)
SAMPLE = [
    # squat / hinge: bilateral lifts keep their own canonical name
    ("Squat (Barbell)", "back squat", "squat", False, False),
    ("Front Squat (Barbell)", "front squat", "squat", False, False),
    ("Goblet Squat (Kettlebell)", "goblet squat", "squat", False, False),
    ("Leg Press", "leg press", "squat", False, False),
    ("Leg Extension (Machine)", "leg extension", "squat", False, False),
    ("Deadlift (Barbell)", "deadlift", "hinge", False, False),
    ("Romanian Deadlift (Barbell)", "romanian deadlift", "hinge", False, False),
    ("Romanian Deadlift (Dumbbell)", "romanian deadlift", "hinge", False, False),
    ("Hip Thrust (Barbell)", "hip thrust", "hinge", False, False),
    ("Glute Bridge", "glute bridge", "hinge", False, False),
    ("Good Morning (Barbell)", "good morning", "hinge", False, False),
    ("Kettlebell Swing", "kettlebell swing", "hinge", False, False),
    ("Lying Leg Curl (Machine)", "lying leg curl", "hinge", False, False),
    ("Nordic Hamstrings Curls", "nordic curl", "hinge", False, False),
    ("Back Extension (Hyperextension)", "back extension", "hinge", False, False),
    ("Power Clean", "power clean", "hinge", False, False),
    # single-leg vs bilateral: a single-leg hinge stays a hinge, a single-leg calf raise a calf raise
    ("Bulgarian Split Squat", "bulgarian split squat", "single_leg", True, False),
    ("Split Squat (Dumbbell)", "split squat", "single_leg", True, False),
    ("Step-up", "step up", "single_leg", True, False),
    ("Step Up (Dumbbell)", "step up", "single_leg", True, False),
    ("Lunge (Dumbbell)", "lunge", "single_leg", True, False),
    ("Walking Lunge (Dumbbell)", "walking lunge", "single_leg", True, False),
    ("Pistol Squat", "pistol squat", "single_leg", True, False),
    ("Single Leg Press (Machine)", "single leg press", "single_leg", True, False),
    ("Single Leg Romanian Deadlift (Dumbbell)", "single leg deadlift", "hinge", True, False),
    ("Single Leg Hip Thrust (Dumbbell)", "single leg hip thrust", "hinge", True, False),
    ("Single Leg Bridge", "single leg glute bridge", "hinge", True, False),
    ("Single Leg Extensions", "single leg extensions", "squat", True, False),
    ("Single Leg Standing Calf Raise (Dumbbell)", "single leg standing calf raise", "calf", True, False),
    # calves
    ("Standing Calf Raise (Machine)", "calf raise", "calf", False, False),
    ("Seated Calf Raise (Plate Loaded)", "seated calf raise", "calf", False, False),
    ("Calf Press on Leg Press", "calf press on leg press", "calf", False, False),
    # plyometrics: jumps and hops; a jump rope and jumping jacks are cardio
    ("Box Jump", "box jump", "plyometric", False, True),
    ("Drop Jump", "drop jump", "plyometric", False, True),
    ("Depth Jump", "depth jump", "plyometric", False, True),
    ("Jump Squat", "jump squat", "plyometric", False, True),
    ("Jumping Lunge", "split jump", "plyometric", True, True),
    ("Single Leg Box Jump", "box jump", "plyometric", True, True),
    ("Lateral Bounds", "lateral bound", "plyometric", True, True),
    ("Pogo Hops", "pogo jump", "plyometric", False, True),
    ("Jump Rope", "jump rope", "cardio", False, False),
    ("Jumping Jack", "jumping jack", "cardio", False, False),
    # core, carry, mobility, cardio
    ("Plank", "plank", "core", False, False),
    ("Side Plank", "side plank", "core", False, False),
    ("Hanging Leg Raise", "hanging leg raise", "core", False, False),
    ("Hip Abduction (Machine)", "hip abduction", "core", False, False),
    ("Farmers Walk", "farmers walk", "carry", False, False),
    ("Farmer's Walk (Dumbbell)", "farmers walk", "carry", False, False),
    ("Suitcase Carry", "suitcase carry", "carry", True, False),
    ("Couch Stretch", "couch stretch", "mobility", False, False),
    ("90/90 Hip", "90 90 hip", "mobility", False, False),
    ("90/90 Hip Switch", "90 90 hip", "mobility", False, False),
    ("Stretching", "stretching", "mobility", False, False),
    ("Foam Rolling", "foam rolling", "mobility", False, False),
    ("Hip Flexor Stretch", "hip flexor stretch", "mobility", False, False),
    ("Yoga", "yoga", "mobility", False, False),
    ("Treadmill", "treadmill", "cardio", False, False),
    ("Rowing (Machine)", "rowing machine", "cardio", False, False),
    ("Cycling (Indoor)", "cycling", "cardio", False, False),
    ("Burpee", "burpee", "cardio", False, False),
    # upper body: presses, rows, pulls
    ("Bench Press (Barbell)", "bench press", "upper", False, False),
    ("Overhead Press (Barbell)", "overhead press", "upper", False, False),
    ("Bent Over Row (Barbell)", "bent over row", "upper", False, False),
    ("Bent Over One Arm Row (Dumbbell)", "bent over one arm row", "upper", True, False),
    ("Lat Pulldown (Cable)", "lat pulldown", "upper", False, False),
    ("Pull Up (Assisted)", "pull up", "upper", False, False),
    ("Triceps Pushdown (Cable - Straight Bar)", "triceps pushdown", "upper", False, False),
    ("Bicep Curl (Dumbbell)", "bicep curl", "upper", False, False),
    ("Clap Push Ups", "clap push ups", "upper", False, False),
    ("Split Jerk (Barbell)", "split jerk", "upper", False, False),
    # FIT spellings
    ("barbell_back_squat", "back squat", "squat", False, False),
    ("single_leg_deadlift", "single leg deadlift", "hinge", True, False),
    ("Stretch Lunge with Spinal Twist", "stretch lunge with spinal twist", "mobility", True, False),
    # unknown: its normalised base name, pattern other
    ("Gorilla Stomp (Dumbbell)", "gorilla stomp", "other", False, False),
]


@pytest.mark.parametrize(("name", "canonical", "pattern", "unilateral", "plyometric"), SAMPLE)
def test_sample_names(name: str, canonical: str, pattern: str, unilateral: bool, plyometric: bool) -> None:
    info = classify(name)
    assert (info.canonical, info.pattern, info.is_unilateral, info.is_plyometric) == (
        canonical, pattern, unilateral, plyometric)
    assert info.is_lower_body == (pattern in LOWER_BODY_PATTERNS)


@pytest.mark.parametrize("file", ["strong.txt", "hevy.txt", "common.txt"])
def test_every_library_name_has_a_pattern(file: str) -> None:
    names = _names(file)
    assert len(names) > 140
    assert [n for n in names if classify(n).pattern == "other"] == []


def test_the_libraries_cover_every_pattern_but_other() -> None:
    seen = Counter(classify(n).pattern for f in ("strong.txt", "hevy.txt", "common.txt") for n in _names(f))
    assert set(seen) == set(PATTERNS) - {"other"}


def _fit_names() -> list[tuple[str, str]]:
    """(category, readable name) for every FIT category and every subtype of the profile."""
    out = [(cat, exercise_name(number, None)) for number, cat in EXERCISE_CATEGORIES.items()
           if number != UNKNOWN_CATEGORY]
    out += [(EXERCISE_CATEGORIES[c], exercise_name(c, s)) for c, subtypes in EXERCISE_NAMES.items() for s in subtypes]
    return out


# FIT category names that name equipment or the whole body, not a movement: a set logged with only
# such a category could be anything, so the table leaves it `other` rather than guess a pattern
# that changes the lower-body counts.
FIT_CATEGORIES_WITHOUT_PATTERN = ["Total Body", "Banded Exercises", "Sandbag", "Suspension"]


def test_every_fit_category_and_subtype_has_a_pattern() -> None:
    names = _fit_names()
    assert len(names) > 1800
    unknown = [name for _, name in names if classify(name).pattern == "other"]
    assert unknown == FIT_CATEGORIES_WITHOUT_PATTERN


# FIT categories whose exercises share one pattern; the share of names that land on it. The
# rest are the profile's own odd entries (a "Single Leg Decline Push Up" in calf_raise), other
# patterns by our definitions (squat holds step-ups, split squats and squat snatches; plyo holds
# medicine-ball throws and knee strikes) or combinations ("Barbell Front Squat to Push Press").
FIT_CATEGORY_PATTERN = {
    "bench_press": "upper", "calf_raise": "calf", "curl": "upper", "deadlift": "hinge", "flye": "upper",
    "hip_raise": "hinge", "leg_curl": "hinge", "lunge": "single_leg", "plank": "core", "plyo": "plyometric",
    "pull_up": "upper", "push_up": "upper", "row": "upper", "shoulder_press": "upper", "squat": "squat",
    "sit_up": "core", "crunch": "core", "triceps_extension": "upper", "pose": "mobility", "warm_up": "mobility",
    "shoulder_stability": "upper", "lateral_raise": "upper", "shrug": "upper", "carry": "carry", "cardio": "cardio",
}


def test_fit_categories_mostly_land_on_their_pattern() -> None:
    by_category: dict[str, Counter[bool]] = {}
    for cat, name in _fit_names():
        if cat in FIT_CATEGORY_PATTERN:
            by_category.setdefault(cat, Counter())[classify(name).pattern == FIT_CATEGORY_PATTERN[cat]] += 1
    shares = {cat: c[True] / (c[True] + c[False]) for cat, c in by_category.items()}
    assert {cat: round(share, 2) for cat, share in shares.items() if share < 0.65} == {}
    assert sum(c[True] for c in by_category.values()) / sum(sum(c.values()) for c in by_category.values()) > 0.9


def test_lower_body_and_plyometric_follow_the_pattern() -> None:
    for exercise in table_exercises():
        assert exercise.is_lower_body == (exercise.pattern in LOWER_BODY_PATTERNS)
        assert exercise.is_plyometric == (exercise.pattern == "plyometric")
    assert {"squat", "hinge", "single_leg", "calf", "plyometric"} == LOWER_BODY_PATTERNS


def test_table_listing_has_one_row_per_canonical_name() -> None:
    listed = table_exercises()
    assert [e.name for e in listed] == sorted(exercises.canonical_names())
    by_name = {e.name: e for e in listed}
    assert by_name["bulgarian split squat"][1:] == ("single_leg", True, False, True)
    assert by_name["box jump"][1:] == ("plyometric", False, True, True)
    assert by_name["couch stretch"][1:] == ("mobility", False, False, False)


def _table(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "exercise_map.csv"
    path.write_text("# comment\nmatch,canonical,pattern,unilateral\n" + rows, encoding="utf-8")
    return path


def test_keyword_rows_give_a_fallback_pattern_and_name_rows_win(tmp_path: Path) -> None:
    rules = load_rules(_table(tmp_path, "\\bsquats?\\b,,squat,0\n\\bzercher\\b,,hinge,1\n"
                                        "^front squat$,front squat,squat,0\n"))
    # first matching keyword row with a pattern; unilateral OR-ed over every matching row
    assert tuple(classify_with("Zercher Squat (Barbell)", rules)) == ("zercher squat", True, False, "squat", True)
    assert classify_with("Zercher Carry", rules).pattern == "hinge"
    assert classify_with("Front Squat (Barbell)", rules)[:1] == ("front squat",)
    assert classify_with("Gorilla Stomp", rules).pattern == "other"


@pytest.mark.parametrize(("rows", "message"), [
    ("squat,back squat,squats,0\n", "line 3: pattern must be one of squat, hinge"),
    ("squat,back squat,other,0\n", "line 3: pattern must be one of"),
    ("squat,back squat,,0\n", "line 3: a row with a canonical name needs a pattern"),
    ("squat,back squat,squat,0\n^squat$,back squat,hinge,0\n", "line 4: 'back squat' has another pattern or "
                                                               "unilateral flag on line 3"),
    ("(squat,back squat,squat,0\n", "line 3: bad match regex"),
    ("squat,back squat,squat,2\n", "line 3: flag must be 0 or 1"),
])
def test_a_bad_row_is_an_error_naming_its_line(tmp_path: Path, rows: str, message: str) -> None:
    with pytest.raises(ValueError, match="exercise_map.csv " + message.replace("(", r"\(")):
        load_rules(_table(tmp_path, rows))


def test_a_v1_table_is_an_error_naming_the_missing_columns(tmp_path: Path) -> None:
    old = tmp_path / "exercise_map.csv"
    old.write_text("pattern,canonical,unilateral,plyometric\nsquat,squat,0,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="exercise_map.csv line 1: header lacks match"):
        load_rules(old)


# --- the real strength logs of the corpus ----------------------------------------------------

# Logged names the table cannot classify, with why. FIT sets whose watch recorded no exercise
# category are named "Unknown": no table can know what they were (the user can alias "Unknown"
# when they always do one exercise).
CORPUS_RESIDUE = {"unknown"}


def _corpus_sets() -> Counter[str]:
    from pipeline.parsers import fit, strong

    ctx = ParseContext(timezone="Europe/Berlin", strong_weight_unit="lb")
    logged: Counter[str] = Counter()
    for row in corpus_rows():
        if row["kind"] != "valid" or row["format"] not in ("strong_csv", "fit"):
            continue
        data = (CORPUS / row["file"]).read_bytes()
        parse = strong.parse if row["format"] == "strong_csv" else fit.parse
        for session in parse(data, row["file"], ctx).sessions:
            logged.update(s.exercise for s in session.sets)
    return logged


@pytest.mark.skipif(not corpus_rows(), reason="shared corpus not present")
def test_real_logged_sets_are_classified() -> None:
    logged = _corpus_sets()
    assert sum(logged.values()) > 3900  # two Strong exports and the FIT strength files
    unknown = {n: c for n, c in logged.items() if classify(n).pattern == "other"}
    assert {classify(n).canonical for n in unknown} == CORPUS_RESIDUE
    assert sum(unknown.values()) / sum(logged.values()) < 0.01

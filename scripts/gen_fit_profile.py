"""Generate pipeline/parsers/fit_profile_data.py: FIT profile names keyed by raw number.

The source is the profile fit-tool ships (``fit_tool.profile.profile_type``, FIT SDK profile
21.212), not fitparse's: fitparse 1.2.0 bundles SDK profile 20.8, which stops at exercise
category 32 and sport 48 (no volleyball, HIIT, padel ...). tests/test_ingest_fit.py checks
that every name fitparse's older profile knows means the same number here, and that running
this script reproduces the committed module byte for byte.

Usage: ``.venv/bin/python scripts/gen_fit_profile.py [OUT_FILE]``.
"""

from __future__ import annotations

import enum
import re
import sys
from importlib import metadata
from pathlib import Path

from fit_tool.profile import profile_type
from fit_tool.profile.field_catalog import PROFILE_SDK_VERSION

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "pipeline" / "parsers" / "fit_profile_data.py"
LINE = 120


def snake(member: str) -> str:
    """fit-tool's member name back to the profile's: ``N3_WAY_CALF_RAISE`` -> ``3_way_calf_raise``."""
    name = member.lower()
    return name[1:] if re.fullmatch(r"n\d.*", name) else name


def values(enum_type: type[enum.Enum]) -> dict[int, str]:
    """Number -> profile name (iterating an Enum skips aliases: the first name of a number wins)."""
    return {int(m.value): snake(m.name) for m in enum_type}


def _class_name(profile_name: str) -> str:
    return "".join(part.capitalize() for part in profile_name.split("_"))


def exercise_tables() -> tuple[dict[int, str], dict[int, tuple[str, dict[int, str]]]]:
    categories = values(profile_type.ExerciseCategory)
    names: dict[int, tuple[str, dict[int, str]]] = {}
    for number, category in categories.items():
        type_name = f"{category}_exercise_name"
        enum_type = getattr(profile_type, _class_name(type_name), None)
        if enum_type is not None:
            names[number] = (type_name, values(enum_type))
    return categories, names


def _dict_lines(table: dict[int, str], indent: int) -> list[str]:
    """``key: "value",`` items packed into lines of at most LINE characters."""
    pad = " " * indent
    lines: list[str] = []
    current = ""
    for key, value in sorted(table.items()):
        item = f'{key}: "{value}",'
        candidate = f"{current} {item}" if current else item
        if current and len(pad) + len(candidate) > LINE:
            lines.append(pad + current)
            candidate = item
        current = candidate
    if current:
        lines.append(pad + current)
    return lines


def render() -> str:
    categories, names = exercise_tables()
    out = [
        f'"""FIT profile names by raw number: generated from FIT SDK profile {PROFILE_SDK_VERSION}.',
        "",
        f"DO NOT EDIT: written by scripts/gen_fit_profile.py from fit-tool {metadata.version('fit-tool')}'s",
        "fit_tool.profile.profile_type; change the generator or the profile and run it again.",
        '"""',
        "",
        "# fmt: off",
        f'PROFILE_VERSION = "{PROFILE_SDK_VERSION}"',
        "",
        "EXERCISE_CATEGORIES: dict[int, str] = {",
        *_dict_lines(categories, 4),
        "}",
        "",
        "# category -> {category_subtype -> exercise name}, from the profile's <category>_exercise_name types",
        "EXERCISE_NAMES: dict[int, dict[int, str]] = {",
    ]
    for number, (type_name, table) in sorted(names.items()):
        out.append(f"    {number}: {{  # {type_name}")
        out += _dict_lines(table, 8)
        out.append("    },")
    out += [
        "}",
        "",
        "SPORT_NAMES: dict[int, str] = {",
        *_dict_lines(values(profile_type.Sport), 4),
        "}",
        "",
        "SUB_SPORT_NAMES: dict[int, str] = {",
        *_dict_lines(values(profile_type.SubSport), 4),
        "}",
    ]
    return "\n".join(out) + "\n"


def main(out: Path = DEFAULT_OUT) -> None:
    out.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)

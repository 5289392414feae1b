"""The README's CLI reference cannot drift from the CLI: every command and option the typer app
has is documented there, and nothing documented is missing from the app (as sqlite-utils does)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from pipeline.app.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def _reference() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## CLI reference")
    return text[start : text.index("\n## ", start + 1)]


def _commands() -> dict[str, Any]:
    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_every_command_and_option_is_in_the_readme() -> None:
    reference = _reference()
    missing = []
    for name, command in _commands().items():
        row = next((line for line in reference.splitlines() if line.startswith(f"| `runlift {name}")), None)
        if row is None:
            missing.append(f"runlift {name}")
            continue
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help" and opt not in row:
                    missing.append(f"runlift {name} {opt}")
    group = typer.main.get_command(app)
    for param in group.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help" and f"`{opt}" not in reference:
                missing.append(opt)
    assert missing == []


def test_the_readme_documents_no_command_the_cli_lacks() -> None:
    documented = set(re.findall(r"^\| `runlift (\w+)", _reference(), flags=re.M))
    assert documented == set(_commands())


def test_help_shows_flags_as_flags_and_keeps_brackets() -> None:
    from typer.testing import CliRunner

    text = CliRunner().invoke(app, ["report", "--help"]).output
    assert re.search(r"^\s+--send\s+E-mail it", text, flags=re.M)  # a flag, no "<bool>" after it
    assert "<bool>" not in text
    assert "[report] out" in text  # help text is not read as markup


def test_the_readme_views_table_lists_every_column_of_every_view() -> None:
    """The views table of README.md names each mart's columns exactly as its yml does (the yml is
    what ``runlift models NAME`` prints and what DuckDB's COMMENTs carry)."""
    from pipeline.models import discover
    from pipeline.resources import sql_dir

    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Views an analyst queries"):text.index("## Rules")]
    listed = {m[1]: m[2].replace(" (JSON)", "").split(", ")
              for m in re.finditer(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", section, re.MULTILINE)}
    marts = {m.name: [c["name"] for c in m.columns] for m in discover(sql_dir()) if m.layer == "marts"}
    assert {name: listed.get(name) for name in marts} == marts

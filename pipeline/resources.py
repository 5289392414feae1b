"""Where runlift's own files are: the SQL models and the sample data.

In a checkout they are the repository's ``sql/`` and ``sample_data/``; an installed wheel
carries the same folders inside the package as ``pipeline/_data/`` (``pyproject.toml``,
``[tool.hatch.build.targets.wheel.sources]``), found through :mod:`importlib.resources`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _data_dir(name: str) -> Path:
    packaged = Path(str(files("pipeline") / "_data" / name))
    return packaged if packaged.is_dir() else _CHECKOUT / name


def sql_dir() -> Path:
    """The SQL models, ``staging/``, ``intermediate/`` and ``marts/``."""
    return _data_dir("sql")


def sample_dir() -> Path:
    """The generated sample athlete that ``runlift demo`` ingests."""
    return _data_dir("sample_data")

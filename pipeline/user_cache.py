"""runlift's files in the user's cache folder (``$XDG_CACHE_HOME/runlift``, else
``~/.cache/runlift``): results that are slow to compute and change only with runlift's code or the
installed DuckDB, kept between processes. A cache that cannot be read or written only costs the
computation: reading and writing never fail."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def cache_file(name: str) -> Path | None:
    """The cache file ``name``; None when there is no usable cache folder (no absolute home)."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(home) / "runlift" / name if os.path.isabs(home) else None


def read_cached(path: Path | None) -> str | None:
    if path is None:
        return None
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return path.read_text(encoding="utf-8")
    return None


def write_cached(path: Path | None, text: str) -> None:
    """Write ``text`` whole or not at all, whichever process writes it (a read-only home: not kept)."""
    if path is None:
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.part")
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)

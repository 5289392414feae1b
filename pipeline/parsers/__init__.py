"""The parsers, one module per format, behind one facade: :func:`detect_format` and :func:`parse`.

Format detection looks at the name first and the first bytes second, so a FIT file called
``export_123`` still loads. Every parser module has ``parse(data, name, ctx) -> ParseResult``;
:data:`PARSERS` lists them all. Each is imported on first use, so a worker process only pays
for the parsers it runs.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.parsers.records import NotAnActivity, ParseContext, ParseResult, QuarantineError

Parser = Callable[[bytes, str, ParseContext], ParseResult]


def _fit(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    from pipeline.parsers import fit

    return fit.parse(data, name, ctx)


def _gpx(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    from pipeline.parsers import gpx

    return gpx.parse(data, name, ctx)


def _tcx(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    from pipeline.parsers import tcx

    return tcx.parse(data, name, ctx)


def _strong(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    from pipeline.parsers import strong

    return strong.parse(data, name, ctx)


def _hevy(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    from pipeline.parsers import hevy

    return hevy.parse(data, name, ctx)


def _simple_csv(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    from pipeline.parsers import simple_csv

    return simple_csv.parse(data, name, ctx)


PARSERS: dict[str, Parser] = {  # keyed by Format
    "fit": _fit,
    "gpx": _gpx,
    "tcx": _tcx,
    "strong_csv": _strong,
    "hevy_csv": _hevy,
    "simple_csv": _simple_csv,
}
_EXTENSIONS = {".fit": "fit", ".gpx": "gpx", ".tcx": "tcx", ".csv": "csv"}


def _looks_like_fit(head: bytes) -> bool:
    return len(head) >= 12 and head[8:12] == b".FIT"


def detect_format(name: str, head: bytes) -> str | None:
    """A :data:`Format`, ``"csv"`` for a CSV whose head names no known log (the whole file
    decides in :func:`parse`), or None for files runlift does not read."""
    lower = name.lower()
    ext = lower[lower.rfind(".") :] if "." in lower else ""
    kind = _EXTENSIONS.get(ext)
    if kind is None:
        if _looks_like_fit(head):
            return "fit"
        text = head[:2048].lower()
        if b"<gpx" in text:
            return "gpx"
        if b"<trainingcenterdatabase" in text:
            return "tcx"
        return None
    if kind == "csv":
        from pipeline.parsers.csv_common import sniff

        return sniff(head) or "csv"
    return kind


def printable_name(name: str, limit: int = 60) -> str:
    """A member's base name for a reason: bounded, no control characters."""
    clean = "".join(c if c.isprintable() else "?" for c in name)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def parse(data: bytes, name: str, fmt: str, ctx: ParseContext) -> ParseResult:
    """Parse one file's bytes; a file that cannot be loaded raises :class:`QuarantineError`."""
    if fmt == "csv":
        from pipeline.parsers.csv_common import csv_flavour

        try:
            fmt = csv_flavour(data)
        except QuarantineError:
            if "!" not in name:  # a loose CSV is meant as a log: a header we do not know is an error
                raise
            # an export's own tables (Strava's profile.csv, bikes.csv, ...) hold no activity
            member = name.rsplit("!", 1)[1].rsplit("/", 1)[-1]
            reason = f"{printable_name(member)} of an export, not a strength log; holds no activity"
            raise NotAnActivity(reason) from None
    parser = PARSERS.get(fmt)
    if parser is None:
        raise QuarantineError(f"unsupported format {fmt!r}")
    return parser(data, name, ctx)

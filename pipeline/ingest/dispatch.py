"""Pick the parser for a file and run it.

Format detection looks at the name first and the first bytes second, so a FIT file called
``export_123`` still loads. Every parser has the same signature
``parse(data, name, ctx) -> ParseResult``; the modules are imported lazily so a worker
process only pays for the parsers it uses.
"""

from __future__ import annotations

import importlib

from pipeline.ingest.records import ParseContext, ParseResult, QuarantineError

# format name -> parser module under pipeline.ingest
PARSERS = {
    "fit": "fit",
    "gpx": "gpx",
    "tcx": "tcx",
    "strong_csv": "strong",
    "hevy_csv": "hevy",
    "simple_csv": "simple_csv",
}
_EXTENSIONS = {".fit": "fit", ".gpx": "gpx", ".tcx": "tcx", ".csv": "csv"}


def _looks_like_fit(head: bytes) -> bool:
    return len(head) >= 12 and head[8:12] == b".FIT"


def detect_format(name: str, head: bytes) -> str | None:
    """``fit``/``gpx``/``tcx``, a CSV flavour, or None for files runlift does not read."""
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
        from pipeline.ingest.csv_common import sniff

        return sniff(head) or "csv"  # "csv": unknown header, quarantined by parse()
    return kind


def parse(data: bytes, name: str, fmt: str, ctx: ParseContext) -> ParseResult:
    if fmt == "csv":  # the head did not say which log: the whole file decides, or quarantines
        from pipeline.ingest.csv_common import detect_format as csv_format

        fmt = csv_format(data)
    module = PARSERS.get(fmt)
    if module is None:
        raise QuarantineError(f"unsupported format {fmt!r}")
    parser = importlib.import_module(f"pipeline.ingest.{module}")
    return parser.parse(data, name, ctx)

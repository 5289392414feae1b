"""What the index page and the roster digest share: a fluid, self-contained HTML page (inline CSS
only, no scripts, no external resources) that reads on a 390 px phone, verdict and severity
colours, and atomic file writes."""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

# inline style attributes (not a <style> block): e-mail clients keep those
FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
VERDICT_COLOURS = {"met": ("#065f46", "#d1fae5"), "short": ("#92400e", "#fef3c7"), "over": ("#991b1b", "#fee2e2"),
                   "in progress": ("#1e40af", "#dbeafe")}
NEUTRAL = ("#374151", "#f3f4f6")
CELL = "padding:6px 4px;border-bottom:1px solid #e5e7eb;vertical-align:top;"
TABLE = "width:100%;border-collapse:collapse;font-size:14px;line-height:1.35;"


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def badge(verdict: str) -> str:
    fg, bg = VERDICT_COLOURS.get(verdict, NEUTRAL)
    return (f'<span style="display:inline-block;padding:1px 6px;border-radius:9px;color:{fg};background:{bg};'
            f'white-space:nowrap;">{esc(verdict)}</span>')


def count(n: int, colour: str) -> str:
    """A severity count, coloured when not zero."""
    return f'<span style="color:{colour};font-weight:600;">{n}</span>' if n else '<span style="color:#9ca3af;">0</span>'


def page(title: str, body: str) -> str:
    """A whole HTML document around ``body`` (already escaped HTML)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light">'
        f"<title>{esc(title)}</title></head>\n"
        f'<body style="margin:0;padding:0;background:#f3f4f6;color:#111827;{FONT};">\n'
        '<div style="box-sizing:border-box;max-width:680px;margin:0 auto;padding:12px;'
        'overflow-wrap:anywhere;word-break:break-word;">\n'
        f"{body}\n</div>\n</body></html>\n"
    )


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

"""Text that comes from data (file names, exercise names, flag messages, query results) made safe
to print: Rich must not read it as markup (``[/b]`` raises MarkupError) and the terminal must not
get its control characters (an ANSI escape in a file name could rewrite the screen)."""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

# C0 and C1 controls (ESC, BEL, CR, ...), DEL, and the bidirectional controls that reorder a line
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(value: object) -> str:
    """``value`` as text with every control character shown as an escape (``\\x1b``)."""
    return _UNPRINTABLE.sub(lambda m: _visible(m[0]), str(value))


def cell(value: object, style: str = "") -> Text:
    """A table cell or a line of data: printable, never parsed as markup."""
    return Text(printable(value), style=style)


def markup_safe(value: object) -> str:
    """Data to put inside a markup string (``f"[yellow]x[/] {markup_safe(name)}"``)."""
    return escape(printable(value))

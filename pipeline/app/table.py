"""A long table of text cells, printed byte for byte as rich's ``Table`` prints it, in a fraction
of the time.

Rich measures and lays out every cell through its renderable protocol (Padding, render_lines,
line splitting and cropping): ~0.4 ms a row, 0.7 s for the 1,670 flags of a ten-year archive.
Here rich still decides the column widths (from the widest cells alone: a column's widths are the
maxima of its cells' measurements) and renders the header, and each body row is cut into lines
directly: a cell that fits its column is one padded segment, a longer one goes through the same
``Text.wrap`` rich calls. tests/test_cli.py compares the output with rich's own on several widths,
with and without colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Column, Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult


class TextTable:
    """``Table(*headers)`` with ``rows`` added, for rows of :class:`~rich.text.Text` cells."""

    def __init__(self, headers: Sequence[str], rows: list[Sequence[Text]]) -> None:
        self.headers, self.rows = list(headers), rows

    def _table(self) -> Table:
        table = Table(*self.headers)
        for row in self.rows:
            table.add_row(*row)
        return table

    def _layout(self) -> Table:
        """A table with the same columns whose cells measure as all the rows do: per column, the
        cell with the longest word and the longest cell."""
        table = Table(*self.headers)
        blank = [Text("")] * len(self.headers)
        for i in range(len(self.headers)):
            column = [row[i].plain for row in self.rows]
            if not column:
                continue
            widest = max(range(len(column)), key=lambda r: cell_len(column[r]))
            longest_word = max(range(len(column)),
                               key=lambda r: max((cell_len(w) for w in column[r].split()), default=0))
            for r in {widest, longest_word}:
                table.add_row(*blank[:i], self.rows[r][i], *blank[i + 1:])
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # as Table.__rich_console__ then Table._render, for a table without title, footer or lines
        layout = self._layout()
        extra = layout._extra_width
        widths = layout._calculate_column_widths(console, options.update_width(options.max_width - extra))
        options = options.update(width=sum(widths) + extra, highlight=False, height=None)
        box = layout.box.substitute(options, safe=console.safe_box) if layout.box else None
        if box is None or not all(_plain(text) for row in self.rows for text in row):
            yield from console.render(self._table(), options)  # cells this class does not lay out
            return
        columns = layout.columns
        header_style = console.get_style("table.header")
        yield Segment(box.get_top(widths))
        yield Segment.line()
        header = [console.render_lines(Padding(c.header, (0, 1)), options.update(
            width=width, justify=c.justify, no_wrap=c.no_wrap, overflow=c.overflow, height=None,
            highlight=c.highlight), style=header_style) for width, c in zip(widths, columns, strict=True)]
        height = max(len(lines) for lines in header)
        header = [Segment.set_shape(Segment.align_bottom(lines, width, height, header_style), width, height)
                  for lines, width in zip(header, widths, strict=True)]
        left, divider, right = Segment(box.head_left), Segment(box.head_vertical), Segment(box.head_right)
        for line_no in range(height):
            yield left
            for i, lines in enumerate(header):
                if i:
                    yield divider
                yield from lines[line_no]
            yield right
            yield Segment.line()
        yield Segment(box.get_row(widths, "head", edge=True))
        yield Segment.line()
        for index, row in enumerate(self.rows):
            last = index == len(self.rows) - 1
            edges = (box.foot_left, box.foot_vertical, box.foot_right) if last else \
                (box.mid_left, box.mid_vertical, box.mid_right)
            yield from _row_lines(console, row, widths, columns, edges)
        yield Segment(box.get_bottom(widths))
        yield Segment.line()


def _plain(text: Text) -> bool:
    """A cell laid out here: one style for all of it, rich's defaults for justify and overflow."""
    return (not text.spans and text.justify is None and text.overflow is None and text.no_wrap is None
            and "\t" not in text.plain and "\n" not in text.plain)


def _row_lines(console: Console, row: Sequence[Text], widths: list[int], columns: list[Column],
               edges: tuple[str, str, str]) -> list[Segment]:
    """One body row: every line as unstyled runs (borders, padding, plain cells) and styled cells."""
    cells: list[list[tuple[str, Style | None]]] = []
    for text, width, column in zip(row, widths, columns, strict=True):
        inner = width - 2  # a cell's padding: one space either side
        style = console.get_style(text.style) if text.style else None
        plain = text.plain
        if cell_len(plain) <= inner:
            cells.append([(plain + " " * (inner - cell_len(plain)), style)])
        else:  # what Text.__rich_console__ does in a Table cell
            wrapped = text.wrap(console, inner, justify=column.justify, overflow=column.overflow, tab_size=8,
                                no_wrap=column.no_wrap)
            cells.append([(set_cell_size(line.plain, inner), style) for line in wrapped])  # rich crops too
    height = max(len(c) for c in cells)
    left, divider, right = edges
    out: list[Segment] = []
    for line_no in range(height):
        run = left  # unstyled text pending, merged into one segment
        for i, (lines, width) in enumerate(zip(cells, widths, strict=True)):
            if i:
                run += divider
            if line_no >= len(lines):
                run += " " * width
                continue
            content, style = lines[line_no]
            if style is None:
                run += " " + content + " "
            else:
                out += [Segment(run + " "), Segment(content, style)]
                run = " "
        out += [Segment(run + right), Segment.line()]
    return out

"""Tables for people, CSV for scripts: the one way every command prints rows.

`print_table` shows a rich table when every column fits the width with its header and cells whole (no folded
header, no cut or wrapped cell); otherwise a list with one block per row, one `column: value` line per column.
Nothing is ever dropped or truncated. In a terminal the width is the terminal's. In a pipe or a file it is
``$COLUMNS`` when set, else ``PIPE_WIDTH`` (160) characters, and list lines are never broken by the program.

`write_csv` is the script interface of tabular commands: one header line, then one line per row.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Sequence
from typing import IO

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

PIPE_WIDTH = 160
MISSING = "—"


def output_width(console: Console) -> int:
    """Characters available: the terminal's width, else ``$COLUMNS`` when set, else ``PIPE_WIDTH``."""
    if console.is_terminal:
        return console.width
    columns = os.environ.get("COLUMNS", "").strip()
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH


def _cell(value: str) -> Text:
    return Text.from_markup(value) if value else Text("")


def build_table(
    title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[str] = (), caption=None
) -> Table:
    """The rich table of ``rows``: no column may wrap or be cut (``right`` names the right-aligned columns)."""
    table = Table(title=title, caption=caption)
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left", no_wrap=True, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(value) for value in row))
    return table


def table_width(console: Console, table: Table) -> int:
    """Characters the table needs to show every header and cell line whole."""
    options = console.options.update_width(10**6)
    return Measurement.get(console, options, table).maximum


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    console: Console | None = None,
    right: Sequence[str] = (),
    caption: str | None = None,
) -> None:
    """Print ``rows`` (strings; rich markup allowed, ``\\n`` for several lines) as a table, or as a list when
    the table would not fit (module docstring)."""
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"every row needs {len(columns)} values ({', '.join(columns)})")
    console = console or Console()
    width = output_width(console)
    if not console.is_terminal or console.width != width:
        console = Console(file=console.file, width=width, force_terminal=console.is_terminal, no_color=None)
    table = build_table(title, columns, rows, right, caption)
    if table_width(console, table) <= width:
        console.print(table)
    else:
        print_list(title, columns, rows, console=console, caption=caption)


def print_list(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    console: Console,
    caption: str | None = None,
) -> None:
    """One block per row: a `column: value` line per column; a value's further lines are aligned under its first."""
    soft = not console.is_terminal  # a pipe gets whole lines, a terminal wraps at word boundaries
    if title:
        console.print(Text(title, style="bold"), soft_wrap=soft)
    for index, row in enumerate(rows):
        if index or title:
            console.print()
        for name, value in zip(columns, row):
            lines = (value or MISSING).split("\n")
            first = Text.assemble((f"{name}: ", "bold"), Text.from_markup(lines[0]))
            console.print(first, soft_wrap=soft)
            for line in lines[1:]:
                console.print(Text(" " * (len(name) + 2)) + Text.from_markup(line), soft_wrap=soft)
    if caption:
        console.print(Text(caption, style="dim"), soft_wrap=soft)


def note(console: Console, text: str) -> None:
    """A line under a table: word-wrapped in a terminal, whole in a pipe."""
    console.print(text, soft_wrap=not console.is_terminal)


def plain(value: str) -> str:
    """A cell without rich markup; several lines joined with "; "; the missing-value dash as an empty field."""
    text = "; ".join(Text.from_markup(line).plain for line in value.split("\n"))
    return "" if text == MISSING else text


def write_csv(columns: Sequence[str], rows: Sequence[Sequence[str]], file: IO[str] | None = None) -> None:
    """One header line and one line per row (RFC 4180 quoting, markup removed, missing values empty)."""
    writer = csv.writer(file or sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([plain(value) for value in row])

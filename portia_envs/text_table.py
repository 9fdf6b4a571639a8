"""Plain-text tables for the terminal, shared by the command line and the reports."""

from __future__ import annotations

from collections.abc import Sequence


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return ``rows`` under ``header`` as text with left-aligned columns.

    Args:
        header: The column names.
        rows: The cells, as many per row as ``header`` has names.

    Returns:
        The lines of the table: header, a rule of dashes, then the rows.
    """
    lines = [header, ["-" * len(name) for name in header], *rows]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )

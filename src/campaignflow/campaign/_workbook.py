"""Writing sheets of plain values as an xlsx workbook with openpyxl (the ``xlsx`` extra).

openpyxl is imported when a workbook is written, never when campaignflow is: the core runs
without it, and a missing extra raises :class:`~campaignflow.MissingExtra` naming
``pip install 'campaignflow[xlsx]'``. The workbook is written in openpyxl's write-only mode
(rows stream out; a stuck list of 100,000 units is not held as cell objects), with bold
headers, the header row frozen, and each column shown as its format says: whole numbers,
shares as percentages, dates as dates.
"""

from __future__ import annotations

import importlib
import io
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any, Literal

import attrs

from campaignflow.errors import MissingExtra, ValidationError

__all__ = ["Cell", "Format", "Sheet", "load_openpyxl", "write_workbook"]

#: A cell's value: text, a whole number, a share or rate (0-1), a date, or empty.
Cell = str | int | float | date | None
#: How a column's cells are shown: text, whole numbers, shares as percentages, dates.
Format = Literal["text", "int", "share", "date"]


@attrs.frozen(kw_only=True)
class Sheet:
    """One worksheet: its title, column headers with their formats, and rows of values."""

    title: str
    headers: tuple[str, ...]
    formats: tuple[Format, ...]
    rows: tuple[tuple[Cell, ...], ...]


#: openpyxl's number format for each column format (text and dates: by the value's type).
_NUMBER_FORMATS = {"int": "0", "share": "0.0%", "date": "yyyy-mm-dd", "text": ""}
#: Characters XML 1.0 (so xlsx) cannot hold; a name or reason that has one shows it escaped.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Column widths (in characters) stay between these.
_WIDTH = (8, 60)


def load_openpyxl() -> Any:
    """The openpyxl module.

    Raises:
        MissingExtra: openpyxl is not installed (``pip install 'campaignflow[xlsx]'``).
    """
    try:
        return importlib.import_module("openpyxl")
    except ImportError:
        raise MissingExtra(extra="xlsx", package="openpyxl") from None


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def _width(header: str, values: Sequence[object]) -> float:
    """A column width that fits the header and the first rows (CJK characters count twice)."""

    def size(value: object) -> int:
        text = value.isoformat() if isinstance(value, date) else str(value)
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)

    widest = max([size(header), *(size(v) for v in values[:200] if v is not None)])
    return float(min(max(widest + 2, _WIDTH[0]), _WIDTH[1]))


def write_workbook(sheets: Sequence[Sheet], target: Path | IO[bytes], *, campaign_id: str) -> None:
    """Write ``sheets`` as one workbook to the file ``target`` or into the binary stream.

    The workbook's properties name campaignflow as its creator and the campaign as its
    identifier (what ``campaignflow report --xlsx --overwrite`` checks before replacing it).

    Raises:
        MissingExtra: openpyxl is not installed.
        ValidationError: the file cannot be written (``xlsx.cannot_write``).
    """
    openpyxl = load_openpyxl()
    cell_type = importlib.import_module("openpyxl.cell").WriteOnlyCell
    bold = importlib.import_module("openpyxl.styles").Font(bold=True)
    letter = importlib.import_module("openpyxl.utils").get_column_letter
    book = openpyxl.Workbook(write_only=True)
    book.properties.creator = "campaignflow"
    book.properties.identifier = campaign_id
    for sheet in sheets:
        page = book.create_sheet(title=sheet.title)
        page.freeze_panes = "A2"
        for i, header in enumerate(sheet.headers):
            column = [row[i] for row in sheet.rows[:200]]
            page.column_dimensions[letter(i + 1)].width = _width(header, column)
        head = []
        for header in sheet.headers:
            cell = cell_type(page, value=header)
            cell.font = bold
            head.append(cell)
        page.append(head)
        formats = [_NUMBER_FORMATS[f] for f in sheet.formats]
        for row in sheet.rows:
            cells = []
            for value, number_format in zip(row, formats, strict=True):
                if isinstance(value, str):
                    value = _CONTROL.sub(_escaped, value)
                cell = cell_type(page, value=value)
                if isinstance(value, str) and value.startswith("="):
                    # A name like "=HYPERLINK(...)" stays text, never a formula.
                    cell.data_type = "s"
                elif isinstance(value, date):  # a date is a date in any column
                    cell.number_format = _NUMBER_FORMATS["date"]
                elif isinstance(value, int | float) and number_format:
                    cell.number_format = number_format
                cells.append(cell)
            page.append(cells)
    # Saved whole in memory first: a target that cannot be written then leaves no half-saved
    # workbook behind (openpyxl's write-only sheets stream through temporary files).
    buffer = io.BytesIO()
    book.save(buffer)
    try:
        if isinstance(target, Path):
            target.write_bytes(buffer.getvalue())
        else:
            target.write(buffer.getvalue())
    except OSError as exc:
        raise ValidationError(
            code="xlsx.cannot_write", params={"path": repr(str(target)), "exc": str(exc)}
        ) from None

"""A roster of new clients (CSV): one personalized packet per row.

Columns: ``client_id`` and ``clinician`` (required), ``client_name``, ``date``
(YYYY-MM-DD, the effective date), ``language`` and ``second_signer``
(``guardian``, ``partner`` or ``none``: who signs the acknowledgement besides
the client) (optional). A bad row is
reported with its line number and skipped; the others still build.

Privacy: a client's name is carried only to that client's documents. It is
never part of an error message, a file name or a ``repr``. No message quotes
a cell, in any column: on a roster without its header, or with its columns
shifted, any cell may hold a name.
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import textfile
from .errors import ConsentgenError, Where, display_path
from .model_base import clean_text
from .output import RESERVED

REQUIRED = ("client_id", "clinician")
OPTIONAL = ("client_name", "date", "language", "second_signer")
SECOND_SIGNERS = ("guardian", "partner", "none")
LANGUAGES = ("en",)
MAX_BYTES = 8 * 1024 * 1024
MAX_NAME = 120            # as a clinician's name in a profile
_CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_COLUMNS = ", ".join(REQUIRED + OPTIONAL)


@dataclass(frozen=True, slots=True)        # slots: a platform's roster has tens of thousands
class Client:
    """One roster row that passed its checks."""

    line: int
    client_id: str
    clinician: str
    name: str | None = field(default=None, repr=False)
    date: dt.date | None = None
    language: str | None = None
    second_signer: str | None = None


class RosterError(ConsentgenError):
    """The roster as a whole cannot be read (missing file, wrong columns)."""


def read_roster(path: Path, clinicians: set[str]) -> tuple[list[Client], list[str]]:
    """The roster's good rows, and one ``file:line: column: message`` per bad row."""
    shown = display_path(path)
    # Lines end only at \n, \r\n or \r (str.splitlines would also break at \x0b, \x1c, U+2028, ...).
    lines = _Lines(io.StringIO(_read_text(path, shown), newline=""))
    records = _records(lines)
    clients: list[Client] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    dates: dict[str, dt.date] = {}          # a roster has a few start dates: one object each, not one a row
    try:
        header_line, header = next(records, (1, None))
        columns = _check_header(header, shown, header_line)
        for line, cells in records:
            try:
                client = _client(cells, columns, line, clinicians, dates)
            except ValueError as exc:
                problems.append(f"{shown}:{line}: {exc}")
                continue
            folder = client.client_id.casefold()       # C-1 and c-1 are one folder on macOS and Windows
            if folder == client.client_id:
                folder = client.client_id                # the same text: keep one string, not two
            if folder in first_line:
                # A valid id may be shown: it names the packet's folder and progress line anyway.
                problems.append(f"{shown}:{line}: client_id: '{client.client_id}' is used twice "
                                f"(first on line {first_line[folder]}); row skipped")
                continue
            first_line[folder] = line
            clients.append(client)
    except csv.Error as exc:
        raise RosterError(_csv_problem(exc), Where(shown, lines.start)) from None
    return clients, problems


class _Lines:
    """The roster's lines for ``csv.reader``, one at a time, remembering where the row being read starts."""

    def __init__(self, lines: Iterator[str]):
        self.lines, self.read, self.start = lines, 0, 1
        self.fresh = True

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.read += 1
        if self.fresh:                   # the first line of a row; a quoted cell may ask for more
            self.start, self.fresh = self.read, False
        return line


def _records(lines: _Lines):
    """Yield (line where the row starts, cells) for every row that is not blank (Excel adds ',,,' rows)."""
    reader = csv.reader(lines, strict=True)
    while True:
        lines.fresh = True
        cells = next(reader, None)
        if cells is None:
            return
        if any(c.strip() for c in cells):
            yield lines.start, cells


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return 'malformed CSV: a quoted cell that starts in this row is never closed (a " is missing)'
    return f"malformed CSV: {text}"


def _read_text(path: Path, shown: str) -> str:
    """The roster as text; every way it cannot be read is a one-line RosterError (with its line when known)."""
    try:
        raw = textfile.read_bytes(path, MAX_BYTES, "a CSV file",
                                  f"larger than {MAX_BYTES // (1024 * 1024)} MB; split the roster into smaller files")
        return textfile.decode(raw, save_as="'CSV UTF-8' (comma delimited)", bom=True)
    except textfile.Unreadable as exc:
        raise RosterError(exc.message, Where(shown, exc.line)) from None


def _check_header(header: list[str] | None, shown: str, line: int) -> dict[str, int]:
    """Column name -> index, from the header row; a RosterError that never quotes a cell."""
    if not header:                                      # nothing but blank lines
        raise RosterError(f"the roster is empty; it needs a header row ({_COLUMNS})", Where(shown, 1))
    names = [n.strip() for n in header]
    while names and not names[-1]:                      # Excel's empty columns at the end
        names.pop()
    columns: dict[str, int] = {}
    for i, column in enumerate(names, 1):
        if column not in REQUIRED + OPTIONAL:
            raise RosterError(f"the first line must be the header ({_COLUMNS}): column {i} is not one of them"
                              + _header_hint(column), Where(shown, line))
        if column in columns:
            raise RosterError(f"column {i} repeats '{column}' (column {columns[column] + 1})", Where(shown, line))
        columns[column] = i - 1
    for column in REQUIRED:
        if column not in columns:
            raise RosterError(f"missing column '{column}'", Where(shown, line))
    return columns


def _header_hint(column: str) -> str:
    """A hint that names our columns or the separator, never the cell itself."""
    if ";" in column or "\t" in column:
        return "; the columns seem to be separated by ';' or tabs: save the file as CSV with commas"
    close = difflib.get_close_matches(column, REQUIRED + OPTIONAL, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _client(cells: list[str], columns: dict[str, int], line: int, clinicians: set[str],
            dates: dict[str, dt.date]) -> Client:
    """One row, checked; raises ValueError('column: message') for a bad row."""
    if any(c.strip() for c in cells[len(columns):]):
        raise ValueError("this row has more cells than the header; row skipped")

    def get(name: str) -> str:
        i = columns.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    client_id = get("client_id")
    if not client_id:
        raise ValueError("client_id: missing; row skipped")
    if not _CLIENT_ID.match(client_id):
        raise ValueError("client_id: use letters, digits, '-' and '_' only (up to 64); row skipped")
    if client_id.casefold() in RESERVED:
        raise ValueError(f"client_id: '{client_id}' is a name Windows keeps for a device, so no folder can have "
                         "it; use another; row skipped")
    clinician = sys.intern(get("clinician"))     # one string per clinician, not one per row of a long roster
    if clinician not in clinicians:
        raise ValueError(f"clinician: no clinician with that id in this practice{_known(clinician, clinicians)}"
                         "; row skipped")
    date = None
    when = get("date")
    if when:
        date = dates.get(when)
        if date is None:
            try:
                date = dates[when] = dt.date.fromisoformat(when)
            except ValueError:
                raise ValueError("date: expected a date like 2026-01-05; row skipped") from None
    language = get("language") or None
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language: not available (available: {', '.join(LANGUAGES)}); row skipped")
    second = get("second_signer") or None
    if second is not None and second not in SECOND_SIGNERS:
        raise ValueError(f"second_signer: expected one of {', '.join(SECOND_SIGNERS)}; row skipped")
    return Client(line, client_id, clinician, _name(get("client_name")), date, language, second)


def _known(clinician: str, clinicians: set[str]) -> str:
    """'; did you mean ...?' or the known ids: names our clinicians, never the cell."""
    close = difflib.get_close_matches(clinician, sorted(clinicians), n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    known = sorted(clinicians)
    return f" (known: {', '.join(known[:8])}{', ...' if len(known) > 8 else ''})"


def _name(cell: str) -> str | None:
    """The client's name, through the same gate as a profile's text; the message never holds it."""
    try:
        name = clean_text(cell)
    except ValueError as exc:
        raise ValueError(f"client_name: {exc}; row skipped") from None
    if len(name) > MAX_NAME:
        raise ValueError(f"client_name: too long: {len(name)} characters (at most {MAX_NAME}); row skipped")
    return name or None

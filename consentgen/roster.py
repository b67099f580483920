"""A roster of new clients (CSV): one personalized packet per row.

Columns: ``client_id`` and ``clinician`` (required), ``client_name``, ``date``
(YYYY-MM-DD, the effective date), ``language`` and ``second_signer``
(``guardian``, ``partner`` or ``none``: who signs the acknowledgement besides
the client) (optional). A bad row is
reported with its line number and skipped; the others still build.

Privacy: a client's name is carried only to that client's documents. It is
never part of an error message, a file name or a ``repr``.
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConsentgenError, Where, display_path

REQUIRED = ("client_id", "clinician")
OPTIONAL = ("client_name", "date", "language", "second_signer")
SECOND_SIGNERS = ("guardian", "partner", "none")
LANGUAGES = ("en",)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
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
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError("no such file", Where(shown)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"cannot read as UTF-8 text: {type(exc).__name__}", Where(shown)) from None
    reader = csv.DictReader(text.splitlines(keepends=True), strict=True)
    _check_header(reader.fieldnames, shown)
    clients: list[Client] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            try:
                client = _client(row, line, clinicians)
            except ValueError as exc:
                problems.append(f"{shown}:{line}: {exc}")
                continue
            if client.client_id in first_line:
                problems.append(f"{shown}:{line}: client_id: '{client.client_id}' is used twice "
                                f"(first on line {first_line[client.client_id]}); row skipped")
                continue
            first_line[client.client_id] = line
            clients.append(client)
    except csv.Error as exc:
        raise RosterError(f"malformed CSV: {exc}", Where(shown, reader.line_num)) from None
    return clients, problems


def _check_header(names: list[str] | None, shown: str) -> None:
    if not names:
        raise RosterError("the roster is empty; it needs a header row", Where(shown, 1))
    names = [n.strip() for n in names]
    for column in names:
        if column not in REQUIRED + OPTIONAL:
            close = difflib.get_close_matches(column, REQUIRED + OPTIONAL, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; columns are {', '.join(REQUIRED + OPTIONAL)}"
            raise RosterError(f"unknown column '{column}'{hint}", Where(shown, 1))
    for column in REQUIRED:
        if column not in names:
            raise RosterError(f"missing column '{column}'", Where(shown, 1))


def _client(row: dict, line: int, clinicians: set[str]) -> Client:
    """One row, checked; raises ValueError('column: message') for a bad row."""
    if None in row:
        raise ValueError("this row has more cells than the header")
    get = {k.strip(): (v or "").strip() for k, v in row.items()}.get
    client_id = get("client_id", "")
    if not client_id:
        raise ValueError("client_id: missing; row skipped")
    if not _CLIENT_ID.match(client_id):
        raise ValueError("client_id: use letters, digits, '-' and '_' only (up to 64); row skipped")
    clinician = get("clinician", "")
    if clinician not in clinicians:
        close = difflib.get_close_matches(clinician, sorted(clinicians), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"clinician: no clinician '{clinician[:40]}' in this practice{hint}; row skipped")
    date = None
    if get("date"):
        try:
            date = dt.date.fromisoformat(get("date"))
        except ValueError:
            raise ValueError("date: expected a date like 2026-01-05; row skipped") from None
    language = get("language") or None
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language: '{language[:10]}' is not available (available: {', '.join(LANGUAGES)}); row skipped")
    second = get("second_signer") or None
    if second is not None and second not in SECOND_SIGNERS:
        raise ValueError(f"second_signer: expected one of {', '.join(SECOND_SIGNERS)}; row skipped")
    return Client(line, client_id, clinician, get("client_name") or None, date, language, second)

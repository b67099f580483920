"""``OUT/manifest.json``: what each output is, its SHA-256, and what shaped it.

The manifest is deterministic (sorted, no timestamps beyond the effective
date) so the same build gives the same file, and it never holds a client's
name in any form: client documents are identified by their client id.
``consentgen.verify`` re-hashes the files and reports any that changed or are missing.

Every entry is checked when read (types, a SHA-256 in hex, a path that stays
inside OUT even through links): an entry that fails is ignored, so it cannot
make ``verify`` read a file elsewhere, and its packet counts as untracked
(the next build rebuilds it).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterable, Iterator

from . import __version__
from .errors import ConsentgenError, display_path
from .output import sha256_file

NAME = "manifest.json"
FORMAT = 1
STATE_DIR = ".consentgen"          # under OUT: the build's own bookkeeping, never an output
HEX64 = re.compile(r"[0-9a-f]{64}")            # a SHA-256 in hex
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)        # slots: a roster build holds tens of thousands until the manifest
class Record:
    """One output file."""

    path: str                    # relative to OUT, with forward slashes
    format: str                  # pdf, docx
    document: str                # a document name, or "packet" for a combined PDF
    clinician: str               # the clinician's slug
    client_id: str | None
    sha256: str
    size: int
    pages: int | None            # PDFs only
    effective_date: str          # YYYY-MM-DD
    consentgen: str = __version__
    inputs: dict[str, str] = field(default_factory=dict)   # input label -> SHA-256

    @property
    def packet(self) -> str:
        """The packet's key: the folder the file is in."""
        return self.path.rsplit("/", 1)[0]


_FIELDS = {f.name for f in fields(Record)}
_REQUIRED = _FIELDS - {"consentgen", "inputs"}


def as_json(record: Record) -> dict:
    """A record as JSON data: a shallow dict (every field is JSON already; dataclasses.asdict deep-copies
    the inputs, which took a tenth of a roster build)."""
    return {name: getattr(record, name) for name in _FIELDS}


def dumps(records: list[Record]) -> bytes:
    return b"".join(chunks(records))


_KEYS = sorted(_FIELDS)
_REPEATED = {"format", "document", "clinician", "effective_date", "consentgen"}    # text shared by many records


def chunks(records: Iterable[Record], presorted: bool = False) -> Iterator[bytes]:
    """The manifest's bytes, a record at a time: exactly ``json.dumps({"manifest": FORMAT, "outputs":
    [...]}, indent=2, sort_keys=True, ensure_ascii=False)`` and a line break, without holding the text.

    A roster build has tens of thousands of records whose ``inputs`` are the same few dicts: each
    distinct dict is formatted once (the general encoder took 5 s for 50,000 records)."""
    seen: dict[str, str] = {}              # clinician, document, date, ...: the same few values again and again

    def text(key: str, value) -> str:
        if key not in _REPEATED:           # a path or a SHA-256 is new every time: keeping it would only grow
            return json.dumps(value, ensure_ascii=False)
        found = seen.get(value)
        if found is None:
            found = seen[value] = json.dumps(value, ensure_ascii=False)
        return found

    inputs: dict[int, str] = {}
    yield f'{{\n  "manifest": {FORMAT},\n  "outputs": ['.encode()
    first = True
    for r in records if presorted else sorted(records, key=lambda r: r.path):
        block = inputs.get(id(r.inputs))
        if block is None:
            block = json.dumps(r.inputs, indent=2, sort_keys=True, ensure_ascii=False).replace("\n", "\n      ")
            inputs[id(r.inputs)] = block
        fields = ",\n".join(f'      "{k}": {block if k == "inputs" else text(k, getattr(r, k))}' for k in _KEYS)
        yield f'{"" if first else ","}\n    {{\n{fields}\n    }}'.encode("utf-8")
        first = False
    yield b"\n  ]\n}\n" if not first else b"]\n}\n"


def shown(value: object, most: int = 60) -> str:
    """A value from a file we did not write ourselves, safe to print on one line."""
    text = ascii(value) if isinstance(value, str) else type(value).__name__
    return text if len(text) <= most else text[:most] + "..."


def is_text(value: object) -> bool:
    """Text we can write back: a string that is valid Unicode (JSON's "\\ud800" escape gives one that is not)."""
    if not isinstance(value, str):
        return False
    if value.isascii():           # hashes, labels and most paths: no encoding needed to know
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Within:
    """OUT resolved once, for checking many paths in one read; each folder is resolved once too.

    Paths are compared as text: a manifest of a 10,000-client roster has 50,000 of them."""

    def __init__(self, out: Path):
        self.out = out
        self._top = str(out.resolve())
        self._root = self._top if self._top.endswith(os.sep) else self._top + os.sep   # what every output starts with
        self._state = self._root + STATE_DIR
        self._folders: dict[str, str] = {}

    def resolve(self, rel: str) -> str:
        """Where ``rel`` (already checked to have no '..' part) leads, through any link on the way."""
        folder, _, name = rel.rpartition("/")
        if folder not in self._folders:
            self._folders[folder] = str((self.out / folder).resolve())
        path = os.path.join(self._folders[folder], name)
        return str(Path(path).resolve()) if os.path.islink(path) else path

    def holds(self, resolved: str) -> bool:
        """Whether a resolved path is inside OUT, and neither OUT itself nor its bookkeeping folder."""
        return (resolved.startswith(self._root) and resolved not in (self._top, self._state)
                and not resolved.startswith(self._state + os.sep))


def path_problem(out: Path, rel: object, within: Within | None = None) -> str | None:
    """Why ``rel`` is not an output path inside ``out``, or None when it is one."""
    if not isinstance(rel, str) or not rel:
        return f"path is {'empty' if rel == '' else type(rel).__name__}, not a file name"
    parts = rel.split("/")           # a leading '/' or a '//' gives an empty part
    if (not is_text(rel) or _CONTROL.search(rel) or "\\" in rel or ":" in rel or len(parts) < 2
            or any(part in ("", ".", "..") for part in parts) or parts[0] == STATE_DIR):
        return f"path {shown(rel)} is not a file inside the output folder"
    try:
        within = within or Within(out)
        resolved = within.resolve(rel)
    except (OSError, RuntimeError):
        return f"path {shown(rel)} cannot be followed"
    if not within.holds(resolved):
        return f"path {shown(rel)} leads outside the output folder"
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_date(value: object) -> bool:
    try:
        return isinstance(value, str) and dt.date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def entry_problem(out: Path, entry: object, within: Within | None = None) -> str | None:
    """Why a manifest entry (parsed JSON) is not a record of ours, or None."""
    if not isinstance(entry, dict):
        return f"not an entry ({type(entry).__name__})"
    unknown = sorted(str(k) for k in entry if k not in _FIELDS)
    missing = sorted(_REQUIRED - set(entry))
    if unknown or missing:
        return f"{'unknown' if unknown else 'missing'} field {shown((unknown or missing)[0])}"
    problem = path_problem(out, entry["path"], within)
    if problem:
        return problem
    texts = [entry[k] for k in ("format", "document", "clinician", "consentgen") if k in entry]
    if not all(is_text(t) and t and not _CONTROL.search(t) for t in texts):
        return "a text field is not text"
    if not entry["path"].endswith(f".{entry['format']}"):
        return f"path {shown(entry['path'])} does not end in .{shown(entry['format'])}"
    if entry["client_id"] is not None and not is_text(entry["client_id"]):
        return "client_id is not text"
    if not isinstance(entry["sha256"], str) or not HEX64.fullmatch(entry["sha256"]):
        return "sha256 is not a SHA-256 in hex"
    if not _is_int(entry["size"]) or not (entry["pages"] is None or _is_int(entry["pages"])):
        return "size or pages is not a count"
    if not _is_date(entry["effective_date"]):
        return "effective_date is not a date like 2026-01-05"
    inputs = entry.get("inputs", {})
    if not isinstance(inputs, dict) or not (_all_text(inputs) and _all_text(inputs.values())):
        return "inputs is not a table of hashes"
    return None


def _all_text(items: Iterable[object]) -> bool:
    """Whether every item is text, checked in one piece: 31 inputs an entry, 50,000 entries a roster."""
    try:
        return is_text("".join(items))         # a lone surrogate stays one when joined
    except TypeError:                           # an item that is not a string
        return False


def on_disk(out: Path, records: Iterable[Record]) -> bool:
    """Whether every record's file is in ``out`` with the SHA-256 it records."""
    try:
        return all((out / r.path).is_file() and sha256_file(out / r.path) == r.sha256 for r in records)
    except OSError:
        return False


@dataclass(frozen=True)
class Loaded:
    """A manifest's valid records, and one line per entry it ignored."""

    records: list[Record]
    ignored: list[str]


def parse_entries(out: Path, entries: list, where: str) -> Loaded:
    """Records from parsed JSON entries; each bad (or repeated) entry becomes one 'where[i]: why' line."""
    records, ignored, seen = [], [], set()
    within = Within(out)
    for i, entry in enumerate(entries):
        problem = entry_problem(out, entry, within)
        if problem is None and entry["path"] in seen:
            problem = f"path {shown(entry['path'])} is listed twice"
        if problem:
            ignored.append(f"{where}[{i}]: {problem}")
            continue
        seen.add(entry["path"])
        records.append(Record(**entry))
    return Loaded(records, ignored)


def read(out: Path) -> Loaded:
    """The valid records of ``OUT/manifest.json`` (none when there is no manifest yet).

    Raises ConsentgenError when the file as a whole is not a manifest.
    """
    path = out / NAME
    if not path.exists():
        return Loaded([], [])
    try:
        body = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConsentgenError(f"{display_path(path)}: not a consentgen manifest ({type(exc).__name__})") from None
    if not isinstance(body, dict) or body.get("manifest") != FORMAT or not isinstance(body.get("outputs"), list):
        raise ConsentgenError(f"{display_path(path)}: not a consentgen manifest (format {FORMAT})")
    return parse_entries(out, body["outputs"], f"{display_path(path)}: outputs")


def load(out: Path) -> list[Record]:
    """The valid records of ``OUT/manifest.json``, or [] when there is none yet."""
    return read(out).records

"""``OUT/manifest.json``: what each output is, its SHA-256, and what shaped it.

The manifest is deterministic (sorted, no timestamps beyond the effective
date) so the same build gives the same file, and it never holds a client's
name in any form: client documents are identified by their client id.
``verify`` re-hashes the files and reports any that changed or are missing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__
from .errors import ConsentgenError, display_path

NAME = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
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


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dumps(records: list[Record]) -> bytes:
    body = {"manifest": FORMAT, "outputs": [asdict(r) for r in sorted(records, key=lambda r: r.path)]}
    return (json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def load(out: Path) -> list[Record]:
    """The records of ``OUT/manifest.json``, or [] when there is none yet."""
    path = out / NAME
    if not path.is_file():
        return []
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return [Record(**entry) for entry in body["outputs"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConsentgenError(f"{display_path(path)}: not a consentgen manifest ({type(exc).__name__})") from None


@dataclass(frozen=True)
class Verification:
    ok: int
    changed: tuple[str, ...]
    missing: tuple[str, ...]


def verify(out: Path) -> Verification:
    """Re-hash every output the manifest lists."""
    if not (out / NAME).is_file():
        raise ConsentgenError(f"{display_path(out / NAME)}: no manifest here; run 'consentgen build' first")
    ok, changed, missing = 0, [], []
    for record in load(out):
        path = out / record.path
        if not path.is_file():
            missing.append(record.path)
        elif sha256_file(path) != record.sha256:
            changed.append(record.path)
        else:
            ok += 1
    return Verification(ok, tuple(changed), tuple(missing))

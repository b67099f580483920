"""One packet: every document of one clinician (or one client) in every format.

What a build renders (``packet_files``: the whole packet in memory, or a
roster group's render stamped, ``stamp.py``), writes into a staging folder
(``write_stage``) and records (``records_for``); the build then swaps a
packet's files in all together (``journal.py``), so a failure or a kill
leaves either the old packet or the new one, never a mix or a fragment.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from .compose import Job, packet_bytes
from .errors import WriteError
from .manifest import Record
from .options import Settings
from .output import staged_name, write_new
from .profiles import LoadedProfile



@dataclass(frozen=True)
class Packet:
    """What to build for one clinician, or one of their clients."""

    key: str                                  # folder under OUT: "ana-nunez" or "ana-nunez/c-1001"
    clinician: str                            # the clinician's slug
    loaded: LoadedProfile
    docs: tuple[str, ...]
    effective: dt.date
    client_id: str | None = None
    client_name: str | None = field(default=None, repr=False)
    second_signer: str | None = None


def pdf_pages(data: bytes) -> int:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


Files = dict[str, tuple[str, str, bytes]]        # path under OUT -> (document, format, bytes)


def job_for(packet: Packet, settings: Settings) -> Job:
    """The render job of one packet."""
    return Job(formats=settings.formats, effective=packet.effective,
               client_name=packet.client_name, client_id=packet.client_id, second_signer=packet.second_signer,
               template_dirs=settings.template_dirs, page_size=settings.page_size, large_print=settings.large_print,
               sources=settings.sources, template_seconds=settings.template_seconds)


def packet_files(packet: Packet, settings: Settings) -> Files:
    """Render one packet in memory: its files as they go under OUT."""
    return {f"{packet.key}/{name}.{fmt}": (name, fmt, data)
            for (name, fmt), data in packet_bytes(packet.loaded, job_for(packet, settings), settings.combined).items()}


# Staged files are made durable all at once, before the build records any of them as swapped in
# (``build._Run.settle`` calls os.sync once per task): one flush for a task's hundreds of files, not
# one fsync each. Where there is no os.sync (Windows), each file is synced as it is written.
SYNC_EACH = not hasattr(os, "sync")


def write_stage(stage: Path, files: Files) -> None:
    """Write a packet's files under ``stage``; WriteError (with its errno) when one cannot be written."""
    try:
        stage.mkdir(parents=True, exist_ok=True)
        for rel, (_, _, data) in files.items():
            write_new(stage / staged_name(rel), data, sync=SYNC_EACH)
    except OSError as exc:
        raise WriteError(f"cannot write ({exc.strerror or type(exc).__name__})", exc.errno) from None


def records_for(packet: Packet, files: Files, inputs: dict[str, dict[str, str]],
                pages: dict[str, int] | None = None) -> list[Record]:
    """A manifest record per file; ``pages`` (document -> pages) spares reading the PDFs again."""
    pages = pages or {}
    return [
        Record(path=rel, format=fmt, document=name, clinician=packet.clinician, client_id=packet.client_id,
               sha256=hashlib.sha256(data).hexdigest(), size=len(data),
               pages=(pages.get(name) or pdf_pages(data)) if fmt == "pdf" else None,
               effective_date=packet.effective.isoformat(), inputs=inputs[name])
        for rel, (name, fmt, data) in files.items()
    ]

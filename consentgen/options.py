"""What a build is asked to do and what it reports.

These types are shared by the command line, ``build.py`` and ``receipt.py``.
They live apart from the renderer so that the no-op check (``receipt.py``)
can use them without importing pydantic, Jinja2 or reportlab, which take
half a second to load.
"""
from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Settings:
    """Build-wide choices that shape every file."""

    formats: tuple[str, ...] = ("pdf", "docx")
    combined: bool = False
    page_size: str = "letter"
    large_print: bool = False            # 16-point body text, in every format
    template_dirs: tuple[Path, ...] = ()
    sources: bool = False                # the practice's appendix of sources, beside the packet
    template_seconds: float | None = None  # each document's time to render its templates; None: limits.DEFAULT_SECONDS


@dataclass(frozen=True)
class BuildOptions:
    settings: Settings = Settings()
    jobs: int = 1
    force: bool = False
    fail_fast: bool = False
    effective: dt.date | None = None
    wait: float = 0.0                 # seconds to wait for another build of the same OUT; 0: refuse at once
    scheduler: str | None = None      # a Dask scheduler's address (distributed.py), or None: this machine


@dataclass
class Report:
    """What a build did; ``failures`` are one-line messages (file:line: message)."""

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # what the build repaired or could not keep, one line each
    files_written: int = 0
    manifest_written: bool = False
    seconds: float = 0.0
    total: int = 0
    stopped: bool = False            # a full disk or a folder it may not write ended the build early
    not_started: int = 0             # packets left as they were because the build stopped
    clients: Counter = field(default_factory=Counter)  # roster packets built: "stamped" or "rendered" in full
    by_receipt: bool = False         # nothing had changed, and the receipt showed it (receipt.py)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


class Progress(Protocol):
    """Told how many packets a build has, then of each as it is settled."""

    def start(self, total: int) -> None: ...

    def step(self, key: str, status: str) -> None: ...      # status: built, skipped or failed


def default_jobs() -> int:
    return os.cpu_count() or 1

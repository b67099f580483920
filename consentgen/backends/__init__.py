"""Output formats. Each backend is ``render(doc: Document, meta: Meta) -> bytes``.

Backends are imported only when used, so ``consentgen --help`` never pays for
reportlab or python-docx.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..document import Document

FORMATS: tuple[str, ...] = ("pdf", "docx", "html")


@dataclass(frozen=True)
class Meta:
    """What a backend needs besides the document: who, when, and the look."""

    title: str
    author: str                 # the clinician, with credentials
    practice: str               # shown in the header
    subject: str = "Client handout"
    version: str = ""           # shown in the footer, e.g. "Effective January 5, 2026"
    language: str = "en-US"
    accent: str = "#2F5D62"
    logo: Path | None = None
    logo_alt: str = ""          # the logo's spoken text; empty: "<practice> logo"
    page_size: str = "letter"   # or "a4"
    large_print: bool = False   # 16-point body text and matching spacing

    @property
    def logo_text(self) -> str:
        """What a screen reader says for the logo."""
        return self.logo_alt or f"{self.practice} logo"


Renderer = Callable[[Document, Meta], bytes]


def get_backend(fmt: str) -> Renderer:
    """The render function for ``fmt`` ('pdf', 'docx' or 'html'), imported on first use."""
    if fmt not in FORMATS:
        raise KeyError(fmt)
    return importlib.import_module(f".{fmt}", __name__).render


def check_fonts(loaded, job, docs) -> None:
    """Before PDFs are drawn: a font for every character, or a one-line error naming the field
    (see ``preflight``). Imported on first use, like the backends."""
    importlib.import_module(".preflight", __name__).check_fonts(loaded, job, docs)

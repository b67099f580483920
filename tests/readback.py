"""Read rendered files back as a client's software would: text, fields, outline."""
from __future__ import annotations

import io
import re
from pathlib import Path


def squash(text: str) -> str:
    """One space between words, so line wrapping does not split facts."""
    return " ".join(text.split())


def pdf_text(path: Path | bytes) -> str:
    from pypdf import PdfReader

    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    return squash(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages))


def docx_text(path: Path | bytes) -> str:
    import docx

    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.extend(p.text for p in cell.paragraphs)
                for inner in cell.tables:
                    parts.extend(c.text for r in inner.rows for c in r.cells)
    return squash(" ".join(parts))


def text_of(path: Path) -> str:
    return pdf_text(path) if path.suffix == ".pdf" else docx_text(path)


_FOOTER = re.compile(r"^Effective \w+ \d+, \d{4}\s*Page \d+ of \d+$|^Page \d+ of \d+$|^Effective \w+ \d+, \d{4}$")


def body_lines(page_text: str) -> list[str]:
    """A page's lines without its running header (the first line) and footer."""
    lines = [ln.strip() for ln in page_text.splitlines() if ln.strip()]
    return [ln for ln in lines[1:] if not _FOOTER.match(ln)]


def pdf_body_text(data: bytes) -> str:
    """A PDF's reading text, pages joined without their headers and footers, so that a
    paragraph split by a page break reads as one."""
    from pypdf import PdfReader

    return squash(" ".join(" ".join(body_lines(p.extract_text() or "")) for p in PdfReader(io.BytesIO(data)).pages))

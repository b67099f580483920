"""DOCX layout: spacing without empty paragraphs, and what LibreOffice makes
of the file (those tests skip, saying why, without soffice)."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from lxml import etree

from consentgen.backends import Meta
from consentgen.backends.docx import render
from consentgen.document import parse

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
META = Meta(title="Every block", author="Ana Núñez, LMFT", practice="Harbor Street Counseling",
            version="Effective January 5, 2026")

# Every block type, and every place Word's rules want a paragraph: two tables
# in a row, a page break before a table, a callout ending with a table, and a
# document ending with one.
EVERY_BLOCK = """\
# Every block

Opening paragraph with **bold**, *italic* and a [link](https://example.org).

## Lists

- Bullet.
  - Nested bullet.

    A second paragraph in the item.
- Bullet.

1. One.
2. Two.

> **A callout**
>
> Its words.

| Channel | Reply within |
|---|---|
| Text | 1 business day |

> A callout without a title, ending with a table:
>
> | A | B |
> |---|---|
> | 1 | 2 |

```pagebreak
```

| Document | Your initials |
|---|---|
| Informed consent | `field initials ic-initials Initials for informed consent` |

## Your signature

By signing, you show you read it.

```field
checkbox agree I have read this handout
signature client-signature Client signature
date client-date Date
```

| Last | Table |
|---|---|
| ends | the document |
"""

_CONTENT = {W + tag for tag in ("t", "sdt", "drawing", "fldChar", "tab", "br")}


def _empty(p) -> bool:
    return not any(e.tag in _CONTENT for e in p.iter())


def _where_word_needs_a_paragraph(p) -> bool:
    """Right after a table, and either before another table or last in its cell or body."""
    before = p.getprevious()
    after = p.getnext()
    return (before is not None and before.tag == W + "tbl"
            and (after is None or after.tag in (W + "tbl", W + "sectPr", W + "tcPr")))


def test_no_empty_paragraphs_for_spacing():
    body = docx.Document(io.BytesIO(render(parse(EVERY_BLOCK, "t"), META))).element.body
    paragraphs = list(body.iter(W + "p"))
    assert len(paragraphs) > 20
    structural = []
    for p in paragraphs:
        if not _empty(p):
            continue
        assert _where_word_needs_a_paragraph(p), etree.tostring(p)[:300]
        spacing = p.find(f"{W}pPr/{W}spacing")
        # It takes no room of its own beyond the gap it stands for (a table's gap, or 1 pt).
        assert spacing is not None and spacing.get(f"{W}lineRule") == "exact"
        assert int(spacing.get(f"{W}line")) <= 160
        assert spacing.get(f"{W}before") == spacing.get(f"{W}after") == "0"
        structural.append(p)
    # Between callout and table, table and callout, callout and the table on the
    # next page; after the callout's inner table; and at the very end.
    assert len(structural) == 5


def test_a_page_break_before_a_table_is_carried_by_its_first_row():
    body = docx.Document(io.BytesIO(render(parse(EVERY_BLOCK, "t"), META))).element.body
    broken = [p for p in body.iter(W + "p") if p.find(f"{W}pPr/{W}pageBreakBefore") is not None]
    assert len(broken) == 1
    assert "".join(t.text for t in broken[0].iter(W + "t")) == "Document"
    assert list(broken[0].iterancestors(W + "tbl"))


# -- what LibreOffice makes of it ----------------------------------------------

def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        print("skipped: LibreOffice (soffice) is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    if not shutil.which("pdftotext"):
        print("skipped: poppler-utils (pdftotext) is not installed")
        pytest.skip("poppler-utils (pdftotext) is not installed")
    return found


def _to_pdf(folder: Path, docs: dict[str, bytes]) -> dict[str, Path]:
    """Convert DOCX files with LibreOffice in one run, with a fresh profile (HOME)
    so no user font cache or setting changes the result."""
    soffice = _soffice()
    for name, data in docs.items():
        (folder / f"{name}.docx").write_bytes(data)
    env = dict(os.environ, HOME=str(folder / "home"))
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder),
                    *(str(folder / f"{n}.docx") for n in docs)],
                   env=env, capture_output=True, timeout=180, check=True)
    pdfs = {name: folder / f"{name}.pdf" for name in docs}
    missing = [n for n, p in pdfs.items() if not p.exists()]
    assert not missing, f"LibreOffice did not convert {missing}"
    return pdfs


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")


LISTS = "1. One.\n2. Two.\n\nBetween.\n\n1. Again one.\n2. Again two.\n"


def test_libreoffice_layout(tmp_path):
    """In LibreOffice's PDF every numbered list starts at 1 and a page break
    before a table moves the table.

    Keep-with-next is checked on the markup (test_docx_backend), not here:
    LibreOffice 7.4 keeps a paragraph with the next one, but does not reliably
    carry a chain of them (heading, sentence, fields) across a page end, as Word does.
    """
    docs = {"lists": render(parse("# Lists\n\n" + LISTS, "t"), META),
            "every": render(parse(EVERY_BLOCK, "t"), META)}
    pdfs = _to_pdf(tmp_path, docs)
    text = _pages(pdfs["lists"])[0]
    assert re.search(r"1\.\s+One\.", text) and re.search(r"1\.\s+Again one\.", text), text
    assert re.search(r"2\.\s+Again two\.", text)
    every = _pages(pdfs["every"])
    assert "Every block" in every[0] and "Document" in every[1] and "Document" not in every[0]

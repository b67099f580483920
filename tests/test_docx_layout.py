"""DOCX layout: spacing without empty paragraphs, the PDF's font, and what
LibreOffice makes of the file (those tests skip, saying why, without soffice)."""
from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree

from consentgen.backends import Meta
from consentgen.backends import docx as docx_backend
from consentgen.backends.docx import render
from consentgen.backends.docx_package import OBFUSCATED_FONT, obfuscate
from consentgen.backends.docx_styles import FONT_FACES, FONT_NAME, embeddable
from consentgen.document import parse

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
FONT_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/font"
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


# -- the font -----------------------------------------------------------------

def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_text_is_set_in_the_pdf_font():
    word = docx.Document(io.BytesIO(render(parse(EVERY_BLOCK, "t"), META)))
    fonts = word.styles.element.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts")
    assert fonts.get(f"{W}ascii") == fonts.get(f"{W}hAnsi") == FONT_NAME == "Bitstream Vera Sans"
    # No style or run names another text font.
    named = {e.get(f"{W}ascii") for e in word.element.iter(f"{W}rFonts")}
    named |= {e.get(f"{W}ascii") for e in word.styles.element.iter(f"{W}rFonts")}
    assert named <= {FONT_NAME, "MS Gothic"}      # MS Gothic: the checkbox glyph only


def test_the_font_table_describes_vera_from_its_file():
    with _zip(render(parse(EVERY_BLOCK, "t"), META)) as zf:
        table = etree.fromstring(zf.read("word/fontTable.xml"))
    font = next(f for f in table.iter(f"{W}font") if f.get(f"{W}name") == FONT_NAME)
    vera = FONT_FACES[(False, False)].read_bytes()
    assert bytes.fromhex(font.find(f"{W}panose1").get(f"{W}val")) in vera
    assert font.find(f"{W}family").get(f"{W}val") == "swiss"
    assert "Calibri" not in etree.tostring(table).decode()


def test_vera_is_named_but_not_embedded_its_licence_bits_say_preview_and_print():
    vera = FONT_FACES[(False, False)].read_bytes()
    assert not embeddable(vera)                  # OS/2 fsType 4: documents holding it open read-only
    with _zip(render(parse(EVERY_BLOCK, "t"), META)) as zf:
        assert not [n for n in zf.namelist() if n.startswith("word/fonts/")]
        assert b"embedTrueTypeFonts" not in zf.read("word/settings.xml")
        assert b"embed" not in zf.read("word/fontTable.xml")


def _with_fs_type(data: bytes, fs_type: int) -> bytes:
    out = bytearray(data)
    (count,) = struct.unpack_from(">H", out, 4)
    for i in range(count):
        tag, _, offset, _ = struct.unpack_from(">4sIII", out, 12 + 16 * i)
        if tag == b"OS/2":
            struct.pack_into(">H", out, offset + 8, fs_type)
    return bytes(out)


@pytest.fixture
def editable_vera(tmp_path, monkeypatch):
    """Stand-ins for the four Vera faces that differ only in their embedding bits
    (fsType 0, installable), so the embedding path can be exercised. Test files
    only, deleted with tmp_path: a changed Vera may not be distributed as Vera."""
    faces = {}
    for face, path in FONT_FACES.items():
        copy = tmp_path / path.name
        copy.write_bytes(_with_fs_type(path.read_bytes(), 0))
        faces[face] = copy
    monkeypatch.setattr(docx_backend.docx_styles, "FONT_FACES", faces)
    return faces


def _embedded(data: bytes) -> dict[str, tuple[str, bytes]]:
    """fontTable's embed* elements of the text font: tag -> (key, de-obfuscated bytes)."""
    with _zip(data) as zf:
        table = etree.fromstring(zf.read("word/fontTable.xml"))
        rels = etree.fromstring(zf.read("word/_rels/fontTable.xml.rels"))
        types = zf.read("[Content_Types].xml").decode()
        targets = {r.get("Id"): (r.get("Type"), r.get("Target")) for r in rels}
        font = next(f for f in table.iter(f"{W}font") if f.get(f"{W}name") == FONT_NAME)
        found = {}
        for embed in font:
            if not embed.tag.startswith(W + "embed"):
                continue
            reltype, target = targets[embed.get(R_ID)]
            assert reltype == FONT_REL and target.endswith(".odttf")
            key = embed.get(f"{W}fontKey")
            assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", key)
            found[embed.tag[len(W):]] = (key, obfuscate(zf.read("word/" + target), key))
        assert f'Extension="odttf" ContentType="{OBFUSCATED_FONT}"' in types
        assert b"<w:embedTrueTypeFonts/>" in zf.read("word/settings.xml")
    return found


def test_embedded_faces_deobfuscate_to_the_font_files(editable_vera):
    data = render(parse(EVERY_BLOCK, "t"), META)
    found = _embedded(data)
    # The document has regular, bold and italic text, but nothing bold and italic.
    assert sorted(found) == ["embedBold", "embedItalic", "embedRegular"]
    for tag, face in (("embedRegular", (False, False)), ("embedBold", (True, False)),
                      ("embedItalic", (False, True))):
        key, font = found[tag]
        original = editable_vera[face].read_bytes()
        assert font == original
        with _zip(data) as zf:               # really obfuscated: only the first 32 bytes differ
            stored = next(zf.read(n) for n in zf.namelist() if n.startswith("word/fonts/")
                          and obfuscate(zf.read(n), key) == original)
        assert stored[:32] != original[:32] and stored[32:] == original[32:]
    assert len({key for key, _ in found.values()}) == 3
    assert render(parse(EVERY_BLOCK, "t"), META) == data          # fixed keys: same bytes


def test_bold_italic_is_embedded_only_when_used(editable_vera):
    plain = "# Title\n\nWords and *italic*.\n"
    assert sorted(_embedded(render(parse(plain, "t"), META))) == ["embedBold", "embedItalic", "embedRegular"]
    both = plain + "\nAnd ***bold italic***.\n"
    assert "embedBoldItalic" in _embedded(render(parse(both, "t"), META))


def test_obfuscation_follows_ecma_376_17_8_1():
    # The key's bytes are the GUID's hex digits read from the end: the last byte first.
    key = "{00112233-4455-6677-8899-AABBCCDDEEFF}"
    data = bytes(64)
    assert obfuscate(data, key)[:16] == bytes.fromhex("FFEEDDCCBBAA99887766554433221100")
    assert obfuscate(data, key)[16:32] == obfuscate(data, key)[:16]
    assert obfuscate(data, key)[32:] == bytes(32)


# -- what LibreOffice makes of it ----------------------------------------------

def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        print("skipped: LibreOffice (soffice) is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    if not shutil.which("pdftotext") or not shutil.which("pdffonts"):
        print("skipped: poppler-utils (pdftotext, pdffonts) are not installed")
        pytest.skip("poppler-utils (pdftotext, pdffonts) are not installed")
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


def _fonts(pdf: Path) -> list[str]:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [line.split()[0].split("+")[-1] for line in out.splitlines()[2:]]


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")


def test_libreoffice_uses_the_embedded_font(editable_vera, tmp_path):
    """No Vera is installed here (fontconfig answers DejaVu Sans for it), so a Vera face
    in the PDF can only come from the file: the obfuscation is read back right."""
    pdfs = _to_pdf(tmp_path, {"embedded": render(parse(EVERY_BLOCK, "t"), META)})
    fonts = _fonts(pdfs["embedded"])
    print("fonts in LibreOffice's PDF:", fonts)
    assert {"BitstreamVeraSans-Roman", "BitstreamVeraSans-Bold", "BitstreamVeraSans-Oblique"} <= set(fonts)


LISTS = "1. One.\n2. Two.\n\nBetween.\n\n1. Again one.\n2. Again two.\n"


def test_libreoffice_layout(tmp_path):
    """In LibreOffice's PDF every numbered list starts at 1, a page break before a
    table moves the table, and the text is in Vera's design.

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
    fonts = _fonts(pdfs["every"])
    print("fonts in LibreOffice's PDF without embedding:", fonts)
    # Vera itself where installed; fontconfig's stand-in for it is DejaVu Sans (Vera extended).
    assert any(f.startswith(("BitstreamVeraSans", "DejaVuSans")) for f in fonts), fonts

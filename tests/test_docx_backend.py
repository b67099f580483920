"""The DOCX backend, checked by reading its output back with python-docx."""
from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import docx
import pytest

from consentgen.backends import Meta
from consentgen.backends.docx import render
from consentgen.document import parse
from consentgen.errors import BackendError

from .conftest import digest_in_another_process

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"

SAMPLE = """\
# Our Working Relationship

Written by Ana Núñez. Fees & payments, a literal \\<b> and a star \\*.
See [our FAQ](https://example.org/faq?a=1&b=2) for **more** *detail*.

## Contact

- Text for scheduling only.
  - Not for emergencies.
- Email within two days.

1. First step.
2. Second step.

Some words between the lists.

3. Third step.
4. Fourth step.

> **In an emergency**
>
> Call 988.

### Response times

| Channel | Reply within |
|---|---|
| Text | 1 business day |
| Email | 2 business days |

```pagebreak
```

## Signatures

```field
checkbox agree I have read this handout
signature client_signature Client signature
initials client_initials Initials
date client_date Date
```
"""
META = Meta(title="Our Working Relationship", author="Ana Núñez, LMFT",
            practice="Harbor Street Counseling", version="Effective January 5, 2026")
# A 1x1 PNG, for the logo.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def data() -> bytes:
    return render(parse(SAMPLE, "t"), META)


@pytest.fixture(scope="module")
def word(data):
    return docx.Document(io.BytesIO(data))


def _texts(word) -> list[str]:
    return [p.text for p in word.paragraphs]


def _styled(word, name: str) -> list[str]:
    return [p.text for p in word.paragraphs if p.style.name == name]


def test_text_round_trips_literally(word):
    text = "\n".join(_texts(word))
    assert "Written by Ana Núñez. Fees & payments, a literal <b> and a star *." in text
    assert "See our FAQ for more detail." in text


def test_runs_keep_bold_italic_and_links(word):
    paragraph = next(p for p in word.paragraphs if "our FAQ" in p.text)
    assert any(r.bold and r.text == "more" for r in paragraph.runs)
    assert any(r.italic and r.text == "detail" for r in paragraph.runs)
    link = paragraph._p.find(f"{W}hyperlink")
    rel = word.part.rels[link.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")]
    assert rel.is_external and rel.target_ref == "https://example.org/faq?a=1&b=2"
    assert link.find(f"{W}r").xpath("string(.)") == "our FAQ"


def test_headings_use_title_and_heading_styles(word):
    assert _styled(word, "Title") == ["Our Working Relationship"]
    assert _styled(word, "Heading 2") == ["Contact", "Signatures"]
    assert _styled(word, "Heading 3") == ["Response times"]


def test_lists_use_list_styles(word):
    assert _styled(word, "List Bullet") == ["Text for scheduling only.", "Email within two days."]
    assert _styled(word, "List Bullet 2") == ["Not for emergencies."]
    assert _styled(word, "List Number") == ["First step.", "Second step.", "Third step.", "Fourth step."]


def test_each_numbered_list_restarts_at_its_own_start(word):
    numbered = [p for p in word.paragraphs if p.style.name == "List Number"]
    num_ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert num_ids[0] == num_ids[1] != num_ids[2] == num_ids[3]
    numbering = word.part.numbering_part.element
    starts = {}
    for num in numbering.findall(f"{W}num"):
        override = num.find(f"{W}lvlOverride/{W}startOverride")
        if override is not None:
            starts[int(num.get(f"{W}numId"))] = int(override.get(f"{W}val"))
    assert starts[num_ids[0]] == 1 and starts[num_ids[2]] == 3


def test_header_and_footer(word):
    section = word.sections[0]
    header = section.header.paragraphs[0].text
    assert "Harbor Street Counseling" in header and "Our Working Relationship" in header
    footer = section.footer.paragraphs[0]._p
    instructions = [t.text.strip() for t in footer.iter(f"{W}instrText")]
    assert instructions == ["PAGE", "NUMPAGES"]
    kinds = [c.get(f"{W}fldCharType") for c in footer.iter(f"{W}fldChar")]
    assert kinds == ["begin", "separate", "end"] * 2
    assert section.footer.paragraphs[0].text == "Effective January 5, 2026\tPage 1 of 1"


def test_table_content_and_repeating_header(word):
    table = next(t for t in word.tables if t.cell(0, 0).text == "Channel")
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["Channel", "Reply within"], ["Text", "1 business day"], ["Email", "2 business days"]]
    assert table.rows[0]._tr.find(f"{W}trPr/{W}tblHeader") is not None
    assert all(r.bold for r in table.cell(0, 0).paragraphs[0].runs)


def test_callout_is_a_shaded_box_with_a_title(word):
    box = next(t for t in word.tables if t.cell(0, 0).paragraphs[0].text == "In an emergency")
    cell = box.cell(0, 0)
    assert cell.paragraphs[0].runs[0].bold and cell.paragraphs[1].text == "Call 988."
    assert cell._tc.tcPr.find(f"{W}shd").get(f"{W}fill") not in (None, "auto", "FFFFFF")
    assert cell._tc.tcPr.find(f"{W}tcBorders/{W}left").get(f"{W}color") == "2F5D62"


def test_fields_have_labels_and_names(word):
    text = "\n".join(_texts(word))
    for label in ("Client signature: ", "Initials: ", "Date: ", "I have read this handout"):
        assert label in text
    body = word.element.body
    tags = [t.get(f"{W}val") for t in body.iter(f"{W}tag")]
    assert tags == ["agree", "client_signature", "client_initials", "client_date"]
    assert len(list(body.iter(f"{W14}checkbox"))) == 1
    assert len(list(body.iter(f"{W}date"))) == 1


def test_page_break_starts_the_next_paragraph_on_a_new_page(word):
    heading = next(p for p in word.paragraphs if p.text == "Signatures")
    assert heading.paragraph_format.page_break_before


def test_core_properties_are_ours(word, data):
    props = word.core_properties
    assert props.title == "Our Working Relationship"
    assert props.author == props.last_modified_by == "Ana Núñez, LMFT"
    assert props.subject == "Client handout" and props.language == "en-US"
    assert props.keywords == "" and props.comments == "" and props.revision == 1
    assert props.created.year == 2000 and props.modified == props.created
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            assert b"python-docx" not in zf.read(name), name


def test_language_is_set_on_the_styles():
    word = docx.Document(io.BytesIO(render(parse(SAMPLE, "t"), replace(META, language="es-US"))))
    styles = word.styles.element
    assert styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang").get(f"{W}val") == "es-US"
    assert word.styles["Normal"].element.find(f"{W}rPr/{W}lang").get(f"{W}val") == "es-US"
    assert word.sections[0].footer.paragraphs[0].text.endswith("Página 1 de 1")


def test_same_input_same_bytes(data):
    assert render(parse(SAMPLE, "t"), META) == data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    assert infos[0].filename == "[Content_Types].xml"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_same_bytes_in_another_process(data):
    assert digest_in_another_process("docx", "test_docx_backend") == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size, width, height", [("letter", 12240, 15840), ("a4", 11906, 16838)])
def test_page_size(size, width, height):
    section = docx.Document(io.BytesIO(render(parse(SAMPLE, "t"), replace(META, page_size=size)))).sections[0]
    assert (section.page_width.twips, section.page_height.twips) == (width, height)
    assert section.left_margin.inches == section.top_margin.inches == 1


def test_logo_goes_into_the_header(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    word = docx.Document(io.BytesIO(render(parse(SAMPLE, "t"), replace(META, logo=logo))))
    header = word.sections[0].header
    assert header.part.element.xpath(".//wp:docPr/@descr") == ["Harbor Street Counseling logo"]
    assert any(p.content_type == "image/png" for p in word.part.package.iter_parts())


@pytest.mark.parametrize("change, message", [
    ({"accent": "teal"}, "accent"),
    ({"page_size": "legal"}, "page size"),
    ({"language": "en US"}, "language"),
    ({"logo": Path("/nonexistent/logo.png")}, "logo"),
])
def test_bad_meta_is_a_backend_error(change, message):
    with pytest.raises(BackendError, match=message):
        render(parse(SAMPLE, "t"), replace(META, **change))


# -- tables of form fields, keep-with-next, numbering ---------------------------

SIGN_PAGE = """\
# Signatures

## Documents

Please initial each document you received.

| Document | Your initials |
|---|---|
| Informed consent | `field initials informed-consent-initials Initials for informed consent` |
| Our relationship | `field initials our-relationship-initials Initials for our relationship` |
| Telehealth | `field checkbox telehealth-agree I agree to telehealth` |

## Your signature

One.

Two.

Three.

Four.

```field
signature client-signature Client signature
date client-signature-date Date
```
"""


@pytest.fixture(scope="module")
def sign_page():
    return docx.Document(io.BytesIO(render(parse(SIGN_PAGE, "t"), META)))


def _keeps_next(p) -> bool:
    return p._p.find(f"{W}pPr/{W}keepNext") is not None


def test_field_cells_are_content_controls_without_a_label(sign_page):
    table = sign_page.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Document", "Your initials"]
    for row, (name, label) in zip(table.rows[1:], [
            ("informed-consent-initials", "Initials for informed consent"),
            ("our-relationship-initials", "Initials for our relationship"),
            ("telehealth-agree", "I agree to telehealth")]):
        cell = row.cells[1]._tc
        sdt = cell.find(f"{W}p/{W}sdt")
        assert sdt.find(f"{W}sdtPr/{W}tag").get(f"{W}val") == name
        assert sdt.find(f"{W}sdtPr/{W}alias").get(f"{W}val") == label
        # Only the control: the column header is the label.
        outside = [t.text for t in cell.iter(f"{W}t") if not list(t.iterancestors(f"{W}sdt"))]
        assert outside == []
    assert table.rows[3].cells[1]._tc.find(f".//{W14}checkbox") is not None
    placeholder = "".join(t.text for t in table.rows[1].cells[1]._tc.iter(f"{W}t"))
    assert set(placeholder) == {"_"}


def test_rows_never_split_and_the_header_repeats_and_keeps_with_the_first_row(sign_page):
    rows = sign_page.tables[0].rows
    assert all(r._tr.find(f"{W}trPr/{W}cantSplit") is not None for r in rows)
    assert rows[0]._tr.find(f"{W}trPr/{W}tblHeader") is not None
    assert all(r._tr.find(f"{W}trPr/{W}tblHeader") is None for r in rows[1:])
    assert all(_keeps_next(p) for c in rows[0].cells for p in c.paragraphs)


def _resolved(word, style_id: str, tag: str):
    """A paragraph property as the style and its basedOn chain give it."""
    styles = {s.get(f"{W}styleId"): s for s in word.styles.element.findall(f"{W}style")}
    style = styles.get(style_id)
    while style is not None:
        found = style.find(f"{W}pPr/{W}{tag}")
        if found is not None:
            return found
        based = style.find(f"{W}basedOn")
        style = styles.get(based.get(f"{W}val")) if based is not None else None
    return None


def test_title_and_every_heading_style_keep_with_next(word):
    for style_id in ("Title", *(f"Heading{n}" for n in range(1, 7))):
        assert _resolved(word, style_id, "keepNext") is not None, style_id
        assert _resolved(word, style_id, "keepLines") is not None, style_id


def test_the_sentences_before_fields_keep_with_them(sign_page):
    paragraphs = {p.text: p for p in sign_page.paragraphs}
    # A table of fields: the sentence that introduces it stays with it.
    assert _keeps_next(paragraphs["Please initial each document you received."])
    # Up to three paragraphs before a run of fields, not a whole section.
    assert not _keeps_next(paragraphs["One."])
    assert all(_keeps_next(paragraphs[t]) for t in ("Two.", "Three.", "Four."))
    fields = [p for p in sign_page.paragraphs if p.style.name == "Form Field"]
    assert [_keeps_next(p) for p in fields] == [True, False]     # together, then free


def test_fields_in_a_row_keep_together_and_the_last_is_free(word):
    fields = [p for p in word.paragraphs if p.style.name == "Form Field"]
    assert len(fields) == 4
    assert [_keeps_next(p) for p in fields] == [True, True, True, False]


LISTS = """\
# Lists

- Bullet.
  - Nested bullet.
    1. Nested number.
    2. Nested number.
- Bullet.

1. One.
2. Two.

Between.

1. One again.
2. Two again.
   1. Nested one.
"""


def test_every_list_paragraph_names_its_numbering_and_level_and_lists_restart():
    word = docx.Document(io.BytesIO(render(parse(LISTS, "t"), META)))
    numbering = word.part.numbering_part.element
    starts, abstract = {}, {}
    for num in numbering.findall(f"{W}num"):
        num_id = num.get(f"{W}numId")
        abstract[num_id] = num.find(f"{W}abstractNumId").get(f"{W}val")
        starts[num_id] = {o.get(f"{W}ilvl"): int(o.find(f"{W}startOverride").get(f"{W}val"))
                          for o in num.findall(f"{W}lvlOverride")}
    formats = {(a.get(f"{W}abstractNumId"), lvl.get(f"{W}ilvl")): lvl.find(f"{W}numFmt").get(f"{W}val")
               for a in numbering.findall(f"{W}abstractNum") for lvl in a.findall(f"{W}lvl")}
    listed = [p for p in word.paragraphs if p.style.name.startswith("List ")]
    assert len(listed) == 10
    seen = []
    for p in listed:
        num_pr = p._p.find(f"{W}pPr/{W}numPr")
        assert num_pr is not None, p.text
        num_id = num_pr.find(f"{W}numId").get(f"{W}val")
        level = num_pr.find(f"{W}ilvl").get(f"{W}val")
        kind = formats[(abstract[num_id], level)]
        seen.append((p.text, kind, num_id, int(level)))
        if kind == "bullet":
            assert starts[num_id] == {}                 # bullets count nothing
        else:
            assert starts[num_id] == {level: 1}, p.text  # every numbered list starts at 1, on its level
    ids = {text: num_id for text, _, num_id, _ in seen}
    assert ids["One."] == ids["Two."] != ids["One again."] == ids["Two again."]
    assert len({ids["One."], ids["One again."], ids["Nested number."], ids["Nested one."]}) == 4
    # A nested list is the next level down, with that level's marker.
    assert [(kind, level) for _, kind, _, level in seen] == [
        ("bullet", 0), ("bullet", 1), ("lowerRoman", 2), ("lowerRoman", 2), ("bullet", 0),
        ("decimal", 0), ("decimal", 0), ("decimal", 0), ("decimal", 0), ("lowerLetter", 1)]

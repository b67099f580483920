"""Issue 11, an accessible DOCX: language, title and alt text; table headers and
captions; real list numbering; no empty paragraphs for spacing; large print.

Each test reads the package's XML back, as Word's accessibility checker and a
screen reader would, rather than trusting the renderer's own bookkeeping. The
example packets are rendered too, so what the built-in templates make is
checked, not only small samples.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from lxml import etree

from consentgen.backends import Meta
from consentgen.backends.docx import render
from consentgen.compose import Job, render_bytes
from consentgen.document import parse
from consentgen.profiles import load_profile

from .conftest import EXAMPLE

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
DC = "{http://purl.org/dc/elements/1.1/}"
ROOT = Path(__file__).resolve().parents[1]
LOGO = EXAMPLE / "logo.png"
META = Meta(title="Our Working Relationship", author="Ana Núñez, LMFT",
            practice="Harbor Street Counseling", version="Effective January 5, 2026")

SAMPLE = """\
# Our Working Relationship

Opening words.

## Contact

- Text for scheduling only.
  - Not for emergencies.
- Email within two days.

| Channel | Reply within |
|---|---|
| Text | 1 business day |

> **In an emergency**
>
> - Call 988.
> - Call 911.
"""


def _parts(data: bytes) -> dict[str, etree._Element]:
    """Every XML part of a package, parsed, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: etree.fromstring(zf.read(n)) for n in zf.namelist() if n.endswith(".xml")}


def _styles(parts) -> dict[str, etree._Element]:
    return {s.get(f"{W}styleId"): s for s in parts["word/styles.xml"].iter(f"{W}style")}


def _resolved(parts, style_id: str, path: str):
    """An element of a style's properties as the style's basedOn chain gives it."""
    styles = _styles(parts)
    style = styles.get(style_id)
    while style is not None:
        found = style.find(path)
        if found is not None:
            return found
        based = style.find(f"{W}basedOn")
        style = styles.get(based.get(f"{W}val")) if based is not None else None
    return None


FIRST_CLINICIAN = sorted((EXAMPLE / "clinicians").glob("*.yaml"))[0]


@pytest.fixture(scope="module")
def examples() -> dict[str, bytes]:
    """Every document of the example practice's first clinician, as DOCX, normal print."""
    loaded = load_profile(FIRST_CLINICIAN)
    return {name: data for (name, _), data in render_bytes(loaded, Job(formats=("docx",))).items()}


# -- language, title, alternative text -------------------------------------------------

@pytest.mark.parametrize("language, east_asia, bidi", [
    ("en-US", "en-US", "ar-SA"),          # Word's own defaults for the other two scripts
    ("es-US", "en-US", "ar-SA"),
    ("ar-EG", "en-US", "ar-EG"),          # a right-to-left language is also the complex-script one
    ("ja-JP", "ja-JP", "ar-SA"),          # an East Asian language names East Asian text
])
def test_the_document_language_is_on_the_defaults_every_paragraph_style_settings_and_properties(
        language, east_asia, bidi):
    parts = _parts(render(parse(SAMPLE, "t"), replace(META, language=language)))
    want = {"val": language, "eastAsia": east_asia, "bidi": bidi}
    lang = parts["word/styles.xml"].find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert {k: lang.get(W + k) for k in want} == want
    for sid, style in _styles(parts).items():
        if style.get(f"{W}type") == "paragraph":
            found = _resolved(parts, sid, f"{W}rPr/{W}lang")
            assert found is not None and {k: found.get(W + k) for k in want} == want, sid
    # Nothing in the text says otherwise.
    assert not list(parts["word/document.xml"].iter(f"{W}lang"))
    theme = parts["word/settings.xml"].find(f"{W}themeFontLang")
    assert {k: theme.get(W + k) for k in want} == want
    assert parts["docProps/core.xml"].find(f"{DC}language").text == language


def test_the_title_is_the_documents_own_in_the_core_properties():
    data = render(parse(SAMPLE, "t"), replace(META, title=""))
    assert docx.Document(io.BytesIO(data)).core_properties.title == "Our Working Relationship"
    core = _parts(data)["docProps/core.xml"]
    assert core.find(f"{DC}title").text == "Our Working Relationship"


@pytest.mark.parametrize("alt, spoken", [
    ("", "Harbor Street Counseling logo"),
    ("A wave under a harbour light", "A wave under a harbour light"),
])
def test_the_logo_says_what_it_is(alt, spoken):
    parts = _parts(render(parse(SAMPLE, "t"), replace(META, logo=LOGO, logo_alt=alt)))
    pictures = [p for root in parts.values() for p in root.iter(f"{WP}docPr")]
    assert len(pictures) == 1
    assert pictures[0].get("descr") == spoken
    # The description is what screen readers read; a title would repeat it.
    assert pictures[0].get("title") is None


def test_every_picture_has_alt_text_and_rules_are_borders_not_pictures(examples):
    """The header's line and the title's underline are paragraph borders: nothing a
    screen reader has to skip. The only picture is the logo, and it is described."""
    practice = load_profile(FIRST_CLINICIAN).profile.practice
    spoken = practice.branding.logo_alt or f"{practice.name} logo"
    for name, data in examples.items():
        parts = _parts(data)
        pictures = [p for root in parts.values() for p in root.iter(f"{WP}docPr")]
        assert [p.get("descr") for p in pictures] == [spoken], name
        for root in parts.values():
            legacy = [e for e in root.iter() if isinstance(e.tag, str)
                      and e.tag.startswith("{urn:schemas-microsoft-com:vml}")]
            assert not legacy and not list(root.iter(f"{W}pict")), name


# -- tables ------------------------------------------------------------------------------

def _text(e) -> str:
    return "".join(t.text or "" for t in e.iter(f"{W}t"))


def _style_of(p) -> str:
    style = p.find(f"{W}pPr/{W}pStyle")
    return "" if style is None else style.get(f"{W}val")


def _title_of(callout) -> str | None:
    """A callout's title: the bold first paragraph of its cell."""
    first = callout.find(f"{W}tr/{W}tc/{W}p")
    bold = first is not None and first.find(f"{W}r/{W}rPr/{W}b") is not None
    return _text(first) if bold else None


def _tables_with_headings(container, heading: str = ""):
    """(table, the text of the nearest heading before it) in document order; inside a
    callout, its title is the nearest heading."""
    found = []
    for e in container:
        if e.tag == f"{W}p" and _style_of(e) in ("Title", *(f"Heading{n}" for n in range(1, 7))):
            heading = _text(e)
        elif e.tag == f"{W}tbl":
            title = _title_of(e) if _is_callout(e) else None
            found.append((e, title or heading))
            for tc in e.findall(f"{W}tr/{W}tc"):
                found += _tables_with_headings(tc, title or heading)
    return found


def _is_callout(tbl) -> bool:
    return tbl.find(f"{W}tblPr/{W}tblStyle") is None


def _val(tbl, tag: str) -> str | None:
    found = tbl.find(f"{W}tblPr/{W}{tag}")
    return None if found is None else found.get(f"{W}val")


def test_a_data_tables_header_row_repeats_its_rows_hold_together_and_it_is_titled(examples):
    tables = 0
    for name, data in examples.items():
        body = _parts(data)["word/document.xml"].find(f"{W}body")
        for tbl, heading in _tables_with_headings(body):
            assert _val(tbl, "tblCaption") == heading and heading, name
            if _is_callout(tbl):
                continue
            tables += 1
            rows = tbl.findall(f"{W}tr")
            assert rows[0].find(f"{W}trPr/{W}tblHeader") is not None, name
            assert all(r.find(f"{W}trPr/{W}tblHeader") is None for r in rows[1:]), name
            assert all(r.find(f"{W}trPr/{W}cantSplit") is not None for r in rows), name
            # Described by its columns, in the order they stand.
            columns = [_text(tc) for tc in rows[0].findall(f"{W}tc")]
            assert _val(tbl, "tblDescription") == ", ".join(columns), name
            assert tbl.find(f"{W}tblPr/{W}tblLook").get(f"{W}firstRow") == "1"
    assert tables >= 4


def test_a_callout_is_titled_by_its_title_and_a_table_inside_it_too():
    text = SAMPLE + "\n> **Fees**\n>\n> | Service | Fee |\n> |---|---|\n> | Session | $140 |\n"
    body = _parts(render(parse(text, "t"), META))["word/document.xml"]
    captions = [(_val(t, "tblCaption"), _val(t, "tblDescription")) for t in body.iter(f"{W}tbl")]
    assert captions == [("Contact", "Channel, Reply within"), ("In an emergency", None),
                        ("Fees", None), ("Fees", "Service, Fee")]


def test_a_callouts_one_row_is_not_a_header_row():
    """A callout is a one-cell table for its box. Marking its row as a header would have
    a screen reader announce the whole notice as a column header (and Word repeat it
    on every page), so it is the one table without tblHeader."""
    body = _parts(render(parse(SAMPLE, "t"), META))["word/document.xml"]
    callouts = [t for t in body.iter(f"{W}tbl") if _is_callout(t)]
    assert len(callouts) == 1
    assert not list(callouts[0].iter(f"{W}tblHeader"))
    assert callouts[0].find(f"{W}tblPr/{W}tblLook").get(f"{W}firstRow") == "0"


# -- lists -------------------------------------------------------------------------------

NESTED = """\
# Lists

1. First.
   1. Nested a.
   2. Nested b.
2. Second.
   1. Nested again.
   - A bullet beside it.
     - Deeper.
       - Deeper still.
         - Four down.

Between.

3. Three.
"""
_TYPED_MARKER = r"^\s*([\u2022\u25e6\u25aa\u00b7*\u2013-]|\d+[.)]|[a-z][.)])\s"


def _list_items(body):
    """(text, numId, ilvl) of every paragraph that is a list item."""
    items = []
    for p in body.iter(f"{W}p"):
        num_pr = p.find(f"{W}pPr/{W}numPr")
        if num_pr is not None:
            items.append((_text(p), num_pr.find(f"{W}numId").get(f"{W}val"),
                          int(num_pr.find(f"{W}ilvl").get(f"{W}val"))))
    return items


def _definition(numbering, num_id: str, level: int) -> tuple[str, str, int | None]:
    """(numFmt, lvlText, startOverride) that Word uses for a list item."""
    num = next(n for n in numbering.findall(f"{W}num") if n.get(f"{W}numId") == num_id)
    abstract_id = num.find(f"{W}abstractNumId").get(f"{W}val")
    abstract = next(a for a in numbering.findall(f"{W}abstractNum") if a.get(f"{W}abstractNumId") == abstract_id)
    lvl = next(lv for lv in abstract.findall(f"{W}lvl") if lv.get(f"{W}ilvl") == str(level))
    override = num.find(f"{W}lvlOverride[@{W}ilvl='{level}']/{W}startOverride")
    return (lvl.find(f"{W}numFmt").get(f"{W}val"), lvl.find(f"{W}lvlText").get(f"{W}val"),
            None if override is None else int(override.get(f"{W}val")))


def test_nested_lists_are_levels_of_a_word_list_and_numbered_ones_restart():
    parts = _parts(render(parse(NESTED, "t"), META))
    items = _list_items(parts["word/document.xml"])
    numbering = parts["word/numbering.xml"]
    got = [(text, level, *_definition(numbering, num_id, level)) for text, num_id, level in items]
    assert got == [
        ("First.", 0, "decimal", "%1.", 1),
        ("Nested a.", 1, "lowerLetter", "%2.", 1),
        ("Nested b.", 1, "lowerLetter", "%2.", 1),
        ("Second.", 0, "decimal", "%1.", 1),
        ("Nested again.", 1, "lowerLetter", "%2.", 1),        # its own list: a. again
        ("A bullet beside it.", 1, "bullet", "o", None),        # Word's markers, level by level
        ("Deeper.", 2, "bullet", "\uf0a7", None),
        ("Deeper still.", 3, "bullet", "\uf0b7", None),
        ("Four down.", 4, "bullet", "o", None),
        ("Three.", 0, "decimal", "%1.", 3),                     # "3." after a paragraph
    ]
    ids = {text: num_id for text, num_id, _ in items}
    assert ids["First."] == ids["Second."] != ids["Three."]
    assert ids["Nested a."] == ids["Nested b."] != ids["Nested again."]
    # Word's definition of a list has its nine levels, each indented further.
    for abstract in numbering.findall(f"{W}abstractNum"):
        indents = [int(lv.find(f"{W}pPr/{W}ind").get(f"{W}left")) for lv in abstract.findall(f"{W}lvl")]
        assert len(indents) == 9 and indents == sorted(set(indents))


def test_list_markers_are_numbering_never_typed_characters(examples):
    """Every bullet and number a reader sees comes from numbering.xml: no paragraph of the
    example packet starts with a typed '•', '-' or '1.'."""
    import re

    items = 0
    for name, data in examples.items():
        parts = _parts(data)
        body = parts["word/document.xml"]
        for p in body.iter(f"{W}p"):
            assert not re.match(_TYPED_MARKER, _text(p)), (name, _text(p))
        for text, num_id, level in _list_items(body):
            fmt, marker, _ = _definition(parts["word/numbering.xml"], num_id, level)
            assert (fmt == "bullet" and len(marker) == 1) or marker == f"%{level + 1}.", (name, text)
            items += 1
    assert items > 20


# -- large print ---------------------------------------------------------------------------

EVERY_SIZE = SAMPLE + """
### Smaller heading

1. One.
   - Nested.

```field
signature client-signature Client signature
```
"""


def _half_points(parts, style_id: str) -> int:
    found = _resolved(parts, style_id, f"{W}rPr/{W}sz")
    if found is None:                       # the document default
        found = parts["word/styles.xml"].find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}sz")
    return int(found.get(f"{W}val"))


def _twips(root, path: str, attr: str) -> list[int]:
    return [int(e.get(W + attr)) for e in root.iterfind(path) if e.get(W + attr) is not None]


@pytest.fixture(scope="module")
def both_looks():
    doc = parse(EVERY_SIZE, "t")
    return (_parts(render(doc, replace(META, logo=LOGO))),
            _parts(render(doc, replace(META, logo=LOGO, large_print=True))))


def test_large_print_sets_body_text_at_16_points_and_everything_else_above_it(both_looks):
    normal, large = both_looks
    assert _half_points(normal, "Normal") == 23
    sizes = {sid: _half_points(large, sid) for sid in
             ("Normal", "ListBullet", "ListNumber", "ListContinue", "FormField", "Title",
              "Heading1", "Heading2", "Heading3", "Heading4", "Header", "Footer")}
    assert sizes["Normal"] == 32                                        # 16 points
    assert all(sizes[s] == 32 for s in ("ListBullet", "ListNumber", "ListContinue", "FormField"))
    assert sizes["Title"] > sizes["Heading1"] > sizes["Heading2"] > sizes["Heading3"] > 32
    assert sizes["Heading4"] == sizes["Heading3"]
    assert sizes["Header"] == sizes["Footer"] == 24                     # 12 points, from 9, as in the PDF
    # No run sets a size of its own, in the text or in a table: all of it is 16 points.
    for part in ("word/document.xml", "word/header1.xml", "word/footer1.xml"):
        runs = large[part].iterfind(f".//{W}r/{W}rPr/{W}sz")
        assert not list(runs), part


def test_large_print_scales_spacing_indents_and_margins_with_the_text(both_looks):
    """Every distance measured from the text grows by 16/11.5, so a page keeps its proportions."""
    normal, large = both_looks
    factor = 16 / 11.5
    checks = [
        ("word/styles.xml", f".//{W}spacing", "before"), ("word/styles.xml", f".//{W}spacing", "after"),
        ("word/styles.xml", f".//{W}ind", "left"), ("word/styles.xml", f".//{W}ind", "hanging"),
        ("word/styles.xml", f".//{W}style[@{W}styleId='TableGrid']//{W}tblCellMar/{W}left", "w"),
        ("word/numbering.xml", f".//{W}ind", "left"), ("word/numbering.xml", f".//{W}ind", "hanging"),
        ("word/document.xml", f".//{W}tcMar/*", "w"), ("word/document.xml", f".//{W}p/{W}pPr/{W}spacing", "before"),
    ]
    for part, path, attr in checks:
        small, big = _twips(normal[part], path, attr), _twips(large[part], path, attr)
        assert len(small) == len(big) and small, (part, path, attr)
        for a, b in zip(small, big):
            assert abs(b - a * factor) <= 5, (part, path, attr, a, b)     # a level's indent: n rounded steps
    # Line spacing is proportional (1.15 lines), so it grows with the text by itself.
    default = large["word/styles.xml"].find(f"{W}docDefaults/{W}pPrDefault/{W}pPr/{W}spacing")
    assert (default.get(f"{W}line"), default.get(f"{W}lineRule")) == ("276", "auto")
    # The logo grows with the header's text.
    extents = [int(e.get("cx")) for p in (normal, large) for e in p["word/header1.xml"].iter(f"{WP}extent")]
    assert extents[1] == round(extents[0] * factor / 635) * 635


def test_large_print_examples_are_whole_and_the_same_text(examples):
    from .readback import docx_text

    loaded = load_profile(FIRST_CLINICIAN)
    large = {name: data for (name, _), data in
             render_bytes(loaded, Job(formats=("docx",), large_print=True)).items()}
    assert sorted(large) == sorted(examples)
    for name in examples:
        assert docx_text(large[name]) == docx_text(examples[name]), name
        assert _half_points(_parts(large[name]), "Normal") == 32


# -- no empty paragraphs -----------------------------------------------------------------

_CONTENT = {W + tag for tag in ("t", "sdt", "drawing", "fldChar", "tab", "br")}


def _empty_paragraphs(root) -> list:
    return [p for p in root.iter(f"{W}p") if not any(e.tag in _CONTENT for e in p.iter())]


@pytest.mark.parametrize("large_print", [False, True])
def test_no_empty_paragraph_anywhere_but_where_word_requires_one(examples, large_print):
    """Spacing is paragraph spacing, page breaks are pageBreakBefore: a screen reader
    meets no "blank" lines. Word needs a paragraph in two places only, and there it is
    collapsed (exact height, no space before or after):

    - between two tables, which Word would otherwise join into one table
      (a callout followed by a table, say);
    - after a table that ends a table cell (a table inside a callout) or the body:
      a cell and the body must end with a paragraph (ECMA-376 17.4.66; Word adds one).

    And a table cell the template leaves empty (the therapist's printed name on the
    signature page) holds the one empty paragraph a cell cannot be without.
    """
    docs = examples if not large_print else {
        name: data for (name, _), data in
        render_bytes(load_profile(FIRST_CLINICIAN), Job(formats=("docx",), large_print=True)).items()}
    for name, data in docs.items():
        parts = _parts(data)
        for part in [n for n in parts if n.startswith(("word/header", "word/footer"))]:
            assert not _empty_paragraphs(parts[part]), (name, part)
        for p in _empty_paragraphs(parts["word/document.xml"]):
            before, after = p.getprevious(), p.getnext()
            if before is not None and before.tag == f"{W}tcPr" and after is None:
                continue                    # an empty cell's only paragraph
            assert before is not None and before.tag == f"{W}tbl", name
            assert after is None or after.tag in (f"{W}tbl", f"{W}sectPr"), name
            spacing = p.find(f"{W}pPr/{W}spacing")
            assert spacing.get(f"{W}lineRule") == "exact", name
            assert spacing.get(f"{W}before") == spacing.get(f"{W}after") == "0", name
        breaks = list(parts["word/document.xml"].iter(f"{W}br"))
        assert all(b.get(f"{W}type") not in ("page", "column") for b in breaks), name


def test_large_print_is_reproducible_too():
    doc = parse(EVERY_SIZE, "t")
    meta = replace(META, logo=LOGO, large_print=True)
    assert render(doc, meta) == render(doc, meta) != render(doc, replace(meta, large_print=False))

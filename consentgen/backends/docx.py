"""DOCX backend: the document model as an editable Word file.

Every render opens a cached, already styled base document (docx_styles.py),
writes the blocks straight into its XML with one small renderer per block
type, and saves reproducible bytes (docx_package.py). python-docx supplies the
package, relationships, images and core properties; paragraphs are built
with lxml because python-docx has no API for hyperlinks, fields, content
controls or list restarts, and its ``add_paragraph`` slows as a document
grows (python-docx #408).
"""
from __future__ import annotations

import functools
import io
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.shared import Inches, Twips

from ..document import (Callout, Document, Field, Heading, List, PageBreak, Paragraph, Runs, Table, cell_text,
                        text_units)
from ..errors import BackendError, display_path
from . import Meta
from . import docx_styles
from .docx_package import embed_fonts, package_bytes
from .docx_styles import (BOLD_STYLES, BULLET_NUM, BULLET_STYLES, CONTINUE_STYLES, FIRST_FREE_NUM,
                          FONT_NAME, NUMBER_ABSTRACT, NUMBER_STYLES, base_bytes, embeddable, font_bytes)
from .docx_xml import W, Flow, el, field_code, keep_with_next, keep_with_next_block, run, set_spacing, w14

PAGE_SIZES = {"letter": (12240, 15840), "a4": (11906, 16838)}   # twips
MARGIN = 1440
PAGE_WORDS = {"en": ("Page", "of"), "es": ("Página", "de")}
PLACEHOLDERS = {"signature": "_" * 34, "text": "_" * 34, "initials": "_" * 8,
                "date": "____ / ____ / ______"}
UNDERSCORE = 115          # twips: one "_" at the body size (half an em of 11.5 pt)
CELL_PADDING = 230        # twips: a table cell's left and right margins
KEEP_BEFORE_FIELDS = 3    # paragraphs kept on the page of the form fields they lead into
WRITING_ROOM = 240        # twips above a form field in a table cell: room to write by hand
CALLOUT_WHOLE_LINES = 18  # a callout about this short never splits across pages
_ACCENT = re.compile(r"^#[0-9A-Fa-f]{6}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass
class _Context:
    """What the block renderers share during one render."""

    part: object                 # the python-docx DocumentPart (relationships)
    numbering: object            # the w:numbering element
    accent: str                  # 'RRGGBB'
    width: int                   # text width in twips
    language: str
    title_done: bool = False
    nums: itertools.count = field(default_factory=lambda: itertools.count(FIRST_FREE_NUM))
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def tint(self, share: float) -> str:
        """The accent colour mixed into white, ``share`` of it kept."""
        rgb = (int(self.accent[i:i + 2], 16) for i in (0, 2, 4))
        return "".join(f"{round(255 - (255 - c) * share):02X}" for c in rgb)

    def restart(self, level: int, start: int) -> str:
        """A new w:num on the level's abstractNum starting at ``start`` (python-docx #25)."""
        num_id = str(next(self.nums))
        num = el(self.numbering, "num", numId=num_id)
        el(num, "abstractNumId", val=str(NUMBER_ABSTRACT[level]))
        el(el(num, "lvlOverride", ilvl="0"), "startOverride", val=str(start))
        return num_id


def _inline(ctx: _Context, p, runs: Runs, bold: bool = False) -> None:
    for r in runs:
        parent, style = p, None
        if r.link and not r.link.startswith("#"):
            rid = ctx.part.relate_to(r.link, RT.HYPERLINK, is_external=True)
            parent = el(p, "hyperlink", history="1")
            parent.set(f"{{{p.nsmap['r']}}}id", rid)
            style = "Hyperlink"
        run(parent, r.text, bold=bold or r.bold, italic=r.italic, style=style)


def _heading(ctx: _Context, flow: Flow, block: Heading, depth: int) -> None:
    if block.level == 1 and not ctx.title_done:
        style, ctx.title_done = "Title", True
    else:
        style = f"Heading{block.level}"
    _inline(ctx, flow.p(style), block.runs)


def _paragraph(ctx: _Context, flow: Flow, block: Paragraph, depth: int) -> None:
    # Inside a list item, later paragraphs line up with the item's text.
    _inline(ctx, flow.p(CONTINUE_STYLES[min(depth, 3) - 1] if depth else None), block.runs)


def _list(ctx: _Context, flow: Flow, block: List, depth: int) -> None:
    level = min(depth, 2)
    style = (NUMBER_STYLES if block.ordered else BULLET_STYLES)[level]
    # Every item names its numbering; bullets share their style's list, and each
    # numbered list, nested ones too, gets its own w:num so it starts afresh.
    num_id = ctx.restart(level, block.start) if block.ordered else str(BULLET_NUM[level])
    for item in block.items:
        p = flow.p(style, num_id=num_id)
        rest = item.blocks
        if rest and isinstance(rest[0], Paragraph):
            _inline(ctx, p, rest[0].runs)
            rest = rest[1:]
        _blocks(ctx, flow, rest, depth + 1)
    if depth == 0 and flow.last == "p":
        set_spacing(flow.parent[-1], after=160)     # the list ends like a paragraph


FIELD_CHARS = {"signature": 14, "text": 14, "date": 9, "initials": 6, "checkbox": 3}   # room a field asks for, in "x"s
TEXT_PT = 11.5           # body text size (styles: w:sz 23 half-points)


def _column_widths(rows, ncols: int, width: int) -> list[int]:
    """Columns share the width by how much text they hold, but never less than their longest word.

    Equal columns broke an email address between letters in a narrow cell and
    left a wide one half empty. Words are measured in Vera, the font the
    document names, bold to be safe.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from .fonts import BOLD, clean

    def twips(text: str) -> int:
        return int(stringWidth(clean(text), BOLD, TEXT_PT) * 20)

    def measure(cell) -> tuple[int, int]:        # (text length in characters, longest word in twips)
        if isinstance(cell, Field):
            n = FIELD_CHARS.get(cell.kind, 10)
            return n, twips("x" * n)
        text = cell_text(cell)
        return len(text), max((twips(w) for w in text.split()), default=0)

    measured = [[measure(r[c]) if c < len(r) else (0, 0) for r in rows] for c in range(ncols)]
    least = [max(w for _, w in col) + CELL_PADDING + 40 for col in measured]
    weight = [min(max(max(n for n, _ in col), 6), 40) for col in measured]
    if sum(least) >= width:                  # words too long for any layout: share by the words
        return [int(width * x / sum(least)) for x in least]
    short: set[int] = set()
    while True:                              # a column below its longest word takes that, the rest share
        rest = width - sum(least[c] for c in short)
        open_weight = sum(weight[c] for c in range(ncols) if c not in short) or 1
        widths = [least[c] if c in short else int(rest * weight[c] / open_weight) for c in range(ncols)]
        newly = {c for c in range(ncols) if c not in short and widths[c] < least[c]}
        if not newly:
            return widths
        short |= newly


def _table(ctx: _Context, flow: Flow, block: Table, depth: int) -> None:
    rows = ([block.header] if block.header else []) + list(block.rows)
    ncols = max((len(r) for r in rows), default=0)
    if not ncols:
        return
    widths = _column_widths(rows, ncols, ctx.width)
    tbl = flow.tbl()
    pr = el(tbl, "tblPr")
    el(pr, "tblStyle", val="TableGrid")
    el(pr, "tblW", w="5000", type="pct")
    el(pr, "tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="0", lastColumn="0",
       noHBand="0", noVBand="1")
    grid = el(tbl, "tblGrid")
    for width in widths:
        el(grid, "gridCol", w=str(width))
    for i, cells in enumerate(rows):
        head = i == 0 and bool(block.header)
        form = any(isinstance(c, Field) for c in cells)
        tr = el(tbl, "tr")
        trpr = el(tr, "trPr")
        el(trpr, "cantSplit")
        if head:
            el(trpr, "tblHeader")            # repeats on every page the table spans
        for c in range(ncols):
            tc = el(tr, "tc")
            tcpr = el(tc, "tcPr")
            el(tcpr, "tcW", w=str(widths[c]), type="dxa")
            if head:
                el(tcpr, "shd", val="clear", color="auto", fill=ctx.tint(0.16))
            if form:
                el(tcpr, "vAlign", val="bottom")    # the row's words sit on the line to sign
            p = el(tc, "p")
            if head:
                keep_with_next(p)            # the header never ends a page alone
            cell = cells[c] if c < len(cells) else ()
            if isinstance(cell, Field):      # its column header is its label
                set_spacing(p, before=WRITING_ROOM)
                _control(ctx, p, cell, width=widths[c] - CELL_PADDING)
            else:
                _inline(ctx, p, cell, bold=head)


def _lines(block: Callout) -> int:
    """About how many lines a callout takes (70 characters a line, a field two)."""
    units = text_units(block.blocks) + ([block.title] if block.title else [])
    return sum(len(u) // 70 + 1 for u in units) + 2 * sum(isinstance(b, Field) for b in block.blocks)


def _callout(ctx: _Context, flow: Flow, block: Callout, depth: int) -> None:
    tbl = flow.tbl()
    pr = el(tbl, "tblPr")
    el(pr, "tblW", w="5000", type="pct")
    el(pr, "tblLook", val="0000", firstRow="0", lastRow="0", firstColumn="0", lastColumn="0",
       noHBand="1", noVBand="1")
    el(el(tbl, "tblGrid"), "gridCol", w=str(ctx.width))
    tr = el(tbl, "tr")
    if _lines(block) <= CALLOUT_WHOLE_LINES:
        # Whole, rather than a keepNext on its title: LibreOffice reads a keepNext on
        # a table's first paragraph as "keep the table with the next paragraph".
        el(el(tr, "trPr"), "cantSplit")
    tc = el(tr, "tc")
    tcpr = el(tc, "tcPr")
    el(tcpr, "tcW", w=str(ctx.width), type="dxa")
    borders = el(tcpr, "tcBorders")
    for side, size in (("top", "4"), ("left", "24"), ("bottom", "4"), ("right", "4")):
        el(borders, side, val="single", sz=size, space="0", color=ctx.accent)
    el(tcpr, "shd", val="clear", color="auto", fill=ctx.tint(0.10))
    margins = el(tcpr, "tcMar")
    for side, size in (("top", "140"), ("left", "220"), ("bottom", "140"), ("right", "220")):
        el(margins, side, w=size, type="dxa")
    inner = Flow(tc)
    if block.title:
        p = inner.p(after=80)
        run(p, block.title, bold=True, color=ctx.accent)
    _blocks(ctx, inner, block.blocks, 0)
    inner.close(tight=True)


def _field(ctx: _Context, flow: Flow, block: Field, depth: int) -> None:
    """A labelled line to fill in, held in a content control tagged with the field name."""
    p = flow.p("FormField")
    if block.kind != "checkbox":
        run(p, block.label + ("" if block.label.endswith((":", "?", ".")) else ":") + " ")
    _control(ctx, p, block)
    if block.kind == "checkbox":
        run(p, " " + block.label)


def _control(ctx: _Context, p, block: Field, width: int | None = None) -> None:
    """The content control of a field, appended to paragraph ``p``: tag = the field's
    name, alias = its label. ``width`` (twips) shortens a line of underscores to fit a cell."""
    sdt = el(p, "sdt")
    pr = el(sdt, "sdtPr")
    el(pr, "alias", val=block.label)
    el(pr, "tag", val=block.name)
    el(pr, "id", val=str(next(ctx.ids)))
    content = el(sdt, "sdtContent")
    if block.kind == "checkbox":
        box = w14(pr, "checkbox")
        w14(box, "checked", val="0")
        w14(box, "checkedState", val="2612", font="MS Gothic")
        w14(box, "uncheckedState", val="2610", font="MS Gothic")
        run(content, "\u2610", font="MS Gothic")
        return
    el(pr, "showingPlcHdr")
    if block.kind == "date":
        date = el(pr, "date")
        us = ctx.language.lower() in ("en", "en-us")
        el(date, "dateFormat", val="MM/dd/yyyy" if us else "dd/MM/yyyy")
        el(date, "lid", val=ctx.language)
        el(date, "storeMappedDataAs", val="dateTime")
        el(date, "calendar", val="gregorian")
    else:
        el(pr, "text")
    line = PLACEHOLDERS[block.kind]
    if width is not None and set(line) == {"_"}:
        line = line[:max(4, width // UNDERSCORE)]
    run(content, line)


def _page_break(ctx: _Context, flow: Flow, block: PageBreak, depth: int) -> None:
    flow.page_break = True


_RENDERERS = {Heading: _heading, Paragraph: _paragraph, List: _list, Table: _table,
              Callout: _callout, Field: _field, PageBreak: _page_break}


def _holds_fields(block) -> bool:
    return isinstance(block, Field) or (
        isinstance(block, Table) and any(isinstance(c, Field) for row in block.rows for c in row))


def _leads_into_fields(blocks) -> set[int]:
    """The paragraphs that introduce a run of form fields: up to KEEP_BEFORE_FIELDS right
    before it, back to the heading (which keeps with its next by style), so heading,
    sentence and fields share a page."""
    keep: set[int] = set()
    for i, block in enumerate(blocks):
        if _holds_fields(block) and not (i and _holds_fields(blocks[i - 1])):
            j = i - 1
            while j >= 0 and i - j <= KEEP_BEFORE_FIELDS and isinstance(blocks[j], Paragraph):
                keep.add(j)
                j -= 1
    return keep


def _blocks(ctx: _Context, flow: Flow, blocks, depth: int) -> None:
    lead_in = _leads_into_fields(blocks)
    for i, block in enumerate(blocks):
        renderer = _RENDERERS.get(type(block))
        if renderer is None:
            raise BackendError(f"the DOCX backend cannot render a {type(block).__name__} block")
        renderer(ctx, flow, block, depth)
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if i in lead_in or (_holds_fields(block) and _holds_fields(following)):
            keep_with_next_block(flow.parent[-1])    # a signature block stays on one page


def _bar(root, style: str, width: int, border: str | None):
    """The only paragraph of a header or footer: a style, a right tab, a rule."""
    root[:] = []
    p = el(root, "p")
    ppr = el(p, "pPr")
    el(ppr, "pStyle", val=style)
    if border:
        el(el(ppr, "pBdr"), border, val="single", sz="4", space="6", color="D9D9D9")
    el(el(ppr, "tabs"), "tab", val="right", pos=str(width))
    return p


def _header_footer(ctx: _Context, section, meta: Meta, title: str) -> None:
    part = section.header.part
    p = _bar(part.element, "Header", ctx.width, "bottom")
    if meta.logo is not None:
        try:
            inline = part.new_pic_inline(io.BytesIO(Path(meta.logo).read_bytes()), height=Inches(0.3))
        except Exception as exc:             # unreadable or not an image python-docx knows
            raise BackendError(f"cannot use logo {display_path(meta.logo)} ({type(exc).__name__})") from None
        inline.docPr.set("descr", f"{meta.practice} logo".strip())
        el(el(p, "r"), "drawing").append(inline)
        run(p, "  ")
    run(p, meta.practice, bold=True, color=ctx.accent)
    run(p, "\t" + title)

    p = _bar(section.footer.part.element, "Footer", ctx.width, None)
    page, of = PAGE_WORDS.get(ctx.language.split("-")[0].lower(), PAGE_WORDS["en"])
    run(p, f"{meta.version}\t{page} ")
    field_code(p, "PAGE")
    run(p, f" {of} ")
    field_code(p, "NUMPAGES")


def _faces_used(document) -> set[tuple[bool, bool]]:
    """The (bold, italic) faces of the text font that some text of the document is set in."""
    faces: set[tuple[bool, bool]] = set()
    roots = [document.element.body]
    for section in document.sections:
        roots += [section.header.part.element, section.footer.part.element]
    for root in roots:
        for p in root.iter(W + "p"):
            style = p.find(f"{W}pPr/{W}pStyle")
            bold_style = style is not None and style.get(W + "val") in BOLD_STYLES
            for r in p.iter(W + "r"):
                if r.find(W + "t") is None or r.find(f"{W}rPr/{W}rFonts") is not None:
                    continue                 # no text, or another font (the checkbox glyph)
                faces.add((bold_style or r.find(f"{W}rPr/{W}b") is not None,
                           r.find(f"{W}rPr/{W}i") is not None))
    return faces


@functools.lru_cache(maxsize=8)
def _embeddable(path) -> bool:
    return embeddable(font_bytes(path))


def _embed_fonts(document) -> None:
    """Embed the faces the text uses, of those whose licence bits allow it (``embeddable``:
    Vera's do not, so today its name travels without it)."""
    faces = {face: font_bytes(path) for face, path in docx_styles.FONT_FACES.items()
             if _embeddable(path)}
    if faces:
        used = _faces_used(document)
        embed_fonts(document, FONT_NAME, {face: data for face, data in faces.items() if face in used})


def _check(meta: Meta) -> None:
    if not _ACCENT.match(meta.accent or ""):
        raise BackendError(f"accent colour must look like #2F5D62, not {meta.accent!r}")
    if meta.page_size not in PAGE_SIZES:
        raise BackendError(f"page size must be one of {', '.join(PAGE_SIZES)}, not {meta.page_size!r}")
    if not _LANGUAGE.match(meta.language or ""):
        raise BackendError(f"language must be a tag such as en-US, not {meta.language!r}")


def render(doc: Document, meta: Meta) -> bytes:
    """The document as .docx bytes; the same inputs always give the same bytes."""
    _check(meta)
    accent = meta.accent[1:].upper()
    document = docx.Document(io.BytesIO(base_bytes(accent, meta.language)))
    page_w, page_h = PAGE_SIZES[meta.page_size]
    section = document.sections[0]
    section.page_width, section.page_height = Twips(page_w), Twips(page_h)
    ctx = _Context(document.part, document.part.numbering_part.element, accent,
                   page_w - 2 * MARGIN, meta.language)
    title = meta.title or doc.title
    _header_footer(ctx, section, meta, title)

    body = document.element.body
    sect_pr = body.sectPr
    body.remove(sect_pr)                     # append blocks, then put it back last
    flow = Flow(body)
    _blocks(ctx, flow, doc.blocks, 0)
    flow.close()
    body.append(sect_pr)

    _embed_fonts(document)

    props = document.core_properties
    props.title = title[:255]
    props.subject = meta.subject[:255]
    props.author = props.last_modified_by = meta.author[:255]
    return package_bytes(document)

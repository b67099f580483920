"""PDF backend: a Document drawn with reportlab platypus.

Calm, readable pages: 11 pt Vera body text (16 pt in large print),
accent-coloured headings, a header (practice, title) and footer (version,
"Page X of Y") on every page, bookmarks for every heading, and real fillable
AcroForm fields.

Layout runs once. "Page X of Y" needs the total before it is known, so each
page refers to a small form XObject that the canvas fills in at save time.
Output is byte-identical for identical input (reportlab invariant mode).

The PDF is tagged (PDF/UA-1): each block renderer gives its flowables their
structure elements, and the canvas writes the tree at save (``pdf_tags``).
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate, Flowable, Frame, KeepTogether, ListItem as RLListItem,
    PageBreak as RLPageBreak, PageTemplate, Paragraph as RLParagraph,
)
from reportlab.platypus.doctemplate import ActionFlowable, LayoutError, _ktAllow

from ..document import (
    Callout, Document, Field, Heading, List, PageBreak, Paragraph, Run, Table, cell_text, stamped_runs, text_units,
)
from ..errors import BackendError, display_path
from . import Meta, fonts, pdf_stamp
from .pdf_fields import Checkbox, FieldCell, FieldRow
from .pdf_flowables import HeadingPara, KeepWithNext, Para, Table as SplitTable, TaggedList, line_count
from .pdf_objects import Image
from .pdf_style import (
    FOOTER_Y, HEADER_Y, INK, KEEP_WHOLE, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, MUTED, PAGE_SIZES, RULE, RULE_Y,
    SMALL, draw_text, fit, markup, styles_for, Styles, tint,
)
from .pdf_tags import TH_SCOPE, Elem, Marks, Untagged

# -- blocks -------------------------------------------------------------------

class _Outline:
    """Bookmark keys and levels for headings in document order."""

    def __init__(self):
        self.count, self.level = 0, -1

    def add(self, heading_level: int) -> tuple[str, int]:
        # An outline may not skip a level: a level-3 heading right after a level-1 one nests as level 2.
        # The structure tree uses the same levels (H1 to H4), so no heading level is skipped there either.
        self.count, self.level = self.count + 1, min(heading_level - 1, self.level + 1)
        return f"h{self.count}", self.level


@dataclass
class _Ctx:
    """What a block renderer needs: styles, the width it has, list depth, the outline so far."""

    styles: Styles
    accent_hex: str
    width: float
    outline: _Outline
    parent: Elem                            # the structure element the blocks go into
    depth: int = 0
    pages: dict[str, int] | None = None     # filled while drawing: heading anchor -> page

    def markup(self, runs, bold: bool = False) -> str:
        return markup(runs, self.accent_hex, bold)


@dataclass(frozen=True)
class _Fields:
    """Neighbouring line fields, drawn as one row."""

    fields: tuple[Field, ...]


def _heading(b: Heading, ctx: _Ctx) -> list[Flowable]:
    style = ctx.styles.headings[min(b.level, 4) - 1]
    para = HeadingPara(ctx.markup(b.runs, bold=True), style)
    key, level = ctx.outline.add(b.level)
    para.tag = ctx.parent.add(f"H{min(level + 1, 6)}")
    para.outline = (key, fonts.clean(b.text).strip(), level)
    para.anchor, para.pages = b.anchor, ctx.pages
    return [para]


def _paragraph(b: Paragraph, ctx: _Ctx) -> list[Flowable]:
    if not b.runs:
        return []
    kind = pdf_stamp.StampPara if any(r.stamp for r in b.runs) else Para
    para = kind(ctx.markup(b.runs), ctx.styles.item if ctx.depth else ctx.styles.body)
    para.tag = ctx.parent.add("P")
    return [para]


def _list(b: List, ctx: _Ctx) -> list[Flowable]:
    widest = f"{b.start + len(b.items) - 1}." if b.ordered and ctx.depth % 3 == 0 else "viii."
    size = ctx.styles.body.fontSize + 0.5
    indent = max(18.0, stringWidth(widest, fonts.REGULAR, size) + 7) if b.ordered else 16.0 * size / 11.5
    inner = replace(ctx, width=ctx.width - indent, depth=ctx.depth + 1)
    tag = ctx.parent.add("L")
    items, labels = [], {}
    for item in b.items:
        li = tag.add("LI")
        label = li.add("Lbl")
        flowables = _flowables(item.blocks, replace(inner, parent=li.add("LBody"))) or [Para("", ctx.styles.item)]
        labels[id(flowables[0])] = label
        items.append(RLListItem(flowables))
    common = dict(labels=labels, leftIndent=indent, bulletFontName=fonts.REGULAR, bulletFontSize=size,
                  bulletColor=ctx.styles.accent, spaceAfter=ctx.styles.body.spaceAfter if not ctx.depth else 2)
    if b.ordered:
        kind = "1ai"[ctx.depth % 3]
        return [TaggedList(items, bulletType=kind, start=str(b.start) if kind == "1" else None,
                             bulletFormat="%s.", **common)]
    return [TaggedList(items, bulletType="bullet", start="•–•"[ctx.depth % 3], **common)]


CELL_PAD = 7     # left and right padding of a table cell


def _longest_words(rows, size: float) -> list[float]:
    """Per column, the width of its longest word (bold, to be safe), padding included."""
    ncols = len(rows[0])
    found = [0.0] * ncols
    for row in rows:
        for c in range(ncols):
            for word in fonts.prepare(cell_text(row[c])).split():
                found[c] = max(found[c], stringWidth(word, fonts.BOLD, size))
    return [w + 2 * CELL_PAD + 1 for w in found]


def _no_broken_words(widths: list[float], least: list[float], fixed: dict[int, float]) -> list[float]:
    """Widen a text column too narrow for its longest word, taking the room from the widest text columns.

    Shared by text weight alone, a short column ("Cost: No charge") could get less
    than one word's width, and reportlab would then break the word between letters.
    """
    widths = list(widths)
    for c, need in enumerate(least):
        short = need - widths[c]
        if c in fixed or short <= 0:
            continue
        donors = sorted((d for d in range(len(widths)) if d != c and d not in fixed and widths[d] - least[d] > 0),
                        key=lambda d: widths[d] - least[d], reverse=True)
        for d in donors:
            give = min(short, widths[d] - least[d])
            widths[d] -= give
            widths[c] += give
            short -= give
            if short <= 0:
                break
    return widths


def _table(b: Table, ctx: _Ctx) -> list[Flowable]:
    rows = [b.header, *b.rows]
    ncols = max(len(r) for r in rows)
    rows = [tuple(r) + ((),) * (ncols - len(r)) for r in rows]
    head, cell = ctx.styles.cell_head, ctx.styles.cell
    tag = ctx.parent.add("Table")
    header = tag.add("TR")
    cells = [[_tagged(Para(ctx.markup(c, bold=True), head), header.add("TH", attrs=TH_SCOPE)) for c in rows[0]]]
    for row in rows[1:]:
        tr = tag.add("TR")
        cells.append([FieldCell(c, ctx.styles, tr.add("TD").add("Form")) if isinstance(c, Field)
                      else _tagged(Para(ctx.markup(c), cell), tr.add("TD")) for c in row])
    # A column of form fields is as wide as its fields and its header; the other
    # columns share the rest by how much text they hold (within limits).
    fixed: dict[int, float] = {}
    for c in range(ncols):
        fields = [row[c] for row in cells[1:] if isinstance(row[c], FieldCell)]
        if fields:
            header = stringWidth(fonts.prepare(cell_text(rows[0][c])), fonts.BOLD, head.fontSize)
            fixed[c] = min(max(max(f.natural_width() for f in fields), header) + 2 * CELL_PAD, ctx.width / 2)
    if sum(fixed.values()) > ctx.width * 0.8:       # many field columns: they shrink, their fields too
        fixed = {c: w * ctx.width * 0.8 / sum(fixed.values()) for c, w in fixed.items()}
    weights = [min(max(max(len(cell_text(r[c])) for r in rows), 6), 40) for c in range(ncols)]
    free = ctx.width - sum(fixed.values())
    flowing = sum(w for c, w in enumerate(weights) if c not in fixed) or 1
    widths = [fixed[c] if c in fixed else free * w / flowing for c, w in enumerate(weights)]
    widths = _no_broken_words(widths, _longest_words(rows, head.fontSize), fixed)
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), tint(ctx.styles.accent, 0.14)),
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD), ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]
    # A row with a field: its text sits level with the field's middle.
    style += [("VALIGN", (0, r), (-1, r), "MIDDLE")
              for r, row in enumerate(cells) if any(isinstance(c, FieldCell) for c in row)]
    # Rows never split across pages (splitInRow=0), and the header row repeats on each page.
    table = SplitTable(cells, colWidths=widths, repeatRows=1, splitInRow=0, hAlign="LEFT", spaceBefore=4,
                    spaceAfter=14, style=style)
    table.has_fields = bool(fixed)
    return [table]


def _tagged(para: Para, tag: Elem) -> Para:
    para.tag = tag
    return para


def _callout(b: Callout, ctx: _Ctx) -> list[Flowable]:
    pad_left, pad_right = 14, 12
    box = ctx.parent.add("Div")
    inner = replace(ctx, width=ctx.width - pad_left - pad_right, depth=ctx.depth + 1, parent=box)
    title = (_tagged(Para(ctx.markup((Run(b.title),), bold=True), ctx.styles.callout_title), box.add("P"))
             if b.title else None)
    rows = [[title]] if title else []
    # One row per block, so a long notice can still break between blocks.
    rows += [[flowables] for block in _group_fields(b.blocks) if (flowables := _flowables((block,), inner))]
    if not rows:
        return []
    table = SplitTable(rows, colWidths=[ctx.width], hAlign="LEFT", spaceBefore=6, spaceAfter=16, style=[
        ("BACKGROUND", (0, 0), (-1, -1), tint(ctx.styles.accent, 0.08)),
        ("LINEBEFORE", (0, 0), (0, -1), 3, ctx.styles.accent),
        ("LEFTPADDING", (0, 0), (-1, -1), pad_left), ("RIGHTPADDING", (0, 0), (-1, -1), pad_right),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, 0), 10), ("BOTTOMPADDING", (0, -1), (-1, -1), 10),
    ])
    # A notice up to about half a page stays in one piece; a longer one flows on.
    return [KeepTogether([table]) if table.wrap(ctx.width, KEEP_WHOLE)[1] <= KEEP_WHOLE else table]


def _fields(b: _Fields, ctx: _Ctx) -> list[Flowable]:
    tags = {f.name: (ctx.parent.add("Form"), ctx.parent.add("P")) for f in b.fields}
    return [FieldRow(list(b.fields), ctx.styles, tags)]


def _checkbox(b: Field, ctx: _Ctx) -> list[Flowable]:
    return [Checkbox(b, ctx.styles, ctx.parent.add("Form"), ctx.parent.add("P"))]


def _page_break(b: PageBreak, ctx: _Ctx) -> list[Flowable]:
    return [RLPageBreak()]


_RENDERERS: dict[type, Callable[..., list[Flowable]]] = {
    Heading: _heading, Paragraph: _paragraph, List: _list, Table: _table, Callout: _callout,
    _Fields: _fields, Field: _checkbox, PageBreak: _page_break,
}


def _group_fields(blocks) -> list:
    """Blocks with each run of neighbouring line fields joined into one ``_Fields``."""
    out: list = []
    for b in blocks:
        if isinstance(b, Field) and b.kind != "checkbox":
            if out and isinstance(out[-1], _Fields):
                out[-1] = _Fields(out[-1].fields + (b,))
            else:
                out.append(_Fields((b,)))
        else:
            out.append(b)
    return out


def _is_form(f: Flowable) -> bool:
    return isinstance(f, (FieldRow, Checkbox)) or getattr(f, "has_fields", False)


def _keep_words_with_form(story: list[Flowable], width: float) -> None:
    """The words just before a form ("By signing below...") stay on its page.

    If those words are a single line, the paragraph before them comes along too,
    at least its last two lines, so no page holds a form and one lone line of text.
    """
    if not (story and isinstance(story[-1], (RLParagraph, FieldRow, Checkbox))):
        return
    story[-1].keepWithNext = 1
    if type(story[-1]) is Para and len(story) > 1 and type(story[-2]) is Para \
            and line_count(story[-1], width) < 2:
        story[-2].keepWithNext, story[-2].keep_tail = 1, True


def _flowables(blocks, ctx: _Ctx) -> list[Flowable]:
    story: list[Flowable] = []
    for b in _group_fields(blocks):
        flowables = _RENDERERS[type(b)](b, ctx)
        if flowables and _is_form(flowables[0]):
            _keep_words_with_form(story, ctx.width)
        story.extend(flowables)
    return story


# -- pages --------------------------------------------------------------------

class _Canvas(Canvas):
    """A canvas that fills in "Page X of Y" once the page count is known.

    Each page draws form XObject ``cg-page-N`` in its footer (reportlab allows
    a form to be defined after use); ``save`` defines those forms. The rest of
    the header and footer is one form, ``cg-frame``, painted once per document.
    """

    paint_frame: Callable[[Canvas], None] | None = None   # header and footer, the same on every page
    small: float = SMALL    # the size of the header and footer text
    marks: Marks        # the structure being drawn (set before the first page)

    def page_number_here(self) -> None:
        with self.marks.artifact(self, "footer"):
            self.doForm(f"cg-page-{self.getPageNumber()}")

    def frame_here(self, paint: Callable[[Canvas], None]) -> None:
        """Draw the page frame by reference: painted once into a form, shown on every page."""
        self.paint_frame = paint
        with self.marks.artifact(self, "page"):
            self.doForm("cg-frame")

    def _addAnnotation(self, annotation, name=None, addtopage=1):
        super()._addAnnotation(annotation, name, addtopage)
        self.marks.annotation(self, annotation)

    def save(self):
        if self._code:
            self.showPage()
        self.marks.write(self)
        if self.paint_frame is not None:
            self.beginForm("cg-frame")
            self.paint_frame(self)
            self.endForm()
        total = self.getPageNumber() - 1
        for n in range(1, total + 1):
            self.beginForm(f"cg-page-{n}")
            self.setFillColor(MUTED)
            self.setFont(fonts.REGULAR, self.small)
            self.drawRightString(self._pagesize[0] - MARGIN_X, FOOTER_Y, f"Page {n} of {total}")
            self.endForm()
        super().save()


class _DocTemplate(BaseDocTemplate):
    """A document template that opens with the bookmarks panel showing and keeps
    headings with what follows them, whatever that is."""

    marks: Marks
    small: float = SMALL

    stamps: list | None = None       # a document with a client's value: its slots (pdf_stamp)

    def beforeDocument(self):
        self.canv.showOutline()     # the bookmarks panel opens with the document
        self.canv.marks, self.canv.small = self.marks, self.small
        if self.stamps is not None:
            pdf_stamp.prepare(self.canv._doc)
            self.canv.stamp_slots = self.stamps

    def handle_keepWithNext(self, flowables):
        """Group a run of keepWithNext flowables (headings, words before a form) with the next one.

        reportlab's own version leaves the next flowable out of the group when it is a
        container (a list, or a callout kept together): the heading was then kept with
        nothing and could end a page. Here any block may follow; KeepWithNext decides.
        """
        i, n = 0, len(flowables)
        while i < n and flowables[i].getKeepWithNext() and _ktAllow(flowables[i]):
            i += 1
        if not i:
            return
        if i < n and not isinstance(flowables[i], ActionFlowable) and not getattr(flowables[i], "locChanger", 0):
            i += 1
        group = KeepWithNext(flowables[:i])
        for f in group._content:
            # Shadows the style's: the group keeps them together now. Also the last one's, when
            # nothing may follow it (the end, a page break): grouped again, it would loop forever.
            f.__dict__["keepWithNext"] = 0
        flowables[:i] = [group]


LOGO_HEIGHT, LOGO_MAX_WIDTH = 0.32 * inch, 1.4 * inch


def _logo(meta: Meta) -> tuple[Image, float] | None:
    """The logo image (read from a local path, never a URL) and its drawn width."""
    if meta.logo is None:
        return None
    try:
        found = os.stat(meta.logo)
        image = _read_logo(str(meta.logo), found.st_mtime_ns, found.st_size, rl_config.useA85)
        iw, ih = image.size
    except Exception as exc:  # reportlab and PIL raise many kinds
        raise BackendError(f"cannot read logo {display_path(meta.logo)} ({type(exc).__name__})") from None
    return image, min(LOGO_HEIGHT * iw / ih, LOGO_MAX_WIDTH)


@lru_cache(maxsize=8)
def _read_logo(path: str, mtime_ns: int, size: int, a85: int) -> Image:
    """A logo read and compressed once per process (and again if its file changes)."""
    return Image(path)


def _decorate(meta: Meta, accent: colors.Color, pagesize: tuple[float, float], figure: Elem | None,
              small: float) -> Callable:
    """The onPage callback: header (logo, practice, title, rule) and footer (version, page).

    All of it is a running artifact, but for the logo on the first page: that is the
    ``figure`` element, with the logo's spoken text.
    """
    width, height = pagesize
    left, right = MARGIN_X, width - MARGIN_X
    logo = _logo(meta)
    text_left = left + (logo[1] + 8 if logo else 0)
    room, gap = right - text_left, 24
    title = fonts.prepare(meta.title)
    title_w = sum(stringWidth(p, f, small) for f, p in fonts.segments(title, False))
    # The practice keeps its whole name when both fit; else it may take a little over half the line.
    practice = fit(fonts.prepare(meta.practice), small, max(room * 0.55, room - title_w - gap), bold=True)
    practice_w = sum(stringWidth(p, f, small) for f, p in fonts.segments(practice, True))
    title = fit(title, small, room - practice_w - gap)
    version = fit(fonts.prepare(meta.version), small, (right - left) / 2)

    def paint(canv: Canvas) -> None:
        canv.setFillColor(INK)
        draw_text(canv, text_left, height - HEADER_Y, practice, small, bold=True)
        canv.setFillColor(MUTED)
        draw_text(canv, right, height - HEADER_Y, title, small, right=True)
        canv.setStrokeColor(accent)
        canv.setLineWidth(0.75)
        canv.line(left, height - RULE_Y, right, height - RULE_Y)
        draw_text(canv, left, FOOTER_Y, version, small)

    def on_page(canv: _Canvas, doc) -> None:
        canv.saveState()
        if logo:
            first = canv.getPageNumber() == 1
            with canv.marks.tagged(canv, figure) if first else canv.marks.artifact(canv, "header"):
                logo[0].draw(canv, left, height - RULE_Y + 5, logo[1], LOGO_HEIGHT)
        canv.frame_here(paint)
        canv.page_number_here()
        canv.restoreState()

    return on_page


def render(doc: Document, meta: Meta, tagged: bool = True) -> bytes:
    """The PDF for ``doc``: same input, same bytes. Raises BackendError for bad input.

    ``tagged=False`` leaves out the structure tree and marked content (for the benchmark)."""
    return render_with_pages(doc, meta, tagged)[0]


def render_with_pages(doc: Document, meta: Meta, tagged: bool = True,
                      slots: list | None = None) -> tuple[bytes, dict[str, int]]:
    """The PDF, and the page each heading landed on (by anchor; the first heading of a name wins).

    A packet uses the pages for its cross-references ("Fees and Cancellations, page 2").
    In a document that shows a client's name or id, ``slots`` (a list) receives the stamp font's
    name in the content streams, then a ``pdf_stamp.Slot`` for each value drawn.
    """
    pagesize = PAGE_SIZES.get(meta.page_size.lower())
    if pagesize is None:
        raise BackendError(f"page size must be one of {', '.join(PAGE_SIZES)}, not {meta.page_size!r}")
    styles = styles_for(meta.accent, meta.large_print)
    meta = replace(meta, title=meta.title or doc.title)
    texts = [*text_units(doc.blocks), *(f.label for f in doc.fields), meta.title, meta.practice, meta.version]
    fonts.require([fonts.prepare(t) for t in texts], doc.name)
    width = pagesize[0] - 2 * MARGIN_X
    pages: dict[str, int] = {}
    marks = (Marks if tagged else Untagged)(fonts.clean(meta.title), meta.language)
    figure = marks.root.add("Figure", alt=fonts.clean(meta.logo_text)) if meta.logo else None
    ctx = _Ctx(styles, meta.accent, width, _Outline(), marks.root, pages=pages)
    story = _flowables(doc.blocks, ctx)

    # Streams as plain binary, not ASCII85: smaller files, less work. reportlab reads this
    # global while writing; setting it on every render keeps other code from switching it back.
    rl_config.useA85 = 0
    buf = io.BytesIO()
    template = _DocTemplate(
        buf, pagesize=pagesize, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM,
        title=fonts.clean(meta.title), author=fonts.clean(meta.author),
        subject=fonts.clean(meta.subject), creator="consentgen", lang=meta.language,
        displayDocTitle=1, invariant=1,
        initialFontName=fonts.REGULAR,      # else each page opens by naming Helvetica, which is not embedded
    )
    template.marks, template.small = marks, styles.small
    stamped = bool(stamped_runs(doc.blocks))
    if stamped:
        template.stamps = []
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, width, pagesize[1] - MARGIN_TOP - MARGIN_BOTTOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    on_page = _decorate(meta, styles.accent, pagesize, figure, styles.small)
    template.addPageTemplates([PageTemplate("page", [frame], onPage=on_page)])
    try:
        template.build(story, canvasmaker=_Canvas)
    except LayoutError:   # its message quotes the text, which may name a client
        raise BackendError(f"{doc.name}: page {template.page}: a block is too large to fit on a page and "
                           "cannot be split; shorten the long value in it") from None
    if stamped and slots is not None:
        slots.append(getattr(template.canv, "stamp_font", ""))
        slots.extend(template.stamps)
    return buf.getvalue(), pages

"""Tables and callouts (a boxed notice: a one-cell table) in the DOCX backend."""
from __future__ import annotations

from ..document import Callout, Field, Table, cell_text, plain, text_units
from .docx_context import Context, control, inline
from .docx_xml import Flow, el, keep_with_next, run, set_spacing

CELL_PADDING = 230        # twips: a table cell's left and right margins
WRITING_ROOM = 240        # twips above a form field in a table cell: room to write by hand
CALLOUT_WHOLE_LINES = 18  # a callout about this short never splits across pages
FIELD_CHARS = {"signature": 14, "text": 14, "date": 9, "initials": 6, "checkbox": 3}   # room a field asks for, in "x"s
TEXT_PT = 11.5           # body text size (styles: w:sz 23 half-points)


def column_widths(rows, ncols: int, width: int) -> list[int]:
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


def _alt_text(pr, caption: str, description: str = "") -> None:
    """A table's title and description (Word: Table Properties, Alt Text), after tblLook as
    the schema orders them: read out before the table, so a listener knows what it holds."""
    if caption:
        el(pr, "tblCaption", val=caption)
    if description:
        el(pr, "tblDescription", val=description)


def table(ctx: Context, flow: Flow, block: Table, depth: int) -> None:
    rows = ([block.header] if block.header else []) + list(block.rows)
    ncols = max((len(r) for r in rows), default=0)
    if not ncols:
        return
    widths = column_widths(rows, ncols, ctx.width)
    tbl = flow.tbl()
    pr = el(tbl, "tblPr")
    el(pr, "tblStyle", val="TableGrid")
    el(pr, "tblW", w="5000", type="pct")
    el(pr, "tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="0", lastColumn="0",
       noHBand="0", noVBand="1")
    # Titled by the heading it stands under; described by its columns.
    _alt_text(pr, ctx.heading, ", ".join(t for t in (plain(c).strip() for c in block.header) if t))
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
                control(ctx, p, cell, width=widths[c] - CELL_PADDING)
            else:
                inline(ctx, p, cell, bold=head)


def _lines(block: Callout) -> int:
    """About how many lines a callout takes (70 characters a line, a field two)."""
    units = text_units(block.blocks) + ([block.title] if block.title else [])
    return sum(len(u) // 70 + 1 for u in units) + 2 * sum(isinstance(b, Field) for b in block.blocks)


def callout(ctx: Context, flow: Flow, block: Callout, depth: int) -> None:
    tbl = flow.tbl()
    pr = el(tbl, "tblPr")
    el(pr, "tblW", w="5000", type="pct")
    el(pr, "tblLook", val="0000", firstRow="0", lastRow="0", firstColumn="0", lastColumn="0",
       noHBand="1", noVBand="1")
    _alt_text(pr, block.title or ctx.heading)
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
    outer, ctx.heading = ctx.heading, block.title or ctx.heading    # a table inside is under the title
    ctx.blocks(ctx, inner, block.blocks, 0)
    ctx.heading = outer
    inner.close(tight=True)

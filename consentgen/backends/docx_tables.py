"""Tables and callouts (a boxed notice: a one-cell table) in the DOCX backend."""
from __future__ import annotations

from ..document import Callout, Field, Table, cell_text, plain, text_units
from .docx_context import PLACEHOLDERS, Context, control, inline
from .docx_styles import CELL_MARGIN
from .docx_xml import TABLE_GAP, Flow, el, keep_with_next, run, set_spacing

WRITING_ROOM = 240        # twips above a form field in a table cell: room to write by hand
CALLOUT_WHOLE_LINES = 18  # a callout about this short never splits across pages
LINE_CHARS = 70           # about the characters of a line of body text in normal print
FIELD_CHARS = {"signature": 14, "text": 14, "date": 9, "initials": 6, "checkbox": 3}   # room a field asks for, in "x"s
FIELD_LEAST = 8           # "x"s: the shortest line to write on in a squeezed table


def column_widths(rows, ncols: int, width: int, text_pt: float, padding: int) -> list[int]:
    """Columns share the width by how much text they hold, but never less than their longest word.

    Equal columns broke an email address between letters in a narrow cell and
    left a wide one half empty. Words are measured in Vera, the font the
    document names, bold to be safe, at ``text_pt``; ``padding`` is a cell's two margins.
    Where the words do not fit side by side (large print), lines to write on
    grow shorter first (to FIELD_LEAST), then the widest column gives way.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from .fonts import BOLD, clean

    def twips(text: str) -> int:
        return int(stringWidth(clean(text), BOLD, text_pt) * 20)

    def measure(cell, line_chars: int | None) -> tuple[int, int]:   # (characters, longest word in twips)
        if isinstance(cell, Field):
            n = FIELD_CHARS.get(cell.kind, 10)
            return n, twips(PLACEHOLDERS["date"] if cell.kind == "date" else "x" * min(n, line_chars or n))
        text = cell_text(cell)
        return len(text), max((twips(w) for w in text.split()), default=0)

    for line_chars in (None, FIELD_LEAST):
        measured = [[measure(r[c], line_chars) if c < len(r) else (0, 0) for r in rows] for c in range(ncols)]
        least = [max(w for _, w in col) + padding + 40 for col in measured]
        if sum(least) < width:
            weight = [min(max(max(n for n, _ in col), 6), 40) for col in measured]
            return _shared(least, weight, width)
    return _squeezed(least, width)


def _shared(least: list[int], weight: list[int], width: int) -> list[int]:
    """The width shared by weight; a column below its longest word takes that, the rest share."""
    ncols, short = len(least), set()
    while True:
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


def _squeezed(least: list[int], width: int) -> list[int]:
    """Widths for columns whose longest words do not fit side by side: the widest column
    (an email address, in large print) gives way and the others keep their words whole;
    only if it would be left too narrow do all share by their words, and all break."""
    widest = max(range(len(least)), key=least.__getitem__)
    rest = width - (sum(least) - least[widest])
    if rest >= max(width // (2 * len(least)), 720):
        return [rest if c == widest else w for c, w in enumerate(least)]
    return [int(width * x / sum(least)) for x in least]


def table(ctx: Context, flow: Flow, block: Table, depth: int) -> None:
    rows = ([block.header] if block.header else []) + list(block.rows)
    ncols = max((len(r) for r in rows), default=0)
    if not ncols:
        return
    padding = 2 * ctx.look.tw(CELL_MARGIN)
    widths = column_widths(rows, ncols, ctx.width, ctx.look.body, padding)
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
                set_spacing(p, before=ctx.look.tw(WRITING_ROOM))
                control(ctx, p, cell, width=widths[c] - padding)
            else:
                inline(ctx, p, cell, bold=head)


def _lines(block: Callout, scale: float) -> int:
    """About how many lines a callout takes (LINE_CHARS a line in normal print, fewer as
    the text grows by ``scale``; a field two)."""
    units = text_units(block.blocks) + ([block.title] if block.title else [])
    per_line = int(LINE_CHARS / scale)
    return sum(len(u) // per_line + 1 for u in units) + 2 * sum(isinstance(b, Field) for b in block.blocks)


def callout(ctx: Context, flow: Flow, block: Callout, depth: int) -> None:
    tbl = flow.tbl()
    pr = el(tbl, "tblPr")
    el(pr, "tblW", w="5000", type="pct")
    el(pr, "tblLook", val="0000", firstRow="0", lastRow="0", firstColumn="0", lastColumn="0",
       noHBand="1", noVBand="1")
    _alt_text(pr, block.title or ctx.heading)
    el(el(tbl, "tblGrid"), "gridCol", w=str(ctx.width))
    tr = el(tbl, "tr")
    if _lines(block, ctx.look.scale) <= CALLOUT_WHOLE_LINES:
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
    for side, size in (("top", 140), ("left", 220), ("bottom", 140), ("right", 220)):
        el(margins, side, w=str(ctx.look.tw(size)), type="dxa")
    inner = Flow(tc, ctx.look.tw(TABLE_GAP))
    if block.title:
        p = inner.p(after=ctx.look.tw(80))
        run(p, block.title, bold=True, color=ctx.accent)
    outer, ctx.heading = ctx.heading, block.title or ctx.heading    # a table inside is under the title
    ctx.blocks(ctx, inner, block.blocks, 0)
    ctx.heading = outer
    inner.close(tight=True)

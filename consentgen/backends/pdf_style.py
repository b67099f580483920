"""PDF look: page geometry, colours, paragraph styles and run markup.

Shared by the PDF flowables and block renderers; built once per process and
accent colour.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ..document import Run
from ..errors import BackendError
from . import fonts, pdf_stamp, rtl

PAGE_SIZES = {"letter": letter, "a4": A4}
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 0.9 * inch, 1.0 * inch, 0.85 * inch
INK, MUTED, RULE = colors.HexColor("#1F2328"), colors.HexColor("#5B6168"), colors.HexColor("#C9CED3")
FIELD_WIDTH = {"signature": 3.5 * inch, "initials": 1.0 * inch, "date": 1.8 * inch, "text": 3.5 * inch}
HEADER_Y, RULE_Y, FOOTER_Y, SMALL = 0.55 * inch, 0.67 * inch, 0.5 * inch, 9.0   # from the top; bottom
KEEP_WHOLE = 4.5 * inch
FIELD_HEIGHT, FIELD_GAP, CHECKBOX = 22.0, 0.35 * inch, 12.0


# -- styles -------------------------------------------------------------------

def tint(color: colors.Color, amount: float) -> colors.Color:
    """``color`` mixed with white: amount 0 is white, 1 is the colour itself."""
    return colors.Color(*(1 - amount * (1 - c) for c in color.rgb()))


@dataclass(frozen=True)
class Styles:
    accent: colors.Color
    body: ParagraphStyle
    item: ParagraphStyle       # paragraphs inside list items and callouts
    headings: tuple[ParagraphStyle, ...]
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    label: ParagraphStyle
    callout_title: ParagraphStyle
    small: float = SMALL                # the running header and footer
    field_height: float = FIELD_HEIGHT
    checkbox: float = CHECKBOX
    field_font: float = 11.0            # what a reader types into a field


LARGE = 16 / 11         # large print: the 11-point body becomes 16 points, and the rest in proportion


@lru_cache(maxsize=16)
def styles_for(accent_hex: str, large: bool = False) -> Styles:
    """Paragraph styles for one accent colour (and print size), built once per process."""
    try:
        accent = colors.HexColor(accent_hex)
    except (ValueError, TypeError):
        raise BackendError(f"accent colour must look like '#2F5D62', not {accent_hex!r}") from None
    # No widows or orphans: a paragraph split by a page break keeps two lines on each side
    # (reportlab allows widows by default; every other style derives from this one).
    k = LARGE if large else 1.0

    def sized(name: str, **kw) -> ParagraphStyle:
        for key in ("fontSize", "leading", "spaceBefore", "spaceAfter"):
            if key in kw:
                kw[key] = round(kw[key] * k, 2)
        return ParagraphStyle(name, **kw)

    body = sized("cg-body", fontName=fonts.REGULAR, fontSize=11, leading=15.5,
                 textColor=INK, spaceAfter=6, alignment=TA_LEFT, allowWidows=0, allowOrphans=0)
    heading = dict(fontName=fonts.BOLD, textColor=accent, keepWithNext=1, allowWidows=0, allowOrphans=0)
    headings = (
        sized("cg-h1", **heading, fontSize=19, leading=23, spaceAfter=9),
        sized("cg-h2", **heading, fontSize=14, leading=18, spaceBefore=12, spaceAfter=5),
        sized("cg-h3", **heading, fontSize=12, leading=16, spaceBefore=9, spaceAfter=3),
        sized("cg-h4", **heading, fontSize=11, leading=15, spaceBefore=8, spaceAfter=3),
    )
    return Styles(
        accent=accent,
        body=body,
        item=sized("cg-item", parent=body, spaceAfter=3),
        headings=headings,
        cell=sized("cg-cell", parent=body, fontSize=10.5, leading=14, spaceAfter=0),
        cell_head=sized("cg-cell-head", parent=body, fontName=fonts.BOLD, fontSize=10.5, leading=14, spaceAfter=0),
        label=sized("cg-label", parent=body, fontSize=9.5, leading=12, textColor=MUTED, spaceAfter=0),
        callout_title=sized("cg-callout-title", parent=body, fontName=fonts.BOLD, textColor=accent, spaceAfter=0),
        small=12.0 if large else SMALL,
        field_height=round(FIELD_HEIGHT * k, 2),
        checkbox=round(CHECKBOX * k, 2),
        field_font=round(11 * k, 2),
    )


# -- text ---------------------------------------------------------------------

def markup(runs: tuple[Run, ...], accent_hex: str, bold: bool = False) -> str:
    """reportlab paragraph markup for ``runs``; ``bold`` if the style's font is bold.

    The text is prepared (``fonts.prepare``: Arabic letters joined) but stays in
    logical order: a ``Para`` puts each line in visual order when it draws it.
    """
    out = []
    for run in runs:
        b, i = bold or run.bold, run.italic
        if run.stamp and not (b or i) and pdf_stamp.fits(run.text):     # a client's value: see pdf_stamp
            out.append(f'<font name="{pdf_stamp.STAMP}">{escape(run.text)}</font>')
            continue
        text = ""
        for face, piece in fonts.segments(fonts.prepare(run.text), b, i):
            piece = escape(piece).replace("\n", "<br/>")
            if face == fonts.face(b, i):
                piece = f"<i>{piece}</i>" if i else piece
                piece = f"<b>{piece}</b>" if run.bold and not bold else piece
            else:
                piece = f'<font name="{face}">{piece}</font>'
            text += piece
        if run.link:
            href = escape(run.link, {'"': "&quot;"})
            text = f'<a href="{href}" color="{accent_hex}"><u>{text}</u></a>'
        out.append(text)
    return "".join(out)


def draw_text(canv: Canvas, x: float, y: float, text: str, size: float, bold: bool = False,
               right: bool = False) -> None:
    """Draw one line of prepared ``text`` (with fallback fonts), left- or right-aligned at x,
    in visual order (see ``rtl.visual``)."""
    pieces = rtl.visual(fonts.segments(text, bold))
    if right:
        x -= sum(stringWidth(p, f, size) for f, p in pieces)
    line = canv.beginText(x, y)             # one text object, so the line copies as one
    for face, piece in pieces:
        line.setFont(face, size)
        line.textOut(piece)
    canv.drawText(line)


def fit(text: str, size: float, width: float, bold: bool = False) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` points."""
    def w(t: str) -> float:
        return sum(stringWidth(p, f, size) for f, p in fonts.segments(t, bold))
    if w(text) <= width:
        return text
    while text and w(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…" if text else ""



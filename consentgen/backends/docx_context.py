"""What the DOCX block renderers share: the render's context, runs of text and
form fields' content controls. The block renderers live in docx.py (text,
lists, fields) and docx_tables.py (tables, callouts); they reach each other
only through ``Context.blocks``, so neither module imports the other.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable

from docx.opc.constants import RELATIONSHIP_TYPE as RT

from ..document import Field, Runs
from . import docx_numbering
from .docx_look import NORMAL, Look
from .docx_numbering import FIRST_FREE_NUM
from .docx_xml import el, run, w14

PLACEHOLDERS = {"signature": "_" * 34, "text": "_" * 34, "initials": "_" * 8,
                "date": "____\u00a0/\u00a0____\u00a0/\u00a0______"}
# A date's spaces do not break: split over two lines in a narrow cell, it read as two
# blanks. Where it does not fit, it takes fewer underscores (month, day, year).
_SHORTER_DATES = ((3, 3, 5), (2, 2, 4))
UNDERSCORE = 115          # twips: one "_" at the normal body size (half an em of 11.5 pt)


@dataclass
class Context:
    """What the block renderers share during one render."""

    part: object                 # the python-docx DocumentPart (relationships)
    numbering: object            # the w:numbering element
    accent: str                  # 'RRGGBB'
    width: int                   # text width in twips
    language: str
    blocks: Callable = None      # blocks(ctx, flow, blocks, depth): renders any blocks
    heading: str = ""            # the nearest heading so far: a table's caption
    look: Look = NORMAL          # type sizes and spacing (large print)
    title_done: bool = False
    nums: itertools.count = field(default_factory=lambda: itertools.count(FIRST_FREE_NUM))
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def tint(self, share: float) -> str:
        """The accent colour mixed into white, ``share`` of it kept."""
        rgb = (int(self.accent[i:i + 2], 16) for i in (0, 2, 4))
        return "".join(f"{round(255 - (255 - c) * share):02X}" for c in rgb)

    def restart(self, level: int, start: int) -> str:
        """The numId of a new numbered list whose ``level`` starts at ``start``."""
        return docx_numbering.restart(self.numbering, next(self.nums), level, start)


def inline(ctx: Context, p, runs: Runs, bold: bool = False) -> None:
    """The runs into paragraph ``p``; a web link becomes a w:hyperlink."""
    for r in runs:
        parent, style = p, None
        if r.link and not r.link.startswith("#"):
            rid = ctx.part.relate_to(r.link, RT.HYPERLINK, is_external=True)
            parent = el(p, "hyperlink", history="1")
            parent.set(f"{{{p.nsmap['r']}}}id", rid)
            style = "Hyperlink"
        run(parent, r.text, bold=bold or r.bold, italic=r.italic, style=style)


def control(ctx: Context, p, block: Field, width: int | None = None) -> None:
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
    run(content, _placeholder(block.kind, width, ctx.look.tw(UNDERSCORE)))


def _placeholder(kind: str, width: int | None, underscore: int) -> str:
    """The blank line of a field, shortened to ``width`` twips if given (every character
    counted as wide as an underscore, the widest of them)."""
    line = PLACEHOLDERS[kind]
    if width is None:
        return line
    if set(line) == {"_"}:
        return line[:max(4, width // underscore)]
    for parts in _SHORTER_DATES:
        if len(line) * underscore <= width:
            break
        line = "\u00a0/\u00a0".join("_" * n for n in parts)
    return line

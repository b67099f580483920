"""Small WordprocessingML builders the python-docx API lacks.

Elements are created as children of elements already in a python-docx tree,
so they get python-docx's element classes (``p.get_or_add_pPr()`` works) and
the document's own namespace prefixes.
"""
from __future__ import annotations

import re

from docx.oxml.ns import nsmap
from lxml import etree

W = f"{{{nsmap['w']}}}"
W14 = f"{{{nsmap['w14']}}}"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# Characters XML 1.0 cannot hold; templates never mean them.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]")


def el(parent, tag: str, **attrs: str):
    """Append ``<w:tag w:key="value" ...>`` to parent and return it."""
    child = etree.SubElement(parent, W + tag)
    for key, value in attrs.items():
        child.set(W + key, value)
    return child


def w14(parent, tag: str, **attrs: str):
    """Append a Word 2010 (w14) element, as checkbox content controls need."""
    child = etree.SubElement(parent, W14 + tag)
    for key, value in attrs.items():
        child.set(W14 + key, value)
    return child


def _text(r, text: str) -> None:
    """Text into a run: newlines become w:br, tabs w:tab, spaces are kept."""
    for n, line in enumerate(_ILLEGAL.sub("", text).split("\n")):
        if n:
            el(r, "br")
        for m, chunk in enumerate(line.split("\t")):
            if m:
                el(r, "tab")
            if chunk:
                t = el(r, "t")
                t.text = chunk
                if chunk != chunk.strip():
                    t.set(XML_SPACE, "preserve")


def run(parent, text: str, *, bold: bool = False, italic: bool = False, style: str | None = None,
        color: str | None = None, font: str | None = None) -> None:
    """Append a w:r with the given look; nothing for empty text."""
    if not text:
        return
    r = el(parent, "r")
    if style or bold or italic or color or font:
        rpr = el(r, "rPr")                   # children in schema order
        if style:
            el(rpr, "rStyle", val=style)
        if font:
            el(rpr, "rFonts", ascii=font, hAnsi=font, eastAsia=font)
        if bold:
            el(rpr, "b")
        if italic:
            el(rpr, "i")
        if color:
            el(rpr, "color", val=color)
    _text(r, text)


# The w:pPr children we write, in schema order (CT_PPr).
_PPR_ORDER = {tag: n for n, tag in enumerate((
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "widowControl", "numPr", "pBdr", "shd",
    "tabs", "spacing", "ind", "jc", "outlineLvl", "rPr"))}


def ppr_child(p, tag: str):
    """A paragraph's w:pPr/w:tag, added in schema order if missing. (python-docx's
    get_or_add_* does the same through a search per later tag, ten times slower.)"""
    ppr = p[0] if len(p) and p[0].tag == W + "pPr" else None
    if ppr is None:
        ppr = p.makeelement(W + "pPr", {})
        p.insert(0, ppr)
    found = ppr.find(W + tag)
    if found is not None:
        return found
    child = ppr.makeelement(W + tag, {})
    rank = _PPR_ORDER[tag]
    for i, existing in enumerate(ppr):
        if _PPR_ORDER.get(existing.tag[len(W):], -1) > rank:
            ppr.insert(i, child)
            return child
    ppr.append(child)
    return child


def set_spacing(p, **twips: int) -> None:
    """Set spacing before/after (twips) directly on a paragraph."""
    spacing = ppr_child(p, "spacing")
    for side, value in twips.items():
        spacing.set(W + side, str(value))


def keep_with_next(p) -> None:
    ppr_child(p, "keepNext")


def keep_with_next_block(block) -> None:
    """Keep a paragraph with what follows; for a table, its last row (so that
    row and the next block share a page)."""
    if block.tag == W + "tbl":
        rows = block.findall(W + "tr")
        for p in (rows[-1].iter(W + "p") if rows else ()):
            keep_with_next(p)
    else:
        keep_with_next(block)


def field_code(p, instruction: str) -> None:
    """A complex field (PAGE, NUMPAGES) with "1" as its result until Word updates it
    (python-docx #498, #640)."""
    el(el(p, "r"), "fldChar", fldCharType="begin")
    instr = el(el(p, "r"), "instrText")
    instr.text = f" {instruction} "
    instr.set(XML_SPACE, "preserve")
    el(el(p, "r"), "fldChar", fldCharType="separate")
    run(p, "1")
    el(el(p, "r"), "fldChar", fldCharType="end")


TABLE_GAP = 160       # twips between two tables, as after a paragraph
_COLLAPSED = 20       # twips: the height of a paragraph that only Word's rules require


class Flow:
    """A container being filled, the body or a table cell, keeping Word's rules
    without empty paragraphs for spacing (spacing lives in paragraph properties):

    - a paragraph after a table gets its room above in its own spacing;
    - two tables never touch (Word would join them into one), so a collapsed
      paragraph, as tall as the gap, goes between them;
    - a cell, and the body before its section properties, ends with a
      paragraph: after a closing table that is a collapsed one, 1 pt tall;
    - a page break moves the next paragraph, or the next table's first row.
    """

    def __init__(self, parent, gap: int = TABLE_GAP):
        self.parent = parent
        self.gap = gap                   # twips between a table and what follows it
        self.last: str | None = None
        self.page_break = False
        self._break_table = None         # a new-page table whose first paragraph is not written yet

    def p(self, style: str | None = None, *, num_id: str | None = None, level: int = 0,
          keep_next: bool = False, after: int | None = None):
        """A new paragraph, a list item of level ``level`` with ``num_id``; its properties
        are written at once, in schema order."""
        self._settle()
        p = el(self.parent, "p")
        before = self.gap if self.last == "tbl" and not (style or "").startswith(("Heading", "Title")) else None
        if style or keep_next or self.page_break or num_id or before is not None or after is not None:
            ppr = el(p, "pPr")
            if style:
                el(ppr, "pStyle", val=style)
            if keep_next:
                el(ppr, "keepNext")
            if self.page_break:
                el(ppr, "pageBreakBefore")
            if num_id:
                numpr = el(ppr, "numPr")
                el(numpr, "ilvl", val=str(level))
                el(numpr, "numId", val=num_id)
            if before is not None or after is not None:
                spacing = el(ppr, "spacing")
                for side, value in (("before", before), ("after", after)):
                    if value is not None:
                        spacing.set(W + side, str(value))
        self.last, self.page_break = "p", False
        return p

    def tbl(self):
        self._settle()
        if self.last == "tbl":
            self._collapsed(self.gap)
        tbl = el(self.parent, "tbl")
        if self.page_break:                  # carried by the table's first paragraph, once written
            self._break_table, self.page_break = tbl, False
        self.last = "tbl"
        return tbl

    def close(self, tight: bool = False) -> None:
        self._settle()
        self.page_break = False              # a break at the very end would add a blank page
        if self.last != "p":                 # after a table, or in a cell left empty
            self._collapsed(_COLLAPSED)
        if tight:
            set_spacing(self.parent[-1], after=0)

    def _settle(self) -> None:
        """Put a pending page break on the first paragraph of the table that asked for it
        (Word and LibreOffice then start the table on a new page)."""
        if self._break_table is not None:
            first = next(self._break_table.iter(W + "p"), None)
            if first is not None:
                ppr_child(first, "pageBreakBefore")
            self._break_table = None

    def _collapsed(self, height: int):
        """An empty paragraph exactly ``height`` twips tall, its mark 1 pt: only where Word requires one."""
        p = el(self.parent, "p")
        ppr = el(p, "pPr")
        el(ppr, "spacing", before="0", after="0", line=str(height), lineRule="exact")
        rpr = el(ppr, "rPr")
        el(rpr, "sz", val="2")
        el(rpr, "szCs", val="2")
        self.last = "p"
        return p

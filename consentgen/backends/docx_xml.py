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


def set_spacing(p, **twips: int) -> None:
    """Set spacing before/after (twips) directly on a paragraph."""
    spacing = p.get_or_add_pPr().get_or_add_spacing()
    for side, value in twips.items():
        spacing.set(W + side, str(value))


def keep_with_next(p) -> None:
    p.get_or_add_pPr().get_or_add_keepNext()


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


class Flow:
    """A container being filled, the body or a table cell, keeping Word's rules:
    two tables never touch, a cell ends with a paragraph, a paragraph after a
    table gets room above it, and a page break moves the next paragraph."""

    def __init__(self, parent):
        self.parent = parent
        self.last: str | None = None
        self.page_break = False

    def p(self, style: str | None = None, *, num_id: str | None = None, keep_next: bool = False,
          after: int | None = None):
        """A new paragraph; its properties are written at once, in schema order."""
        p = el(self.parent, "p")
        before = 160 if self.last == "tbl" and not (style or "").startswith(("Heading", "Title")) else None
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
                el(numpr, "ilvl", val="0")
                el(numpr, "numId", val=num_id)
            if before is not None or after is not None:
                spacing = el(ppr, "spacing")
                for side, value in (("before", before), ("after", after)):
                    if value is not None:
                        spacing.set(W + side, str(value))
        self.last, self.page_break = "p", False
        return p

    def tbl(self):
        if self.last == "tbl" or self.page_break:
            self.last = None                 # a bare spacer keeps two tables apart / carries the break
            self.p(after=0)
        self.last = "tbl"
        return el(self.parent, "tbl")

    def close(self, tight: bool = False) -> None:
        self.page_break = False              # a break at the very end would add a blank page
        if self.last != "p":                 # a cell (and Word's body) must end with a paragraph
            self.last = None
            self.p(after=0)
        if tight:
            set_spacing(self.parent[-1], after=0)

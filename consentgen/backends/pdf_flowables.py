"""PDF flowables of our own: cached paragraphs, bookmarked headings, tables
that split inside a row too tall for a page, tagged lists, and keep-with-next
that needs only the start of the next block (form fields: ``pdf_fields``).

Each flowable that draws content carries its structure element (``tag``,
see ``pdf_tags``) and marks what it draws as that element's content, or as
an artifact when it is decoration.
"""
from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, ListFlowable, Paragraph as RLParagraph, Table as RLTable
from reportlab.platypus.doctemplate import FrameBreak, NullActionFlowable
from reportlab.platypus.flowables import DDIndenter, LIIndenter, _listWrapOn

from . import fonts, rtl
from .pdf_tags import Elem

class Para(RLParagraph):
    """A Paragraph that remembers its last wrap.

    platypus often wraps one paragraph twice at the same width (a keep-together
    group or a list measures it, then the frame does); line breaking is most of
    the cost of a render, and its result depends on the width alone.
    """

    _wrapped_at: float | None = None
    tag: Elem | None = None         # the structure element this paragraph's text belongs to

    def drawOn(self, canv, x, y, _sW=0):
        with canv.marks.tagged(canv, self.tag):
            super().drawOn(canv, x, y, _sW)

    def split(self, availWidth, availHeight):
        parts = super().split(availWidth, availHeight)
        for part in parts:          # each piece of a paragraph split across pages is the same element
            part.tag = self.tag
        return parts

    def wrap(self, availWidth, availHeight):
        if availWidth != self._wrapped_at or "blPara" not in self.__dict__:   # split() may drop it
            width, height = super().wrap(availWidth, availHeight)
            if height != 0x7FFFFFFF:         # "cannot fit at all" is not remembered
                self._wrapped_at = availWidth
            return width, height
        return self.width, self.height

    def drawPara(self, debug=0):
        """Draw, each line in visual order when it holds right-to-left text (see ``rtl``).

        Lines are broken, and pages split, in logical order; only drawing sees the
        reordered copy, so a paragraph split after this draws right as well.
        """
        if not self._rtl():
            return super().drawPara(debug)
        logical = self.blPara
        self.blPara = _visual_lines(logical)
        try:
            return super().drawPara(debug)
        finally:
            self.blPara = logical

    def _rtl(self) -> bool:
        return self.__dict__.get("_has_rtl", False)

    def _setup(self, text, style, bulletText, frags, cleaner):
        # Parsing is done here (also for a piece a split makes); wrapping replaces the fragments.
        super()._setup(text, style, bulletText, frags, cleaner)
        if isinstance(text, str):       # the markup: one search (a font name never matches)
            self._has_rtl = rtl.has_rtl(text)
        else:
            self._has_rtl = any(rtl.has_rtl(_frag_text(f)) for f in self.frags)


def _frag_text(frag) -> str:
    """The text of a parsed fragment, or of what a split makes: a word list
    (``[width, (frag, text), ...]``) or a one-style fragment with ``words``."""
    if isinstance(frag, list):
        return "".join(t for _, t in frag[1:])
    text = getattr(frag, "text", None)
    return " ".join(getattr(frag, "words", ())) if text is None else text


def _visual_lines(para):
    """A copy of a broken paragraph (``blPara``) with each line's text in visual order."""
    if para.kind == 0:      # one style: each line is (extra space, words), drawn joined by spaces
        lines = [(space, ["".join(t for _, t in rtl.visual([(None, " ".join(words))]))]) for space, words in para.lines]
        return para.clone(lines=lines)
    lines = []
    for line in para.lines:
        words = line.words
        if any(hasattr(f, "cbDefn") for f in words) or not rtl.has_rtl("".join(f.text for f in words)):
            lines.append(line)      # nothing to reorder, or an inline object: left as it is
            continue
        ends = [f for f in words if not f.text]         # a line break's empty fragment stays last
        pieces = rtl.visual([(f, f.text) for f in words if f.text])
        lines.append(line.clone(words=[f.clone(text=t) for f, t in pieces] + ends))
    return para.clone(lines=lines)


class HeadingPara(Para):
    """A heading that adds itself to the PDF outline when drawn, and notes its page."""

    outline: tuple[str, str, int] | None = None    # (key, title, level)
    anchor: str | None = None                      # the heading's anchor (document.Heading.anchor)
    pages: dict[str, int] | None = None            # where drawn headings note their page: anchor -> page

    def split(self, availWidth, availHeight):
        """Never split (half a heading is no use), unless even a whole page cannot hold it."""
        frame = getattr(self, "_frame", None)
        if frame is None or not frame._atTop:
            return []
        parts = super().split(availWidth, availHeight)
        if parts:           # the first piece is the one the bookmark and the page note go with
            parts[0].outline, parts[0].anchor, parts[0].pages = self.outline, self.anchor, self.pages
        return parts

    def draw(self):
        if self.outline:
            key, title, level = self.outline
            self.canv.bookmarkHorizontal(key, 0, self.height)
            self.canv.addOutlineEntry(title, key, level=level, closed=False)
            if self.pages is not None and self.anchor:
                self.pages.setdefault(self.anchor, self.canv.getPageNumber())
        super().draw()


class Table(RLTable):
    """A table whose rows move to the next page whole (as with ``splitInRow=0``), except a
    row too tall for any page: that row splits between the lines of its cells, where
    platypus would stop with a LayoutError.

    A long notice in a callout, or a long value in a narrow column, then flows on to the
    next page instead of failing the document.
    """

    IN_ROW = 30.0       # the least height of either piece of a split row: two lines of cell text
    repeated = 0        # on a later page: the header rows drawn again (artifacts, not content)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("renderCB", _mark_table)      # the pieces of a split are made with it
        super().__init__(*args, **kwargs)
        # Cells hold paragraphs with their own fonts, but the table names its cell font anyway:
        # by default Helvetica, which is not embedded.
        self.setStyle([("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR)])

    def split(self, availWidth, availHeight):
        parts = self._split(availWidth, availHeight)
        for i, part in enumerate(parts):
            # The first piece starts where this table did (its header real content only on the first
            # page); every later piece starts on a new page with the header drawn again.
            part.repeated = self.repeated if i == 0 else self.repeatRows
        return parts

    def _split(self, availWidth, availHeight):
        self._calc(availWidth, availHeight)
        frame = getattr(self, "_frame", None)
        page = frame._aH if frame is not None else availHeight     # the height of a whole page
        head = sum(self._rowHeights[:self.repeatRows])
        used, too_tall, row = head, False, self.repeatRows
        for row, height in enumerate(self._rowHeights[self.repeatRows:], self.repeatRows):
            if used + height > availHeight:         # the first row that is not all here
                too_tall = head + height > page
                break
            used += height
        if not too_tall:
            parts = super().split(availWidth, availHeight)
            if parts or (frame is not None and not frame._atTop):
                return parts        # split between rows, or a new page holds the row whole
        # A row no page holds starts here, right after the rows before it, and splits.
        # reportlab splits a cell's content only when it is a list of flowables.
        self._cellvalues = [[v if isinstance(v, (list, tuple, str)) else [v] for v in values]
                            for values in self._cellvalues]
        if row < len(self._cellStyles):
            for cell in self._cellStyles[row]:
                cell.valign = "TOP"     # a field beside the text starts with it, not half a page down
        self.splitInRow, self.splitByRow = self.IN_ROW, 0       # in the row first, between rows if not
        try:
            parts = super().split(availWidth, availHeight)
        finally:
            self.splitInRow, self.splitByRow = 0, 1
        for part in parts:
            part.splitInRow, part.splitByRow = 0, 1     # each piece decides again where it lands
        return parts

    def _splitCell(self, value, style, oldHeight, newHeight, width):
        """A cell's flowables as (what fits in ``newHeight``, the rest).

        reportlab's own version splits them at the column's width, not the width
        inside the cell's padding, and forgets the bottom padding: the first piece
        could come out taller than its row and be drawn over the rows above.
        """
        if not isinstance(value, (list, tuple)):
            return super()._splitCell(value, style, oldHeight, newHeight, width)
        canv = getattr(self, "canv", None)
        inner = width - style.leftPadding - style.rightPadding
        room = newHeight - style.topPadding - style.bottomPadding
        first: list = []
        rest: list = []
        used, after = 0.0, 0.0
        for f in value:
            if rest:
                rest.append(f)
                continue
            gap = after + f.getSpaceBefore() if first else 0.0
            height = f.wrapOn(canv, inner, 0x7FFFFFFF)[1]
            if used + gap + height <= room:
                first.append(f)
                used, after = used + gap + height, f.getSpaceAfter()
                continue
            pieces = f.splitOn(canv, inner, room - used - gap) if room - used - gap > 0 else []
            if len(pieces) > 1:
                first.append(pieces[0])
                rest.extend(pieces[1:])
            else:
                rest.append(f)
        if value and not first and style.valign == "TOP":
            return []           # nothing of this cell fits: this row cannot split here
        return tuple(first), tuple(rest)


_ARTIFACT_EVENTS = {"startBG": "endBG", "startLines": "endLines"}


def _mark_table(table: Table, event: str, *args) -> None:
    """Backgrounds and grid lines are decoration; a header row drawn again on a later page too.

    reportlab calls this around each part of drawing a table (``renderCB``); the
    cells' own flowables mark their text.
    """
    canv = table.canv
    start = event in _ARTIFACT_EVENTS or (event == "startCell" and args[0] < table.repeated)
    if start:
        table._artifact = canv.marks.artifact(canv)
        table._artifact.__enter__()
    elif event in ("endBG", "endLines", "endCell") and getattr(table, "_artifact", None) is not None:
        artifact, table._artifact = table._artifact, None
        artifact.__exit__(None, None, None)


class TaggedList(ListFlowable):
    """A list whose bullets and numbers are drawn as each item's Lbl element.

    ``labels`` maps each item's first flowable (by id) to its Lbl element.
    """

    def __init__(self, items, labels: dict[int, Elem], **kwargs):
        self._labels = labels
        super().__init__(items, **kwargs)

    def _makeLIIndenter(self, flowable, bullet, params=None):
        made = super()._makeLIIndenter(flowable, bullet, params)
        return _LabelledIndenter(made._flowable, made._leftIndent, made._rightIndent, made._bullet,
                                 self._labels.get(id(flowable)), made.__dict__.get("spaceBefore"),
                                 made.__dict__.get("spaceAfter"))


class _LabelledIndenter(LIIndenter):
    """A list item's indented content, its bullet (on its first piece) marked as the item's label."""

    def __init__(self, flowable, leftIndent, rightIndent, bullet, label: Elem | None, spaceBefore=None,
                 spaceAfter=None):
        super().__init__(flowable, leftIndent, rightIndent, bullet, spaceBefore, spaceAfter)
        self.__dict__["_label"] = label     # an indenter sets other attributes on what it holds

    def split(self, aW, aH):
        return [_LabelledIndenter(p._flowable, p._leftIndent, p._rightIndent, p._bullet, self._label,
                                  p.__dict__.get("spaceBefore"), p.__dict__.get("spaceAfter"))
                for p in super().split(aW, aH)]

    def drawOn(self, canv, x, y, _sW=0):
        if self._bullet:
            with canv.marks.tagged(canv, self._label):
                self._bullet.drawOn(self, canv, x, y, 0)
        self._flowable.drawOn(canv, x + self._leftIndent, y, max(0, _sW - self._leftIndent - self._rightIndent))


class KeepWithNext(KeepTogether):
    """A heading (or the words that lead into a form) kept on one page with the block after it.

    ``_DocTemplate.handle_keepWithNext`` groups each run of keepWithNext flowables
    with the flowable after it, whatever that is. The group stays on this page only
    if all of it but the last block fits and the last block can put its first piece
    here: the piece it would really split off (a paragraph's first lines under its
    widow and orphan rules, a list's first item, a table's header and first row).
    A block that cannot split (a callout kept whole, form fields) must fit whole.
    Otherwise the group starts the next page, except that a paragraph marked
    ``keep_tail`` (text before a one-line lead-in to a form) leaves its head on
    this page and takes only its last lines along.

    The test uses the split platypus will make itself, so a heading is never left
    at the foot of a page by a block that then refuses to start there.
    """

    def wrap(self, aW, aH):
        dims: list[tuple[float, float]] = []
        width, height = _listWrapOn(self._content, aW, self.canv, dims=dims)
        self._H, self._dims, self._wrapInfo = height, dims, (aW, aH)
        return width, 0xFFFFFF     # as KeepTogether: always ask to be split

    def split(self, aW, aH):
        if getattr(self, "_wrapInfo", None) != (aW, aH):
            self.wrap(aW, aH)
        frame = getattr(self, "_frame", None)
        content = self._content
        if self._H <= aH or frame is None or frame._atTop or len(self._dims) != len(content):
            return [NullActionFlowable(), *content]        # fits, or cannot do better on a new page
        last = content[-1]
        room = aH - (self._H - self._dims[-1][1])          # what is left for the last block
        if _first_piece_fits(last, aW, room, self.canv):
            return [NullActionFlowable(), *content]
        for i, f in enumerate(content[:-1]):
            if getattr(f, "keep_tail", False):
                before = _listWrapOn(content[:i + 1], aW, self.canv)[1] - self._dims[i][1]
                parts = _split_keeping_tail(f, aW, aH - before)
                if parts:
                    return [*content[:i], parts[0], FrameBreak(), parts[1], *content[i + 1:]]
        return [FrameBreak(), *content]


def _first_piece_fits(f: Flowable, aW: float, aH: float, canv) -> bool:
    """Whether ``f`` can put something on the page in height ``aH``: all of it, or the
    first piece its own split would make (a paragraph, a list, a table may split)."""
    if aH <= 0:
        return False
    if isinstance(f, KeepTogether):
        f.wrapOn(canv, aW, aH)
        return f._H <= aH
    if f.wrapOn(canv, aW, aH)[1] <= aH:
        return True
    if not isinstance(f, (RLParagraph, ListFlowable, DDIndenter, RLTable)):
        return False        # form fields, checkboxes and the like move whole
    parts = f.splitOn(canv, aW, aH)
    return bool(parts) and parts[0] is not f and _first_piece_fits(parts[0], aW, aH, canv)


def _split_keeping_tail(f: Flowable, aW: float, aH: float) -> list[Flowable] | None:
    """``f`` (a paragraph) split into as much as fits in ``aH`` and a tail of at least two lines."""
    if not isinstance(f, RLParagraph) or isinstance(f, HeadingPara):
        return None
    f.wrap(aW, aH)
    leading = f.style.leading
    keep = min(int(aH / leading), len(f.blPara.lines) - 2)
    if keep < 2:
        return None
    parts = f.split(aW, keep * leading + 0.01)
    return parts if len(parts) == 2 else None


def line_count(para: RLParagraph, width: float) -> int:
    """How many lines ``para`` takes at ``width`` (a Para remembers the wrap)."""
    para.wrap(width, 1e6)
    return len(para.blPara.lines)

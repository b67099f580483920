"""PDF form fields: fillable lines and checkboxes with their labels, each widget in the
structure element of its field (``tag``), its label its spoken name (/TU).
"""
from __future__ import annotations

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import getAscent
from reportlab.platypus import Flowable, Paragraph as RLParagraph

from ..document import Field, Run
from . import fonts
from .pdf_flowables import Para
from .pdf_style import FIELD_GAP, FIELD_WIDTH, INK, MUTED, markup, Styles, tint
from .pdf_tags import Elem


def draw_line_field(canv, field: Field, x: float, y: float, width: float, styles: Styles,
                    tag: Elem | None) -> None:
    """A fillable text field on its underline, bottom left at (x, y); the label is its tooltip
    and its spoken name (/TU); its widget joins the Form element ``tag``.

    The caller sets the underline's colour and width (MUTED, 0.8).
    """
    with canv.marks.field(tag):
        canv.acroForm.textfieldRelative(
            name=field.name, tooltip=fonts.clean(field.label), x=x, y=y, width=width, height=styles.field_height,
            value="", fontName="Helvetica", fontSize=styles.field_font, maxlen=0,
            borderStyle="underlined", borderWidth=0.8, borderColor=MUTED,
            fillColor=tint(styles.accent, 0.06), textColor=INK,
        )
    with canv.marks.artifact(canv):
        canv.line(x, y, x + width, y)


def draw_checkbox(canv, field: Field, x: float, y: float, styles: Styles, tag: Elem | None) -> None:
    """A fillable checkbox, bottom left at (x, y); the label is its tooltip and spoken name."""
    with canv.marks.field(tag), canv.marks.artifact(canv):      # the border it draws on the page is decoration
        canv.acroForm.checkboxRelative(
            name=field.name, tooltip=fonts.clean(field.label), x=x, y=y,
            size=styles.checkbox, buttonStyle="check", borderStyle="solid", borderWidth=0.8, borderColor=MUTED,
            fillColor=colors.white, textColor=INK, fieldFlags="", forceBorder=True,
        )


class FieldRow(Flowable):
    """Line fields (signature, initials, date, text) side by side, each labelled underneath.

    A signature or text field starts a new line, so each signer's fields stay together.
    A row moves to the next page whole; only one taller than a page splits, and then
    between signers (before a signature line) where it can.
    """

    LINE_GAP = 16

    def __init__(self, fields: list[Field], styles: Styles, tags: dict[str, tuple[Elem, Elem]]):
        super().__init__()
        self.fields, self.styles = fields, styles
        self.tags = tags            # field name -> (its Form element, its label's P element)
        self.spaceBefore, self.spaceAfter = 14, 10

    def _layout(self, availWidth: float) -> list[list[tuple[Field, float, float, RLParagraph, float]]]:
        """Lines of (field, x, width, label, label height)."""
        lines: list[list] = []
        x = 0.0
        for f in self.fields:
            w = min(FIELD_WIDTH[f.kind], availWidth)
            if not lines or f.kind in ("signature", "text") or x + w > availWidth:
                lines.append([])
                x = 0.0
            label = Para(markup((Run(f.label),), ""), self.styles.label)
            lines[-1].append((f, x, w, label, label.wrap(w, 1e6)[1]))
            x += w + FIELD_GAP
        return lines

    def _line_height(self, line) -> float:
        return self.styles.field_height + 4 + max(item[4] for item in line)

    def wrap(self, availWidth, availHeight):
        self._lines = self._layout(availWidth)
        self.width = availWidth
        self.height = sum(map(self._line_height, self._lines)) + self.LINE_GAP * (len(self._lines) - 1)
        return self.width, self.height

    def split(self, availWidth, availHeight):
        frame = getattr(self, "_frame", None)
        if frame is not None and not frame._atTop:
            return []           # a new page has room for all of it
        lines, used, fit = self._layout(availWidth), 0.0, 0
        for line in lines:
            used += self._line_height(line) + (self.LINE_GAP if fit else 0)
            if used > availHeight:
                break
            fit += 1
        if fit in (0, len(lines)):
            return []
        fit = max((i for i in range(1, fit + 1) if lines[i][0][0].kind == "signature"), default=fit)
        first = [item[0] for line in lines[:fit] for item in line]
        return [FieldRow(first, self.styles, self.tags), FieldRow(self.fields[len(first):], self.styles, self.tags)]

    def draw(self):
        canv, top = self.canv, self.height
        canv.setStrokeColor(MUTED)
        canv.setLineWidth(0.8)
        for line in self._lines:
            bottom = top - self.styles.field_height
            for f, x, w, label, lh in line:
                form, label.tag = self.tags.get(f.name, (None, None))
                draw_line_field(canv, f, x, bottom, w, self.styles, form)
                label.drawOn(canv, x, bottom - 4 - lh)
            top -= self._line_height(line) + self.LINE_GAP


class Checkbox(Flowable):
    """A checkbox with its label beside it."""

    def __init__(self, field: Field, styles: Styles, tag: Elem | None = None, label_tag: Elem | None = None):
        super().__init__()
        self.field, self.styles, self.tag = field, styles, tag
        self.label = Para(markup((Run(field.label),), ""), styles.item)
        self.label.tag = label_tag
        self.spaceBefore, self.spaceAfter = 4, 6

    def wrap(self, availWidth, availHeight):
        box = self.styles.checkbox
        lh = self.label.wrap(availWidth - box - 9, availHeight)[1]
        self.width, self.height = availWidth, max(lh, box)
        return self.width, self.height

    def draw(self):
        style = self.styles.item
        baseline = self.height - getAscent(style.fontName, style.fontSize)   # of the label's first line
        draw_checkbox(self.canv, self.field, 0, baseline - 2.8 * self.styles.checkbox / 12, self.styles, self.tag)
        self.label.drawOn(self.canv, self.styles.checkbox + 9, self.height - self.label.height)


class FieldCell(Flowable):
    """A form field alone in a table cell, such as the initials beside each document.

    No label is drawn (the column header says what goes there); the label is the
    field's tooltip. The *Relative acroForm calls place the field where the table
    draws the cell.
    """

    def __init__(self, field: Field, styles: Styles, tag: Elem | None = None):
        super().__init__()
        self.field, self.styles, self.tag = field, styles, tag

    def natural_width(self) -> float:
        return self.styles.checkbox if self.field.kind == "checkbox" else FIELD_WIDTH[self.field.kind]

    def wrap(self, availWidth, availHeight):
        if self.field.kind == "checkbox":
            self.width = self.height = self.styles.checkbox
        else:
            self.width, self.height = min(FIELD_WIDTH[self.field.kind], availWidth), self.styles.field_height
        return self.width, self.height

    def draw(self):
        if self.field.kind == "checkbox":
            draw_checkbox(self.canv, self.field, 0, 0, self.styles, self.tag)
            return
        self.canv.setStrokeColor(MUTED)
        self.canv.setLineWidth(0.8)
        draw_line_field(self.canv, self.field, 0, 0, self.width, self.styles, self.tag)



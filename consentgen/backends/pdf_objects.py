"""PDF objects written from prepared text, for the structure tree and the field font.

reportlab's general dictionaries and arrays format every value through one
generic function; for a structure tree of a few hundred elements that cost
a fifth of the render. These are written as text, with references to other
objects filled in when reportlab numbers them at save.
"""
from __future__ import annotations

from reportlab.pdfbase.pdfdoc import PDFObject


class Ref(str):
    """A reference to another object, by reportlab's internal name (its number is known only at save)."""


class Written(PDFObject):
    """An object written from pieces: text, references, and the odd reportlab object (an alt text)."""

    def __init__(self, pieces: list | None = None):
        self.pieces = pieces or []

    def format(self, document) -> bytes:
        numbers = document.idToObjectNumberAndVersion
        out = []
        for piece in self.pieces:
            if isinstance(piece, Ref):
                out.append(" %d %d R" % numbers[piece])
            elif isinstance(piece, str):
                out.append(piece)
            else:
                out.append(" " + piece.format(document).decode("latin-1"))
        return "".join(out).encode("latin-1")

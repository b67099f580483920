"""PDF objects prepared once: written from prepared text (the structure tree, the
field font), and images read and compressed once per process (the logo).

reportlab's general dictionaries and arrays format every value through one
generic function; for a structure tree of a few hundred elements that cost
a fifth of the render. These are written as text, with references to other
objects filled in when reportlab numbers them at save.
"""
from __future__ import annotations

import copy

from reportlab.lib.boxstuff import aspectRatioFix
from reportlab.lib.utils import ImageReader, _digester
from reportlab.pdfbase.pdfdoc import PDFImageXObject, PDFObject, PDFObjectReference


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


class Image:
    """An image read, named and compressed once, then drawn into any number of PDFs.

    reportlab's ``drawImage`` hashes the pixels for the image's name on every call
    (each page's header) and reads and compresses them again for every PDF: a
    logo cost 3.4 ms of a five-page handout. ``draw`` does what ``drawImage`` does
    (with ``mask="auto"``, ``preserveAspectRatio=True``, ``anchor="sw"``), to the
    same objects and bytes, from what was prepared here.
    """

    def __init__(self, path: str):
        reader = ImageReader(path)
        pixels = reader.getRGBData()        # also finds the alpha channel, if any
        alpha = reader._dataA
        self.name = _digester(pixels + (alpha.getRGBData() if alpha else b"auto"))
        self.xobject = PDFImageXObject(self.name, reader, mask="auto")
        self.xobject.name = self.name
        self.smask: PDFImageXObject | None = self.xobject.__dict__.pop("_smask", None)
        self.size = reader.getSize()

    def _register(self, canv) -> str:
        """The image's XObject name in the canvas's PDF, registered there on first use."""
        doc = canv._doc
        reg = doc.getXObjectName(self.name)
        if reg in doc.idToObject:
            return reg
        xobject = copy.copy(self.xobject)       # reportlab marks an object with its name in one PDF
        canv._setXObjects(xobject)
        doc.Reference(xobject, reg)
        doc.addForm(self.name, xobject)
        if self.smask is not None:
            mask_reg = doc.getXObjectName(self.smask.name)
            if mask_reg in doc.idToObject:
                xobject.smask = PDFObjectReference(mask_reg)
            else:
                smask = copy.copy(self.smask)
                canv._setXObjects(smask)
                xobject.smask = doc.Reference(smask, mask_reg)
        return reg

    def draw(self, canv, x: float, y: float, width: float, height: float) -> None:
        """Draw the image in the box, keeping its proportions, at the box's lower left."""
        canv._currentPageHasImages = 1
        reg = self._register(canv)
        x, y, width, height, _ = aspectRatioFix(True, "sw", x, y, width, height,
                                                self.xobject.width, self.xobject.height, False)
        canv.saveState()
        canv.translate(x, y)
        canv.scale(width, height)
        canv._code.append(f"/{reg} Do")
        canv.restoreState()
        canv._formsinuse.append(self.name)

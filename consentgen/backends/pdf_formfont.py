"""An embedded font for the form fields.

reportlab's form fields name one of the 14 standard fonts (Helvetica), which a
PDF does not carry: PDF/UA asks every font to be embedded, and a reader then
types into a field with a font the file holds. At save, the fields' font
object becomes Bitstream Vera (the body text's face) as a whole TrueType font
with the Windows Latin encoding, so anything a reader types in Latin script
shows in the same face as the page. Read and compressed once per process.
"""
from __future__ import annotations

import functools
import zlib
from pathlib import Path

import reportlab
from reportlab.pdfbase.acroform import PDFFromString
from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFName, PDFStream
from reportlab.pdfbase.ttfonts import TTFontFile

from .pdf_objects import Ref, Written

FONT_FILE = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
FIRST, LAST = 32, 255


@functools.lru_cache(maxsize=1)
def _font() -> tuple[bytes, int, str, str]:
    """(the compressed font program, its length, the descriptor's entries, the font's entries) as PDF text."""
    raw = FONT_FILE.read_bytes()
    ttf = TTFontFile(str(FONT_FILE))
    widths = []
    for code in range(FIRST, LAST + 1):
        char = bytes([code]).decode("cp1252", errors="replace")
        widths.append(round(ttf.charWidths.get(ord(char), ttf.defaultWidth)))
    name = ttf.name.decode("ascii")
    bbox = " ".join(str(round(v)) for v in ttf.bbox)
    descriptor = (f"<< /Type /FontDescriptor /FontName /{name} /Flags 32 /FontBBox [{bbox}] "
                  f"/ItalicAngle {round(ttf.italicAngle)} /Ascent {round(ttf.ascent)} /Descent {round(ttf.descent)} "
                  f"/CapHeight {round(ttf.capHeight)} /StemV {round(ttf.stemV)} /FontFile2")
    font = (f"<< /Type /Font /Subtype /TrueType /BaseFont /{name} /FirstChar {FIRST} /LastChar {LAST} "
            f"/Widths [{' '.join(map(str, widths))}] /Encoding /WinAnsiEncoding /FontDescriptor")
    return zlib.compress(raw, 9), len(raw), descriptor, font


def embed_field_font(canv) -> None:
    """Turn the standard font objects reportlab wrote for form fields into the embedded font."""
    form = canv.__dict__.get("AcroForm")          # the canvas's acroForm property would make one
    if form is None:
        return
    doc = canv._doc
    standard = [name for name, obj in doc.idToObject.items()
                if isinstance(obj, PDFFromString) and "/BaseFont /" in obj._s and "/Subtype /Type1" in obj._s]
    if not standard:
        return
    program, length, descriptor, font = _font()
    stream = PDFStream(PDFDictionary({"Filter": PDFName("FlateDecode"), "Length1": length}), program, filters=[])
    descriptor_name = doc.Reference(Written([descriptor, Ref(doc.Reference(stream).name), " >>"])).name
    for name in standard:
        embedded = Written([font, Ref(descriptor_name), " >>"])
        embedded.__InternalName__ = name
        doc.idToObject[name] = embedded

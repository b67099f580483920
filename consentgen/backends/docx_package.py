"""Write a python-docx document as reproducible .docx bytes.

python-docx saves each zip entry with the wall-clock time (python-docx #1042),
so two saves of one document differ. We write the package ourselves from the
same parts: [Content_Types].xml first, the rest sorted by name, every entry
dated 1980-01-01 with fixed attributes. One compression pass, no re-zipping.

Embedded fonts (``embed_fonts``) are parts of the same package, obfuscated as
ECMA-376 Part 1, 17.8.1 says, under a fixed key per face so the bytes stay
the same from run to run.
"""
from __future__ import annotations

import io
import uuid
import zipfile
from xml.sax.saxutils import quoteattr

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from lxml import etree

_EPOCH = (1980, 1, 1, 0, 0, 0)
_RELS = "application/vnd.openxmlformats-package.relationships+xml"
_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
OBFUSCATED_FONT = "application/vnd.openxmlformats-officedocument.obfuscatedFont"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# fontTable.xml's element per face, keyed (bold, italic), in schema order.
EMBED_TAGS = {(False, False): "embedRegular", (True, False): "embedBold",
              (False, True): "embedItalic", (True, True): "embedBoldItalic"}
_KEYS = uuid.UUID("6f1d3c52-8a0e-4b7d-9c21-5e0a7b3f4d19")     # namespace of our font keys


def font_key(family: str, face: tuple[bool, bool]) -> str:
    """The w:fontKey of one face: a GUID fixed by the family and face, so output is reproducible."""
    return "{" + str(uuid.uuid5(_KEYS, f"{family}/{EMBED_TAGS[face]}")).upper() + "}"


def obfuscate(data: bytes, key: str) -> bytes:
    """ECMA-376 Part 1, 17.8.1: XOR the font's first 32 bytes with the 16 bytes of the
    key GUID, taken from its hex string in reverse order (the last byte first).
    The same call undoes it."""
    k = bytes.fromhex(key.strip("{}").replace("-", ""))[::-1]
    return bytes(b ^ k[i % 16] for i, b in enumerate(data[:32])) + data[32:]


def embed_fonts(document, family: str, faces: dict[tuple[bool, bool], bytes]) -> None:
    """Carry ``faces`` (TrueType bytes keyed (bold, italic)) of ``family`` inside the package:
    /word/fonts/fontN.odttf parts related from the font table, whose entry for
    ``family`` names each with its key; settings say the fonts are embedded."""
    if not faces:
        return
    table_part = document.part.part_related_by(RT.FONT_TABLE)
    table = etree.fromstring(table_part.blob)
    font = next(f for f in table.iter(_W + "font") if f.get(_W + "name") == family)
    for n, face in enumerate((f for f in EMBED_TAGS if f in faces), start=1):
        key = font_key(family, face)
        part = Part(PackURI(f"/word/fonts/font{n}.odttf"), OBFUSCATED_FONT,
                    obfuscate(faces[face], key), document.part.package)
        embed = etree.SubElement(font, _W + EMBED_TAGS[face])
        embed.set(_R_ID, table_part.relate_to(part, RT.FONT))
        embed.set(_W + "fontKey", key)
    table_part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)
    settings = document.settings.element
    flag = settings.makeelement(_W + "embedTrueTypeFonts", {})
    zoom = settings.find(_W + "zoom")       # schema order: zoom ... embedTrueTypeFonts
    if zoom is not None:
        zoom.addnext(flag)
    else:
        settings.insert(0, flag)


def _content_types(parts) -> bytes:
    """[Content_Types].xml: a Default per binary extension, an Override per XML part."""
    defaults = {"rels": _RELS, "xml": "application/xml"}
    overrides = {}
    for part in parts:
        ext = part.partname.ext.lower()
        if ext == "xml":
            overrides[str(part.partname)] = part.content_type
        else:
            defaults.setdefault(ext, part.content_type)
    items = [f"<Default Extension={quoteattr(ext)} ContentType={quoteattr(ct)}/>"
             for ext, ct in sorted(defaults.items())]
    items += [f"<Override PartName={quoteattr(name)} ContentType={quoteattr(ct)}/>"
              for name, ct in sorted(overrides.items())]
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f'<Types xmlns="{_TYPES_NS}">{"".join(items)}</Types>'
    ).encode("utf-8")


def package_bytes(document) -> bytes:
    """The .docx bytes of a python-docx ``Document``; equal documents give equal bytes."""
    package = document.part.package
    parts = list(package.iter_parts())
    entries = {"_rels/.rels": package.rels.xml}
    for part in parts:
        part.before_marshal()
        entries[part.partname.membername] = part.blob
        if len(part.rels):
            entries[part.partname.rels_uri.membername] = part.rels.xml
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in [("[Content_Types].xml", _content_types(parts)), *sorted(entries.items())]:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0          # MS-DOS, as Word writes it, on every platform
            info.external_attr = 0
            zf.writestr(info, data)
    return buf.getvalue()

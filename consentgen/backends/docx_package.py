"""Write a python-docx document as reproducible .docx bytes.

python-docx saves each zip entry with the wall-clock time (python-docx #1042),
so two saves of one document differ. We write the package ourselves from the
same parts: [Content_Types].xml first, the rest sorted by name, every entry
dated 1980-01-01 with fixed attributes. One compression pass, no re-zipping.
"""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import quoteattr

_EPOCH = (1980, 1, 1, 0, 0, 0)
_RELS = "application/vnd.openxmlformats-package.relationships+xml"
_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"


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

"""Render once, stamp many: a roster group's packet is drawn once, each client's copy stamped.

The clients of one roster group (same clinician, documents, date and second
signer: ``build._group_key``) get packets that differ only where a template
shows the client's name or id. So the group's packet is rendered once with a
token in their place (``backends.pdf_stamp.TOKENS``), and each client's copy
is that render with the tokens replaced:

- a document that shows no client value is the same bytes for every client;
- in a PDF, the value is one string in the stamp font (``pdf_stamp``), spliced
  into the page's content stream;
- in DOCX (``word/document.xml``) and HTML, the token is replaced by the value,
  escaped as the backend escapes text;
- a combined packet is put together again from the stamped parts.

A copy is stamped only when it is sure to equal a full render: every token
found where the document model says a value is, and each value within the
characters the stamp font draws and the room its line has. Otherwise that
client's packet is rendered in full (the build counts them), so a long
name that wraps, or one in another script, still comes out right.
"""
from __future__ import annotations

import io
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from xml.sax.saxutils import escape as xml_escape

from .compose import COMBINED, SOURCES, combined_pdf, compose, packet_bytes
from .document import stamped_runs
from .options import Settings
from .packet import Files, Packet, job_for, packet_files, pdf_pages, records_for

class Records(list):
    """A packet's records, and how its files were made: "stamped", or "rendered" (in full)."""

    how = "rendered"

    def __init__(self, records, how: str = "rendered"):
        super().__init__(records)
        self.how = how


def render_group(packets: tuple[Packet, ...], settings: Settings, inputs: dict) -> Iterator:
    """Each packet's (files, records), in order; a roster group's rendered once and stamped."""
    if len(packets) == 1 or (packets[0].client_name is None and packets[0].client_id is None):
        for packet in packets:
            yield _full(packet, settings, inputs)
        return
    base = _base(packets[0], settings, inputs)
    for packet in packets:
        files = base.stamp(packet)
        if files is None:             # a value that changes the layout, or one the stamp font lacks
            yield _full(packet, settings, inputs)
        else:
            yield files, Records(records_for(packet, files, inputs, base.pages), "stamped")


_BASES: dict[tuple, _Base] = {}     # per worker process: a big group comes in several tasks
_KEEP = 4


def _base(packet: Packet, settings: Settings, inputs: dict) -> _Base:
    key = (packet.clinician, packet.docs, packet.effective, packet.second_signer, packet.client_name is None,
           packet.client_id is None, settings, tuple(sorted(next(iter(inputs.values())).items())))
    if key not in _BASES:
        if len(_BASES) >= _KEEP:
            del _BASES[next(iter(_BASES))]
        _BASES[key] = _Base(packet, settings)
    return _BASES[key]


def _full(packet: Packet, settings: Settings, inputs: dict):
    files = packet_files(packet, settings)
    return files, Records(records_for(packet, files, inputs))


class _Base:
    """A group's packet rendered with tokens for the client's values, ready to stamp."""

    def __init__(self, packet: Packet, settings: Settings):
        from .backends import pdf_stamp

        self.tokens = {"name": pdf_stamp.TOKENS["name"] if packet.client_name is not None else None,
                       "id": pdf_stamp.TOKENS["id"] if packet.client_id is not None else None}
        self.job = replace(job_for(packet, settings), client_name=self.tokens["name"], client_id=self.tokens["id"])
        self.loaded, self.settings = packet.loaded, settings
        self.docs = compose(packet.loaded, self.job)
        slots: dict[str, list] = {}
        self.files = packet_bytes(packet.loaded, self.job, settings.combined, slots, self.docs)
        self.counts = {name: Counter(r.stamp for r in stamped_runs(doc.blocks)) for name, doc in self.docs.items()}
        parts = [name for name in self.docs if name != SOURCES]
        self.counts[COMBINED] = sum((self.counts[name] for name in parts), Counter())
        self.plans = {name: pdf_stamp.plan(self.files[(name, "pdf")], found[1:], found[0])
                      for name, found in slots.items() if (name, "pdf") in self.files}
        self.pages = {name: pdf_pages(data) for (name, fmt), data in self.files.items() if fmt == "pdf"}
        self.usable = all(self._usable(name, fmt, data) for (name, fmt), data in self.files.items()
                          if self.counts[name] and not (name == COMBINED and fmt == "pdf"))

    def _usable(self, name: str, fmt: str, data: bytes) -> bool:
        """Whether every value in this file can be stamped: each token where the model has a value."""
        if fmt == "pdf":
            return self.plans.get(name) is not None
        text = _text_of(fmt, data)
        return text is not None and all(text.count(self.tokens[kind] or "\0") == n
                                        for kind, n in self.counts[name].items())

    def stamp(self, packet: Packet) -> Files | None:
        """The packet's files, or None when a value cannot be stamped (render it in full)."""
        from .backends import fonts, pdf_stamp

        if not self.usable:
            return None
        values = {"name": packet.client_name, "id": packet.client_id}
        html = "html" in self.settings.formats
        if not all(_plain(v, html) for v in values.values() if v is not None):
            return None
        out: dict[tuple[str, str], bytes] = {}
        for (name, fmt), data in self.files.items():
            if not self.counts[name] or (name == COMBINED and fmt == "pdf"):
                out[(name, fmt)] = data
            elif fmt == "pdf":
                stamped = pdf_stamp.stamp(self.plans[name], {k: fonts.prepare(v) for k, v in values.items() if v})
                if stamped is None:
                    return None
                out[(name, fmt)] = stamped
            else:
                out[(name, fmt)] = _stamp_text(fmt, data, self.tokens, values)
        if (COMBINED, "pdf") in out and self.counts[COMBINED]:
            parts = {name: doc for name, doc in self.docs.items() if name != SOURCES}
            if any((name, "pdf") not in out for name in parts):
                return None           # the parts were drawn for the packet alone (--combined without pdf)
            out[(COMBINED, "pdf")] = combined_pdf(self.loaded, self.job, parts,
                                                  {name: out[(name, "pdf")] for name in parts})
        return {f"{packet.key}/{name}.{fmt}": (name, fmt, data) for (name, fmt), data in out.items()}


def _plain(value: str, html: bool) -> bool:
    """A value every format shows as it is: printable, single spaces (and in HTML, no word a table would
    break)."""
    from .backends.html import LONG_WORD

    words = value.split()
    return (value == " ".join(words) and value.isprintable()
            and (not html or all(len(w) <= LONG_WORD for w in words)))


DOCX_BODY = "word/document.xml"


def _text_of(fmt: str, data: bytes) -> str | None:
    if fmt == "html":
        return data.decode("utf-8")
    if fmt == "docx":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read(DOCX_BODY).decode("utf-8")
    return None


def _stamp_text(fmt: str, data: bytes, tokens: dict, values: dict) -> bytes:
    from .backends.html_page import text as html_text

    escape = html_text if fmt == "html" else xml_escape

    def stamped(text: str) -> str:
        for kind, token in tokens.items():
            if token is not None:
                text = text.replace(token, escape(values[kind]))
        return text

    if fmt == "html":
        return stamped(data.decode("utf-8")).encode("utf-8")
    source = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with source, zipfile.ZipFile(buf, "w") as z:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == DOCX_BODY:
                body = stamped(body.decode("utf-8")).encode("utf-8")
            z.writestr(info, body)
    return buf.getvalue()

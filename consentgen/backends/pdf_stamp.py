"""A client's name and id in a PDF, drawn so that a roster build can stamp another client's in.

The value is drawn in a font of its own: Vera again, registered as ``STAMP``.
In a document that shows a client's value, that font's subset is filled with
every Western European character Vera has before anything is drawn, always
in the same order. So each character has a fixed code and a glyph in the
embedded font, whatever the value, and the value is one string in the page's
content stream: ``stamp`` replaces it with another client's without drawing
the page again (``consentgen/stamp.py`` decides when it may).

A paragraph whose line ends with the value records a slot while it draws: the
value's kind and size and the room its line has. A value that fits keeps
every other line where it was; one that does not fit, or a value that is not
last on its line, is drawn again in full (the roster build's fallback).
"""
from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import reportlab
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from .pdf_flowables import Para

STAMP = "Vera-Stamp"
TOKENS = {"name": "\u00a4", "id": "\u00a6"}       # what a roster group's shared render shows in their place
_KIND_OF = {t: k for k, t in TOKENS.items()}

# Put in reportlab's table directly: registerFont would hand back the Vera already registered (it
# keeps one font object per face name), and the value must have a font object, and a subset, of its own.
_FACE = TTFont(STAMP, str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"))
_FACE.face.name += b"-Client" if isinstance(_FACE.face.name, bytes) else "-Client"  # its subset's own BaseFont
pdfmetrics._fonts[STAMP] = _FACE
for _bold in (0, 1):
    for _italic in (0, 1):
        addMapping(STAMP, _bold, _italic, STAMP)        # what registerFont would have done
#: Every character a stamped value may hold: printable Latin-1 that Vera draws (no-break space aside).
CHARS = "".join(chr(c) for c in range(0x20, 0x100)
                if chr(c).isprintable() and c != 0xA0 and c in _FACE.face.charToGlyph)


@lru_cache(maxsize=1)
def codes() -> dict[str, bytes]:
    """Character -> its one-byte code in the stamp font's subset (the same in every document)."""
    key = type("Doc", (), {})()         # reportlab keeps a font's codes per document, by weak reference
    _FACE.splitString(CHARS, key)
    assigned = _FACE.state.pop(key).assignments
    found = {chr(c): bytes([n]) for c, n in assigned.items() if chr(c) in CHARS}
    assert all(n < 256 for n in assigned.values()) and len(found) == len(CHARS)
    return found


def prepare(doc) -> None:
    """Give every stamp character its code in ``doc`` before anything is drawn."""
    _FACE.splitString(CHARS, doc)


def internal_name(doc) -> str:
    """The stamp font's name in ``doc``'s content streams ("/F3+0")."""
    return _FACE.getSubsetInternalName(0, doc)


def fits(text: str) -> bool:
    return bool(text) and all(c in CHARS for c in text)


def width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, STAMP, size)


@dataclass(frozen=True)
class Slot:
    """Where a client's value was drawn: its kind ("name" or "id"), size, and the room its line has
    for it (None: something follows it on the line, so any other value would move that)."""

    kind: str
    size: float
    room: float | None


class StampPara(Para):
    """A paragraph holding a client's value: records a ``Slot`` for each as it draws."""

    def drawPara(self, debug=0):
        slots = getattr(self.canv, "stamp_slots", None)
        if slots is not None:
            self.canv.stamp_font = internal_name(self.canv._doc)
            slots.extend(_slots(self.blPara, self.style.alignment == TA_LEFT and not self._rtl()))
        return super().drawPara(debug)


def _slots(para, left: bool) -> list[Slot]:
    found = []
    for line in getattr(para, "lines", ()):
        words = getattr(line, "words", None)
        if words is None:          # a line in one font holds no stamp
            continue
        for i, frag in enumerate(words):
            if frag.fontName != STAMP:
                continue
            last = i == len(words) - 1 and left
            room = line.extraSpace + width(frag.text, frag.fontSize) if last else None
            found.append(Slot(_KIND_OF.get(frag.text, "name"), frag.fontSize, room))
    return found


# -- stamping a rendered PDF ------------------------------------------------------

_OBJ = re.compile(rb"(\d+) 0 obj\n")
_KEYWORD = re.compile(rb">>\s*(stream)\r?\n")
_LENGTH = re.compile(rb"/Length (\d+)")
_XREF = re.compile(rb"\nxref\n0 (\d+)\n")
_SHOW = rb"\((?:\\.|[^\\()])*\) Tj"


@dataclass(frozen=True)
class Plan:
    """A shared render taken apart once, so each client's copy is a few splices."""

    data: bytes
    streams: tuple[tuple[int, int, int, bytes], ...]   # (object start, stream start, stream end, content)
    font: bytes                                        # the stamp font's name in content streams, b"/F3+0"
    xref: int                                          # where "xref" begins
    offsets: tuple[int, ...]                           # each object's offset (entry 0 aside)
    slots: tuple[Slot, ...]


def plan(data: bytes, slots: list[Slot], font: str) -> Plan | None:
    """Take a render apart for stamping; None when it cannot be (the values are then drawn in full)."""
    name = font.encode()
    streams = []
    for m in _OBJ.finditer(data):
        found = _KEYWORD.search(data, m.end())
        if found is None or data.find(b"endobj", m.end(), found.start()) >= 0:
            continue                                  # an object without a stream
        keyword = found.start(1)
        head = data[m.end():keyword]
        length = _LENGTH.search(head)
        if b"/FlateDecode" not in head or length is None:
            continue
        start = keyword + len(b"stream") + (2 if data[keyword + 6:keyword + 8] == b"\r\n" else 1)
        end = start + int(length.group(1))
        try:
            content = zlib.decompress(data[start:end])
        except zlib.error:
            continue
        if name + b" " in content:
            streams.append((m.start(), start, end, content))
    xref = _XREF.search(data)
    if xref is None or not streams:
        return None
    count = int(xref.group(1))
    table = data[xref.end():xref.end() + 20 * count]
    offsets = tuple(int(table[20 * i:20 * i + 10]) for i in range(1, count))
    shown = sum(len(_shows(content, name)) for *_, content in streams)
    if shown != len(slots):
        return None
    return Plan(data, tuple(streams), name, xref.start() + 1, offsets, tuple(slots))


def _shows(content: bytes, font: bytes) -> list[re.Match]:
    """Each string drawn in the stamp font: the value's text, with its Tf before it."""
    pattern = re.compile(re.escape(font) + rb" [\d.]+ Tf[^()]*?(" + _SHOW + rb")")
    return list(pattern.finditer(content))


def pdf_string(text: str) -> bytes:
    out = bytearray(b"(")
    table = codes()
    for ch in text:
        b = table[ch][0]
        if b in (0x28, 0x29, 0x5C):
            out += b"\\" + bytes([b])
        elif 32 <= b < 127:
            out.append(b)
        else:
            out += b"\\%03o" % b
    return bytes(out + b") Tj")


def stamp(p: Plan, values: dict[str, str]) -> bytes | None:
    """The shared render with each slot showing ``values[slot.kind]``; None if one does not fit."""
    for slot in p.slots:
        text = values.get(slot.kind)
        if text is None or not fits(text) or slot.room is None:
            return None
        w = width(text, slot.size)
        if w > slot.room + 0.001 or w < width(TOKENS[slot.kind], slot.size):
            return None
    pieces, at, delta, shift = [], 0, 0, []
    slots = iter(p.slots)
    for obj_start, start, end, content in p.streams:
        new, pos = [], 0
        for m in _shows(content, p.font):
            new += [content[pos:m.start(1)], pdf_string(values[next(slots).kind])]
            pos = m.end(1)
        stream = zlib.compress(b"".join(new) + content[pos:])
        head = p.data[obj_start:start]
        length = _LENGTH.search(head)
        head = head[:length.start()] + b"/Length %d" % len(stream) + head[length.end():]
        pieces += [p.data[at:obj_start], head, stream]
        change = (len(head) + len(stream)) - (start - obj_start) - (end - start)
        shift.append((obj_start, change))
        delta += change
        at = end
    pieces.append(p.data[at:p.xref])
    body = b"".join(pieces)

    def moved(offset: int) -> int:
        return offset + sum(c for where, c in shift if where < offset)

    count = len(p.offsets) + 1
    xref = [b"xref\n0 %d\n0000000000 65535 f \n" % count]
    xref += [b"%010d 00000 n \n" % moved(o) for o in p.offsets]
    tail = p.data[p.xref:]
    trailer = tail[tail.index(b"trailer"):]
    start = trailer.index(b"startxref")
    ident = hashlib.md5(body).hexdigest().encode()
    trailer = re.sub(rb"/ID\s*\[\s*<[0-9a-fA-F]*>\s*<[0-9a-fA-F]*>\s*\]", b"/ID [<" + ident + b"><" + ident + b">]",
                     trailer[:start]) + b"startxref\n%d\n%%%%EOF\n" % (p.xref + delta)
    return body + b"".join(xref) + trailer

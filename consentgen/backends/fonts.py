"""Fonts for the PDF backend: reportlab's bundled Vera, plus system fallbacks.

Vera (Bitstream, shipped inside reportlab) is registered once per process as a
family so ``<b>`` and ``<i>`` work. Vera covers Western European text only;
for any other character we look for an installed TrueType font that has it
(search order is sorted, so the choice is the same on every run) and register
that too: a .ttf, or a face of a TrueType collection (.ttc), which is how
Debian ships Chinese, Japanese and Korean fonts (``fonts-wqy-microhei``).
reportlab cannot embed PostScript-outline (CFF) fonts, such as Noto CJK's
.otf and .ttc files; they are skipped. Only when no installed font has a
character do we fail, naming the script and the Debian package that has a
font for it, never the characters (they may be a client's name).
Everything is cached at module level: fonts are parsed once.

Text copied from the PDF must read as it was typed: ``to_unicode_cmap``
replaces reportlab's ToUnicode CMap writer (see there).
"""
from __future__ import annotations

import os
import re
import struct
import unicodedata
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import reportlab
from reportlab.pdfbase import pdfdoc, pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from ..errors import BackendError
from . import rtl
from .pdf_objects import Written

REGULAR, BOLD, ITALIC, BOLD_ITALIC = "Vera", "Vera-Bold", "Vera-Italic", "Vera-BoldItalic"
_VERA_FACES = {(False, False): REGULAR, (True, False): BOLD, (False, True): ITALIC, (True, True): BOLD_ITALIC}

#: Folders searched (recursively) for fallback fonts. Tests may replace this list.
FONT_DIRS: list[str] = [
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.fonts",
    "~/.local/share/fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
]

# Families to try first: DejaVu Sans extends Vera itself, so its letters match best. For
# Chinese, Japanese and Korean, WenQuanYi has all three (Droid Sans Fallback has no Hangul):
# one font then draws a whole name.
_PREFERRED = ("dejavusans", "notosans-", "notosans", "liberationsans", "freesans", "noto",
              "wqy-microhei", "wqy-zenhei")
# Style words that make a face a poor first choice for body text.
_NOT_REGULAR = re.compile(
    r"bold|italic|oblique|light|thin|black|medium|semi|extra|heavy|condensed|narrow|mono|serif|math",
    re.IGNORECASE,
)
# Control characters other than the tab and the line break a hard break leaves behind.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TRUETYPE_MAGIC = (b"\x00\x01\x00\x00", b"true")
_COLLECTION_MAGIC = b"ttcf"
# A face inside a TrueType collection is named "file.ttc#N".
_FACE_SEP = "#"


class Font(TTFont):
    """A TrueType font that remembers the width of each piece of text it measured, at each size.

    Line breaking measures every word of every paragraph (about 1,800 measures for a
    five-page handout, a tenth of its render), and the same words come back in every
    paragraph and every document. The cache is emptied when it holds ``WIDTHS`` pieces
    (a practice's templates use a few thousand words).
    """

    WIDTHS = 4096

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._widths: dict[tuple, float] = {}

    def stringWidth(self, text, size, encoding="utf8"):
        key = (text, size) if isinstance(text, str) else (text, size, encoding)     # bytes: as decoded
        try:
            return self._widths[key]
        except KeyError:
            pass
        width = super().stringWidth(text, size, encoding)
        if len(self._widths) >= self.WIDTHS:
            self._widths.clear()
        self._widths[key] = width
        return width


def _register_vera() -> frozenset[int]:
    folder = Path(reportlab.__file__).parent / "fonts"
    faces = {REGULAR: "Vera.ttf", BOLD: "VeraBd.ttf", ITALIC: "VeraIt.ttf", BOLD_ITALIC: "VeraBI.ttf"}
    for name, file in faces.items():
        pdfmetrics.registerFont(Font(name, str(folder / file)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)
    # A character counts as covered only if every face has it (bold and italic too).
    covered = [set(pdfmetrics.getFont(name).face.charToGlyph) for name in faces]
    return frozenset(set.intersection(*covered))


_VERA_CHARS = _register_vera()


def clean(text: str) -> str:
    """NFC-normalize ``text``, tabs to spaces, and drop other control characters (line breaks stay)."""
    text = unicodedata.normalize("NFC", text).replace("\t", " ")
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def _is_truetype(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) in _TRUETYPE_MAGIC
    except OSError:
        return False


def _split_face(key: str) -> tuple[str, int]:
    """(file, face index) of a candidate: "x.ttf" is face 0 of its file, "x.ttc#2" face 2."""
    path, sep, index = key.rpartition(_FACE_SEP)
    if sep and index.isdigit() and path.lower().endswith(".ttc"):
        return path, int(index)
    return key, 0


def _faces_in(path: str) -> list[str]:
    """The TrueType-outline faces in a font file, as candidates (CFF faces and other files: none)."""
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
            if magic in _TRUETYPE_MAGIC:
                return [path]
            if magic != _COLLECTION_MAGIC:
                return []
            f.read(4)                                           # the collection's version
            count = min(int.from_bytes(f.read(4), "big"), 64)
            offsets = [int.from_bytes(f.read(4), "big") for _ in range(count)]
            faces = []
            for i, offset in enumerate(offsets):
                f.seek(offset)
                if f.read(4) in _TRUETYPE_MAGIC:
                    faces.append(f"{path}{_FACE_SEP}{i}")
            return faces
    except OSError:
        return []


@lru_cache(maxsize=None)
def _candidates(dirs: tuple[str, ...]) -> tuple[str, ...]:
    """TrueType-outline fonts under ``dirs`` (files, and faces of collections): regular sans faces
    first, then by name."""
    found: set[str] = set()
    for root in dirs:
        for folder, subdirs, files in os.walk(os.path.expanduser(root)):
            subdirs.sort()
            found.update(os.path.join(folder, f) for f in files if f.lower().endswith((".ttf", ".otf", ".ttc")))

    def rank(p: str) -> tuple:
        name = Path(p).name.lower()
        family = next((i for i, f in enumerate(_PREFERRED) if name.startswith(f)), len(_PREFERRED))
        return bool(_NOT_REGULAR.search(Path(_split_face(p)[0]).stem)), family, name, p

    return tuple(sorted((face for path in found for face in _faces_in(path)), key=rank))


def _load(key: str) -> TTFont | None:
    """Parse (not register) a font file or a face of a collection; None if reportlab cannot embed it."""
    path, index = _split_face(key)
    try:
        return Font(f"cg-{Path(path).stem}-{zlib.crc32(key.encode()):08x}", path, subfontIndex=index)
    except (TTFError, OSError, ValueError, KeyError, IndexError, struct.error):
        return None


def _sibling(path: str, suffixes: tuple[str, ...]) -> str | None:
    """The file of a style variant beside ``path`` (DejaVuSans.ttf -> DejaVuSans-Bold.ttf).

    A face of a collection has none: its styles, if any, are other faces of the collection.
    """
    if _split_face(path) != (path, 0):
        return None
    p = Path(path)
    base = p.stem[: -len("-Regular")] if p.stem.endswith("-Regular") else p.stem
    for suffix in suffixes:
        candidate = p.with_name(f"{base}-{suffix}{p.suffix}")
        if candidate.is_file() and _is_truetype(str(candidate)):
            return str(candidate)
    return None


# (search folders, character) -> the font file chosen for it, or None if no font has it.
_chosen: dict[tuple[tuple[str, ...], str], str | None] = {}
# Fonts parsed while searching that were chosen for some character (others are dropped).
_kept: dict[str, TTFont] = {}


def _search(chars: Iterable[str]) -> None:
    """Choose a font file for each character not looked up yet, reading each candidate at most once."""
    dirs = tuple(FONT_DIRS)
    todo = {c for c in chars if (dirs, c) not in _chosen}
    for path in _candidates(dirs) if todo else ():
        font = _kept.get(path) or _load(path)
        found = {c for c in todo if font is not None and ord(c) in font.face.charToGlyph}
        if found:
            _kept[path] = font
            _chosen.update(((dirs, c), path) for c in found)
            todo -= found
            if not todo:
                break
    _chosen.update(((dirs, c), None) for c in todo)


@lru_cache(maxsize=None)
def _faces(path: str) -> tuple[TTFont, TTFont, TTFont, TTFont]:
    """Register the chosen font at ``path`` and its bold/italic files beside it, if any.

    Returns (regular, bold, italic, bold italic); a missing style is the regular face.
    """
    regular = _kept[path]
    faces = [regular]
    for suffixes in (("Bold",), ("Italic", "Oblique"), ("BoldItalic", "BoldOblique")):
        variant = _sibling(path, suffixes)
        faces.append((_load(variant) if variant else None) or regular)
    for font in faces:
        if font.fontName not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(font)
    names = [f.fontName for f in faces]
    pdfmetrics.registerFontFamily(names[0], normal=names[0], bold=names[1], italic=names[2], boldItalic=names[3])
    return tuple(faces)


def _fallback_path(char: str) -> str | None:
    """The first installed font file (in search order) that has ``char``."""
    _search((char,))
    return _chosen[tuple(FONT_DIRS), char]


def face(bold: bool = False, italic: bool = False) -> str:
    """The Vera face for a style."""
    return _VERA_FACES[bold, italic]


def fallback_face(char: str, bold: bool = False, italic: bool = False) -> str | None:
    """A registered face of an installed font that has ``char`` (in that style if it can), or None."""
    path = _fallback_path(char)
    if path is None:
        return None
    faces = _faces(path)
    styled = faces[2 * italic + bold]
    return (styled if ord(char) in styled.face.charToGlyph else faces[0]).fontName


def covered(text: str) -> bool:
    """True if Vera alone can draw ``text``."""
    # Vera has all of printable ASCII; most text never needs the per-character check.
    return (text.isascii() and text.isprintable()) or _VERA_CHARS.issuperset(map(ord, text))


def has(char: str) -> bool:
    """True if Vera or an installed font can draw ``char``."""
    return ord(char) in _VERA_CHARS or char == "\n" or _fallback_path(char) is not None


def prepare(text: str) -> str:
    """``text`` as the PDF draws it, still in logical order: cleaned, Arabic letters joined."""
    text = clean(text)
    return text if text.isascii() else rtl.shape(text, has)


def missing(texts: Iterable[str]) -> list[str]:
    """The characters of ``texts`` (prepared) that no font can draw, sorted."""
    chars = {c for t in texts if not covered(t) for c in t if ord(c) not in _VERA_CHARS and c != "\n"}
    _search(chars)
    return sorted(c for c in chars if _fallback_path(c) is None)


# The first word of a character's Unicode name -> its script, and a Debian package with a
# TrueType font for it (reportlab embeds TrueType outlines only).
_CJK = "fonts-wqy-microhei"
_SCRIPTS = {
    "CJK": ("Chinese characters", _CJK), "IDEOGRAPHIC": ("Chinese characters", _CJK),
    "HIRAGANA": ("Japanese kana", _CJK), "KATAKANA": ("Japanese kana", _CJK),
    "HANGUL": ("Hangul", _CJK), "BOPOMOFO": ("Bopomofo", _CJK),
    "FULLWIDTH": ("full-width forms", _CJK), "HALFWIDTH": ("half-width forms", _CJK),
    "MATHEMATICAL": ("symbols or emoji", "fonts-symbola"),
}


def _script(char: str) -> tuple[str, str | None]:
    name = unicodedata.name(char, "")
    category = unicodedata.category(char)
    first = name.split(" ", 1)[0]
    if first in _SCRIPTS:
        return _SCRIPTS[first]
    if not name or category in ("Co", "Cn", "Cs"):
        return "unassigned or private-use characters", None
    if category.startswith("S"):
        return "symbols or emoji", "fonts-symbola"
    return first.title(), "fonts-noto-core"


def advice(chars: Iterable[str]) -> str:
    """Which scripts ``chars`` are in and what to install, as "(Hangul); install fonts-wqy-microhei
    (Debian)". It names no character: the text may be a client's name."""
    found = sorted({_script(c) for c in chars}, key=lambda s: s[0])
    scripts = ", ".join(dict.fromkeys(s for s, _ in found))
    packages = list(dict.fromkeys(p for _, p in found if p))
    listed = " and ".join(packages) if len(packages) < 3 else ", ".join(packages[:-1]) + " and " + packages[-1]
    install = f"; install {listed} (Debian)" if packages else ""
    return f"({scripts}){install}"


def require(texts: Iterable[str], where: str = "") -> None:
    """Make sure every character of ``texts`` (prepared) can be drawn; raise BackendError otherwise.

    The message names ``where`` (a document) and the scripts, not the characters.
    """
    gone = missing(texts)
    if gone:
        prefix = f"{where}: " if where else ""
        raise BackendError(f"{prefix}some text has characters no installed font covers {advice(gone)}")


def segments(text: str, bold: bool = False, italic: bool = False) -> list[tuple[str, str]]:
    """Split ``text`` into (face name, piece) runs: Vera where it can, fallbacks elsewhere.

    Call ``require`` on the text first; a character no font has stays with Vera
    (it would print as a blank box).
    """
    vera = _VERA_FACES[bold, italic]
    if covered(text):
        return [(vera, text)]
    out: list[tuple[str, str]] = []
    for c in text:
        name = vera if ord(c) in _VERA_CHARS or c == "\n" else (fallback_face(c, bold, italic) or vera)
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + c)
        elif len(out) > 1 and out[-2][0] == name and out[-1][1].isspace() and "\n" not in out[-1][1] \
                and ord(" ") in pdfmetrics.getFont(name).face.charToGlyph:
            # Spaces between two words of one fallback font join them: a name stays one piece of
            # text, which PDF readers that order right-to-left text piece by piece get right.
            out[-2:] = [(name, out[-2][1] + out[-1][1] + c)]
        else:
            out.append((name, c))
    return out


# -- text that copies as typed ------------------------------------------------

def _reads_as(code: int) -> str:
    """What a glyph drawn for ``code`` reads as: a joined Arabic letter reads as the letter."""
    char = chr(code)
    if 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFC:
        plain = unicodedata.normalize("NFKC", char)
        if len(plain) == 1:         # a ligature (lam-alef) stays one character, which NFKC splits
            return plain
    return char


def to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """The ToUnicode CMap of a TrueType subset: what each of its (at most 256) codes reads as.

    It replaces reportlab's ``ttfonts.makeToUnicodeCMap`` (same arguments, same
    layout), which writes each character as four hex digits: a character beyond
    the Basic Multilingual Plane then reads as another one (U+1F600, an emoji, as
    U+1F60). Here each is UTF-16BE, with a surrogate pair where needed, as the PDF
    standard asks (ISO 32000-1, 9.10.3). Also, a joined Arabic letter reads as the
    plain letter (see ``rtl.shape``), so copied or searched text is the text typed,
    and entries come in blocks of at most 100, the CMap format's limit.
    """
    entries = [f"<{i:02X}> <{code:04X}>" if code < 0xFB50 else  # most text: one UTF-16 unit, as it is
               f"<{i:02X}> <{_reads_as(code).encode('utf-16-be').hex().upper()}>" for i, code in enumerate(subset)]
    blocks: list[str] = []
    for start in range(0, len(entries), 100):
        chunk = entries[start:start + 100]
        blocks += [f"{len(chunk)} beginbfchar", *chunk, "endbfchar"]
    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        f"<< /Registry ({fontname})", f"/Ordering ({fontname})", "/Supplement 0", ">> def",
        f"/CMapName /{fontname} def", "/CMapType 2 def",
        "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>", "endcodespacerange",
        *blocks,
        "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ])


# reportlab looks the writer up in its module each time it writes a TrueType subset
# (TTFont.addObjects), so this one assignment is the whole change. It applies to every
# TrueType font in the process: the old writer is wrong only where this one differs.
ttfonts.makeToUnicodeCMap = to_unicode_cmap


# -- font objects made once per process --------------------------------------
#
# Cutting a subset's font program from its font, compressing it, writing its 128
# widths and its ToUnicode CMap took about a sixth of a handout's render, the same
# work for every document: with reportlab's ASCII-readable encoding a subset is
# printable ASCII plus the few other characters a document uses, in the order it
# first uses them, so most documents share their subsets. The two functions below
# replace reportlab's (same objects, same bytes) and keep what depends on the
# subset alone for the last 32 subsets.

@lru_cache(maxsize=32)
def _subset_program(face: ttfonts.TTFontFace, subset: tuple[int, ...]) -> tuple[bytes, int]:
    """A subset's font program, compressed as reportlab would (``PDFZCompress``), and its length."""
    program = face.makeSubset(list(subset))
    return zlib.compress(program), len(program)


@lru_cache(maxsize=32)
def _subset_font(face: ttfonts.TTFontFace, base_font: str, subset: tuple[int, ...]) -> tuple[str, bytes]:
    """A subset's /Widths array as reportlab writes it, and its ToUnicode CMap, compressed."""
    widths = pdfdoc.PDFArray(list(map(face.getCharWidth, subset))).format(None).decode("latin-1")
    return widths, zlib.compress(ttfonts.makeToUnicodeCMap(base_font, list(subset)).encode("utf-8"))


def _compressed_stream(content: bytes, **entries) -> pdfdoc.PDFStream:
    """A stream whose content is compressed already (reportlab compresses only unfiltered streams)."""
    flate = pdfdoc.PDFArray([pdfdoc.PDFName(pdfdoc.PDFZCompress.pdfname)])
    return pdfdoc.PDFStream(pdfdoc.PDFDictionary({"Filter": flate, **entries}), content, filters=[])


def add_subset_objects(face: ttfonts.TTFontFace, doc, fontname: str, subset: list[int]):
    """``TTFontFace.addSubsetObjects``: a subset's font descriptor and program, into ``doc``."""
    if not doc.compression:
        return _rl_add_subset_objects(face, doc, fontname, subset)
    program, length = _subset_program(face, tuple(subset))
    font_file_ref = doc.Reference(_compressed_stream(program, Length1=length),
                                  f"fontFile:{face.filename}({fontname})")
    flags = (face.flags & ~ttfonts.FF_NONSYMBOLIC) | ttfonts.FF_SYMBOLIC
    descriptor = pdfdoc.PDFDictionary({
        "Type": "/FontDescriptor",
        "Ascent": face.ascent,
        "CapHeight": face.capHeight,
        "Descent": face.descent,
        "Flags": flags,
        "FontBBox": pdfdoc.PDFArray(face.bbox),
        "FontName": pdfdoc.PDFName(fontname),
        "ItalicAngle": face.italicAngle,
        "StemV": face.stemV,
        "FontFile2": font_file_ref,
        "MissingWidth": face.defaultWidth,
    })
    return doc.Reference(descriptor, "fontDescriptor:" + fontname)


def add_objects(font: TTFont, doc) -> None:
    """``TTFont.addObjects``: the font's subsets (font, widths, CMap, descriptor), into ``doc``."""
    if not doc.compression:
        return _rl_add_objects(font, doc)
    try:
        state = font.state[doc]
    except KeyError:
        state = font.state[doc] = TTFont.State(font._asciiReadable)
    state.frozen = 1
    face = font.face
    for n, subset in enumerate(state.subsets):
        internal_name = font.getSubsetInternalName(n, doc)[1:]
        base_font = b"".join((ttfonts.SUBSETN(n), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
        widths, cmap = _subset_font(face, base_font, tuple(subset))
        pdf_font = pdfdoc.PDFTrueTypeFont()
        pdf_font.__Comment__ = f"Font {font.fontName} subset {n}"
        pdf_font.Name = internal_name
        pdf_font.BaseFont = base_font
        pdf_font.FirstChar = 0
        pdf_font.LastChar = len(subset) - 1
        pdf_font.Widths = Written([widths])
        pdf_font.ToUnicode = doc.Reference(_compressed_stream(cmap), "toUnicodeCMap:" + base_font)
        pdf_font.FontDescriptor = face.addSubsetObjects(doc, base_font, subset)
        doc.Reference(pdf_font, internal_name)
        doc.idToObject["BasicFonts"].dict[internal_name] = pdf_font
    del font.state[doc]


_rl_add_subset_objects, _rl_add_objects = ttfonts.TTFontFace.addSubsetObjects, TTFont.addObjects
# Like the ToUnicode writer above, these apply to every TrueType font in the process.
ttfonts.TTFontFace.addSubsetObjects, TTFont.addObjects = add_subset_objects, add_objects

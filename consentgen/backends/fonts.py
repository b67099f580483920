"""Fonts for the PDF backend: reportlab's bundled Vera, plus system fallbacks.

Vera (Bitstream, shipped inside reportlab) is registered once per process as a
family so ``<b>`` and ``<i>`` work. Vera covers Western European text only;
for any other character we look for an installed TrueType font that has it
(search order is sorted, so the choice is the same on every run) and register
that too. Only when no installed font has a character do we fail, naming the
characters. Everything is cached at module level: fonts are parsed once.
"""
from __future__ import annotations

import os
import re
import unicodedata
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from ..errors import BackendError

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

# Families to try first: DejaVu Sans extends Vera itself, so its letters match best.
_PREFERRED = ("dejavusans", "notosans-", "notosans", "liberationsans", "freesans", "noto")
# Style words that make a face a poor first choice for body text.
_NOT_REGULAR = re.compile(
    r"bold|italic|oblique|light|thin|black|medium|semi|extra|heavy|condensed|narrow|mono|serif|math",
    re.IGNORECASE,
)
# Control characters other than the tab and the line break a hard break leaves behind.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TRUETYPE_MAGIC = (b"\x00\x01\x00\x00", b"true")


def _register_vera() -> frozenset[int]:
    folder = Path(reportlab.__file__).parent / "fonts"
    faces = {REGULAR: "Vera.ttf", BOLD: "VeraBd.ttf", ITALIC: "VeraIt.ttf", BOLD_ITALIC: "VeraBI.ttf"}
    for name, file in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
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


@lru_cache(maxsize=None)
def _candidates(dirs: tuple[str, ...]) -> tuple[str, ...]:
    """TrueType-outline font files under ``dirs``: regular sans faces first, then by name."""
    found: set[str] = set()
    for root in dirs:
        for folder, subdirs, files in os.walk(os.path.expanduser(root)):
            subdirs.sort()
            found.update(os.path.join(folder, f) for f in files if f.lower().endswith((".ttf", ".otf")))

    def rank(p: str) -> tuple:
        name = Path(p).name.lower()
        family = next((i for i, f in enumerate(_PREFERRED) if name.startswith(f)), len(_PREFERRED))
        return bool(_NOT_REGULAR.search(Path(p).stem)), family, name, p

    return tuple(p for p in sorted(found, key=rank) if _is_truetype(p))


def _load(path: str) -> TTFont | None:
    """Parse (not register) a font file; None if reportlab cannot embed it."""
    try:
        return TTFont(f"cg-{Path(path).stem}-{zlib.crc32(path.encode()):08x}", path)
    except (TTFError, OSError, ValueError, KeyError, IndexError):
        return None


def _sibling(path: str, suffixes: tuple[str, ...]) -> str | None:
    """The file of a style variant beside ``path`` (DejaVuSans.ttf -> DejaVuSans-Bold.ttf)."""
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


def require(texts: Iterable[str]) -> None:
    """Make sure every character of ``texts`` can be drawn; raise BackendError otherwise."""
    chars = {c for t in texts if not covered(t) for c in t if ord(c) not in _VERA_CHARS and c != "\n"}
    _search(chars)
    missing = sorted(c for c in chars if _fallback_path(c) is None)
    if missing:
        listed = ", ".join(f"U+{ord(c):04X} {c!r}" for c in missing)
        raise BackendError(f"no installed font has these characters: {listed}; install DejaVu or Noto fonts")


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
        else:
            out.append((name, c))
    return out

"""Right-to-left text in the PDF: Arabic letters joined, Arabic and Hebrew in visual order.

reportlab draws the characters of a line left to right, in the order it gets
them, each in its isolated form. Two libraries put that right:

- ``shape`` (arabic-reshaper) replaces Arabic letters by the joined forms each
  takes in its word (the Arabic Presentation Forms). It runs before lines are
  broken, so a line is measured with the letters it will show.
- ``visual`` (python-bidi) orders one drawn line for display by the Unicode
  bidirectional algorithm (UAX #9): a run of Arabic or Hebrew words reads from
  right to left inside an English sentence, and brackets in it are mirrored.
  It runs when a line is drawn, after line breaking, as the algorithm asks
  (rule L2 is per line); layout and page splits keep the text in logical order.

Every paragraph is left to right (base level 0), as in the DOCX, whose reader
orders the same text itself. Text with no right-to-left character skips both
steps. The PDF's ToUnicode maps the joined forms back to plain letters
(``fonts.to_unicode_cmap``), so copied and searched text reads as typed.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable, Sequence, TypeVar

# Characters whose presence means a line may need reordering: Hebrew, Arabic and the other
# right-to-left scripts of the BMP, their presentation forms, the right-to-left scripts of
# plane 1, and the explicit direction marks and embeddings.
RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u200f\u202a-\u202e\u2066-\u2069"
                 "\U00010800-\U00010fff\U0001e800-\U0001efff]")
# Letters arabic-reshaper joins: Arabic and its supplements (Persian and Urdu letters too).
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u0870-\u08ff]")

# The only ligatures used are the compulsory lam-alef ones; others are a font's choice.
_LIGATURES = ("ARABIC LIGATURE LAM WITH ALEF", "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA ABOVE",
              "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA BELOW", "ARABIC LIGATURE LAM WITH ALEF WITH MADDA ABOVE")


@lru_cache(maxsize=None)
def _reshaper():
    """One reshaper per process, configured in full (no configuration file or variable is read)."""
    import arabic_reshaper
    from arabic_reshaper.ligatures import LIGATURES

    config = {name: name in _LIGATURES for name, _ in LIGATURES}
    config.update(language="Arabic", delete_harakat=False, shift_harakat_position=False, delete_tatweel=False,
                  support_zwj=True, use_unshaped_instead_of_isolated=False, support_ligatures=True)
    # A configuration file given by name stops arabic-reshaper from reading one named in the
    # environment; os.devnull is an empty one. The settings above then apply in full.
    import os
    return arabic_reshaper.ArabicReshaper(configuration=config, configuration_file=os.devnull)


def shape(text: str, drawable: Callable[[str], bool] = lambda c: True) -> str:
    """``text`` with its Arabic letters in their joined forms; other text is left alone.

    If a joined form is one no font can draw (``drawable`` is false for it), the
    text keeps its plain letters: unjoined, but readable.
    """
    if not _ARABIC.search(text):
        return text
    shaped = _reshaper().reshape(text)
    return shaped if all(drawable(c) for c in set(shaped) - set(text)) else text


def has_rtl(text: str) -> bool:
    return RTL.search(text) is not None


T = TypeVar("T")


def _order(text: str) -> list[tuple[int, str]]:
    """The visual order of ``text`` as one left-to-right line: (index in ``text``, character drawn).

    python-bidi's Python implementation of UAX #9, step by step, so that each
    character keeps its index (``get_display`` returns only the reordered string),
    with rule N0 (bracket pairs, Unicode 6.3), which that implementation predates:
    "(50 minutes)" inside a Hebrew phrase keeps its brackets round its words, as
    python-bidi's own Rust implementation and word processors have it.
    Explicit embeddings and boundary-neutral characters (rule X9) are left out,
    as they are not drawn; brackets in right-to-left runs are mirrored (L4). A
    combining mark stays before its base letter once reversed (rule L3 is not
    applied): Arabic and Hebrew fonts draw a mark to the right of where it
    stands, onto the letter that follows it in visual order.
    """
    from bidi import algorithm as uba

    storage = uba.get_empty_storage()
    storage["base_level"], storage["base_dir"] = 0, "L"
    uba.get_embedding_levels(text, storage)
    for i, ch in enumerate(storage["chars"]):
        ch["index"] = i
    uba.explicit_embed_and_overrides(storage)
    uba.resolve_weak_types(storage, False)
    _resolve_brackets(storage)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    uba.reorder_resolved_levels(storage, False)
    uba.apply_mirroring(storage, False)
    return [(ch["index"], ch["ch"]) for ch in storage["chars"]]


def _resolve_brackets(storage: dict) -> None:
    """UAX #9 rule N0: a bracket pair takes the direction of the text inside it (BD16, N0).

    Runs between the weak-type and neutral-type rules, on each level run. Paired
    brackets are the mirrored opening and closing punctuation (BidiBrackets.txt
    lists exactly those).
    """
    from bidi.mirror import MIRRORED

    for run in storage["runs"]:
        chars = storage["chars"][run["start"]:run["start"] + run["length"]]
        if not chars:
            continue
        embedding = "LR"[chars[0]["level"] % 2]
        pairs: list[tuple[int, int]] = []
        stack: list[tuple[str, int]] = []
        for i, ch in enumerate(chars):
            c = ch["ch"]
            if ch["type"] != "ON" or c not in MIRRORED:
                continue
            kind = unicodedata.category(c)
            if kind == "Ps":
                if len(stack) == 63:        # BD16: stop looking for pairs
                    break
                stack.append((MIRRORED[c], i))
            elif kind == "Pe":
                for depth in range(len(stack) - 1, -1, -1):
                    if stack[depth][0] == c:
                        pairs.append((stack[depth][1], i))
                        del stack[depth:]
                        break

        def strong(t: str) -> str | None:
            return "R" if t in ("R", "EN", "AN") else "L" if t == "L" else None

        for start, end in sorted(pairs):
            inside = {strong(ch["type"]) for ch in chars[start + 1:end]} - {None}
            if not inside:
                continue                    # left to the neutral rules
            if embedding in inside:
                direction = embedding
            else:                           # only the other direction inside: the context decides
                direction = next((t for ch in reversed(chars[:start]) if (t := strong(ch["type"]))), run["sor"])
            for k in (start, end):
                chars[k]["type"] = direction
                k += 1
                while k < len(chars) and chars[k]["orig"] == "NSM":    # marks on a bracket follow it
                    chars[k]["type"] = direction
                    k += 1


def visual(pieces: Sequence[tuple[T, str]]) -> list[tuple[T, str]]:
    """One drawn line of (owner, text) pieces in visual order, as (owner, text) pieces.

    An owner is what draws a piece (a font, a paragraph fragment); a piece that
    reorders into several places becomes several pieces with the same owner.
    A line with no right-to-left character comes back as it is.
    """
    text = "".join(p for _, p in pieces)
    if not has_rtl(text):
        return list(pieces)
    owners: list[int] = []
    for n, (_, piece) in enumerate(pieces):
        owners.extend([n] * len(piece))
    out: list[tuple[int, str]] = []
    for index, ch in _order(text):
        n = owners[index]
        if out and out[-1][0] == n:
            out[-1] = (n, out[-1][1] + ch)
        else:
            out.append((n, ch))
    return [(pieces[n][0], piece) for n, piece in out]

"""Type sizes and spacing of a DOCX: normal print, or large print (issue 11).

Large print sets body text at 16 points and scales everything measured from
it by the same factor: headings, the running header and footer, the space
before and after paragraphs, list indents, table cell margins, callout
padding and the room left to write by hand. Line spacing is proportional
(1.15 lines), so it grows with the text.
"""
from __future__ import annotations

from dataclasses import dataclass

NORMAL_BODY = 11.5        # points


@dataclass(frozen=True)
class Look:
    """Point sizes of one look; ``tw`` scales a normal-print distance to it."""

    body: float
    title: float
    heading: tuple[float, float, float]      # levels 1, 2 and 3 (4 to 6 as 3)
    small: float                             # running header and footer

    @property
    def scale(self) -> float:
        return self.body / NORMAL_BODY

    def tw(self, twips: int) -> int:
        """A distance given for normal print (twips), in this look."""
        return round(twips * self.scale)


NORMAL = Look(body=NORMAL_BODY, title=24, heading=(17, 14, 12), small=9)
# 16-point text; headings stay a step above it and each other; the header and
# footer (practice, title, page numbers) grow to 12 points, as in the PDF.
LARGE = Look(body=16, title=30, heading=(22, 19, 17), small=12)


def look_for(large_print: bool) -> Look:
    return LARGE if large_print else NORMAL


def half_points(pt: float) -> str:
    """A w:sz value: the size in half-points."""
    return str(round(pt * 2))

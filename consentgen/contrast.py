"""Colour contrast as WCAG 2.1 measures it, and the nearest readable shade of a colour.

A practice picks its accent colour for its looks; a client has to read the
headings and links drawn in it. WCAG 2.1 AA (1.4.3) asks for a contrast of
4.5:1 between text and its background. ``check`` warns about an accent below
that (lint rule L31), and the HTML backend draws text in ``readable(accent)``.
"""
from __future__ import annotations

import re

WHITE = "#FFFFFF"
AA_TEXT = 4.5            # WCAG 2.1 AA, 1.4.3: normal-size text
_HEX = re.compile(r"^#([0-9A-Fa-f]{6})$")

RGB = tuple[int, int, int]


def parse(colour: str) -> RGB:
    """'#2F5D62' -> (47, 93, 98); a ValueError for anything else."""
    found = _HEX.match(colour)
    if not found:
        raise ValueError(f"a colour looks like #2F5D62, not {colour!r}")
    digits = found.group(1)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def to_hex(rgb: RGB) -> str:
    return "#" + "".join(f"{c:02X}" for c in rgb)


def luminance(colour: str) -> float:
    """WCAG's relative luminance: 0 for black, 1 for white."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in parse(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: str, b: str) -> float:
    """The contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(colour: str, other: str, share: float) -> str:
    """``colour`` mixed into ``other``, ``share`` (0 to 1) of ``colour`` kept."""
    return to_hex(tuple(round(o + (c - o) * share) for c, o in zip(parse(colour), parse(other))))


def readable(colour: str, *backgrounds: str, least: float = AA_TEXT) -> str:
    """``colour`` itself if it has ``least`` contrast on every background (white if none is
    given), else the lightest shade of it, mixed toward black, that has.

    The hue stays, so a brand's teal stays teal, only deeper.
    """
    backgrounds = backgrounds or (WHITE,)

    def passes(c: str) -> bool:
        return all(ratio(c, bg) >= least for bg in backgrounds)

    if passes(colour):
        return to_hex(parse(colour))
    low, high = 0.0, 1.0                     # share of the colour kept: 0 is black, which passes on light backgrounds
    for _ in range(20):
        middle = (low + high) / 2
        low, high = (middle, high) if passes(mix(colour, "#000000", middle)) else (low, middle)
    shade = mix(colour, "#000000", low)
    return shade if passes(shade) else "#000000"

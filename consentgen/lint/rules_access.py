"""Rules about reaching every client: the logo's spoken text and the accent colour's contrast.

Both read the profile's branding alone: what a screen reader says for the
logo, and whether text drawn in the accent colour can be read on white
(WCAG 2.1 AA, 1.4.3: 4.5:1).
"""
from __future__ import annotations

import math

from .. import contrast
from .registry import Context, Hit, rule


@rule("L30", "warning", "The logo has no text for screen readers",
      "Set practice.branding.logo_alt to what the logo shows, e.g. \"Harbor Street Counseling logo: a wave\".")
def logo_alt(ctx: Context):
    branding = ctx.profile.practice.branding
    if branding.logo is not None and not branding.logo_alt:
        yield Hit("the logo has no practice.branding.logo_alt, so a screen reader can only say "
                  f"\"{ctx.profile.practice.name} logo\"", key="practice.branding.logo")


@rule("L31", "warning", "The accent colour is too light for text on white",
      "Pick a darker practice.branding.accent_color: text needs a contrast of 4.5:1 or more on white.")
def accent_contrast(ctx: Context):
    accent = ctx.profile.practice.branding.accent_color
    ratio = contrast.ratio(accent, contrast.WHITE)
    if ratio < contrast.AA_TEXT:
        shown = math.floor(ratio * 100) / 100        # never round 4.49 up to a passing 4.5
        yield Hit(f"headings and links in {accent} have a contrast of {shown:.2f}:1 on white, below the 4.5:1 "
                  f"that text needs (WCAG 2.1 AA); {contrast.readable(accent)} is the nearest darker shade that passes",
                  key="practice.branding.accent_color")

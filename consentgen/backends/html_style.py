"""The HTML handouts' look: colours that pass WCAG 2.1 AA, and one inline style sheet.

Every colour text is drawn in is chosen here, with its contrast against the
backgrounds it sits on computed (``contrast.py``): the practice's accent is
darkened for text when it is too light. Sizes are in rem and em, so a reader's
own browser text size still counts; large print is 16 pt body text at the
browser's default size, with line spacing and margins to match.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import contrast

INK = "#1A1A1A"          # body text: 17.4:1 on white
MUTED = "#555555"        # header and footer text: 7.5:1 on white
PAPER = contrast.WHITE
RULE = "#767676"         # borders that mark out a control or a table: 4.5:1 on white
TINT = 0.08              # share of the accent in a callout's background
HEAD_TINT = 0.14         # share of the accent in a table header's background


@dataclass(frozen=True)
class Palette:
    """The colours of one handout, from its accent."""

    accent: str          # the practice's accent colour, as given
    tint: str            # callout background
    head: str            # table header background
    text: str            # accent-coloured text (headings, links, focus ring): 4.5:1 on paper, tint and head

    @classmethod
    def of(cls, accent: str) -> Palette:
        tint = contrast.mix(accent, PAPER, TINT)
        head = contrast.mix(accent, PAPER, HEAD_TINT)
        return cls(contrast.to_hex(contrast.parse(accent)), tint, head,
                   contrast.readable(accent, PAPER, tint, head))

    def pairs(self) -> list[tuple[str, str, str]]:
        """(what, text colour, background) for every pairing the style sheet draws."""
        return [("body text", INK, PAPER), ("body text in a callout", INK, self.tint),
                ("table header", INK, self.head), ("header and footer", MUTED, PAPER),
                ("headings and links", self.text, PAPER), ("callout title", self.text, self.tint),
                ("link in a table header", self.text, self.head)]


@dataclass(frozen=True)
class Sizes:
    """Type sizes and spacing; large print scales them all."""

    body: str            # root of every em below
    line: str            # line height
    width: str           # the reading column's widest
    stack_below: str     # a wide table becomes one block per row below this viewport width ('': always)
    print: str           # body text on paper


NORMAL = Sizes(body="1.0625rem", line="1.6", width="40em", stack_below="45em", print="11.5pt")
# 16 pt is 21.33 px; browsers default to 16 px = 12 pt, so 16 pt is 1.3333rem and grows with the reader's setting.
LARGE = Sizes(body="1.3333rem", line="1.65", width="36em", stack_below="", print="16pt")   # wide tables always stacked


def style_sheet(palette: Palette, large_print: bool) -> str:
    """The one inline style sheet of a handout."""
    s = LARGE if large_print else NORMAL
    stack = f"@media (max-width:{s.stack_below}){{\n{_STACK}}}" if s.stack_below else _STACK.rstrip("\n")
    return _CSS.format(stack_rules=stack, ink=INK, muted=MUTED, paper=PAPER, rule=RULE, accent=palette.accent,
                       text=palette.text, tint=palette.tint, head=palette.head,
                       body=s.body, line=s.line, width=s.width, print=s.print)


# A wide table on a narrow screen: one block per row, each cell under its column's name.
_STACK = """\
.stack,.stack tbody,.stack tr,.stack th,.stack td{display:block}
.scroll .stack{margin:0}
.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.stack tr{border:1px solid var(--rule);border-radius:.25em;margin-bottom:.75em}
.stack th,.stack td{border:0;padding:.3em .75em}
.stack tbody th{background:var(--head);font-weight:600}
.stack .cell-label{display:block;font-weight:600;font-size:.9em}
"""

# Doubled braces are CSS braces. Kept short: every handout carries it.
_CSS = """\
:root{{--ink:{ink};--muted:{muted};--paper:{paper};--rule:{rule};--accent:{accent};--accent-text:{text};\
--tint:{tint};--head:{head}}}
*,*::before,*::after{{box-sizing:border-box}}
html{{-webkit-text-size-adjust:100%;text-size-adjust:100%}}
body{{margin:0;background:var(--paper);color:var(--ink);font-family:system-ui,-apple-system,"Segoe UI",Roboto,\
"Noto Sans","DejaVu Sans",Arial,sans-serif;font-size:{body};line-height:{line};overflow-wrap:break-word}}
.bar,main,.end{{max-width:{width};margin:0 auto;padding:0 1rem}}
header{{border-bottom:1px solid var(--rule)}}
.bar{{display:flex;align-items:center;gap:.6em;padding-top:.75em;padding-bottom:.75em;color:var(--muted)}}
.bar img{{height:2.4em;width:auto}}
.bar p{{margin:0;font-weight:600;color:var(--accent-text)}}
footer{{margin-top:3em;border-top:1px solid var(--rule);color:var(--muted)}}
.end{{padding-top:1em;padding-bottom:2em}}
.end p{{margin:.25em 0;font-size:.9em}}
h1,h2,h3,h4,h5,h6{{color:var(--accent-text);line-height:1.25;margin:1.6em 0 .5em}}
h1{{font-size:1.75em;margin-top:.8em}}
h2{{font-size:1.4em}}
h3{{font-size:1.15em}}
h4,h5,h6{{font-size:1em}}
p,ul,ol{{margin:0 0 1em}}
ul,ol{{padding-left:1.5em}}
li{{margin:.3em 0}}
li>p{{margin:.3em 0}}
a{{color:var(--accent-text);text-decoration:underline;text-underline-offset:.15em}}
a:focus,a:focus-visible,[tabindex]:focus-visible{{outline:3px solid var(--accent-text);outline-offset:2px}}
main:focus{{outline:none}}
.skip{{position:absolute;left:.5rem;top:-10em;padding:.5em 1em;background:var(--paper);color:var(--accent-text);\
border:2px solid var(--accent-text);z-index:1}}
.skip:focus{{top:.5rem}}
.callout{{background:var(--tint);border-left:.35em solid var(--accent-text);padding:.1em 1em .1em 1em;\
margin:1.5em 0;border-radius:.25em}}
.callout h2,.callout h3,.callout h4,.callout h5,.callout h6{{margin-top:.8em;font-size:1.1em}}
.paper{{border:1px dashed var(--rule);padding:.5em 1em;margin:1em 0;border-radius:.25em}}
.paper p{{margin:.3em 0;font-style:italic}}
.scroll{{overflow-x:auto;margin:1em 0 1.5em}}
table{{border-collapse:collapse;width:100%;margin:1em 0 1.5em}}
.scroll table{{margin:0}}
th,td{{text-align:left;vertical-align:top;padding:.45em .6em;border:1px solid var(--rule)}}
thead th{{background:var(--head)}}
tbody th{{font-weight:normal}}
.cell-label{{display:none}}
nav ol{{padding-left:1.5em}}
{stack_rules}
@media print{{.skip{{display:none}}body{{font-size:{print}}}footer{{break-inside:avoid}}}}
"""

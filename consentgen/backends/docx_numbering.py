"""List numbering for the DOCX backend: real Word lists, one level per nesting depth.

Two multi-level list definitions (w:abstractNum), bullets and numbers, each
with Word's nine levels: a list nested in an item is the next level (w:ilvl)
of a list, as Word makes it with Tab, so Word, its accessibility checker and
screen readers know how deep an item stands. Bullets are the marker of their
level, never a typed character.

Every numbered list gets its own w:num with a start override on its level:
without one, Word continues the numbers of any earlier list on the same
definition (python-docx #25).
"""
from __future__ import annotations

from .docx_xml import el

LEVELS = 9                          # Word's levels per list, w:ilvl 0 to 8
BULLET_STYLES = ("ListBullet", "ListBullet2", "ListBullet3")
NUMBER_STYLES = ("ListNumber", "ListNumber2", "ListNumber3")
CONTINUE_STYLES = ("ListContinue", "ListContinue2", "ListContinue3")
BULLET_ABSTRACT, NUMBER_ABSTRACT = 0, 1
BULLET_NUM, NUMBER_NUM = 1, 2       # the w:num of the bullet and number list styles
FIRST_FREE_NUM = 3
# Word's own bullets, level after level: Symbol dot, Courier New "o", Wingdings square.
_BULLET_MARKERS = (("\uf0b7", "Symbol"), ("o", "Courier New"), ("\uf0a7", "Wingdings"))
_NUMBER_FORMATS = ("decimal", "lowerLetter", "lowerRoman")


def list_indent(level: int, step: int) -> int:
    """The text indent (twips) of a list level; its marker hangs in the step before it."""
    return step * (level + 1)


def style_level(level: int) -> int:
    """The index of a level's list style: Word's built-in styles go three deep, and
    deeper levels keep the third's look (the numbering gives their indent)."""
    return min(level, len(BULLET_STYLES) - 1)


def _abstract(abstract_id: int, bullets: bool, step: int, hanging: int) -> str:
    styles = BULLET_STYLES if bullets else NUMBER_STYLES
    levels = []
    for i in range(LEVELS):
        if bullets:
            text, font = _BULLET_MARKERS[i % 3]
            fmt, rpr = "bullet", f'<w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:hint="default"/></w:rPr>'
        else:
            text, fmt, rpr = f"%{i + 1}.", _NUMBER_FORMATS[i % 3], ""
        style = f'<w:pStyle w:val="{styles[i]}"/>' if i < len(styles) else ""
        levels.append(
            f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>{style}'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{list_indent(i, step)}" w:hanging="{hanging}"/></w:pPr>{rpr}</w:lvl>')
    return (f'<w:abstractNum w:abstractNumId="{abstract_id}"><w:nsid w:val="5C0A{abstract_id + 1:04X}"/>'
            f'<w:multiLevelType w:val="hybridMultilevel"/>{"".join(levels)}</w:abstractNum>')


def numbering_xml(namespace: str, step: int, hanging: int) -> str:
    """numbering.xml: the two definitions and the w:num of each list style."""
    return (f"<w:numbering {namespace}>"
            f"{_abstract(BULLET_ABSTRACT, True, step, hanging)}{_abstract(NUMBER_ABSTRACT, False, step, hanging)}"
            f'<w:num w:numId="{BULLET_NUM}"><w:abstractNumId w:val="{BULLET_ABSTRACT}"/></w:num>'
            f'<w:num w:numId="{NUMBER_NUM}"><w:abstractNumId w:val="{NUMBER_ABSTRACT}"/></w:num>'
            "</w:numbering>")


def restart(numbering, num_id: int, level: int, start: int) -> str:
    """A new w:num ``num_id`` of the numbered definition whose ``level`` starts at ``start``."""
    num = el(numbering, "num", numId=str(num_id))
    el(num, "abstractNumId", val=str(NUMBER_ABSTRACT))
    el(el(num, "lvlOverride", ilvl=str(level)), "startOverride", val=str(start))
    return str(num_id)

"""A generated section of the README: the text between its begin and end markers (both included)."""
from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def current(begin: str, end: str, readme: Path = README) -> str:
    """The section as the README has it now, markers included."""
    text = readme.read_text(encoding="utf-8")
    return text[text.index(begin): text.index(end) + len(end)]


def replace(begin: str, end: str, section: str, readme: Path = README) -> bool:
    """Put ``section`` (markers included) in place of the current one; True if the README changed."""
    text = readme.read_text(encoding="utf-8")
    new = text[: text.index(begin)] + section + text[text.index(end) + len(end):]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text

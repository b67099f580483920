"""Building blocks of the profile schema: the shared model settings, value
types (durations, money, text) and the people a profile names.

Every free-text value goes through one gate (``clean_text``): line breaks
and tabs that Word and other editors leave behind become spaces (or line
breaks, in paragraphs), and any other character no document can hold is
refused with a message saying which one and how to fix it. The roster's
cells and the raw YAML reader use the same words (``describe_character``).
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

_DURATION = re.compile(r"^(\d+) (business )?(hour|day|week|month)s?$")


def _duration(value: str) -> str:
    """Normalize '1 business days' to '1 business day' and '2 week' to '2 weeks'."""
    m = _DURATION.match(value.strip())
    if not m:
        raise ValueError(
            "expected a number and a unit, such as '24 hours', '2 business days' or '3 weeks'"
        )
    count, business, unit = m.groups()
    plural = "" if count == "1" else "s"
    return f"{count} {business or ''}{unit}{plural}"


# ---- one gate for free text ----------------------------------------------------------------

# Breaks a value may hold: Word's Shift+Enter (\x0b), page breaks, Unicode line and paragraph separators.
_ANY_BREAK = "\t\n\r\x0b\x0c\u2028\u2029"
_TO_SPACE = re.compile(f"[ {_ANY_BREAK}]*[{_ANY_BREAK}][ {_ANY_BREAK}]*")
_PARAGRAPH_BREAKS = (("\r\n", "\n"), ("\r", "\n"), ("\x0b", "\n"), ("\u2028", "\n"),
                     ("\x0c", "\n\n"), ("\u2029", "\n\n"), ("\t", " "))
# Trimmed from both ends. Not str.strip(): it would also drop U+0085 and U+001C..U+001F, which
# are refused instead (a trailing U+0085 is most often an ellipsis that was mis-decoded).
_SPACES = " \n\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
# What is left that no document can hold: control characters, bidi embeddings, overrides and
# isolates (which can disguise text), lone surrogates, private-use characters, noncharacters and
# U+FFFD (the mark of text already damaged).
_BAD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                  "\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\ufffd-\uffff"
                  "\U000f0000-\U0010ffff]|" + "|".join(f"[{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}]"
                                                     for plane in range(0x10000, 0xF0000, 0x10000)))
# Windows-1252 characters that text mis-decoded as Latin-1 turns into C1 controls.
_WINDOWS_NAMES = {"’": "apostrophe", "‘": "opening quote", "“": "opening quotation mark",
                  "”": "closing quotation mark", "–": "en dash", "—": "em dash", "…": "ellipsis",
                  "€": "euro sign", "•": "bullet", "™": "trademark sign"}
_ASCII_TWIN = {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "•": "-"}


def describe_character(ch: str, at: int | None = None) -> str:
    """Why ``ch`` is refused and what to do, e.g. 'contains U+0092 (character 8), a control character; ...'.

    Never shows the text around it: the same words serve a roster cell, which may
    hold a client's name.
    """
    code = ord(ch)
    name = f"U+{code:04X}" + (f" (character {at})" if at is not None else "")
    if code == 0:
        return f"contains {name}, a NUL character (left by a damaged copy or a binary file): delete it"
    if 0x80 <= code <= 0x9F:
        try:
            meant = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            return f"contains {name}, a control character (text mis-decoded from Windows?): delete or retype it"
        what = _WINDOWS_NAMES.get(meant, f"'{meant}'")
        twin = f" or {_ASCII_TWIN[meant]}" if meant in _ASCII_TWIN else ""
        return f"contains {name}, a control character; it is often a mis-decoded {what}: retype it as {meant}{twin}"
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"contains {name}, a control character: delete it"
    if category == "Cs":
        return f"contains {name}, half of a character pair (a damaged emoji or symbol): retype it"
    if category == "Co":
        return (f"contains {name}, a private-use character no standard font shows (often a symbol-font bullet "
                "from Word): retype it as an ordinary character")
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return (f"contains {name}, an invisible control that changes the order text is shown in (it can make "
                "a name or number read differently from what it is): delete it; right-to-left text needs none")
    if code == 0xFFFD:
        return (f"contains {name}, the replacement character: the text was damaged when it was copied or "
                "converted; retype the character it stands for")
    return f"contains {name}, which is not a character: delete it"


def first_bad_character(text: str) -> tuple[int, str] | None:
    """The first character no document can hold, as (1-based position, description), or None."""
    m = _BAD.search(text)
    return (m.start() + 1, describe_character(m.group(), m.start() + 1)) if m else None


def clean_text(text: str, paragraph: bool = False) -> str:
    """Normalize breaks and tabs (to spaces; in a paragraph, to line breaks), trim; ValueError if a character is refused."""
    if paragraph:
        for old, new in _PARAGRAPH_BREAKS:
            text = text.replace(old, new)
    else:
        text = _TO_SPACE.sub(" ", text)
    text = text.strip(_SPACES)
    bad = first_bad_character(text)
    if bad:
        raise ValueError(bad[1])
    return text


def _gate(paragraph: bool):
    def validate(value: Any) -> Any:
        if not isinstance(value, str):
            return value                       # numbers become text, anything else is refused as not text
        try:
            return clean_text(value, paragraph)
        except ValueError as exc:
            raise PydanticCustomError("text_character", str(exc)) from None
    return BeforeValidator(validate)


_LINE, _PARAGRAPH = _gate(False), _gate(True)


def _path(value: str) -> str:
    if any(len(part.encode("utf-8")) > 255 for part in re.split(r"[/\\]", value)):
        raise ValueError("a folder or file name in this path is longer than 255 bytes")
    return value


# Free text, each with a length that suits what it holds (a name is not a paragraph).
Name = Annotated[str, Field(min_length=1, max_length=120), _LINE]      # a person, a practice, a service to call
Phone = Annotated[str, Field(min_length=1, max_length=40), _LINE]
Short = Annotated[str, Field(min_length=1, max_length=60), _LINE]      # pronouns, a license number, an amount
Label = Annotated[str, Field(min_length=1, max_length=200), _LINE]     # a short phrase: credentials, hours, a plan
Line = Annotated[str, Field(min_length=1, max_length=300), _LINE]      # an address, a website
Text = Annotated[str, Field(min_length=1, max_length=2000), _PARAGRAPH]
Note = Annotated[str, Field(min_length=1, max_length=4000), _PARAGRAPH]
Reason = Annotated[str, Field(max_length=2000), _PARAGRAPH]            # may be empty: `check` says it is missing
FilePath = Annotated[str, Field(min_length=1, max_length=300), _LINE, AfterValidator(_path)]
Duration = Annotated[str, AfterValidator(_duration)]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), _LINE]
Colour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
DocName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
Money = Annotated[Decimal, Field(ge=0, max_digits=9, decimal_places=2)]


def inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation such as ``Board | None`` or ``tuple[Service, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = inner_model(arg)
        if found is not None:
            return found
    return None


class Model(BaseModel):
    """Shared settings: unknown keys are errors; numbers may stand for text."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class License(Model):
    type: Label = Field(description="License type, e.g. `LMFT`, `LPC`, `LCSW`, `Psychologist`.")
    number: Short = Field(description="License number as the board issued it.")
    state: Short = Field(description="State or country that issued it, e.g. `CO`.")
    restrictions: Text | None = Field(None, description="Any limits the board placed on the license (Texas asks for these).")


class Board(Model):
    name: Label = Field(description="The licensing board's name.")
    address: Line | None = Field(None, description="The board's mailing address.")
    phone: Phone | None = Field(None, description="The board's phone number.")
    website: Line | None = Field(None, description="The board's website.")


class Person(Model):
    name: Name = Field(description="Full name.")
    credentials: Label | None = Field(None, description="Degrees and licenses, e.g. `PhD, LP`.")
    phone: Phone | None = Field(None, description="Phone number.")
    email: Email | None = Field(None, description="Email address.")


class Supervisor(Person):
    license: License | None = Field(None, description="The supervisor's license.")
    address: Line | None = Field(None, description="The supervisor's business address (Texas asks for it).")
    qualifications: Text | None = Field(
        None, description="The supervisor's qualifications, e.g. `LPC-S, board-approved supervisor since 2012` "
        "(Texas asks for them).")

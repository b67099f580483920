"""Building blocks of the profile schema: the shared model settings, value
types (durations, money, text) and the people a profile names.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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


Duration = Annotated[str, AfterValidator(_duration)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Note = Annotated[str, Field(min_length=1, max_length=4000)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
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
    type: Text = Field(description="License type, e.g. `LMFT`, `LPC`, `LCSW`, `Psychologist`.")
    number: Text = Field(description="License number as the board issued it.")
    state: Text = Field(description="State or country that issued it, e.g. `CO`.")
    restrictions: Text | None = Field(None, description="Any limits the board placed on the license (Texas asks for these).")


class Board(Model):
    name: Text = Field(description="The licensing board's name.")
    address: Text | None = Field(None, description="The board's mailing address.")
    phone: Text | None = Field(None, description="The board's phone number.")
    website: Text | None = Field(None, description="The board's website.")


class Person(Model):
    name: Text = Field(description="Full name.")
    credentials: Text | None = Field(None, description="Degrees and licenses, e.g. `PhD, LP`.")
    phone: Text | None = Field(None, description="Phone number.")
    email: Email | None = Field(None, description="Email address.")


class Supervisor(Person):
    license: License | None = Field(None, description="The supervisor's license.")
    address: Text | None = Field(None, description="The supervisor's business address (Texas asks for it).")
    qualifications: Text | None = Field(
        None, description="The supervisor's qualifications, e.g. `LPC-S, board-approved supervisor since 2012` "
        "(Texas asks for them).")

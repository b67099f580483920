"""Load a profile: find its layers, merge them, validate, and explain errors.

A clinician file at ``X/clinicians/NAME.yaml`` is layered over
``X/practice.yaml`` when that file exists; a solo therapist may keep
everything in one file. Every validation error is reported as
``file:line: key.path: message``, with a suggestion for misspelt keys.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ProfileError, Where, display_path
from .model_base import inner_model
from .models import Profile
from .yamlsafe import KeyPath, Positions, dotted, deep_merge, read_yaml


@dataclass(frozen=True)
class LoadedProfile:
    """A validated profile and the files it was layered from (base first)."""

    profile: Profile
    layers: tuple[Path, ...]
    positions: Positions

    @property
    def source(self) -> Path:
        """The most specific layer: the file the user named."""
        return self.layers[-1]

    def where(self, path: KeyPath) -> Where:
        """The file and line of a key path, or of its nearest parent that has one; else the file named."""
        found = _nearest(path, self.positions)
        return Where(found.file, found.line) if found else Where(display_path(self.source))


def layers_for(path: Path) -> tuple[Path, ...]:
    """The files that make up the profile at ``path``, base layer first."""
    if path.parent.name == "clinicians":
        practice = path.parent.parent / "practice.yaml"
        try:
            if practice.is_file():
                return (practice, path)
        except OSError:          # a name too long, a folder not readable: reading the file will say so
            pass
    return (path,)


def load_profile(path: Path | str) -> LoadedProfile:
    """Read, layer and validate a profile; raises ProfileError naming file:line: key."""
    path = Path(path)
    layers = layers_for(path)
    data: dict = {}
    positions: Positions = {}
    for layer in layers:
        layer_data, layer_pos = read_yaml(layer)
        data = deep_merge(data, layer_data, positions, layer_pos)
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        errors = describe(exc, positions, layers)
        raise ProfileError(errors[0], errors=errors) from None
    return LoadedProfile(profile, layers, positions)


def describe(exc: ValidationError, positions: Positions, layers: tuple[Path, ...],
             root: type[BaseModel] = Profile) -> tuple[str, ...]:
    """One line for each pydantic error: ``file:line: key.path: message`` (keys of ``root``'s schema)."""
    return tuple(_describe(err, positions, layers, root) for err in exc.errors())


def _describe(err: dict, positions: Positions, layers: tuple[Path, ...], root: type[BaseModel]) -> str:
    """One line for one pydantic error: ``file:line: key.path: message``."""
    loc: KeyPath = tuple(part for part in err["loc"] if not _is_union_tag(part))
    where = _nearest(loc, positions) or Where(display_path(layers[-1]), 1)
    key = dotted(loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key '{loc[-1]}'" + _suggest(loc, root)
    elif kind == "missing":
        message = "required key is missing"
        if loc[:-1] not in positions and len(loc) > 1:
            message += f" (under '{dotted(loc[:-1])}')"
    else:
        message = _plain_message(err)
    return f"{Where(where.file, where.line)}: {key}: {message}"


def _is_union_tag(part: Any) -> bool:
    """pydantic puts the chosen union member's type name into ``loc``; drop it."""
    return isinstance(part, str) and (part.startswith(("function-", "literal[")) or part in {"str", "int", "list"})


def _nearest(loc: KeyPath, positions: Positions) -> Where | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in positions:
            return positions[loc[:end]]
    return None


_MESSAGES = {
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "string_type": "expected text",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "date_from_datetime_parsing": "expected a date like 2026-01-05",
    "date_parsing": "expected a date like 2026-01-05",
    "date_type": "expected a date like 2026-01-05",
    "model_type": "expected a mapping of keys to values",
    "dict_type": "expected a mapping of keys to values",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "date_from_datetime_inexact": "expected a date like 2026-01-05, without a time",
    "finite_number": "expected a number",
    "string_too_short": "must not be empty",
}
# Errors whose input is not repeated even when it is a number: it is missing or too long to help.
_NO_ECHO = ("missing", "model_type", "dict_type", "string_too_short", "string_too_long", "text_character")


def _plain_message(err: dict) -> str:
    msg = _MESSAGES.get(err["type"], err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err["type"] in ("literal_error", "enum"):
        msg = msg.replace("Input should be", "expected")
    if err["type"] == "string_too_long":
        limit = (err.get("ctx") or {}).get("max_length")
        value = err["input"]
        msg = f"too long: {len(value) if isinstance(value, str) else len(_shown(value, 10**6))} characters " \
              f"(at most {limit})"
    # Text a profile gave is never repeated: the same words may be a client's name (a value
    # pasted into the wrong file); numbers, dates and true/false cannot be.
    if "input" in err and err["type"] not in _NO_ECHO and not isinstance(err["input"], (str, dict, list)):
        msg += f" (got '{_shown(err['input'])}')"
    return msg


def _shown(value: Any, width: int = 40) -> str:
    """A value as it may appear in a one-line message: short, every unprintable character as U+XXXX."""
    try:
        text = str(value)
    except ValueError:                       # an integer too long to print
        return "a very long number"
    cut = text[:width]
    shown = "".join(c if c.isprintable() or c == " " else f"U+{ord(c):04X}" for c in cut)
    return shown + ("…" if len(text) > width else "")


def _model_at(loc: KeyPath, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class whose keys live at ``loc`` (for suggestions)."""
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = _fields(model).get(part)
        if field is None:
            return None
        model = inner_model(field.annotation)
        if model is None:
            return None
    return model


def _fields(model: type[BaseModel]) -> dict:
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def _suggest(loc: KeyPath, root: type[BaseModel]) -> str:
    model = _model_at(loc[:-1], root)
    if model is None:
        return ""
    known = sorted(_fields(model))
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(known)}"

"""Jurisdiction packs: what a state's law adds to the ethics-code baseline.

A pack is versioned data (``consentgen/packs/US-XX.yaml``) with its sources
and effective date: the profile fields the state requires (each with the rule
behind it), the statements it prescribes, its duty-to-warn type, the age at
which a minor may consent alone, its rules after therapy ends, any gift cap,
who must sign, and handouts that are given only when something happens
(triggers). Templates read a pack through ``context_for``; ``check`` reads its
requirements through ``missing_required`` (rule L11).
"""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from .errors import ConsentgenError
from .model_base import Model, Text
from .models import Profile
from .yamlsafe import read_yaml

PACKS = Path(__file__).resolve().parent / "packs"


class Requirement(Model):
    key: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)*$", description="Dotted profile key that must be set.")
    rule: Text = Field(description="The statute or rule that requires it.")


class Statement(Model):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    text: Text | None = Field(None, description="The statement in our own words (when the law allows).")
    profile_key: str | None = Field(None, description="Where the profile holds the prescribed wording, verbatim.")
    source: Text
    verbatim: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Statement:
        if (self.text is None) == (self.profile_key is None):
            raise ValueError(f"statement '{self.id}' needs exactly one of 'text' and 'profile_key'")
        if self.verbatim and self.profile_key is None:
            raise ValueError(f"verbatim statement '{self.id}' must come from the profile ('profile_key')")
        return self


class Trigger(Model):
    document: str
    when: Text
    source: Text


class Pack(Model):
    code: str = Field(pattern=r"^[A-Z]{2}-[A-Z]{2}$")
    name: Text
    version: Text
    effective: dt.date
    sources: tuple[Text, ...] = Field(min_length=1)
    delivery: Text
    delivery_source: Text
    required: tuple[Requirement, ...] = ()
    statements: tuple[Statement, ...] = ()
    duty_to_warn: Literal["mandatory", "permissive", "none"]
    duty_to_warn_source: Text
    minor_consent_age: int | None = None
    minor_consent_source: Text | None = None
    post_termination: Text
    post_termination_source: Text
    gift_cap: int | None = None
    gift_cap_source: Text | None = None
    both_sign: bool = False
    both_sign_source: Text | None = None
    triggers: tuple[Trigger, ...] = ()


def available() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in PACKS.glob("*.yaml")))


@functools.cache
def load_pack(code: str) -> Pack | None:
    """The pack for ``code`` (e.g. 'US-CO'), or None when there is none (the baseline applies)."""
    path = PACKS / f"{code}.yaml"
    if not path.is_file():
        return None
    data, _ = read_yaml(path)
    try:
        return Pack.model_validate(data)
    except ValidationError as exc:  # a packaging bug, not a user error; still one line
        raise ConsentgenError(f"jurisdiction pack {code} is invalid: {exc.errors()[0]['msg']}") from None


def context_for(profile: Profile) -> dict[str, Any]:
    """What templates see as ``jurisdiction``: the pack's facts, or the ethics-code baseline."""
    code = profile.practice.jurisdiction
    pack = load_pack(code) if code else None
    if pack is None:
        return {"code": code, "name": None, "pack": False, "duty_to_warn": None, "minor_consent_age": None,
                "gift_cap": None, "both_sign": False, "statements": {}, "triggers": (), "sources": ()}
    statements = {}
    for s in pack.statements:
        text = _lookup(profile, s.profile_key) if s.profile_key else s.text
        if text:
            statements[s.id] = {"text": text, "source": s.source, "verbatim": s.verbatim}
    return {"code": pack.code, "name": pack.name, "pack": True, "duty_to_warn": pack.duty_to_warn,
            "minor_consent_age": pack.minor_consent_age, "gift_cap": pack.gift_cap, "both_sign": pack.both_sign,
            "statements": statements, "triggers": tuple(t.model_dump() for t in pack.triggers),
            "sources": pack.sources}


def _lookup(profile: Profile, key: str) -> Any:
    value: Any = profile
    for part in key.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def unknown_code(profile: Profile) -> str | None:
    """A note when the profile names a jurisdiction that has no pack (a typo, or a state not covered yet)."""
    code = profile.practice.jurisdiction
    if code and load_pack(code) is None:
        return f"no jurisdiction pack for '{code}' (packs: {', '.join(available())}); the ethics-code baseline applies"
    return None


def missing_required(profile: Profile) -> list[Requirement]:
    """The requirements of the profile's pack that the profile leaves empty."""
    code = profile.practice.jurisdiction
    pack = load_pack(code) if code else None
    if pack is None:
        return []
    return [req for req in pack.required if _lookup(profile, req.key) in (None, "", ())]

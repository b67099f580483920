"""The schema of a jurisdiction pack: versioned, sourced data about one state's law.

Every fact and statement carries a ``Source``: the citation, the public address
where it was read, when, a short quote of the words it rests on, and whether
it was verified there. What could not be read stays ``verified: false`` with
the reason; such a fact is shown to the practice and never drives an error.

A pack has a base (what applies to every licensee) and a part per profession,
chosen by ``clinician.license.type``. Statements name the section of the
handouts they belong to, so none can be loaded without a place to print.
"""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from .model_base import Model, Text

#: Where a statement prints. Each is a slot in a built-in section template;
#: a "one" section holds at most one statement (it replaces a default sentence).
SECTIONS: dict[str, str] = {
    "about-me": "who the therapist is and who regulates them (informed consent, 'About me')",
    "supervision": "what an associate or trainee tells clients about supervision",
    "rights": "the client's rights (informed consent, 'Your rights')",
    "complaints": "how to complain to the state (replaces our own sentence; informed consent, 'Your rights')",
    "harm-to-others": "one: what the law says about a threat to harm someone (privacy limits)",
    "privacy": "more on confidentiality and its limits (informed consent, 'Privacy and its limits')",
    "records": "records: how long they are kept and who keeps them (informed consent, 'Your records')",
    "minors": "young people's own consent and parents' role (informed consent, 'Young people in therapy')",
    "custody": "one: custody orders for a child in therapy (replaces our own sentence)",
    "fees": "billing practices, payment ahead and refunds (fees handout)",
    "relationship": "what the relationship never is (informed consent, after the rights)",
    "changes": "one: notice before a policy changes (replaces our own sentence in the questions block)",
    "signatures": "what signing means (the signature page)",
    "technology": "artificial intelligence and other technology in care (informed consent)",
}
ONE_PER_SECTION = ("harm-to-others", "custody", "changes")

Profession = Literal["counselor", "mft", "social-worker", "psychologist"]
PROFESSION_WORDS: dict[str, str] = {"counselor": "professional counselor", "mft": "marriage and family therapist",
                                    "social-worker": "clinical social worker", "psychologist": "psychologist"}


class Source(Model):
    """Where a fact was read, and how sure we are of it."""

    cite: Text = Field(description="The statute, rule or case, e.g. `22 TAC 681.38(d)(6)`.")
    url: str | None = Field(None, pattern=r"^https?://\S+$", description="The public address where it was read.")
    read: dt.date | None = Field(None, description="The date it was read there.")
    quote: str | None = Field(None, min_length=3, max_length=320,
                              description="A short quote (about 25 words at most) of the words it rests on.")
    verified: bool = Field(description="True only if the quote was read in the law's text or an official copy.")
    reason: Text | None = Field(None, description="When not verified: what was searched and why it is not enough.")

    @model_validator(mode="after")
    def _complete(self) -> Source:
        if self.verified and not (self.url and self.read and self.quote):
            raise ValueError("a verified source needs its url, the date it was read and a quote")
        if not self.verified and not self.reason:
            raise ValueError("an unverified source needs the reason it could not be verified")
        if self.quote and len(self.quote.split()) > 40:
            raise ValueError("a quote is a short excerpt (about 25 words), not the whole text")
        return self


class Statement(Model):
    """Words the law asks clients to read, in our own words or the state's prescribed ones."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    section: str = Field(description="Where it prints: one of consentgen.pack_model.SECTIONS.")
    text: Text | None = Field(None, description="The statement in our own words (when the law allows).")
    profile_key: str | None = Field(None, description="Where the profile holds the prescribed wording, verbatim.")
    verbatim: bool = False
    when: Literal["always", "sees-minors", "supervised", "video", "uses-ai"] = "always"
    source: Source

    @model_validator(mode="after")
    def _one_source(self) -> Statement:
        if self.section not in SECTIONS:
            raise ValueError(f"statement '{self.id}' has no known section '{self.section}' "
                             f"(sections: {', '.join(SECTIONS)})")
        if (self.text is None) == (self.profile_key is None):
            raise ValueError(f"statement '{self.id}' needs exactly one of 'text' and 'profile_key'")
        if self.verbatim and self.profile_key is None:
            raise ValueError(f"verbatim statement '{self.id}' must come from the profile ('profile_key')")
        return self


class Requirement(Model):
    key: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)*$", description="Dotted profile key that must be set.")
    when: Literal["always", "sees-minors", "supervised", "video"] = "always"
    source: Source


class Board(Model):
    name: Text
    address: Text | None = None
    phone: Text | None = None
    website: Text | None = None


class BoardFact(Model):
    value: Board
    source: Source


class YearsFact(Model):
    """A waiting period in years; ``years: null`` means never."""

    years: int | None = Field(ge=0, le=100)
    text: Text = Field(description="The rule in plain words, for the practice.")
    source: Source


class RecordsFact(Model):
    adult_years: int = Field(ge=1, le=100, description="Years records are kept after the last service.")
    minor: Text = Field(description="For a client who was a minor, in words a client reads, e.g. "
                                    "`for 7 years after your child turns 18`.")
    minor_years_after_18: int | None = Field(None, ge=0, le=100,
                                             description="The minor rule's years after age 18, when it has one.")
    source: Source


class DutyFact(Model):
    value: Literal["mandatory", "permissive", "mixed", "none"]   # mixed: may warn the person, must tell the police
    source: Source


class NumberFact(Model):
    value: int | None
    source: Source


class FlagFact(Model):
    value: bool
    source: Source


class TextFact(Model):
    value: Text
    source: Source


class ProfessionPart(Model):
    """What differs by license type within a state."""

    types: tuple[Text, ...] = Field(min_length=1, description="License types (and associate titles) it covers.")
    associate_types: tuple[Text, ...] = Field((), description="Of those, the supervised (associate) titles.")
    board: BoardFact | None = None
    post_termination: YearsFact | None = None
    records: RecordsFact | None = None
    gift_cap: NumberFact | None = None
    statements: tuple[Statement, ...] = ()
    required: tuple[Requirement, ...] = ()


class Trigger(Model):
    document: str
    when: Text
    source: Source


class Pack(Model):
    code: str = Field(pattern=r"^[A-Z]{2}-[A-Z]{2}$")
    name: Text
    version: Text
    effective: dt.date
    sources: dict[str, Source] = Field(default_factory=dict,
                                       description="Sources by id; a fact's `source:` may name one instead of repeating it.")
    delivery: TextFact
    duty_to_warn: DutyFact
    minor_consent_age: NumberFact | None = None
    both_sign: FlagFact | None = None
    gift_cap: NumberFact | None = None
    post_termination: YearsFact | None = None
    records: RecordsFact | None = None
    required: tuple[Requirement, ...] = ()
    statements: tuple[Statement, ...] = ()
    professions: dict[Profession, ProfessionPart] = Field(default_factory=dict)
    triggers: tuple[Trigger, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> Pack:
        base = [s.id for s in self.statements]
        if len(base) != len(set(base)):
            raise ValueError("a statement id is used twice")
        owners: dict[str, str] = {}
        for name, part in self.professions.items():
            ids = [s.id for s in part.statements]
            if len(ids) != len(set(ids)) or set(ids) & set(base):
                raise ValueError(f"profession '{name}' repeats a statement id")
            for t in part.types:
                key = t.casefold()
                if key in owners:
                    raise ValueError(f"license type '{t}' is in both '{owners[key]}' and '{name}'")
                owners[key] = name
        return self

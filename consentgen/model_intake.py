"""Profile blocks for the rest of the intake packet: the therapy itself, fees,
telehealth, records, online contact, and who signs.

Each block has safe defaults, so a profile that says nothing about fees still
validates; the jurisdiction packs and ``check`` say what a state requires.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .model_base import Label, Line, Model, Money, Note, Person, Short, Text

ServiceKind = Literal["individual", "couples", "family", "group"]


class CouplesWork(Model):
    secrets: Literal["no-secrets", "limited"] = Field(
        "no-secrets", description="`no-secrets` (what one partner or family member tells me alone may be brought "
        "into joint sessions) or `limited` (I may keep a private matter private, unless it harms the joint work).")
    individual_sessions: bool = Field(
        True, description="Whether a partner or family member may sometimes meet you alone during joint work.")


class Therapy(Model):
    approach: Text | None = Field(None, description="How you work, in plain words, e.g. `talk therapy that uses CBT`.")
    services: tuple[ServiceKind, ...] = Field(("individual",), min_length=1,
                                              description="Who you see: `individual`, `couples`, `family`, `group`.")
    session_minutes: int = Field(50, ge=10, le=240, description="How long a session lasts, in minutes.")
    frequency: Label = Field("once a week", description="How often you usually meet, e.g. `once a week`.")
    expected_length: Label | None = Field(None, description="How long therapy often lasts, if known, e.g. `12 to 20 sessions`.")
    sees_minors: bool = Field(False, description="Whether you see clients under 18 (adds the minors section).")
    minors_from_age: int | None = Field(
        None, ge=2, le=17, description="With `sees_minors`, the youngest age you see, e.g. `12`.")
    couples: CouplesWork = Field(default_factory=CouplesWork,
                                 description="How couples and family work goes (used when you offer it).")
    note: Note | None = Field(None, description="Your own words about what therapy involves.")

    @model_validator(mode="after")
    def _minors(self) -> Therapy:
        if self.minors_from_age is not None and not self.sees_minors:
            raise ValueError("'minors_from_age' goes with 'sees_minors: true'")
        return self


class Service(Model):
    name: Label = Field(description="The service, e.g. `Individual session (50 minutes)`.")
    fee: Money = Field(description="The fee in dollars, e.g. `150`.")
    kinds: tuple[ServiceKind, ...] | None = Field(
        None, description="Which services this fee is for (`individual`, `couples`, `family`, `group`). Empty: read "
        "from the name. A row for services a clinician does not offer is left out of their handouts.")


class Cancellation(Model):
    notice_hours: int = Field(24, ge=0, le=168, description="How many hours ahead a client must cancel.")
    how: tuple[Literal["phone", "text", "email", "portal"], ...] | None = Field(
        None, description="The ways a cancellation counts: `phone`, `text`, `email`, `portal`. Empty: every one of "
        "these that clients may use, else the phone.")
    sent_counts: bool = Field(
        True, description="Whether a cancellation counts from when it was sent, even outside office hours "
        "(false: from when the office next opens).")
    late_fee: Money | None = Field(None, description="Fee for a late cancellation (empty: none).")
    no_show_fee: Money | None = Field(None, description="Fee for a missed session with no notice (empty: none).")


class Insurance(Model):
    in_network: tuple[Label, ...] = Field((), description="Insurance plans you are in network with (empty: none).")
    superbills: bool = Field(True, description="Whether you give receipts clients can send to their insurer.")


class Nonpayment(Model):
    notice_days: int = Field(30, ge=0, le=365, description="Days of written notice before any collection step.")
    collection_agency: bool = Field(False, description="Whether unpaid bills may go to a collection agency or small claims court.")


class Fees(Model):
    services: tuple[Service, ...] = Field((), description="Each service and its fee.")
    payment_due: Label = Field("at each session", description="When payment is due, e.g. `at each session`.")
    payment_methods: tuple[Label, ...] = Field((), description="Ways to pay, e.g. `[card, check]`.")
    paid_ahead: Literal["never", "first-session", "packages"] = Field(
        "never", description="Whether clients pay ahead: `never`, `first-session` (a deposit to book the first "
        "session) or `packages` (a block of sessions paid ahead). Washington asks you to say.")
    refund_days: int = Field(30, ge=1, le=90, description="Days within which you refund money paid for a session "
                                                           "that does not take place.")
    sliding_scale: bool = Field(False, description="Whether a lower fee is possible for clients who need one.")
    cancellation: Cancellation = Field(default_factory=Cancellation, description="Late cancellation and no-show rules.")
    insurance: Insurance = Field(default_factory=Insurance, description="Insurance you accept.")
    nonpayment: Nonpayment = Field(default_factory=Nonpayment, description="What happens when a bill is not paid.")
    note: Note | None = Field(None, description="Your own words about fees.")


class Telehealth(Model):
    offered: bool = Field(False, description="Whether you offer sessions by video (adds the telehealth consent).")
    platform: Label | None = Field(None, description="The video service, e.g. `a HIPAA-compliant video platform (Doxy.me)`.")
    backup: Literal["phone", "reschedule"] = Field(
        "phone", description="If the video fails: `phone` (I call you) or `reschedule`.")
    states: tuple[Short, ...] = Field((), description="States where you may see clients by video (where you are licensed).")
    in_person: bool = Field(True, description="Whether you also see clients in person; `false` for a video-only practice.")
    note: Note | None = Field(None, description="Your own words about telehealth.")

    @model_validator(mode="after")
    def _platform(self) -> Telehealth:
        if self.offered and self.platform is None:
            raise ValueError("telehealth that is offered needs a 'platform'")
        if self.offered and not self.states:
            raise ValueError("telehealth that is offered needs 'states': where you may see clients by video")
        if not self.in_person and not self.offered:
            raise ValueError("'in_person: false' (video only) needs 'offered: true'")
        return self


class Records(Model):
    retention_years: int = Field(7, ge=1, le=100, description="How many years you keep records after therapy ends.")
    custodian: Person | None = Field(None, description="Who takes care of your records if you die or cannot practice.")


class Online(Model):
    business_page: Line | None = Field(None, description="The practice's public page or profile, if any.")
    search_clients: Literal["never", "with-consent"] = Field(
        "never", description="`never` search for clients online (except in an emergency), or only `with-consent`.")
    note: Note | None = Field(None, description="Your own words about social media and the internet.")


class AiUse(Model):
    use: Literal["none", "administrative", "supplementary"] = Field(
        "none", description="Whether software with artificial intelligence helps your work: `none`, `administrative` "
        "(scheduling, billing, reminders) or `supplementary` (for example drafting notes from a session).")
    purpose: Text | None = Field(None, description="What it does, in plain words, e.g. `drafts my session notes, "
                                                   "which I check and correct`. Required when used.")
    transcribes_sessions: bool = Field(
        False, description="Whether sessions are recorded or transcribed with its help (then clients give a "
        "separate written consent, which they may refuse or take back).")

    @model_validator(mode="after")
    def _purpose(self) -> AiUse:
        if self.use != "none" and not self.purpose:
            raise ValueError("software with artificial intelligence that you use needs its 'purpose'")
        if self.transcribes_sessions and self.use == "none":
            raise ValueError("'transcribes_sessions' needs 'use: supplementary'")
        return self


class Signers(Model):
    second_signer: Literal["none", "guardian", "partner"] = Field(
        "none", description="Who signs besides the client: `guardian` (of a minor), `partner` (couples) or `none`.")
    therapist_signs: bool = Field(True, description="Whether the therapist also signs the acknowledgement.")

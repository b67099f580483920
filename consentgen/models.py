"""The profile schema: pydantic v2 models, one per block of a profile file.

Every model forbids unknown keys, so a typo is an error (with a suggestion),
never a silently ignored policy. Field descriptions feed the README's profile
reference (``consentgen.reference``), so the two cannot drift apart.

The prohibition of sexual contact is deliberately *not* a field: no profile
can remove it from a handout.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .model_intake import AiUse, Fees, Online, Records, Signers, Telehealth, Therapy
from .model_base import (Board, Colour, DocName, Duration, Email, FilePath, Label, License, Line, Model, Money, Name, Note,
                         Person, Phone, Reason, Short, Supervisor, Text)

class Branding(Model):
    logo: FilePath | None = Field(None, description="Path to a PNG or JPEG logo, relative to the file that names it.")
    logo_alt: Label | None = Field(
        None, description="What a screen reader says for the logo, e.g. `Harbor Counseling logo: a lighthouse`. "
        "Default: the practice's name and 'logo'.")
    accent_color: Colour = Field("#2F5D62", description="Colour for headings and rules, as `#RRGGBB`.")


class Practice(Model):
    name: Name = Field(description="The practice's name as clients know it.")
    address: Line | None = Field(None, description="Street address, one line.")
    phone: Phone | None = Field(None, description="Main office phone number.")
    email: Email | None = Field(None, description="Office email address.")
    website: Line | None = Field(None, description="Website address.")
    office_staff: Label | None = Field(
        None, description="Who answers the office phone and reads the office email, e.g. `our front desk staff`. "
        "Said wherever a channel uses the office's number or address.")
    jurisdiction: str | None = Field(
        None, pattern=r"^[A-Z]{2}(-[A-Z]{2})?$", description="Where the practice is licensed, e.g. `US-CO`."
    )
    branding: Branding = Field(default_factory=Branding, description="Logo and accent colour.")
    self_pay: bool = Field(False, description="No longer used, still accepted: every US fees handout now tells clients of their right to a Good Faith Estimate.")
    hipaa_covered: bool = Field(False, description="Whether the practice is a HIPAA covered entity (adds the privacy notice acknowledgement).")
    npp_version: dt.date | None = Field(None, description="The date of your Notice of Privacy Practices (required when HIPAA-covered).")
    complaint_notice: Text | None = Field(
        None, description="The complaint notice your state prescribes, word for word (Texas, California); see your pack.")

    @model_validator(mode="after")
    def _npp(self) -> Practice:
        if self.hipaa_covered and self.npp_version is None:
            raise ValueError("a HIPAA-covered practice needs 'npp_version', the date of its privacy notice")
        return self


class Clinician(Model):
    name: Name = Field(description="Your name as clients should see it.")
    credentials: Label | None = Field(None, description="Degrees and licenses after your name, e.g. `MA, LMFT`.")
    pronouns: Short | None = Field(None, description="e.g. `she/her`.")
    status: Literal["licensed", "associate", "trainee"] = Field(
        "licensed", description="`licensed`, or `associate`/`trainee` (then `supervisor` is required)."
    )
    license: License | None = Field(None, description="Your license (type, number, state).")
    education: Text | None = Field(
        None, description="Your degrees, with where and when you earned them, e.g. "
        "`MA in Counseling, University of Denver, 2015`. Colorado and Washington ask for this.")
    training: Text | None = Field(
        None, description="The training and supervised experience your license required, and any since, e.g. "
        "`2,000 hours of supervised practice; certified in EMDR`. Colorado and Washington ask for this.")
    board: Board | None = Field(None, description="The board that licenses you, and how to reach it.")
    supervisor: Supervisor | None = Field(None, description="Your clinical supervisor, if you are an associate or trainee.")

    @model_validator(mode="after")
    def _supervised(self) -> Clinician:
        if self.status != "licensed" and self.supervisor is None:
            raise ValueError(f"a clinician with status '{self.status}' needs a 'supervisor'")
        return self


class CrisisLine(Model):
    name: Name = Field(description="What clients call it, e.g. `988 Suicide & Crisis Lifeline`.")
    number: Phone = Field(description="The number to call or text.")
    how: Label = Field("call", description="How to reach it, e.g. `call or text`.")


class Emergency(Model):
    crisis_lines: tuple[CrisisLine, ...] = Field(
        (
            CrisisLine(name="988 Suicide & Crisis Lifeline", number="988", how="call, text or chat"),
            CrisisLine(name="Emergency services", number="911", how="call"),
        ),
        min_length=1,
        description="Lines to use in a crisis, in the order clients should try them. Default: 988 and 911.",
    )
    local_crisis: Person | None = Field(None, description="A local crisis service (name and phone).")
    nearest_er: Line | None = Field(None, description="The nearest emergency room, name and address.")


ChannelUse = Literal["none", "scheduling", "check-ins"]
MessageChannel = Literal["phone", "text", "email", "portal"]


class ChannelCost(Model):
    fee: Money = Field(Decimal(0), description="What contact on this channel costs; `0` means no charge.")
    per_minutes: int | None = Field(
        None, ge=1, le=240, description="Charge per block of this many minutes, e.g. `15`; empty: per call or message.")
    free_minutes: int = Field(0, ge=0, le=240, description="Minutes that are free before any charge, e.g. `10`.")


class Channel(Model):
    use: ChannelUse = Field(
        "none",
        description="`none` (not used), `scheduling` (appointments and practical questions only) "
        "or `check-ins` (also short check-ins between sessions).",
    )
    reply_within: Duration | None = Field(None, description="How soon you reply, e.g. `1 business day`. Required when used.")
    private: bool = Field(False, description="True only if the channel is encrypted or otherwise secure.")
    address: Line | None = Field(
        None, description="Your own number or address for this channel; empty: the office's phone (phone, text), "
        "email (email) or website (portal).")
    cost: ChannelCost | None = Field(
        None, description="What contact on this channel costs, e.g. `{fee: 0}` (no charge) or "
        "`{fee: 40, per_minutes: 15, free_minutes: 10}`. Empty: the handouts say there is no charge, and `check` warns.")
    note: Note | None = Field(None, description="Your own words about this channel.")

    @model_validator(mode="after")
    def _reply(self) -> Channel:
        if self.use != "none" and self.reply_within is None:
            raise ValueError("a channel that clients may use needs 'reply_within'")
        return self


class Channels(Model):
    phone: Channel = Field(default_factory=Channel, description="Phone calls and voicemail.")
    text: Channel = Field(default_factory=Channel, description="Text messages.")
    email: Channel = Field(default_factory=Channel, description="Email.")
    portal: Channel = Field(default_factory=Channel, description="A secure client portal's messages.")
    video: Channel = Field(default_factory=Channel, description="Video calls outside booked sessions.")
    social_media: Channel = Field(default_factory=Channel, description="Messages on social media.")


class Contact(Model):
    hours: Label | None = Field(None, description="When you read and answer messages, e.g. `Monday to Friday, 9 am to 5 pm`.")
    channels: Channels = Field(default_factory=Channels, description="One entry per channel; unnamed channels are not used.")
    note: Note | None = Field(None, description="Your own words about contact between sessions.")


class Relationship(Model):
    gifts: Literal["none", "small", "discuss"] = Field(
        "discuss", description="`none` (kindly declined), `small` (small tokens only) or `discuss` (talked through together)."
    )
    gift_limit: Short | None = Field(None, description="With `gifts: small`, the most a gift may be worth, e.g. `$20`.")
    chance_meetings: Literal["client-leads", "no-greeting"] = Field(
        "client-leads",
        description="`client-leads` (you greet me first if you wish) or `no-greeting` (I will not greet you, to protect your privacy).",
    )
    dual_relationships: Literal["avoid", "small-community"] = Field(
        "avoid", description="`avoid` other roles, or `small-community` (overlaps may happen; we will talk them through)."
    )
    touch: Literal["none", "ask-first"] = Field(
        "ask-first", description="`none` (no physical contact) or `ask-first` (e.g. a handshake, only if you want it)."
    )
    note: Note | None = Field(None, description="Your own words about the relationship.")

    @model_validator(mode="after")
    def _limit(self) -> Relationship:
        if self.gift_limit is not None and self.gifts != "small":
            raise ValueError("'gift_limit' only goes with 'gifts: small'")
        return self


class SelfDisclosure(Model):
    level: Literal["minimal", "occasional", "when-helpful"] = Field(
        "minimal",
        description="`minimal` (rarely), `occasional` (now and then, briefly) or `when-helpful` (when it clearly serves you).",
    )
    note: Note | None = Field(None, description="Your own words about sharing personal things.")


class WhileAway(Model):
    channels: tuple[MessageChannel, ...] = Field(
        (), description="Channels you still check while you are away (empty: none)."
    )
    reply_within: Duration | None = Field(
        None, description="How soon you reply while away; leave empty if you will reply only after you return."
    )
    answer_after_return: Duration | None = Field(
        None, description="How soon after you return you answer messages sent during a break, e.g. `2 business days`. "
        "Empty: within each channel's usual reply time.")


class Unplanned(Model):
    tell_by: tuple[MessageChannel, ...] = Field(
        ("phone",), min_length=1, description="How clients hear that a session is cancelled at short notice "
        "(illness, an emergency): `phone`, `text`, `email`, `portal`.")
    told_by: Literal["me", "office"] = Field("me", description="Who tells them: `me` or `office` (the office staff).")


class Breaks(Model):
    notice: Duration = Field("2 weeks", description="How far ahead you announce planned breaks, e.g. `3 weeks`.")
    coverage: Person | None = Field(None, description="The clinician who covers for you while you are away.")
    coverage_service: Person | None = Field(
        None, description="When no colleague covers (a solo practice): the service clients call instead while you are "
        "away, e.g. a local crisis or walk-in counseling service (name and phone).")
    while_away: WhileAway = Field(default_factory=WhileAway, description="What contact is possible while you are away.")
    unplanned: Unplanned = Field(default_factory=Unplanned,
                                 description="Absences you cannot plan for, such as illness.")
    leaving_notice: Duration | None = Field(
        None, description="How far ahead you tell clients if you leave the practice or retire, e.g. `60 days`. "
        "Empty: the handouts say 'as early as I can'.")
    note: Note | None = Field(None, description="Your own words about breaks.")


class Termination(Model):
    notice_sessions: int = Field(2, ge=0, le=12, description="Sessions of notice you give before ending (0: you will talk it over first).")
    final_session: bool = Field(True, description="Whether you offer a last session to close well.")
    referrals: bool = Field(True, description="Whether you give referrals and help hand over care.")
    contact_after: Literal["return-welcome", "none"] = Field(
        "return-welcome", description="`return-welcome` (clients may come back to therapy later) or `none`."
    )
    inactive_after: Duration | None = Field(
        None, description="After how long without a session or a word you write to a client who stopped coming, and "
        "then close the file if they do not answer, e.g. `30 days`. Empty: the handouts give no number, and `check` warns."
    )
    note: Note | None = Field(None, description="Your own words about ending therapy.")


class Policies(Model):
    relationship: Relationship = Field(default_factory=Relationship, description="What the relationship is and is not.")
    contact: Contact = Field(default_factory=Contact, description="Contact between sessions.")
    self_disclosure: SelfDisclosure = Field(default_factory=SelfDisclosure, description="When you share personal things.")
    breaks: Breaks = Field(default_factory=Breaks, description="Breaks, vacations and coverage.")
    termination: Termination = Field(default_factory=Termination, description="How therapy ends.")
    therapy: Therapy = Field(default_factory=Therapy, description="What therapy with you involves.")
    fees: Fees = Field(default_factory=Fees, description="Fees, payment, cancellations and insurance.")
    telehealth: Telehealth = Field(default_factory=Telehealth, description="Sessions by video.")
    records: Records = Field(default_factory=Records, description="How long records are kept and who keeps them.")
    online: Online = Field(default_factory=Online, description="Social media and the internet.")
    signers: Signers = Field(default_factory=Signers, description="Who signs the acknowledgement.")
    ai: AiUse = Field(default_factory=AiUse, description="Software with artificial intelligence in your work.")


RuleId = Annotated[str, Field(pattern=r"^L\d\d$")]


class Readability(Model):
    warn_above: float = Field(8, ge=1, le=20, description="Warn when a document's Flesch-Kincaid grade is above this.")
    error_above: float = Field(10, ge=1, le=20, description="Fail when a document's Flesch-Kincaid grade is above this.")
    long_sentence: int = Field(25, ge=5, le=100, description="List sentences longer than this many words.")


class LintSettings(Model):
    ignore: dict[RuleId, Reason | None] = Field(
        default_factory=dict, description="Rules to silence, each with the reason, e.g. `{L09: \"why\"}`.")
    readability: Readability = Field(default_factory=Readability, description="Reading-level targets.")


class Profile(Model):
    schema_version: Literal[1] = Field(alias="schema", description="Profile format version; always `1`.")
    language: Literal["en"] = Field("en", description="Language of the handouts.")
    effective_date: dt.date | None = Field(None, description="The date the policies take effect (`--date` overrides).")
    packet: tuple[DocName, ...] | None = Field(None, description="Documents rendered when none are named, in order.")
    practice: Practice = Field(description="The practice.")
    clinician: Clinician = Field(description="The clinician (usually in `clinicians/NAME.yaml`).")
    emergency: Emergency = Field(default_factory=Emergency, description="What to do in a crisis.")
    policies: Policies = Field(default_factory=Policies, description="The policies: the five boundary areas and the rest of the intake packet.")
    lint: LintSettings = Field(default_factory=LintSettings, description="Settings for `consentgen check`.")

"""View-models: the profile's settings worked out into what a handout says.

Templates hold the prose and read these; the decisions live here, once:
which channels are in use and at what number, what contact costs, which fee
rows apply to this clinician, who covers a break and what happens to
messages sent during it, and how therapy ends. Values are plain strings and
numbers, ready to print.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import labels
from .models import Channel, Profile
from .model_intake import Service
from .model_base import Person


def money(value) -> str:
    """Decimal('150') -> '$150'; Decimal('87.5') -> '$87.50'."""
    value = Decimal(value)
    return f"${value:,.0f}" if value == value.to_integral_value() else f"${value:,.2f}"


# -- contact ------------------------------------------------------------------

@dataclass(frozen=True)
class ChannelView:
    """One way to reach the clinician between sessions."""

    key: str                   # "text"
    label: str                 # "Text message"
    plain: str                 # "text messages"
    by: str                    # "by text message"
    use: str                   # "scheduling" or "check-ins"
    purpose: str               # "Scheduling and practical questions"
    reply: str                 # "1 business day"
    cost: str                  # "No charge", "$40 per call", ...
    cost_set: bool             # False: the profile is silent and "No charge" is the default
    free: bool
    address: str | None        # the number or address to use
    reader: str | None         # who reads it, when it is the office's (None: the clinician)
    private: bool
    note: str | None


def _cost(channel: Channel, key: str) -> tuple[str, bool]:
    cost = channel.cost
    if cost is None or cost.fee == 0:
        return "No charge", True
    unit = f"{cost.per_minutes} minutes" if cost.per_minutes else labels.CHANNEL_UNIT[key]
    price = f"{money(cost.fee)} per {unit}"
    if cost.free_minutes:
        return f"No charge for the first {cost.free_minutes} minutes, then {price}", False
    return price, False


def _address(profile: Profile, key: str, channel: Channel) -> tuple[str | None, bool]:
    """The channel's number or address, and whether it is the office's rather than the clinician's own."""
    if channel.address:
        return channel.address, False
    practice = profile.practice
    fallback = {"phone": practice.phone, "text": practice.phone, "email": practice.email,
                "social_media": profile.policies.online.business_page}.get(key)
    return fallback, fallback is not None


def channel_views(profile: Profile) -> tuple[ChannelView, ...]:
    """The channels clients may use, in a fixed order."""
    found = []
    staff = profile.practice.office_staff
    for key in labels.CHANNELS:
        ch: Channel = getattr(profile.policies.contact.channels, key)
        if ch.use == "none":
            continue
        cost, free = _cost(ch, key)
        address, office = _address(profile, key, ch)
        found.append(ChannelView(
            key=key, label=labels.CHANNEL_LABEL[key], plain=labels.CHANNEL_PLAIN[key], by=labels.CHANNEL_BY[key],
            use=ch.use, purpose=labels.CHANNEL_USE[ch.use], reply=ch.reply_within, cost=cost,
            cost_set=ch.cost is not None, free=free, address=address, reader=staff if office else None,
            private=ch.private, note=ch.note))
    return tuple(found)


@dataclass(frozen=True)
class ContactPlan:
    """Contact between sessions, worked out."""

    channels: tuple[ChannelView, ...]            # in use
    unused: tuple[str, ...]                      # plain names of channels not used
    hours: str | None
    open_messages: tuple[str, ...]               # message channels that are not private, plain names
    secure: tuple[str, ...]                      # channels that are private, plain names
    phone_open: bool                             # phone or video calls in use and not private
    checkins: bool
    reply_groups: tuple[tuple[str, tuple[str, ...]], ...]   # (reply time, ("by phone", "by text message"))
    office: tuple[ChannelView, ...]              # channels that use the office's number or address
    staff: str | None                            # who reads the office's messages
    all_free: bool
    note: str | None

    def uses(self, key: str) -> bool:
        return any(c.key == key for c in self.channels)


def contact_plan(profile: Profile) -> ContactPlan:
    chans = profile.policies.contact.channels
    used = channel_views(profile)
    groups: dict[str, list[str]] = {}
    for c in used:
        groups.setdefault(c.reply, []).append(c.by)
    return ContactPlan(
        channels=used,
        unused=tuple(labels.CHANNEL_PLAIN[k] for k in labels.CHANNELS if getattr(chans, k).use == "none"),
        hours=profile.policies.contact.hours,
        open_messages=tuple(c.plain for c in used if not c.private and c.key not in ("phone", "video")),
        secure=tuple(c.plain for c in used if c.private),
        phone_open=any(not c.private and c.key in ("phone", "video") for c in used),
        checkins=any(c.use == "check-ins" for c in used),
        reply_groups=tuple((reply, tuple(by)) for reply, by in groups.items()),
        office=tuple(c for c in used if c.reader), staff=profile.practice.office_staff,
        all_free=all(c.free for c in used), note=profile.policies.contact.note,
    )


# -- fees ---------------------------------------------------------------------

@dataclass(frozen=True)
class FeeRow:
    name: str
    fee: str
    kinds: tuple[str, ...]     # the services it is for; empty: every client (a first session, say)
    index: int                 # its place in policies.fees.services


def service_kinds(service: Service) -> tuple[str, ...]:
    """What a fee row is for: its ``kinds``, else the service words in its name."""
    if service.kinds is not None:
        return service.kinds
    words = service.name.lower().replace("-", " ").split()
    return tuple(kind for kind, names in labels.SERVICE_WORDS.items() if any(w.strip("(),.") in names for w in words))


def fee_rows(profile: Profile) -> tuple[FeeRow, ...]:
    """The fee rows for what this clinician offers (a practice-wide row for other services is left out)."""
    offered = set(profile.policies.therapy.services)
    rows = []
    for i, s in enumerate(profile.policies.fees.services):
        kinds = service_kinds(s)
        if not kinds or offered & set(kinds):
            rows.append(FeeRow(s.name, money(s.fee), kinds, i))
    return tuple(rows)


@dataclass(frozen=True)
class FeePlan:
    rows: tuple[FeeRow, ...]
    session: FeeRow | None      # the usual session, for the key points
    late_fee: str | None        # cancelling with less notice
    missed_fee: str | None      # missing a session without a word (the late fee when no other is set)
    notice_hours: int
    cancel_ways: tuple[str, ...]  # what to do to cancel: ("call or text 555-0100", "email office@...")
    sent_counts: bool


def cancel_ways(profile: Profile) -> tuple[str, ...]:
    """How to cancel, ways that share a number joined: ('call or text 555-0100', 'email office@...')."""
    chans = profile.policies.contact.channels
    how = profile.policies.fees.cancellation.how
    if how is None:
        how = tuple(k for k in ("phone", "text", "email", "portal") if getattr(chans, k).use != "none") or ("phone",)
    by_address: dict[str | None, list[str]] = {}
    for key in how:
        address = _address(profile, key, getattr(chans, key))[0] if key != "portal" else None
        by_address.setdefault(address, []).append(labels.CHANNEL_VERB[key])
    return tuple(" or ".join(verbs) + (f" {address}" if address else "") for address, verbs in by_address.items())


_NOT_USUAL = ("first", "intake", "initial", "assessment", "extended", "report", "letter")


def fee_plan(profile: Profile) -> FeePlan:
    fees = profile.policies.fees
    c = fees.cancellation
    rows = fee_rows(profile)
    usual = [r for r in rows if not any(w in r.name.lower() for w in _NOT_USUAL)]
    late = c.late_fee if c.notice_hours else None
    missed = c.no_show_fee if c.no_show_fee is not None else c.late_fee
    return FeePlan(
        rows=rows, session=(usual or rows or [None])[0],
        late_fee=money(late) if late is not None else None,
        missed_fee=money(missed) if missed is not None else None,
        notice_hours=c.notice_hours, cancel_ways=cancel_ways(profile), sent_counts=c.sent_counts,
    )


# -- breaks -------------------------------------------------------------------

@dataclass(frozen=True)
class BreakPlan:
    notice: str
    coverage: Person | None           # a colleague
    service: Person | None            # or a named service, when no colleague covers
    checked: tuple[str, ...]          # channels still checked while away: ("by email", ...)
    reply_while_away: str | None      # how soon replies come while away (None: only after the return)
    answer_after_return: str | None   # how soon after the return (None: each channel's usual time)
    unplanned_by: tuple[str, ...]     # how clients hear of a short-notice cancellation: ("by phone", ...)
    unplanned_from_office: bool
    leaving_notice: str | None


def break_plan(profile: Profile) -> BreakPlan:
    b = profile.policies.breaks
    return BreakPlan(
        notice=b.notice, coverage=b.coverage, service=None if b.coverage else b.coverage_service,
        checked=tuple(labels.CHANNEL_BY[k] for k in b.while_away.channels),
        reply_while_away=b.while_away.reply_within if b.while_away.channels else None,
        answer_after_return=b.while_away.answer_after_return,
        unplanned_by=tuple(labels.CHANNEL_BY[k] for k in b.unplanned.tell_by),
        unplanned_from_office=b.unplanned.told_by == "office",
        leaving_notice=b.leaving_notice,
    )


# -- ending, couples, minors, video ---------------------------------------------

@dataclass(frozen=True)
class EndingPlan:
    notice_sessions: int
    final_session: bool
    referrals: bool
    return_welcome: bool
    inactive_after: str | None         # None: the handouts give no number (check warns)


def ending_plan(profile: Profile) -> EndingPlan:
    t = profile.policies.termination
    return EndingPlan(t.notice_sessions, t.final_session, t.referrals, t.contact_after == "return-welcome",
                      t.inactive_after)


@dataclass(frozen=True)
class JointWork:
    """Couples and family work, when offered."""

    offered: bool
    couples: bool
    family: bool
    no_secrets: bool
    individual_sessions: bool


def joint_work(profile: Profile) -> JointWork:
    th = profile.policies.therapy
    couples, family = "couples" in th.services, "family" in th.services
    return JointWork(couples or family, couples, family, th.couples.secrets == "no-secrets",
                     th.couples.individual_sessions)


@dataclass(frozen=True)
class Setting:
    """Where sessions happen."""

    video: bool                  # video sessions are offered
    video_only: bool
    in_person: bool
    office: str | None           # the address clients come to, None for a video-only practice


def setting(profile: Profile) -> Setting:
    t = profile.policies.telehealth
    in_person = not (t.offered and not t.in_person)
    return Setting(t.offered, not in_person, in_person, profile.practice.address if in_person else None)


def services_text(profile: Profile) -> tuple[str, ...]:
    """'individual clients', 'couples', ... in the profile's order."""
    return tuple(labels.SERVICE_PLAIN[k] for k in profile.policies.therapy.services)

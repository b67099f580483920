"""Rules about contact between sessions, emergencies and breaks (CONTENT.md section 2).

Where a rule is about what clients are told, it reads the packet's rendered
documents (the IR), not the profile: a user template that drops a sentence
the built-in handouts always say is caught. Matching is by paragraph (or list
item, table cell, field label), so a statement counts for a channel only when
the same paragraph names the channel.
"""
from __future__ import annotations

import re
from typing import Iterable

from ..document import Document, text_units
from .registry import Context, Hit, rule

# How clients are told about each channel. "text" is matched as "text message",
# "texts", "texting" or "SMS", never bare: the crisis box says "call, text or chat 988".
CHANNEL_WORDS = {
    "text": re.compile(r"\btext[- ]?messag\w*|\btexts\b|\btext(?:ed|ing)\b|\bsms\b", re.I),
    "email": re.compile(r"\be-?mails?\b", re.I),
    "social_media": re.compile(r"\bsocial media\b|\bdirect messages?\b|\bDMs?\b"),
}
LABELS = {"phone": "phone calls", "text": "text messages", "email": "email messages",
          "portal": "client-portal messages", "video": "video calls", "social_media": "social-media messages"}
MESSAGE_CHANNELS = ("text", "email", "social_media")          # L01: the channels CONTENT.md names

_RISK = re.compile(
    r"\bnot\s+(?:fully\s+|completely\s+|entirely\s+|always\s+|very\s+|perfectly\s+)?"
    r"(?:private|secure|encrypted|confidential)\b"
    r"|\bprivacy\s+risks?\b|\brisks?\s+(?:to|for)\s+(?:your\s+)?privacy\b|\bunencrypted\b|\binsecure\b"
    r"|\b(?:can|could|may|might)\s+be\s+(?:read|seen|intercepted)\b",
    re.I,
)
_PRIVACY_NOTE = re.compile(r"privacy|private|secur|encrypt|confidential", re.I)

_NOT_FOR_EMERGENCIES = re.compile(
    r"\b(?:not|never)\s+(?:be\s+)?(?:used\s+|meant\s+|intended\s+|suitable\s+|available\s+|checked\s+"
    r"|monitored\s+)?(?:for|in)\s+(?:an?\s+)?(?:emergenc|crisis|crises|urgent)"
    r"|\b(?:not|never)\s+an?\s+(?:emergency|crisis)\s+(?:line|service|number|contact)"
    r"|\b(?:do not|don't|never)\s+(?:use|send|rely on|wait for|text|e-?mail|message)\b[^.]{0,80}?"
    r"\b(?:emergenc|crisis|crises|urgent)"
    r"|\b(?:emergenc\w*|crisis|crises)\b[^.]{0,60}?\b(?:do not|don't|never)\s+"
    r"(?:use|send|rely on|wait|text|e-?mail|message)\b",
    re.I,
)
_EMERGENCY_HELP = re.compile(r"\b988\b|\b911\b|emergency room|\bcrisis line\b", re.I)

_LOCATION = re.compile(r"\bwhere you are\b|\byour (?:\w+ )?(?:location|address)\b|\blocated\b", re.I)
_DANGER = re.compile(r"emergenc|danger|\bsend help\b|\bsafety\b|\bcrisis\b", re.I)
_LOCATION_FIELD = re.compile(r"location|address|where", re.I)

_FAILS = re.compile(
    r"\b(?:fails?|failed|failure|stops?\s+working|drops?|dropped|cuts?\s+out|lost|loses?|goes\s+down|freez\w*"
    r"|not\s+work\w*|breaks?\s+down)\b", re.I)
_BACKUP = re.compile(r"\b(?:call|phone|reschedul\w*|new time|reconnect|rejoin|try again)\b", re.I)
_LICENSED_WHERE = re.compile(r"licens|\blaws?\b|jurisdiction|\blocated\b|while you are in|where you are", re.I)

_AWAY = re.compile(r"\baway\b|\bbreaks?\b|\bvacation|\bholiday|\btime off\b|\bout of (?:the )?office\b|\bon leave\b",
                   re.I)
_REPLY = re.compile(
    r"\b(?:repl\w*|respon\w*|answer\w*|read|check\w*|get back)\b[^.]{0,60}?"
    r"\b(?:within|until|after|when I(?: am|'m) back|when I return|on my return|once I(?: am|'m) back)\b"
    r"|\b(?:no|not|never|won't|will not)\b[^.]{0,40}?\b(?:repl\w*|respon\w*|answer\w*|read|check\w*)\b",
    re.I,
)
_AWAY_WORDS = {
    "phone": re.compile(r"\bphone\b|\bcalls?\b|\bvoicemail\b", re.I),
    "text": re.compile(r"\btext\b|\btexts\b|\btexting\b|\bsms\b|\bmessages?\b", re.I),
    "email": re.compile(r"\be-?mails?\b|\bmessages?\b", re.I),
    "portal": re.compile(r"\bportal\b|\bmessages?\b", re.I),
}


def units(doc: Document) -> list[str]:
    """The document's reading text by paragraph, plus its form fields' labels."""
    return text_units(doc.blocks) + [f.label for f in doc.fields]


def packet_units(ctx: Context) -> list[str]:
    return [u for doc in ctx.documents.values() for u in units(doc)]


def used_channels(ctx: Context) -> list[str]:
    channels = ctx.profile.policies.contact.channels
    return [name for name in type(channels).model_fields if getattr(channels, name).use != "none"]


def telehealth_documents(ctx: Context) -> dict[str, Document]:
    """The packet's telehealth consent: the built-in one, or a user document named like it."""
    return {name: doc for name, doc in ctx.documents.items() if "telehealth" in name}


def _digits(number: str | None) -> str:
    return re.sub(r"\D", "", number or "")


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


@rule("L01", "error", "Text, email or social-media messages allowed with no privacy-risk statement",
      "Mark the channel 'private: true' only if it is encrypted; otherwise keep the handout's 'Privacy' "
      "paragraph (it names the channel and says it is not fully private), or stop offering the channel.")
def message_privacy(ctx: Context) -> Iterable[Hit]:
    channels = ctx.profile.policies.contact.channels
    text = packet_units(ctx)
    for name in MESSAGE_CHANNELS:
        ch = getattr(channels, name)
        if ch.use == "none" or ch.private:
            continue
        words = CHANNEL_WORDS[name]
        named = [u for u in text if words.search(u)]
        if any(_RISK.search(u) for u in named):
            continue
        if named:
            why = "no document in the packet says they are not fully private"
        elif ch.note and _PRIVACY_NOTE.search(ch.note):
            continue            # no document covers the channel; the profile's own words address privacy
        else:
            why = "no document in the packet describes them, and the channel's note says nothing about privacy"
        yield Hit(f"{LABELS[name]} are allowed ({ch.use}) and not private, but {why}",
                  key=f"policies.contact.channels.{name}")


@rule("L02", "error", "A contact channel in use has no response time or no \"not for emergencies\" line",
      "Keep the crisis box (sections/emergency.md) in the packet: it says messages are never for emergencies "
      "and where to get help instead.")
def not_for_emergencies(ctx: Context) -> Iterable[Hit]:
    used = used_channels(ctx)
    if not used or any(_NOT_FOR_EMERGENCIES.search(u) for u in packet_units(ctx)):
        return
    names = ", ".join(LABELS[n] for n in used)
    yield Hit(f"clients may use {names}, but no document in the packet says messages are never for emergencies",
              key="policies.contact.channels")


@rule("L03", "error", "No emergency instructions, 988 or 911 missing, or telehealth without a client-location plan",
      "List 988 and 911 in emergency.crisis_lines (the default), keep the crisis box in the packet, and keep "
      "the telehealth consent's paragraph and field for the client's location during sessions.")
def emergency_instructions(ctx: Context) -> Iterable[Hit]:
    profile = ctx.profile
    lines = profile.emergency.crisis_lines
    numbers = [_digits(line.number) for line in lines]
    own = _digits(profile.practice.phone)
    if own and all(n == own for n in numbers):
        yield Hit(f"the only crisis line is the practice's own phone ({profile.practice.phone}); "
                  "add 988 and 911", key="emergency.crisis_lines")
    elif _uses_988_911(profile.practice.jurisdiction):
        for needed in ("988", "911"):
            if needed not in numbers:
                yield Hit(f"{needed} is not among the crisis lines", key="emergency.crisis_lines")
    lines_named = [line.number for line in lines if _digits(line.number) != own]
    if not any(_EMERGENCY_HELP.search(u) or any(n in u for n in lines_named) for u in packet_units(ctx)):
        yield Hit(f"no document in the packet ({', '.join(ctx.documents)}) says what to do in an emergency "
                  "(988, 911 or the nearest emergency room)", key="packet")
    if profile.policies.telehealth.offered:
        for name, doc in telehealth_documents(ctx).items():
            if _has_location_plan(doc):
                continue
            yield Hit(f"telehealth is offered, but '{name}' has no plan for the client's location in an "
                      "emergency (no location field, and no paragraph asking where the client is)",
                      key="policies.telehealth")


def _uses_988_911(jurisdiction: str | None) -> bool:
    """988 and 911 are the crisis numbers in the US and Canada; elsewhere the lines differ."""
    return jurisdiction is None or jurisdiction.split("-")[0] in ("US", "CA")


def _has_location_plan(doc: Document) -> bool:
    if any(_LOCATION_FIELD.search(f"{f.name} {f.label}") for f in doc.fields if f.kind == "text"):
        return True
    return any(_LOCATION.search(u) and _DANGER.search(u) for u in text_units(doc.blocks))


@rule("L04", "error", "Breaks with no covering clinician or service (warning if the cover is the therapist)",
      "Name a colleague in policies.breaks.coverage (name, credentials, phone) who agrees to cover while you "
      "are away; a solo therapist with no colleague names a service instead, in policies.breaks.coverage_service.")
def break_coverage(ctx: Context) -> Iterable[Hit]:
    profile = ctx.profile
    cover = profile.policies.breaks.coverage
    if cover is None and profile.policies.breaks.coverage_service is None:
        yield Hit("no clinician or service covers for you during breaks (policies.breaks.coverage and "
                  "coverage_service are empty)", key="policies.breaks.coverage")
    elif cover is None:
        return
    elif _same_name(cover.name, profile.clinician.name):
        yield Hit(f"the covering clinician is you ({cover.name}); clients need someone else while you are away",
                  key="policies.breaks.coverage.name", severity="warning")


@rule("L15", "error", "Telehealth with no technology-failure backup or jurisdiction statement",
      "Add telehealth-consent to the packet, and keep its sections 'If the connection fails' and "
      "'Where you are during sessions'.")
def telehealth_statements(ctx: Context) -> Iterable[Hit]:
    t = ctx.profile.policies.telehealth
    if not t.offered:
        return
    docs = telehealth_documents(ctx)
    if not docs:
        yield Hit("telehealth is offered, but telehealth-consent is not in the packet", key="packet")
        return
    for name, doc in docs.items():
        text = text_units(doc.blocks)
        if not any(_FAILS.search(u) and _BACKUP.search(u) for u in text):
            yield Hit(f"'{name}' does not say what happens if the video fails (backup: {t.backup})",
                      key="policies.telehealth.backup")
        stated = [u for u in text if _LICENSED_WHERE.search(u)]
        missing = [s for s in t.states if not any(s.casefold() in u.casefold() for u in stated)]
        if missing:
            yield Hit(f"'{name}' does not say clients must be in {' or '.join(missing)} during video sessions",
                      key="policies.telehealth.states")


@rule("L19", "warning", "A channel open during breaks with no reply expectation",
      "Say when you will reply while away, or that you will not reply until you are back (the built-in breaks "
      "section does; set policies.breaks.while_away.reply_within or leave it empty).")
def reply_while_away(ctx: Context) -> Iterable[Hit]:
    away = ctx.profile.policies.breaks.while_away
    if not away.channels:
        return
    stated = [u for u in packet_units(ctx) if _AWAY.search(u) and _REPLY.search(u)]
    for name in away.channels:
        if not any(_AWAY_WORDS[name].search(u) for u in stated):
            yield Hit(f"clients may use {LABELS[name]} while you are away, but no document in the packet says "
                      "when (or whether) you will reply", key="policies.breaks.while_away.channels")

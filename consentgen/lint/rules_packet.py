"""Rules about the packet as a whole: jurisdiction, fees, consistency and readability."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from ..document import Callout, Document, List, Paragraph, Table, cell_text, plain, plain_text
from ..errors import Where
from ..jurisdictions import missing_required
from ..templating import money
from . import readability
from .registry import Context, Hit, rule


@rule("L11", "error", "A field the jurisdiction requires is empty",
      "Fill in the field the message names; the rule cited says why the state requires it.")
def required_jurisdiction_fields(ctx: Context):
    if ctx.law is None or not ctx.law.pack:
        return
    for req in missing_required(ctx.profile):
        unsure = "" if req.source.verified else f" (not verified: {req.source.reason})"
        yield Hit(f"required in {ctx.law.name} by {req.source.cite}{unsure}", key=req.key,
                  severity=None if req.source.verified else "info")


# --- L12, L13: federal notices ---------------------------------------------------------------------

FEES_DOCUMENT = "fees-and-cancellations"


@rule("L12", "error", "A US practice's fees document has no Good Faith Estimate notice",
      "Use the built-in 'fees-and-cancellations', which tells clients of their right to a Good Faith Estimate, "
      "or say it in your own template too.")
def good_faith_estimate(ctx: Context):
    code = ctx.profile.practice.jurisdiction
    fees = ctx.documents.get(FEES_DOCUMENT)
    if fees is None or (code is not None and not code.startswith("US")):
        return
    if "good faith estimate" in readability.squash(plain_text(fees)).lower():
        return
    # Uninsured clients, and insured ones who do not use their insurance, are entitled to it
    # (45 CFR 149.610): every US practice has such clients, in network or not.
    yield Hit(f"'{fees.title}' does not tell clients of their right to a Good Faith Estimate: uninsured clients, and "
              "clients who do not use their insurance, must be told in writing (PHS Act 2799B-6; 45 CFR 149.610)",
              where=Where(f"{FEES_DOCUMENT} (rendered)", 1))


NPP_UPDATE = dt.date(2026, 2, 16)


@rule("L13", "error", "A HIPAA-covered practice has no privacy notice acknowledgement, or an outdated notice",
      "Add 'privacy-notice-acknowledgement' to the packet; if your Notice of Privacy Practices predates "
      "February 16, 2026, update it and set practice.npp_version to the new date.")
def privacy_notice(ctx: Context):
    practice = ctx.profile.practice
    if not practice.hipaa_covered:
        return
    if "privacy-notice-acknowledgement" not in ctx.documents:
        yield Hit("a HIPAA-covered practice must try to get the client's written acknowledgment of its Notice of "
                  "Privacy Practices (45 CFR 164.520(c)(2)(ii)), and the packet has no "
                  "'privacy-notice-acknowledgement'", key="packet")
    if practice.npp_version and practice.npp_version < NPP_UPDATE:
        yield Hit(f"the Notice of Privacy Practices is dated {practice.npp_version.isoformat()}, before "
                  f"{NPP_UPDATE.isoformat()}, when notices had to take in the 2024 Part 2 changes",
                  key="practice.npp_version", severity="warning")


# --- L16, L22: what the documents say about reply times, notice and fees --------------------------
#
# Each sentence (and each row of a table) that states a reply time, a notice
# period or a fee becomes a Claim. L16 compares the claims inside one document,
# and a note's claims with the profile setting they restate; L22 compares the
# documents of a packet with each other. Only what the documents say counts.

_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty-four": 24,
            "forty-eight": 48, "seventy-two": 72}
_NUMBER = r"\d+|" + "|".join(sorted(_NUMBERS, key=len, reverse=True))
_SPAN = rf"\b({_NUMBER})[ -](business |working )?(hour|hr|day|week|month)s?"
_DURATION = re.compile(rf"{_SPAN}\b", re.I)
_HOURS = {"hour": 1, "hr": 1, "day": 24, "week": 168, "month": 720}      # a month is 30 days: not 4 weeks
_MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d\d)?)")
_AHEAD = r"(?:'s|’s|'|’)?\s+(?:of\s+)?(?:notice|ahead|in advance|beforehand|before)\b"   # 2 weeks' notice
_NOTICE = re.compile(rf"{_SPAN}{_AHEAD}", re.I)
_SESSIONS = re.compile(rf"\b({_NUMBER}) (?:more )?sessions?{_AHEAD}", re.I)
_REPLY = re.compile(r"\b(?:repl(?:y|ies|ied)|respond(?:s|ed)?|responses?|answer(?:s|ed)?|get back to you|hear back"
                    r"|return(?:s|ed)? (?:your |all )?(?:calls?|messages?|emails?|texts?))\b", re.I)
_AWAY = re.compile(r"\b(?:away|breaks?|vacations?|holidays?|time off|absences?|out of (?:the )?office)\b", re.I)
_CANCEL = re.compile(r"\bcancel|\bbefore (?:your|the|a|our|each) (?:session|appointment)", re.I)
_MISSED = re.compile(r"\b(?:miss(?:es|ed)?|no-show|no show)\b", re.I)
_ENDING = re.compile(r"\b(?:end|ends|ending|last|final|stop|termination)\b", re.I)
_CHANNEL_WORDS = {"phone": "phone", "text": "text messages", "email": "email", "portal": "the client portal",
                  "video": "video calls", "social_media": "social media"}
_CHANNEL = re.compile(
    r"\b(?:(?P<social_media>social media|direct messages?|DMs?)|(?P<video>video calls?)|(?P<portal>(?:client )?portal)"
    r"|(?P<email>e-?mails?)|(?P<text>text messages?|texts|texting|text|SMS)"
    r"|(?P<phone>phone calls?|phone|calls|voicemails?|voice mail))\b", re.I)

Topic = tuple[str, ...]
_NO_REPLY = ("none",)


@dataclass(frozen=True)
class Claim:
    topic: Topic
    value: tuple                 # comparable: ("hours", 48), ("business", 2, "day"), ("usd", Decimal), ...
    shown: str                   # as a person would say it: "2 business days", "$140"
    doc: str
    line: int
    key: str | None = None       # the profile note it came from, if any


def _label(topic: Topic) -> str:
    kind = topic[0]
    if kind == "reply":
        return "the reply time while I am away" if topic[1] == "away" else f"the reply time for {_CHANNEL_WORDS[topic[1]]}"
    if kind == "fee":
        return f"the fee for '{topic[1]}'"
    return {"break": "the notice before a break", "cancel": "the notice needed to cancel a session",
            "ending": "the notice before therapy ends", "late-fee": "the late-cancellation fee",
            "no-show-fee": "the fee for a missed session"}[kind]


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


def _duration(count: str, business: str | None, unit: str) -> tuple[tuple, str]:
    n, unit = _count(count), unit.lower().replace("hr", "hour")
    shown = f"{n} {'business ' if business else ''}{unit}{'' if n == 1 else 's'}"
    return (("business", n, unit) if business else ("hours", n * _HOURS[unit])), shown


def _money(text: str) -> tuple[tuple, str]:
    amount = Decimal(text.replace(",", ""))
    return ("usd", amount), money(amount)


def _channels(text: str) -> list[str]:
    return list(dict.fromkeys(m.lastgroup for m in _CHANNEL.finditer(text)))


class _Reader:
    """Turns one document's blocks into claims."""

    def __init__(self, doc: Document, sources: readability.Sources, services: tuple[str, ...]):
        self.doc, self.sources, self.services = doc, sources, services
        self.claims: list[Claim] = []

    def read(self) -> list[Claim]:
        self.blocks(self.doc.blocks)
        return self.claims

    def blocks(self, blocks) -> None:
        for b in blocks:
            if isinstance(b, Table):
                self.table(b)
            elif isinstance(b, (List, Callout)):
                self.blocks([blk for item in b.items for blk in item.blocks] if isinstance(b, List) else b.blocks)
            elif isinstance(b, Paragraph):
                self.paragraph(readability.squash(b.text), b.line)

    def add(self, topic: Topic, found: tuple[tuple, str], line: int, key: str | None = None) -> None:
        self.claims.append(Claim(topic, found[0], found[1], self.doc.name, line, key))

    def table(self, table: Table) -> None:
        header = " ".join(plain(cell) for cell in table.header).lower()
        for i, row in enumerate(table.rows):
            cells = [readability.squash(cell_text(cell)) for cell in row]
            line = table.line + 2 + i                  # a table row is one line, after the header and its rule
            if not cells:
                continue
            if "repl" in header and (channels := _channels(cells[0])):
                for cell in cells[1:]:
                    if m := _DURATION.search(cell):
                        self.add(("reply", channels[0]), _duration(*m.groups()), line)
                        break
            elif "fee" in header:
                for cell in cells[1:]:
                    if m := _MONEY.search(cell):
                        self.add(("fee", cells[0].lower()), _money(m.group(1)), line)
                        break

    def paragraph(self, text: str, line: int) -> None:
        notes = [(s, e, k) for s, e, k in self.sources.spans(text) if k.rsplit(".", 1)[-1] == "note"]
        for start, end in readability.sentence_spans(text):
            key = self.sources.key_for(notes, start, end)       # a note's words, or the template's
            for topic, found in self.sentence(text[start:end], text[:start], _channels(text)):
                self.add(topic, found, line, key)

    def sentence(self, s: str, earlier: str, para_channels: list[str]):
        durations = list(_DURATION.finditer(s))
        if durations and _REPLY.search(s):
            yield from self.replies(s, durations, earlier, para_channels)
        elif _AWAY.search(s) and (m := _NOTICE.search(s)):
            yield ("break",), _duration(*m.groups())
        elif _CANCEL.search(s) and (m := _NOTICE.search(s)):
            yield ("cancel",), _duration(*m.groups())
        if _ENDING.search(s) and (m := _SESSIONS.search(s)):
            n = _count(m.group(1))
            yield ("ending",), (("sessions", n), f"{n} session{'' if n == 1 else 's'}")
        if m := _MONEY.search(s):
            if _CANCEL.search(s):
                yield ("late-fee",), _money(m.group(1))
            if _MISSED.search(s):
                yield ("no-show-fee",), _money(m.group(1))
            lower = s.lower()
            named = [n for n in self.services if n.lower() in lower]
            if len(named) == 1:
                yield ("fee", named[0].lower()), _money(m.group(1))

    def replies(self, s: str, durations, earlier: str, para_channels: list[str]):
        """A reply time is for the channels named just before it ("email (reply within 2 days),
        text (...)"), else for time away if the paragraph has spoken of it ("While I am away, ...
        I will reply within 3 days"), else for the channels named just after it, else for the
        paragraph's one channel (a channel note: "Email. I reply within a day.")."""
        for i, m in enumerate(durations):
            before = s[durations[i - 1].end() if i else 0: m.start()]
            after = s[m.end(): durations[i + 1].start() if i + 1 < len(durations) else len(s)]
            found = _duration(*m.groups())
            if _AWAY.search(before):
                yield ("reply", "away"), found
            elif channels := _channels(before):
                yield from ((("reply", c), found) for c in channels)
            elif _AWAY.search(earlier + s[:m.start()]):
                yield ("reply", "away"), found
            elif channels := _channels(after):
                yield from ((("reply", c), found) for c in channels)
            elif len(para_channels) == 1:
                yield ("reply", para_channels[0]), found


def _claims(ctx: Context) -> dict[str, list[Claim]]:
    """Each document's claims, by document name, in packet order."""
    sources = readability.Sources(ctx.profile)
    services = tuple(s.name for s in ctx.profile.policies.fees.services)
    return {name: _Reader(doc, sources, services).read() for name, doc in ctx.documents.items()}


def _settings(profile) -> dict[Topic, tuple[tuple, str, str]]:
    """What the profile's own settings say, per topic: (value, shown, key)."""
    pol = profile.policies
    out: dict[Topic, tuple[tuple, str, str]] = {}

    def duration(text: str) -> tuple[tuple, str]:
        return _duration(*_DURATION.search(text).groups())

    for name in _CHANNEL_WORDS:
        channel = getattr(pol.contact.channels, name)
        if channel.use != "none":
            out[("reply", name)] = (*duration(channel.reply_within), f"policies.contact.channels.{name}.reply_within")
    away = pol.breaks.while_away
    if away.channels and away.reply_within:
        out[("reply", "away")] = (*duration(away.reply_within), "policies.breaks.while_away.reply_within")
    else:
        out[("reply", "away")] = (_NO_REPLY, "no replies until I am back", "policies.breaks.while_away")
    out[("break",)] = (*duration(pol.breaks.notice), "policies.breaks.notice")
    cancel = pol.fees.cancellation
    if cancel.notice_hours:
        out[("cancel",)] = (("hours", cancel.notice_hours), f"{cancel.notice_hours} hours",
                            "policies.fees.cancellation.notice_hours")
    if pol.termination.notice_sessions:
        n = pol.termination.notice_sessions
        out[("ending",)] = (("sessions", n), f"{n} session{'' if n == 1 else 's'}", "policies.termination.notice_sessions")
    if cancel.late_fee is not None:
        out[("late-fee",)] = (*_money(str(cancel.late_fee)), "policies.fees.cancellation.late_fee")
    missed = cancel.no_show_fee if cancel.no_show_fee is not None else cancel.late_fee
    if missed is not None:
        out[("no-show-fee",)] = (*_money(str(missed)), "policies.fees.cancellation.no_show_fee")
    for i, service in enumerate(pol.fees.services):
        out[("fee", service.name.lower())] = (*_money(str(service.fee)), f"policies.fees.services[{i}].fee")
    return out


def _rendered(claim: Claim) -> Where:
    return Where(f"{claim.doc} (rendered)", claim.line)


@rule("L16", "warning", "A document contradicts itself (e.g. two reply times for one channel)",
      "Make the document say one thing: change the note (or the setting it contradicts), or the template that "
      "states the other value.")
def contradictions_within_a_document(ctx: Context):
    settings = _settings(ctx.profile)
    by_doc = _claims(ctx)
    reported: set[tuple] = set()
    for name, doc in ctx.documents.items():
        claims = by_doc.get(name, [])
        first: dict[Topic, Claim] = {}
        for c in claims:
            if c.key is None:
                earlier = first.setdefault(c.topic, c)
                if earlier.value != c.value and ("doc", name, c.topic) not in reported:
                    reported.add(("doc", name, c.topic))
                    yield Hit(f"'{doc.title}' gives two values for {_label(c.topic)}: {earlier.shown} "
                              f"(line {earlier.line}) and {c.shown}", where=_rendered(c))
        for c in claims:
            if c.key is None or (c.key, c.topic) in reported:
                continue
            if c.topic in settings:
                value, shown, key = settings[c.topic]
                against = f"{key} says {shown}"
            elif c.topic in first:
                value, shown = first[c.topic].value, first[c.topic].shown
                against = f"the document says {shown} (line {first[c.topic].line})"
            else:
                continue
            if c.value != value:
                reported.add((c.key, c.topic))
                yield Hit(f"this note gives {_label(c.topic)} as {c.shown}, but {against}", key=c.key)


@rule("L22", "warning", "Two documents of the packet state different reply times, fees or notice periods",
      "Make the documents agree: the built-in ones all read the profile's settings, so look at your own "
      "templates and notes.")
def contradictions_between_documents(ctx: Context):
    stated: dict[Topic, dict[str, list[Claim]]] = {}
    for name, claims in _claims(ctx).items():
        for c in claims:
            if c.key is None:                       # notes are L16's: they are compared with the settings
                stated.setdefault(c.topic, {}).setdefault(name, []).append(c)
    for topic, by_doc in stated.items():
        names = list(by_doc)
        for j, later in enumerate(names):
            for earlier in names[:j]:
                if {c.value for c in by_doc[earlier]}.isdisjoint(c.value for c in by_doc[later]):
                    a, b = by_doc[earlier][0], by_doc[later][0]
                    yield Hit(f"this document gives {_label(topic)} as {b.shown}, but "
                              f"'{ctx.documents[earlier].title}' says {a.shown} (line {a.line})", where=_rendered(b))
                    break


# --- L18: reading level and plain words ------------------------------------------------------------

@rule("L18", "warning", "Reading level over the target, a long sentence, or undefined jargon",
      "Use shorter sentences and everyday words; explain a technical term in the same paragraph "
      "(\"... means ...\", or in parentheses), or replace it. Targets: lint.readability.")
def readability_targets(ctx: Context):
    yield from readability.hits(ctx)


# --- L28, L29: what the jurisdiction pack knows about this profile ------------------------------------

@rule("L28", "info", "A fact of the jurisdiction pack that this profile relies on is not verified",
      "Nothing to fix in the profile: check the fact against the cited law before you rely on it "
      "('consentgen packs CODE --license TYPE' lists every fact with its source).")
def unverified_facts(ctx: Context):
    if ctx.law is None or not ctx.law.pack:
        return
    for fact in ctx.law.facts:
        if not fact.source.verified:
            yield Hit(f"{ctx.law.name}: {fact.label} ({fact.source.cite}) is not verified: {fact.source.reason}",
                      key="practice.jurisdiction")


@rule("L29", "warning", "The jurisdiction pack does not know this license type",
      "Set clinician.license.type to one the state's pack knows (see 'consentgen packs CODE'); until then the "
      "handouts follow the strictest rule of the state's professions.")
def unknown_license_type(ctx: Context):
    if ctx.law is None or not ctx.law.unknown_type:
        return
    given = ctx.law.license_type or "none"
    yield Hit(f"{ctx.law.name}'s pack has no rules for license type '{given}', so the strictest rule of its "
              "professions applies (the longest records period, the strictest rule after therapy ends)",
              key="clinician.license.type" if ctx.profile.clinician.license else "clinician")

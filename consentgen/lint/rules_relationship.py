"""Rules about the relationship, ending therapy and self-disclosure (CONTENT.md section 2).

Most rules read profile settings. The text rules (L06-L10) also read the words
clients will see: every ``note`` in the profile (reported at the note's key),
and the rendered documents of the packet (reported at ``NAME (rendered):LINE``).
When a rule looks for *bad* wording in a document, the text of the profile's
notes is taken out first, so a note is reported once, at its key. When a rule
looks for *required* wording (a ban, a definition, an exception), the whole
document counts, notes included.

The text checks are small, documented heuristics over plain sentences, not
language understanding: each says what it matches, and negations ("We will not
become friends after therapy") never count as an invitation.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Iterator

from pydantic import BaseModel

from ..document import located_units
from ..errors import Where
from .registry import Context, Hit, rule

# --------------------------------------------------------------------------- text helpers


def _flat(text: str) -> str:
    """One line, single spaces, straight apostrophes."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").split())


def _notes(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every ``note`` the profile sets, as (dotted key, text), in schema order."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            yield from _notes(value, key + ".")
        elif name == "note" and isinstance(value, str) and value.strip():
            yield key, _flat(value)


def _units(ctx: Context) -> list[tuple[str, int, str, str]]:
    """(document, line, text, text without the notes) for each piece of the packet's documents.

    The second text has the profile's notes cut out: rules that look for bad wording
    read it, so a note is reported once, at its key.
    """
    notes = [text for _, text in _notes(ctx.profile)]
    out = []
    for name, doc in ctx.documents.items():
        for line, text, _ in located_units(doc.blocks):
            text = cut = _flat(text)
            for note in notes:
                cut = cut.replace(note, " ")
            out.append((name, line, text, cut))
    return out


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def _doc_where(name: str, line: int) -> Where:
    return Where(f"{name} (rendered)", line)


def _quote(text: str, limit: int = 70) -> str:
    text = _flat(text)
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit - 3].rstrip()}...'"


_NEGATION = re.compile(
    r"\b(?:not|never|no|nor|neither|cannot|won't|don't|doesn't|isn't|aren't|can't|couldn't|wouldn't|"
    r"shouldn't|didn't|mustn't)\b", re.I)
# Clauses that turn a sentence around: "It is not a romance, but after therapy we could date."
_CONTRAST = re.compile(r"\s*(?:;|,?\s+\bbut\b|,?\s+\bhowever\b|,?\s+\bthough\b|,?\s+\balthough\b|,?\s+\byet\b)\s*", re.I)


def _clauses(sentence: str) -> list[str]:
    return [c for c in _CONTRAST.split(sentence) if c.strip()]


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


# --------------------------------------------------------------------------- L05, L20: ending therapy


@rule("L05", "error", "Termination with no referral or no pretermination step",
      "Set policies.termination.referrals: true, and give notice (notice_sessions: 1 or more) "
      "or a last session (final_session: true) before therapy ends (APA 10.10(c); ACA A.11.c; NASW 1.17(e)).")
def termination_steps(ctx: Context):
    t = ctx.profile.policies.termination
    if not t.referrals:
        yield Hit("therapy can end without referrals: clients who still need help get no names "
                  "or hand-over (referrals: false)", key="policies.termination.referrals")
    if t.notice_sessions == 0 and not t.final_session:
        yield Hit("no pretermination step: no notice sessions (notice_sessions: 0) and no last session "
                  "(final_session: false)", key="policies.termination.notice_sessions")


@rule("L20", "error", "Therapy may end abruptly: no notice and no final session",
      "Offer a last session (final_session: true) or notice (notice_sessions: 1 or more): "
      "clients fear abrupt endings, and an ending without either is abandonment (ACA A.11.c; APA 10.10(c)).")
def abrupt_ending(ctx: Context):
    t = ctx.profile.policies.termination
    if t.notice_sessions == 0 and not t.final_session:
        yield Hit("a client could be told therapy is over with no warning and no last session to look back "
                  "and say goodbye", key="policies.termination.final_session")


# --------------------------------------------------------------------------- L06: unpaid bills

_NONPAYMENT = re.compile(r"\b(?:unpaid|non-?payment|not paid|collection agency|collections?)\b", re.I)
_ENDING = re.compile(r"\b(?:end|ends|ending|stop|stops|terminat\w*|pause)\b", re.I)
_SAFETY = re.compile(r"\b(?:safety|safe|danger\w*|crisis|at risk)\b", re.I)


@rule("L06", "warning", "Nonpayment may end therapy with no prior notice or no imminent-danger exception",
      "Give written notice before any collection step (policies.fees.nonpayment.notice_days > 0) and say that "
      "therapy never ends over money while the client's safety is at risk (NASW 1.17(c); APA 6.04(e)).")
def nonpayment(ctx: Context):
    """Flags ``notice_days: 0``; and any packet document that talks about unpaid bills
    without a sentence that negates ending ("not end", "never stop") while safety,
    danger or a crisis is at stake, as the built-in fees section does."""
    n = ctx.profile.policies.fees.nonpayment
    if n.notice_days == 0:
        steps = "a collection agency, small claims court or the end of therapy" if n.collection_agency \
            else "the end of therapy"
        yield Hit(f"an unpaid bill can lead to {steps} with no set notice period (notice_days: 0)",
                  key="policies.fees.nonpayment.notice_days")
    first: dict[str, int] = {}
    excepted: set[str] = set()
    for name, line, text, _ in _units(ctx):
        if _NONPAYMENT.search(text):
            first.setdefault(name, line)
        for s in _sentences(text):
            if _negated(s) and _ENDING.search(s) and _SAFETY.search(s):
                excepted.add(name)
    for name, line in first.items():
        if name not in excepted:
            yield Hit(f"{name} talks about unpaid bills but never says therapy will not end over money "
                      "while the client's safety is at risk", where=_doc_where(name, line))


# --------------------------------------------------------------------------- L07: sexual contact

_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty)"
_YEARS = re.compile(rf"(?<!\beven\s)\b({_NUMBER})(?:\s+full)?(?:\s+|-)years?\b", re.I)
_AFTER = re.compile(
    r"\b(?:after|once|when|until|since|following|from)\b(?:\s+[\w']+){0,4}?\s+"
    r"(?:therapy|treatment|counsel+ing|termination|terminat\w+|(?:our|the)\s+(?:work|sessions?|last\s+session)|"
    r"last\s+session|we(?:'re|\s+are)?\s+(?:finish\w*|done|end\w*|stop\w*|wrap\w*))\b"
    r"|\bformer\s+clients?\b|\bpost-?(?:therapy|termination)\b",
    re.I)
_ROMANCE = re.compile(
    r"\b(?:sexual\w*|romantic\w*|romance|intima\w+|dating|(?:personal|social|non-?therapeutic|romantic|sexual)"
    r"\s+relationships?|involved|marr(?:y|ied|iage))\b|(?<!\bthe\s)(?<!\ba\s)(?<!\bthis\s)(?<!\bthat\s)\bdate\b",
    re.I)
_BAN = re.compile(r"\bsexual", re.I)


@rule("L07", "error", "No sexual-contact ban, or a post-termination period weaker than the strictest rule",
      "Keep a document in the packet that says therapy is never sexual (the built-in our-relationship, "
      "relationship and informed-consent do), and do not state a waiting period after therapy: "
      "the handouts say never, the strictest rule (AAMFT 1.5).")
def sexual_contact(ctx: Context):
    """A ban is a sentence with "never" and "sexual" in it, in at least one packet document.
    A waiting period is a sentence with "N years", an after-therapy marker (after therapy,
    once we finish, former client...) and a sexual or romantic word; "even N years" is fine."""
    banned = any(re.search(r"\bnever\b", s, re.I) and _BAN.search(s)
                 for _, _, text, _ in _units(ctx) for s in _sentences(text))
    if not banned:
        docs = ", ".join(ctx.documents) or "none"
        yield Hit(f"no document in the packet ({docs}) says therapy is never sexual", key="packet")
    strictest = "the handouts say never, the strictest rule (AAMFT 1.5)"
    post = ctx.law.post_termination if ctx.law is not None else None
    if post is not None:
        strictest += f"; {ctx.law.name} law: {post.text} ({post.source.cite})"
    for key, where, sentence, years in _waiting_periods(ctx):
        yield Hit(f"states a {years}-year wait after therapy ({_quote(sentence)}); {strictest}", key=key, where=where)


def _waiting_periods(ctx: Context):
    for key, text in _notes(ctx.profile):
        for s in _sentences(text):
            m = _YEARS.search(s)
            if m and _AFTER.search(s) and _ROMANCE.search(s):
                yield key, None, s, m.group(1)
    for name, line, _, text in _units(ctx):
        for s in _sentences(text):
            m = _YEARS.search(s)
            if m and _AFTER.search(s) and _ROMANCE.search(s):
                yield None, _doc_where(name, line), s, m.group(1)


# --------------------------------------------------------------------------- L08: "intimacy"

_INTIMATE = re.compile(r"\bintima(?:cy|te|tely)\b", re.I)
_CODE_TERM = re.compile(r"\bsexual(?:ly)?\s+$", re.I)        # "sexual intimacy", the codes' own term
_DEFINITION_WINDOW = 2                                         # text units before and after


def _undefined_intimacy(text: str) -> bool:
    for m in _INTIMATE.finditer(text):
        if _CODE_TERM.search(text[:m.start()]) or re.match(r"\s+partners?\b", text[m.end():], re.I):
            continue
        return True
    return False


def _defines(text: str) -> bool:
    """A sentence that says it is never (not) sexual: "closeness that is never physical or sexual"."""
    return any(_negated(s) and _BAN.search(s) for s in _sentences(text))


@rule("L08", "warning", "\"Intimacy\" or \"intimate\" used without a definition",
      "Prefer \"closeness\"; or add a sentence such as \"By intimate I mean emotionally close: "
      "it is never physical or sexual.\" (APA 10.05; CONTENT.md section 0).")
def intimacy(ctx: Context):
    """A note must define the word itself; document text may define it in the same
    paragraph or within two pieces of text before or after. "Sexual intimacy" (the
    codes' term) and "intimate partner" are not the ambiguous use."""
    for key, text in _notes(ctx.profile):
        if _undefined_intimacy(text) and not _defines(text):
            yield Hit("the note says \"intimate\" or \"intimacy\" but not that this closeness is never sexual", key=key)
    units = _units(ctx)
    for i, (name, line, _, cut) in enumerate(units):
        if not _undefined_intimacy(cut):
            continue
        near = units[max(0, i - _DEFINITION_WINDOW): i + _DEFINITION_WINDOW + 1]
        if not any(doc == name and _defines(text) for doc, _, text, _ in near):
            yield Hit(f"{name} says \"intimate\" or \"intimacy\" with no nearby line that this closeness "
                      "is never sexual", where=_doc_where(name, line))


# --------------------------------------------------------------------------- L09: friend requests

_FRIENDING = re.compile(
    r"\bfriend(?:ing)?\s+(?:and\s+|or\s+)?(?:follow\s+)?requests?\b|\bfollow\s+requests?\b|\bbefriend\b"
    r"|\b(?:friend|add|follow)\s+me\b|\bconnect\s+(?:with\s+me\s+)?on\s+(?:facebook|instagram|linkedin|tiktok|"
    r"snapchat|twitter|social\s+media)\b|\bbe\s+friends\s+on\b",
    re.I)
_IMPERATIVE = re.compile(r"\b(?:friend|add|follow)\s+me\b|\bconnect\s+(?:with\s+me\s+)?on\b|\bbe\s+friends\s+on\b", re.I)
_INVITE = re.compile(
    r"\b(?:welcome|accept|accepts|accepted|happy|glad|free|can|may|okay|ok|fine|allowed|please|go\s+ahead|love|like)\b",
    re.I)
_BUSINESS = re.compile(r"\b(?:business|practice|professional)\b", re.I)
_FRIEND_POLICY = re.compile(r"\b(?:friend|follow)(?:ing)?\s+(?:(?:and|or)\s+(?:friend|follow)\s+)?requests?\b", re.I)


def _invites_friending(sentence: str) -> bool:
    """A friend or follow request (or "friend me", "add me on...") offered without a negation;
    "follow" aimed at a business or practice page is fine."""
    for clause in _clauses(sentence):
        m = _FRIENDING.search(clause)
        if not m or _negated(clause):
            continue
        if "friend" not in m.group(0).lower() and _BUSINESS.search(clause):
            continue
        if _IMPERATIVE.search(clause) or _INVITE.search(clause):
            return True
    return False


@rule("L09", "error", "Personal friending of current clients allowed",
      "Say you do not accept friend or follow requests from clients or former clients on personal accounts, "
      "and remove any wording that invites them (ACA A.5.e; NASW 1.06).")
def friending(ctx: Context):
    """Error: a note, or packet text, that invites friend or follow requests (see
    ``_invites_friending``). Warning: no sentence about friend or follow requests in the
    packet mentions former clients."""
    sm = ctx.profile.policies.contact.channels.social_media
    invited = False
    for key, text in _notes(ctx.profile):
        for s in _sentences(text):
            if _invites_friending(s):
                invited = True
                why = f" (and social media messages are on: {sm.use})" if sm.use != "none" else ""
                yield Hit(f"the note invites personal friend or follow requests: {_quote(s)}{why}", key=key)
    for name, line, _, text in _units(ctx):
        for s in _sentences(text):
            if _invites_friending(s):
                invited = True
                yield Hit(f"{name} invites personal friend or follow requests: {_quote(s)}",
                          where=_doc_where(name, line))
    if invited:
        return
    policy = [(name, line, text) for name, line, text, _ in _units(ctx) if _FRIEND_POLICY.search(text)]
    if not policy:
        yield Hit("the packet never says whether you accept friend or follow requests from clients "
                  "or former clients", key="packet", severity="warning")
    elif not any(re.search(r"\bformer\s+clients?\b", text, re.I) for _, _, text in policy):
        name, line, _ = policy[0]
        yield Hit(f"{name} says how you handle friend or follow requests but not whether it applies "
                  "to former clients", where=_doc_where(name, line), severity="warning")


# --------------------------------------------------------------------------- L10: after therapy

_PERSONAL = re.compile(  # always personal, whoever the sentence is about
    r"\b(?:dating|romantic\w*|romance|go(?:ing)?\s+out|on\s+a\s+date|friends\s+with|personal\s+relationship"
    r"|stay\s+in\s+touch\s+socially|keep\s+in\s+touch\s+socially)\b"
    r"|(?<!\bthe\s)(?<!\ba\s)(?<!\bthis\s)(?<!\bthat\s)(?<!\bdue\s)(?<!\beffective\s)\bdate\b(?!\s+(?:on|of)\b)",
    re.I)
_SOCIAL = re.compile(  # personal only between the two of us: "we", "us", "each other", "with me"...
    r"\b(?:friends?|friendship|befriend|social(?:ly|i[sz]e|i[sz]ing)?(?!\s+(?:media|work\w*|security))|coffee|lunch"
    r"|dinner|drinks?|hang(?:ing)?\s+out|get\s+together|meet\s+up|stay\s+in\s+touch|keep\s+in\s+touch)\b",
    re.I)
_US = re.compile(r"\b(?:we|we'll|we'd|we're|we've|us|let's|each\s+other|together|with\s+me|with\s+you|you\s+and\s+i|me)\b",
                 re.I)


def _hints_after(sentence: str) -> bool:
    """An after-therapy marker (after/once/when therapy ends, once we finish, former
    client...) with a personal-relationship word in a clause that has no negation.
    Dating and romance words count alone; friends, coffee, staying in touch... count
    when the clause is about the two of you (we, us, each other, with me)."""
    if not _AFTER.search(sentence):
        return False
    for clause in _clauses(sentence):
        if _negated(clause):
            continue
        if _PERSONAL.search(clause) or (_SOCIAL.search(clause) and _US.search(clause)):
            return True
    return False


@rule("L10", "error", "Wording hints at a personal relationship after therapy",
      "Say plainly that you will not become friends or start any other relationship after therapy ends, "
      "and remove wording that suggests otherwise (APA 10.08(b)(7); NASW 1.17(d)).")
def after_therapy(ctx: Context):
    for key, text in _notes(ctx.profile):
        for s in _sentences(text):
            if _hints_after(s):
                yield Hit(f"the note hints at a personal relationship after therapy: {_quote(s)}", key=key)
    for name, line, _, text in _units(ctx):
        for s in _sentences(text):
            if _hints_after(s):
                yield Hit(f"{name} hints at a personal relationship after therapy: {_quote(s)}",
                          where=_doc_where(name, line))


# --------------------------------------------------------------------------- L14: supervisor


@rule("L14", "error", "Trainee or associate with no supervisor contact details",
      "Give clinician.supervisor a phone or an email, so clients can reach your supervisor "
      "(ACA A.2.b; APA 10.01(c); WAC 246-809-710(2); 22 TAC 681.35(a)).")
def supervisor_contact(ctx: Context):
    c = ctx.profile.clinician
    sup = c.supervisor
    if c.status != "licensed" and sup is not None and not (sup.phone or sup.email):
        yield Hit(f"clients of this {c.status} cannot reach the supervisor, {sup.name}: no phone or email",
                  key="clinician.supervisor")


# --------------------------------------------------------------------------- L17: gifts

_DOLLARS = re.compile(r"\$\s*(\d[\d,]*(?:\.\d+)?)|\b(\d[\d,]*(?:\.\d+)?)\s*(?:dollars|usd)\b", re.I)


def _dollars(text: str) -> Decimal | None:
    """'$25', '25', '$1,000.00', '25 dollars' -> the amount; None when there is no amount."""
    m = _DOLLARS.search(text) or re.fullmatch(r"\s*(\d[\d,]*(?:\.\d+)?)\s*", text)
    if not m:
        return None
    try:
        return Decimal(next(g for g in m.groups() if g).replace(",", ""))
    except InvalidOperation:
        return None


@rule("L17", "error", "Gift limit above the state's cap",
      "Set policies.relationship.gift_limit at or below the state's cap (Texas: $50, 22 TAC 681.38), "
      "or leave it empty to print the cap.")
def gift_cap(ctx: Context):
    cap = ctx.law.gift_cap if ctx.law is not None else None
    if cap is None:
        return
    fact = next(f for f in ctx.law.facts if f.label == "gift cap")
    # An unverified cap is shown to the practice, but never drives an error.
    severity = None if fact.source.verified else "info"
    name, cite = ctx.law.name, fact.source.cite
    rel = ctx.profile.policies.relationship
    if rel.gifts == "small" and rel.gift_limit:
        amount = _dollars(rel.gift_limit)
        if amount is None:
            yield Hit(f"gift limit '{rel.gift_limit}' is not a dollar amount, so it cannot be checked against "
                      f"{name}'s ${cap} cap", key="policies.relationship.gift_limit", severity="warning")
        elif amount > cap:
            yield Hit(f"gift limit ${amount} is above {name}'s ${cap} cap ({cite})",
                      key="policies.relationship.gift_limit", severity=severity)
    for key, text in _notes(ctx.profile):
        for s in _sentences(text):
            amount = _dollars(s) if re.search(r"\bgifts?\b", s, re.I) else None
            if amount is not None and amount > cap:
                yield Hit(f"the note allows a ${amount} gift, above {name}'s ${cap} cap: {_quote(s)}", key=key,
                          severity=severity)


# --------------------------------------------------------------------------- L21: self-disclosure

_PURPOSE = re.compile(
    r"\b(?:help\w*|you|your|yours|yourself|because|so\s+that|to\s+show|in\s+order\s+to|serves?|benefit\w*"
    r"|useful|purpose|why)\b",
    re.I)


@rule("L21", "warning", "A self-disclosure note gives no purpose",
      "Say why you would share something personal, e.g. \"...when I think it will help you feel less alone\", "
      "and that the focus then returns to the client (CONTENT.md section 0).")
def disclosure_purpose(ctx: Context):
    """Heuristic: a note about sharing personal things should say whom it serves. It
    passes when it has any of: help (helps, helpful...), you/your/yourself, because,
    so that, to show, in order to, serve(s), benefit, useful, purpose, why."""
    note = ctx.profile.policies.self_disclosure.note
    if note and not _PURPOSE.search(_flat(note)):
        yield Hit(f"the self-disclosure note says what you may share but not why or for whom: {_quote(note)}",
                  key="policies.self_disclosure.note")

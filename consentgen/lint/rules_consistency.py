"""Rules about contradictions across the packet, and client questions left open
(CONTENT.md section 5: "No contradictions between documents"; the client topics).

L23-L26 compare two things a client can see side by side: the services offered
and the fee rows, an office address and the channels in use, two numbers for
one board, the session length and a fee row's minutes. L27 names a question a
client asks that the profile leaves to a vague default.

A fee row's place is its index key (``policies.fees.services[2]``); the
registry's ``ctx.where`` reads dotted keys only, so this module finds index
keys itself (``_where``).
"""
from __future__ import annotations

import re
from pathlib import Path

from .. import labels, views
from ..document import Block, Callout, Heading, List, Paragraph, Table, cell_text, located_units
from ..errors import Where, display_path
from .registry import Context, Hit, rule

# --------------------------------------------------------------------------- places and text


_PART = re.compile(r"^([^\[]+)((?:\[\d+\])*)$")


def _where(ctx: Context, key: str) -> Where:
    """The file and line of ``key``, index keys included: ``policies.fees.services[2].name``."""
    parts: list = []
    for part in key.split("."):
        m = _PART.match(part)
        parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\d+", m.group(2)))
    for end in range(len(parts), 0, -1):
        if tuple(parts[:end]) in ctx.loaded.positions:
            return ctx.loaded.positions[tuple(parts[:end])]
    return ctx.where(key)


def _at(ctx: Context, key: str) -> str:
    """'practice.yaml:37' for a message that points at a second key."""
    w = _where(ctx, key)
    return f"{w.file}:{w.line}" if w.line else w.file


def _set_at(ctx: Context, key: str) -> str:
    """Where a setting is written, or 'the default' when the profile leaves it out."""
    return _at(ctx, key) if tuple(key.split(".")) in ctx.loaded.positions else "the default"


def _own_file(ctx: Context, key: str) -> bool:
    """Whether ``key`` is written in the file the user named, not in a shared practice layer."""
    return _where(ctx, key).file == display_path(ctx.loaded.source)


def _paragraphs(blocks: tuple[Block, ...]) -> list[tuple[int, str]]:
    """Each paragraph, list item, heading or callout title with its line, and each table row as one
    piece (a row's cells say together what a number in it is for)."""
    out: list[tuple[int, str]] = []
    for b in blocks:
        if isinstance(b, Table):
            for i, row in enumerate((b.header, *b.rows)):
                text = " | ".join(t for t in (cell_text(c).strip() for c in row) if t)
                if text:
                    out.append((b.line if i == 0 else b.line + 1 + i, text))
        elif isinstance(b, List):
            for item in b.items:
                out.extend(_paragraphs(item.blocks))
        elif isinstance(b, Callout):
            if b.title:
                out.append((b.line, b.title))
            out.extend(_paragraphs(b.blocks))
        elif isinstance(b, (Heading, Paragraph)):
            out.extend((u.line, u.text) for u in located_units((b,)))
    return out


def _rendered(name: str, line: int) -> Where:
    return Where(f"{name} (rendered)", line)


# Phone numbers as printed: 555-0100, (916) 574-7830, 1-800-555-0199, +1 916.574.7830.
_PHONE = re.compile(r"(?<![\w.])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])?\d{3}[\s.-]\d{4}(?!\w)")


def _digits(number: str) -> str:
    """Digits only, a leading country code 1 dropped: '(916) 574-7830' -> '9165747830'."""
    d = re.sub(r"\D", "", number)
    return d[1:] if len(d) == 11 and d.startswith("1") else d


def _same_number(a: str, b: str) -> bool:
    """Equal numbers; a 7-digit number also equals a 10-digit one that ends with it (no area code given)."""
    a, b = _digits(a), _digits(b)
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) == 7 and len(long) == 10 and long.endswith(short))


def _numbers(text: str) -> list[str]:
    return [m.group(0).strip() for m in _PHONE.finditer(text)]


# --------------------------------------------------------------------------- L23: services and fee rows


_NOT_USUAL = ("first", "intake", "initial", "assessment", "evaluation", "extended", "consultation", "report",
              "letter")


def _name_kinds(name: str) -> set[str]:
    """The services a fee row's name speaks of: 'Couples or family session' -> {couples, family}."""
    words = [w.strip("(),.:;") for w in name.lower().replace("-", " ").split()]
    return {kind for kind, names in labels.SERVICE_WORDS.items() if any(w in names for w in words)}


def _usual(name: str) -> bool:
    """A regular session, not a first, intake or other one-off row."""
    words = set(re.findall(r"[a-z]+", name.lower()))
    return not words & set(_NOT_USUAL)


@rule("L23", "error", "A service offered with no fee row for it, or a fee row that does not match the services",
      "Give each service in policies.therapy.services a row in policies.fees.services (its name or 'kinds' says "
      "which service it is for), and make a row's name and 'kinds' agree; remove a row (or add the service) "
      "when the clinician does not offer what it is for.")
def services_and_fees(ctx: Context):
    """Both ways: each offered service has a row *for* it, and each row is for something offered.

    A row with no service words and no ``kinds`` ("Session (50 minutes)") is for everyone, and counts for
    every service when it is a regular session; a first-session or intake row counts for none.
    A row left out because it is for services not offered is reported only when it is written in the
    clinician's own file: in a shared practice file, rows for a colleague's services are expected.
    """
    pol = ctx.profile.policies
    rows = pol.fees.services
    offered = pol.therapy.services
    if not rows:
        return          # no fee list at all: nothing to contradict
    general = any(not views.service_kinds(s) and _usual(s.name) for s in rows)
    covered = {k for s in rows for k in views.service_kinds(s)}
    fees_at = _at(ctx, "policies.fees.services")
    for kind in offered:
        if kind not in covered and not general:
            others = ", ".join(f"'{s.name}'" for s in rows)
            yield Hit(f"you see {labels.SERVICE_PLAIN[kind]}, but no fee row is for {kind} work "
                      f"(policies.fees.services, {fees_at}: {others}); their handouts give no fee for it",
                      key="policies.therapy.services")
    services_at = _at(ctx, "policies.therapy.services")
    for i, s in enumerate(rows):
        key = f"policies.fees.services[{i}]"
        named = _name_kinds(s.name)
        if s.kinds is not None and named and named != set(s.kinds):
            yield Hit(f"the row '{s.name}' names {', '.join(sorted(named))} work, but its kinds are "
                      f"[{', '.join(s.kinds)}]: clients of {', '.join(s.kinds)} work see a row named for "
                      "another service", key=key, where=_where(ctx, key))
            continue
        kinds = views.service_kinds(s)
        if kinds and not set(kinds) & set(offered) and _own_file(ctx, key):
            yield Hit(f"the row '{s.name}' is for {', '.join(kinds)} work, which you do not offer "
                      f"(policies.therapy.services, {services_at}: {', '.join(offered)}), so it is left out of "
                      "the handouts", key=key, where=_where(ctx, key), severity="warning")


# --------------------------------------------------------------------------- L24: office address, channel off

# Words that say what an office number or address is for, when no channel offers it to clients.
_PURPOSE = re.compile(
    r"\bforms?\b|\bpaperwork\b|\bbills?\b|\bbilling\b|\bpayments?\b|\binvoices?\b|\breceipts?\b|\binsurance\b"
    r"|\bappointments?\b|\bschedul\w*|\breschedul\w*|\bcancel\w*|\brecords?\b|\bcop(?:y|ies)\b"
    r"|\boffice staff\b|\bfront desk\b|\breceptionists?\b|\boffice manager\b|\badministrative\b"
    r"|\bwhile I(?: am|'m) away\b",                         # the office finds help during a break
    re.I)


def _offered(ctx: Context, address: str, is_phone: bool) -> bool:
    """Whether a channel in use gives ``address`` as its number or address."""
    for view in views.channel_views(ctx.profile):
        if view.address is None:
            continue
        if (is_phone and _same_number(view.address, address)) or \
                (not is_phone and view.address.strip().casefold() == address.strip().casefold()):
            return True
    return False


def _prints(text: str, address: str, is_phone: bool) -> bool:
    if is_phone:
        return address in text or any(_same_number(n, address) for n in _numbers(text))
    return address.casefold() in text.casefold()


@rule("L24", "error", "The office email or phone is printed while that channel is not used, with no word on "
      "what it is for",
      "Say in the same paragraph what the office number or address is for (forms, bills, appointments) and who "
      "reads it (practice.office_staff), or take it out of your template; or offer the channel "
      "(policies.contact.channels).")
def office_address_without_purpose(ctx: Context):
    practice = ctx.profile.practice
    chans = ctx.profile.policies.contact.channels
    checks = []
    if practice.email and chans.email.use == "none":
        checks.append(("practice.email", practice.email, False, "email is"))
    if practice.phone and chans.phone.use == "none" and chans.text.use == "none":
        checks.append(("practice.phone", practice.phone, True, "phone calls and text messages are"))
    staff = practice.office_staff.casefold() if practice.office_staff else None
    for key, address, is_phone, channel in checks:
        if _offered(ctx, address, is_phone):
            continue
        found: dict[str, list[tuple[str, int]]] = {}      # a shared block repeated in several documents: once
        for name, doc in ctx.documents.items():
            for line, text in _paragraphs(doc.blocks):
                if _prints(text, address, is_phone) and not (
                        _PURPOSE.search(text) or (staff and staff in text.casefold())):
                    found.setdefault(text, []).append((name, line))
        for places in found.values():
            (name, line), more = places[0], places[1:]
            also = f" (the same paragraph is in {', '.join(f'{n}:{ln}' for n, ln in more)})" if more else ""
            yield Hit(f"'{ctx.documents[name].title}' prints the office's {key.split('.')[1]} ({address}), but "
                      f"{channel} not used (policies.contact.channels) and this paragraph does not say what it is "
                      f"for: clients will take it as a way to reach you{also}", where=_rendered(name, line))


# --------------------------------------------------------------------------- L25: two numbers for one board

_AGENCY = re.compile(r"\b(?:board|council|department|division|commission)\b", re.I)
_STATE_WORDS = re.compile(r"\b(?:the|state|of)\b", re.I)


def _state_names(ctx: Context) -> set[str]:
    codes = [ctx.profile.practice.jurisdiction]
    if ctx.profile.clinician.license:
        codes.append(ctx.profile.clinician.license.state)
    return {labels.state_name(c).removeprefix("the ").casefold() for c in codes if c}


def _core(name: str, states: set[str]) -> str:
    """'California Board of Behavioral Sciences' -> 'board of behavioral sciences'."""
    text = " ".join(name.casefold().split())
    for state in states:
        text = text.replace(state, " ")
    text = re.sub(r"^\W*(?:(?:the|state)\s+)+", "", " ".join(text.split()))
    return text.strip()


def _names_board(text: str, board: str, states: set[str]) -> bool:
    """Whether ``text`` speaks of the board: by its name, its name without the state's, or by the word
    'board' (council, department...) that the board's name uses, with the state's name in the same sentence."""
    flat = " ".join(text.casefold().split())
    name = " ".join(board.casefold().split())
    core = _core(board, states)
    if name in flat or (len(_STATE_WORDS.sub(" ", core).split()) >= 2 and core in flat):
        return True
    own = {w.lower() for w in _AGENCY.findall(board)}
    for sentence in re.split(r"(?<=[.!?])\s+", flat):
        if {w.lower() for w in _AGENCY.findall(sentence)} & own and any(s in sentence for s in states):
            return True
    return False


def _board_texts(ctx: Context) -> list[tuple[str, str]]:
    """(what it is, text) for each prescribed statement the packet may print, and the complaint notice."""
    out: list[tuple[str, str]] = []
    notice = ctx.profile.practice.complaint_notice
    if notice:
        out.append((f"the complaint notice (practice.complaint_notice, {_at(ctx, 'practice.complaint_notice')})",
                    notice))
    code = ctx.profile.practice.jurisdiction
    for sid, text in (ctx.law.texts if ctx.law is not None else {}).items():
        if text != notice:
            out.append((f"the {code} statement '{sid}'", text))
    law_board = ctx.law.board if ctx.law is not None else None
    if law_board is not None and law_board.phone:        # the pack's own record of the board
        out.append((f"the {code} pack's board for this license type", f"{law_board.name}: {law_board.phone}"))
    return out


@rule("L25", "error", "Two different phone numbers for the licensing board",
      "Give clinician.board.phone the number the state's notice or statement prints for the board (or correct "
      "the notice, word for word as the state publishes it).")
def board_numbers(ctx: Context):
    board = ctx.profile.clinician.board
    if board is None or not board.phone:
        return
    states = _state_names(ctx)
    for what, text in _board_texts(ctx):
        numbers = _numbers(text)
        if not numbers or not _names_board(text, board.name, states):
            continue
        if any(_same_number(n, board.phone) for n in numbers):
            continue
        yield Hit(f"{what} gives {' and '.join(numbers)} for the {board.name}, but clinician.board.phone is "
                  f"{board.phone}: clients see two numbers for one board", key="clinician.board.phone")


# --------------------------------------------------------------------------- L26: session length

_MINUTES = re.compile(r"\b(\d{1,3})[- ]?(?:minutes?|mins?)\b|\b(an?|one|1|2|two)[- ]hours?\b", re.I)
_HOURS = {"a": 1, "an": 1, "one": 1, "1": 1, "two": 2, "2": 2}


def _row_minutes(name: str) -> int | None:
    m = _MINUTES.search(name)
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else 60 * _HOURS[m.group(2).lower()]


@rule("L26", "error", "A fee row's session length differs from policies.therapy.session_minutes",
      "Make policies.therapy.session_minutes and the minutes in the regular fee rows' names agree (a first "
      "session, an intake or an extended session may be longer).")
def session_length(ctx: Context):
    """Error when the packet prints both; a warning when it prints only one of them (the profile disagrees
    with itself, and a handout added later shows it)."""
    minutes = ctx.profile.policies.therapy.session_minutes
    said = re.compile(rf"\b{minutes}[- ]minutes?\b", re.I)
    prose = [t for doc in ctx.documents.values() for b in doc.blocks if not isinstance(b, Table)
             for _, t in _paragraphs((b,))]
    table = [t for doc in ctx.documents.values() for b in doc.blocks if isinstance(b, Table)
             for _, t in _paragraphs((b,))]
    stated = any(said.search(t) for t in prose)
    for row in views.fee_rows(ctx.profile):
        stated_row = _row_minutes(row.name)
        if stated_row is None or stated_row == minutes or not _usual(row.name):
            continue
        key = f"policies.fees.services[{row.index}]"
        shown = any(row.name in t for t in table + prose)
        yield Hit(f"the row '{row.name}' says {stated_row} minutes, but policies.therapy.session_minutes is "
                  f"{minutes} ({_set_at(ctx, 'policies.therapy.session_minutes')})"
                  + ("; the packet prints both" if stated and shown else ""),
                  key=key, where=_where(ctx, key), severity=None if stated and shown else "warning")


# --------------------------------------------------------------------------- L27: questions left open


def _shared_office(ctx: Context) -> bool:
    """Whether someone besides the clinician reads the office's line: the practice file is shared by more
    than one clinician, or the office tells clients of a cancelled session."""
    if ctx.profile.policies.breaks.unplanned.told_by == "office":
        return True
    source = Path(ctx.loaded.source)
    if len(ctx.loaded.layers) > 1 and source.parent.name == "clinicians":
        return len(list(source.parent.glob("*.yaml"))) > 1
    return False


def _printed(ctx: Context, address: str) -> bool:
    return any(address in t for doc in ctx.documents.values() for _, t in _paragraphs(doc.blocks))


@rule("L27", "warning", "A question clients ask is left to a vague default",
      "Set the key the message names; until then the handouts give the default it quotes.")
def open_questions(ctx: Context):
    profile = ctx.profile
    pol = profile.policies
    if pol.termination.inactive_after is None:
        yield Hit("what happens if a client stops coming gets no number: the handouts say 'if some weeks go by "
                  "without a session or a word from you, I will write to you'; set "
                  "policies.termination.inactive_after (e.g. 30 days)", key="policies.termination.inactive_after")
    used = views.channel_views(profile)
    for view in used:
        if not view.cost_set:
            yield Hit(f"what {view.plain} between sessions cost is not set, so the handouts say 'No charge'; set "
                      f"policies.contact.channels.{view.key}.cost ({{fee: 0}} if there is no charge)",
                      key=f"policies.contact.channels.{view.key}.cost")
    plan = views.break_plan(profile)
    if used and plan.reply_while_away is None and plan.answer_after_return is None:
        yield Hit("messages sent during a break wait for your return, and the handouts say only that you answer "
                  "them 'in my usual time'; set policies.breaks.while_away.answer_after_return "
                  "(e.g. 2 business days)", key="policies.breaks.while_away.answer_after_return")
    practice = profile.practice
    if practice.office_staff is None and _shared_office(ctx):
        chans = pol.contact.channels
        office = [v for v in used if v.key in ("phone", "text", "email") and getattr(chans, v.key).address is None
                  and v.address in (practice.phone, practice.email) and _printed(ctx, v.address)]
        if office:
            names = ", ".join(f"{v.plain} ({v.address})" for v in office)
            yield Hit(f"{names} go to the office's number or address, but practice.office_staff is not set: "
                      "the handouts give it as if you read it yourself, and do not say who does",
                      key="practice.office_staff")

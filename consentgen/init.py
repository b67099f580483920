"""``consentgen init``: a few plain questions, then a commented profile ready to check and build.

Independent of click: each question is a ``Question`` handed to an ``ask``
function (the CLI asks it with click). The answers become ``DIR/practice.yaml``
and ``DIR/clinicians/<name>.yaml``. Their text is built here line by line, so
each block keeps a comment that explains it in plain words; every string is
written JSON-quoted, which is valid YAML whatever it holds. ``--yes`` runs the
same questions, answering each with its example (or default) answer.

What a state's law asks for is read from its jurisdiction pack, for the license
type and status given: the license types it knows are offered, and each field
it requires is asked (see ``Interview.required`` and ``Interview.ASKERS``).
"""
from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from pydantic import TypeAdapter, ValidationError

from .errors import ConsentgenError, display_path
from .jurisdictions import available, load_pack, profession_of
from .pack_model import PROFESSION_WORDS
from .model_base import Duration, Email
from .output import slug, write_all
from .yamlsafe import read_yaml

PACKET = ("informed-consent", "our-relationship", "fees-and-cancellations", "acknowledgement")
CRISIS_LINES = ({"name": "988 Suicide & Crisis Lifeline", "number": "988", "how": "call, text or chat"},
                {"name": "Emergency services", "number": "911", "how": "call"})

STATUS = (("licensed", "You practice on your own license."),
          ("associate", "You hold an associate license and work under a supervisor."),
          ("trainee", "You are a student or intern, working under a supervisor."))
GIFTS = (("none", "You kindly decline gifts."),
         ("small", "Small tokens are fine, up to a limit you set."),
         ("discuss", "You and your client talk each gift through together."))
MEETINGS = (("client-leads", "If you meet by chance, your client decides whether to say hello."),
            ("no-greeting", "You will not greet your client first, to protect their privacy."))
DUAL = (("avoid", "You avoid any other role in a client's life."),
        ("small-community", "In a small town, overlaps may happen; you talk them through."))
TOUCH = (("none", "No physical contact at all."),
         ("ask-first", "A handshake or similar, only if your client wants it."))
USE = (("none", "Not used between sessions."),
       ("scheduling", "Only for appointments and practical questions."),
       ("check-ins", "Also for short check-ins between sessions."))
SHARING = (("minimal", "You rarely share anything personal."),
           ("occasional", "Now and then, briefly."),
           ("when-helpful", "When it clearly helps your client; then the focus goes back to them."))
CHANNELS = {"phone": ("Phone calls", "How soon do you return calls and voicemails?"),
            "text": ("Text messages", "How soon do you answer texts?"),
            "email": ("Email", "How soon do you answer email?"),
            "portal": ("Client portal messages", "How soon do you answer portal messages?")}
CHANNEL_DEFAULTS = {"phone": ("scheduling", "1 business day"), "text": ("none", "1 business day"),
                    "email": ("scheduling", "2 business days"), "portal": ("none", "2 business days")}
COVER = (("colleague", "A colleague (another therapist) takes your clients' calls while you are away."),
         ("service", "No colleague covers (you practice alone): clients call a local crisis or walk-in "
                     "counseling service instead."))
PAID_AHEAD = (("never", "Clients pay at each session, never ahead."),
              ("first-session", "A payment ahead to book the first session."),
              ("packages", "Clients may pay for a block of sessions ahead."))
AI_USE = (("none", "You do not use software with AI in your work."),
          ("administrative", "Only for office tasks, like scheduling, billing or reminders."),
          ("supplementary", "It also helps with clinical work, like drafting notes from a session."))
AI_SENTENCE = "I use software with artificial intelligence, which"


@dataclass(frozen=True)
class Question:
    """One prompt. ``default`` None: an answer is needed; "": it may be left blank."""

    text: str
    default: Any = None
    kind: str = "text"                                  # text, choice, yes/no or number
    choices: tuple[tuple[str, str], ...] = ()           # (value, what it means), for kind "choice"
    help: str = ""                                      # a line shown before the prompt
    check: Callable[[str], Any] | None = None           # answer -> value; raises ValueError to ask again
    example: Any = None                                 # the answer --yes gives, when not the default
    most: int = 12                                      # for kind "number": 0 to this
    listed: bool = True                                 # show the choices' meanings (once for a run of alike)

    def lines(self) -> list[str]:
        """What to show before the prompt: the help, then each choice with its meaning."""
        return ([fill(self.help)] if self.help else []) + (choice_lines(self.choices) if self.listed else [])

    def value(self, answer: Any) -> Any:
        """The answer as the profile holds it (blank text becomes None)."""
        if self.check is not None and isinstance(answer, str):
            answer = self.check(answer)
        if answer is None and self.default is None:
            raise ValueError("please give an answer")
        return answer


def choice_lines(choices: tuple[tuple[str, str], ...], wrap: bool = True) -> list[str]:
    """Each choice and its meaning; with ``wrap``, a long meaning wraps under itself."""
    width = max((len(v) for v, _ in choices), default=0)
    lines = [f"  {v.ljust(width)}  {m}" for v, m in choices]
    if not wrap:
        return lines
    hang = " " * (width + 4)
    return [part for line in lines for part in textwrap.wrap(line, 79, subsequent_indent=hang,
                                                             break_on_hyphens=False, break_long_words=False)]


Ask = Callable[[Question], Any]        # returns the answer, text already through Question.value
Say = Callable[[str], None]


class NothingWritten(ConsentgenError):
    """The user chose to keep a file; nothing was written."""

    exit_code = 1


def fill(paragraph: str) -> str:
    return textwrap.fill(paragraph, 79, break_on_hyphens=False, break_long_words=False)


def text(answer: str) -> str | None:
    return answer.strip() or None


def _checker(type_: Any, message: str) -> Callable[[str], Any]:
    adapter = TypeAdapter(type_)

    def check(answer: str) -> Any:
        if not answer.strip():
            return None
        try:
            return adapter.validate_python(answer.strip())
        except ValidationError:
            raise ValueError(message) from None
    return check


duration = _checker(Duration, "please give a number and a unit, like '24 hours', '2 business days' or '3 weeks'")
email = _checker(Email, "that does not look like an email address (like office@example.com)")


def state_code(answer: str) -> str | None:
    """'CO', 'co', 'us-co', 'Colorado' -> 'US-CO'; 'none' or blank -> None (no state pack)."""
    word = " ".join(answer.split()).lower()
    if word in ("", "none"):
        return None
    for code in available():
        if word in (code.lower(), code.lower().replace("-", " "), code[3:].lower(), load_pack(code).name.lower()):
            return code
    known = ", ".join(f"{code[3:]} ({load_pack(code).name})" for code in available())
    raise ValueError(f"I have no state rules for '{answer.strip()}'. Type one of {known}, "
                     "or none if you practice anywhere else")


def whole(low: int, high: int, what: str) -> Callable[[str], int | None]:
    """A check for a whole number from ``low`` to ``high`` (blank: None)."""
    def check(answer: str) -> int | None:
        if not answer.strip():
            return None
        try:
            value = int(answer.strip())
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ValueError(f"please give a number of {what} from {low} to {high}")
        return value
    return check


minutes = whole(10, 240, "minutes")


def optional_money(answer: str) -> Decimal | None:
    """An amount in dollars, or None for a blank answer (no such fee)."""
    return money(answer) if answer.strip() else None


def names(answer: str) -> list[str] | None:
    """'Aetna, Cigna' -> ['Aetna', 'Cigna']; blank -> None."""
    return [part.strip() for part in answer.split(",") if part.strip()] or None


def money(answer: str) -> Decimal:
    try:
        value = Decimal(answer.strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2 or value >= 10_000_000:
        raise ValueError("please give an amount in dollars, like 140")
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


class Interview:
    """The questions in order; the answers land in ``practice`` and ``clinician`` (profile data).

    What a state asks for comes from its pack: ``required`` lists the pack's requirements for the
    answers so far (its base, then the part for the license type once it is known), and each
    question a requirement needs is asked where it reads naturally; ``state_facts`` asks, at the
    end, whatever is still missing.
    """

    def __init__(self, ask: Ask, say: Say, kept_practice: dict | None = None):
        self.ask, self.say = ask, say
        kept = (kept_practice or {}).get("practice")
        self.kept: dict | None = kept if isinstance(kept, dict) else None
        code = self.kept.get("jurisdiction") if self.kept else None
        self.code: str | None = code if isinstance(code, str) else None
        self.practice: dict = {"schema": 1, "practice": {}, "packet": list(PACKET), "emergency": {}}
        self.clinician: dict = {"clinician": {}, "practice": {}, "policies": {}}
        self.license_asked = False

    @property
    def pack(self):
        return load_pack(self.code) if self.code else None

    @property
    def state(self) -> str:
        return self.pack.name if self.pack else "Your state"

    # -- what the state's pack asks of this clinician ---------------------------------------

    @property
    def license_type(self) -> str | None:
        return (self.clinician["clinician"].get("license") or {}).get("type")

    def parts(self) -> list:
        """The pack's parts for the license type: its own, or all of them (the strictest) when the pack does
        not know it. Empty until the license question is asked."""
        pack = self.pack
        if pack is None or not self.license_asked:
            return []
        profession = profession_of(pack, self.license_type)
        return [pack.professions[profession]] if profession else list(pack.professions.values())

    def applies(self, when: str) -> bool:
        pol = self.clinician["policies"]
        return {"always": True, "supervised": self.clinician["clinician"].get("status", "licensed") != "licensed",
                "sees-minors": bool(pol.get("therapy", {}).get("sees_minors")),
                "video": bool(pol.get("telehealth", {}).get("offered")),
                "uses-ai": pol.get("ai", {}).get("use", "none") != "none"}.get(when, True)

    def required(self) -> list:
        """The pack's requirements that apply to the answers so far."""
        if self.pack is None:
            return []
        found = [*self.pack.required, *(r for part in self.parts() for r in part.required)]
        return [r for r in found if self.applies(r.when)]

    def needs(self, key: str) -> bool:
        """Whether the practice's state requires ``key`` (then it may not be left blank)."""
        return any(r.key == key for r in self.required())

    def needs_board(self) -> bool:
        """Whether the state asks for the board's contact details and its pack has none for this license."""
        return any(r.key.split(".")[:2] == ["clinician", "board"] for r in self.required()) and self.board() is None

    def board(self):
        """The board the pack names for this license type, or None."""
        parts = self.parts()
        return parts[0].board.value if len(parts) == 1 and parts[0].board else None

    def technology_rules(self) -> bool:
        """Whether the state's pack says anything about artificial intelligence and other technology."""
        pack = self.pack
        return pack is not None and any(s.section == "technology" for s in (
            *pack.statements, *(s for part in pack.professions.values() for s in part.statements)))

    def answered(self, key: str) -> bool:
        """Whether ``key`` has a value: in the clinician's answers, the practice's, or the kept practice.yaml."""
        layers = [self.clinician, self.practice] + ([{"practice": self.kept}] if self.kept else [])
        for layer in layers:
            value: Any = layer
            for part in key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value not in (None, "", [], {}):
                return True
        return False

    # -- asking ------------------------------------------------------------------------------

    def q(self, prompt: str, default: Any = None, **kw) -> Any:
        """Ask one question and return its answer (text stripped; blank text is None)."""
        kw.setdefault("check", text if kw.get("kind", "text") == "text" else None)
        return self.ask(Question(prompt, default, **kw))

    def blank_ok(self, prompt: str, key: str = "", example: str | None = None) -> str | None:
        """A question that may be skipped, unless the practice's state requires the answer."""
        if self.needs(key):
            return self.q(prompt, help=f"{self.state} asks for this in your handouts.", example=example)
        return self.q(f"{prompt} (leave blank to skip)", "", example=example)

    def section(self, title: str, intro: str) -> None:
        self.say("")
        self.say(title)
        self.say(fill(intro))

    def about_practice(self) -> None:
        self.section("About your practice", "These details go on every handout.")
        p = self.practice["practice"]
        p["name"] = self.q("Practice name, as clients know it", example="Example Counseling")
        states = tuple((c, load_pack(c).name) for c in available()) + (("none", "Another state or country"),)
        self.code = p["jurisdiction"] = self.q(
            "State", "none", choices=states, check=state_code, help="Where are you licensed? Type the state "
            "(CO or Colorado, say): a state listed here adds what its law asks for. Anywhere else, type none.")
        self.office_phone()
        p["email"] = self.q("Office email (leave blank to skip)", "", check=email, example="office@example.com")
        self.office_address()
        if self.needs("practice.complaint_notice"):
            self.complaint_notice()

    def practice_block(self) -> dict:
        """Where practice details go: practice.yaml, or this clinician's own file when practice.yaml is kept."""
        return self.clinician["practice"] if self.kept is not None else self.practice["practice"]

    def office_phone(self) -> None:
        self.practice_block()["phone"] = self.blank_ok("Office phone number", "practice.phone", example="555-0100")

    def office_address(self) -> None:
        self.practice_block()["address"] = self.blank_ok("Street address, on one line", "practice.address",
                                                         example="100 Example Street, Suite 2, Anytown")

    def complaint_notice(self) -> None:
        self.practice_block()["complaint_notice"] = self.q("Complaint notice", help=(
            f"{self.state} prescribes a notice telling clients how to complain to your board. Paste it word for "
            "word, on one line."))

    def name(self) -> str:
        self.section("About you", "Your name, training and license, as clients will see them.")
        name = self.q("Your name, as clients should see it", example="Alex Example")
        self.clinician["clinician"]["name"] = name
        return name

    def about_you(self) -> None:
        self.credentials()
        self.license()
        c = self.clinician["clinician"]
        kind, parts = self.license_type, self.parts()
        part = parts[0] if kind and len(parts) == 1 else None
        supervised = part is not None and kind.casefold() in (t.casefold() for t in part.associate_types)
        c["status"] = self.q("Your status", "associate" if supervised else "licensed", kind="choice", choices=STATUS,
                             help=f"{kind} is a title for someone who works under a supervisor." if supervised else "")
        self.education()
        if c["status"] != "licensed":
            self.supervisor()
        if self.needs_board():
            self.ask_board()
        elif self.board() is not None and any(r.key.startswith("clinician.board") for r in self.required()):
            self.say(fill(f"Your handouts will tell clients how to reach the {self.board().name}: {self.state}'s "
                          "rules give its address and phone, so you need not type them."))

    def credentials(self) -> None:
        self.clinician["clinician"]["credentials"] = self.blank_ok(
            "Degrees and licenses after your name, e.g. MA, LPC", "clinician.credentials", example="MA, LPC")

    def license(self) -> None:
        """The license type (offering the types the state's rules know, and taking any), number and state."""
        self.license_asked = True
        c = self.clinician["clinician"]
        pack = self.pack
        if pack is None or not pack.professions:
            kind = self.blank_ok("License type, e.g. LMFT, LPC or LCSW", "clinician.license")
        else:
            choices = tuple(row for name, part in pack.professions.items() for row in license_rows(name, part))
            first = next(iter(pack.professions.values()))
            example = next(t for t in first.types if t not in first.associate_types)
            help = (f"{pack.name}'s rules differ by license. They know these (type yours as written here, "
                    "or as your board writes it):")
            prompt = f"License type, e.g. {example}"
            if self.needs("clinician.license"):
                kind = self.q(prompt, check=self.known_type, choices=choices, help=help, example=example)
            else:
                kind = self.q(f"{prompt} (leave blank if you have none yet)", "", check=self.known_type,
                              choices=choices, help=help, example=example)
            if profession_of(pack, kind) is None:
                self.say(fill((f"{pack.name}'s rules do not list '{kind}'. That is fine: your" if kind else
                               "Without a license type, your") + f" handouts will follow the strictest rules of "
                              f"{pack.name}'s professions, and 'consentgen check' will remind you of it with a "
                              "warning."))
        if kind:
            here = self.code[3:] if self.code else None
            c["license"] = {"type": kind, "number": self.q("License number", example="12345"),
                            "state": self.q(f"State that issued it, e.g. {here or 'CO'}", here)}

    def known_type(self, answer: str) -> str | None:
        """The license type as the state's pack spells it, when it knows it; else as typed."""
        answer = " ".join(answer.split())
        wanted = answer.casefold()
        for part in self.pack.professions.values():
            for t in part.types:
                if t.casefold() == wanted:
                    return t
        return answer or None

    def education(self) -> None:
        c = self.clinician["clinician"]
        asked = [key for key in ("education", "training") if self.needs(f"clinician.{key}")]
        if not asked:
            return
        self.say(fill(f"{self.state} asks you to tell clients about your education and training."))
        if "education" in asked:
            c["education"] = self.q("Your education: your degrees, with where and when you earned them",
                                    example="MA in Counseling, Example University, 2015")
        if "training" in asked:
            c["training"] = self.q("Your training: the supervised experience your license required, and any "
                                   "training since",
                                   example="2,000 hours of supervised practice; training in couples therapy")

    def supervisor(self) -> None:
        self.say("Clients of an associate or trainee need to know who supervises their care.")
        sup = self.clinician["clinician"]["supervisor"] = {
            "name": self.q("Your supervisor's name", example="Dr. Sam Example"),
            "credentials": self.blank_ok("Their degrees and licenses, e.g. PhD, LPC", example="PhD, LPC"),
            "phone": self.q("Their phone number", example="555-0156")}
        address, qualifications = (self.needs(f"clinician.supervisor.{k}") for k in ("address", "qualifications"))
        if address or qualifications:
            self.say(fill(f"{self.state} asks you to give clients your supervisor's "
                          + " and ".join(w for w, n in (("business address", address),
                                                        ("qualifications", qualifications)) if n) + "."))
        if address:
            sup["address"] = self.q("Their business address, on one line", example="200 Example Avenue, Anytown")
        if qualifications:
            sup["qualifications"] = self.q("Their qualifications as a supervisor, e.g. LPC-S, board-approved "
                                           "supervisor since 2012", example="LPC-S, board-approved supervisor")

    def ask_board(self) -> None:
        self.say(f"{self.state} asks you to tell clients how to reach your licensing board.")
        self.clinician["clinician"]["board"] = {
            "name": self.q("Your board's name", example="Example State Board of Counselors"),
            "address": self.q("Its mailing address, on one line", example="1 Example Plaza, Anytown"),
            "phone": self.q("Its phone number", example="555-0157"),
            "website": self.q("Its website (leave blank to skip)", "")}

    def policies(self) -> None:
        """The five boundary areas, each in its own section."""
        for area in (self.relationship, self.contact, self.self_disclosure, self.breaks, self.termination):
            area(self.clinician["policies"])

    def relationship(self, pol: dict) -> None:
        self.section("1. Your relationship with clients", "What happens outside the therapy hour. (Your "
                     "handouts always say that sexual contact is never acceptable; that is not a choice.)")
        r = pol["relationship"] = {"gifts": self.q("Gifts from clients", "discuss", kind="choice", choices=GIFTS)}
        if r["gifts"] == "small":
            r["gift_limit"] = self.q("The most a gift may be worth", "$20", check=self.gift_limit)
        r["chance_meetings"] = self.q("Meeting by chance", "client-leads", kind="choice", choices=MEETINGS)
        r["dual_relationships"] = "avoid"
        r["touch"] = self.q("Touch", "ask-first", kind="choice", choices=TOUCH)

    def contact(self, pol: dict) -> None:
        self.section("2. Contact between sessions", "For each way clients might reach you: is it used, what "
                     "for, and how soon you reply. Handouts always add that messages are not for emergencies.")
        c = pol["contact"] = {"hours": self.q("When do you read and answer messages?", "Monday to Friday, 9 am to 5 pm"),
                              "channels": {}}
        for i, (name, (label, reply_question)) in enumerate(CHANNELS.items()):
            use, reply = CHANNEL_DEFAULTS[name]
            channel = c["channels"][name] = {"use": self.q(label, use, kind="choice", choices=USE, listed=i == 0)}
            if channel["use"] != "none":
                channel["reply_within"] = self.q(reply_question, reply, check=duration)
            if name == "portal" and channel["use"] != "none":
                channel["private"] = self.q("Is the portal secure (encrypted, made for health care)?", True,
                                            kind="yes/no")
        used = [channel for channel in c["channels"].values() if channel["use"] != "none"]
        if used:
            cost = self.contact_cost()
            for channel in used:
                channel["cost"] = dict(cost)

    def contact_cost(self) -> dict:
        """What a call or message between sessions costs; {"fee": 0} is no charge."""
        if not self.q("Do you charge for calls or messages between sessions?", False, kind="yes/no",
                      help="Clients often ask whether a quick call or message between sessions costs anything."):
            return {"fee": 0}
        fee = self.q("What do you charge, in dollars?", check=money)
        per = self.q("For how many minutes? (leave blank: per call or message)", "", check=whole(1, 240, "minutes"))
        free = self.q("How many minutes are free before you charge?", 0, kind="number", most=240)
        return {"fee": fee, "per_minutes": per, "free_minutes": free or None}

    def self_disclosure(self, pol: dict) -> None:
        self.section("3. Sharing personal things", "When, if ever, you tell clients about your own life.")
        pol["self_disclosure"] = {"level": self.q("How much you share", "minimal", kind="choice", choices=SHARING)}

    def breaks(self, pol: dict) -> None:
        self.section("4. Breaks and vacations", "How far ahead you tell clients about a planned break, and "
                     "who they can reach while you are away.")
        b = pol["breaks"] = {"notice": self.q("How far ahead do you tell clients?", "2 weeks", check=duration)}
        if self.q("Who covers for you while you are away?", "colleague", kind="choice", choices=COVER) == "colleague":
            b["coverage"] = {"name": self.q("Name of the colleague who covers for you", check=self.not_me,
                                            example="Jordan Example"),
                             "credentials": self.blank_ok("Their degrees and licenses", example="LPC"),
                             "phone": self.q("Their phone number", example="555-0155")}
        else:
            name = self.q("Name of the service, e.g. a local crisis line or walk-in counseling center")
            phone = self.q("Its phone number")
            b["coverage_service"] = {"name": name, "phone": phone}
            self.say(fill(f"Your handouts will tell clients that no other therapist covers for you while you are "
                          f"away, and that if they need help before you are back, they can call {name} at {phone}. "
                          "In a crisis they call or text 988, or call 911, as always. If a colleague agrees to "
                          "cover later, put them in your file instead."))
        b["while_away"] = {"channels": [], "answer_after_return": self.q(
            "How soon after you are back do you answer messages sent during a break?", "2 business days",
            check=duration, help="Messages sent while you are away wait until you return.")}

    def termination(self, pol: dict) -> None:
        self.section("5. Ending therapy", "Clients may end therapy at any time. These say how you end well "
                     "when you are the one to suggest it.")
        notice = self.q("How many sessions ahead do you say so? (0: you talk it over first)", 2, kind="number",
                        help="If you suggest ending therapy:")
        if notice:
            final = self.q("Do you offer a last session to close well?", True, kind="yes/no")
        else:
            final = True
            self.say("With no notice, a last session keeps the ending from being abrupt, so you offer one.")
        inactive = self.q("If a client stops coming without a word, after how long do you write to them, and "
                          "close their file if they do not answer?", "30 days", check=duration)
        pol["termination"] = {"notice_sessions": notice, "final_session": final, "referrals": True,
                              "contact_after": "return-welcome", "inactive_after": inactive}

    def fees(self) -> None:
        """What a session costs, late cancellations and missed sessions, self-pay and insurance."""
        self.section("Fees and insurance", "What clients pay, and what happens when a session is cancelled "
                     "late or missed. Your fees handout shows these.")
        pol = self.clinician["policies"]
        length = self.q("How long is a regular session, in minutes?", 50, check=minutes)
        pol["therapy"] = {"session_minutes": length}
        fees = pol["fees"] = {}
        self.session_fee()
        fees["paid_ahead"] = self.q("Do clients ever pay ahead?", "never", kind="choice", choices=PAID_AHEAD)
        fees["refund_days"] = self.q(
            "If a client paid for a session that does not take place, within how many days do you refund it?",
            30, check=whole(1, 90, "days"))
        hours = self.q("How many hours ahead must clients cancel a session?", 24, kind="number", most=168)
        cancellation = fees["cancellation"] = {"notice_hours": hours}
        if hours:
            cancellation["late_fee"] = self.q("Fee for cancelling later than that, in dollars (leave blank for "
                                              "none)", "", check=optional_money, example="70")
        cancellation["no_show_fee"] = self.q("Fee for a missed session with no word, in dollars (leave blank "
                                             "for none)", "", check=optional_money, example="140")
        fees["insurance"] = {
            "in_network": self.q("Insurance plans you are in network with, separated by commas (leave blank for "
                                 "none)", "", check=names) or [],
            "superbills": self.q("Do you give receipts (superbills) that clients can send to their insurer?",
                                 True, kind="yes/no")}

    def session_fee(self) -> None:
        pol = self.clinician["policies"]
        length = pol.get("therapy", {}).get("session_minutes", 50)
        prompt = f"Your fee for a {length}-minute session, in dollars"
        if self.needs("policies.fees.services"):
            fee = self.q(prompt, check=optional_money, example="140", help=f"{self.state} asks you to list your fees.")
        else:
            fee = self.q(f"{prompt} (leave blank to skip)", "", check=optional_money, example="140")
        if fee is not None:
            pol.setdefault("fees", {})["services"] = [{"name": f"Individual session ({length} minutes)", "fee": fee}]

    def technology(self) -> None:
        """Software with artificial intelligence: whether it is used, what for, and whether it records sessions."""
        self.section("Software with artificial intelligence", "Some therapists use software with artificial "
                     "intelligence (AI), for example to book sessions or to draft notes. If you do, your handouts "
                     "tell clients what it does, and that you stay responsible for their care.")
        rules = (f"{self.state} law limits how therapists may use AI; your handouts explain those limits either "
                 "way.") if self.technology_rules() else ""
        ai = self.clinician["policies"]["ai"] = {
            "use": self.q("Do you use software with AI in your work?", "none", kind="choice", choices=AI_USE,
                          help=rules)}
        if ai["use"] != "none":
            ai["purpose"] = self.q(f"What does it do? Finish the sentence: {AI_SENTENCE} ...", check=ai_purpose,
                                   example="drafts my session notes, which I check and correct")
        if ai["use"] == "supplementary":
            ai["transcribes_sessions"] = self.q(
                "Do you record or transcribe sessions with it?", False, kind="yes/no",
                help="If you do, you ask each client first for a separate written consent, which they may "
                     "refuse or take back at any time.")

    def not_me(self, answer: str) -> str | None:
        mine = self.clinician["clinician"].get("name")
        if mine and slug(answer) == slug(mine):
            raise ValueError("that is you; clients need someone else to reach while you are away")
        return text(answer)

    def gift_cap(self) -> int | None:
        """The most a gift may be worth under the state's rules for this license (the lowest of its
        professions' caps when the license type is not one it knows)."""
        pack = self.pack
        if pack is None:
            return None
        parts = self.parts() or list(pack.professions.values())
        caps = [p.gift_cap.value for p in parts if p.gift_cap and p.gift_cap.value is not None]
        if not caps and pack.gift_cap and pack.gift_cap.value is not None:
            caps = [pack.gift_cap.value]
        return min(caps, default=None)

    def gift_limit(self, answer: str) -> str:
        limit = money(answer)
        cap = self.gift_cap()
        if cap is not None and limit > cap:
            raise ValueError(f"{self.state} does not allow gifts worth more than ${cap}")
        return f"${limit}"

    def crisis(self) -> None:
        self.section("In a crisis", "Your handouts tell clients to call or text 988 (the Suicide & Crisis "
                     "Lifeline) or to call 911. You may add a local crisis line as well.")
        emergency = self.practice["emergency"]
        emergency["crisis_lines"] = [dict(line) for line in CRISIS_LINES]
        name = self.blank_ok("Name of a local crisis line")
        if name:
            emergency["local_crisis"] = {"name": name, "phone": self.q("Its phone number")}

    def state_facts(self) -> None:
        """Whatever the state's pack requires that the questions so far left empty, each asked in plain words."""
        for req in self.required():
            if self.answered(req.key) or req.key.startswith("clinician.board") and not self.needs_board():
                continue
            ask = self.ASKERS.get(req.key)
            if ask is not None:
                getattr(self, ask)()
            else:
                self.say(fill(f"{self.state} also asks for {req.key} ({req.source.cite}). I cannot ask for it "
                              "here: add it to your file, and 'consentgen check' will show you where."))

    def approach(self) -> None:
        therapy = self.clinician["policies"].setdefault("therapy", {})
        approach = self.q("How you work, in plain words, e.g. talk therapy that looks at how your thoughts, "
                          "feelings and habits connect", help=f"{self.state} asks you to describe your approach.",
                          example="talk therapy that looks at how your thoughts, feelings and habits connect")
        self.clinician["policies"]["therapy"] = {"approach": approach, **therapy}

    def custodian(self) -> None:
        self.say(f"{self.state} asks who keeps your records safe if you die or cannot practice.")
        self.clinician["policies"]["records"] = {"custodian": {
            "name": self.q("Their name", example="Jordan Example"),
            "phone": self.q("Their phone number", example="555-0155")}}

    def supervisor_details(self) -> None:
        """Asked only if the status is supervised and the supervisor is somehow incomplete."""
        sup = self.clinician["clinician"].get("supervisor")
        if sup is None:
            self.supervisor()
            return
        if self.needs("clinician.supervisor.address") and not sup.get("address"):
            sup["address"] = self.q("Your supervisor's business address, on one line",
                                    example="200 Example Avenue, Anytown")
        if self.needs("clinician.supervisor.qualifications") and not sup.get("qualifications"):
            sup["qualifications"] = self.q("Your supervisor's qualifications, e.g. LPC-S, board-approved "
                                           "supervisor since 2012", example="LPC-S, board-approved supervisor")

    #: The profile keys a pack may require, and the question that fills each (for ``state_facts``).
    ASKERS = {
        "practice.address": "office_address", "practice.phone": "office_phone",
        "practice.complaint_notice": "complaint_notice", "clinician.credentials": "credentials",
        "clinician.license": "license", "clinician.education": "education", "clinician.training": "education",
        "clinician.supervisor": "supervisor_details", "clinician.supervisor.address": "supervisor_details",
        "clinician.supervisor.qualifications": "supervisor_details", "clinician.board": "ask_board",
        "clinician.board.address": "ask_board", "clinician.board.phone": "ask_board",
        "policies.therapy.approach": "approach", "policies.fees.services": "session_fee",
        "policies.records.custodian": "custodian"}


def license_rows(profession: str, part) -> list[tuple[str, str]]:
    """A profession's license types for the listing: its own, then (on a line of their own) the titles of
    those who work under supervision."""
    own = [t for t in part.types if t not in part.associate_types]
    rows = [(PROFESSION_WORDS.get(profession, profession), ", ".join(own))]
    if part.associate_types:
        rows.append(("", "under supervision: " + ", ".join(part.associate_types)))
    return rows


def ai_purpose(answer: str) -> str | None:
    """What the software does, as the end of 'I use software with artificial intelligence, which ...'."""
    words = " ".join(answer.split()).rstrip(". ")
    return re.sub(r"(?i)^(i use software with (artificial intelligence|ai),? )?which\s+", "", words) or None


# The profile keys a jurisdiction pack may require that the questions can fill.
STATE_KEYS = frozenset(Interview.ASKERS)


# ---- the files -------------------------------------------------------------------------------

_NOT_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")          # in a comment, \r would end it; names go there too


def scalar(value: Any) -> str:
    """One value as YAML: strings JSON-quoted (valid YAML whatever they hold), numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    quoted = json.dumps(str(value), ensure_ascii=False)
    # JSON leaves these raw; YAML reads them as line breaks or refuses them, so escape them too.
    return _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _comment(note: str, indent: str) -> list[str]:
    """A note as comment lines; an indented line (a choice and its meaning) wraps under the meaning."""
    lines = []
    for line in _NOT_PRINTABLE.sub(" ", _CONTROL.sub(" ", note)).split("\n"):
        hang = re.match(r"(\s+\S+\s+)?", line).group(0) if line.startswith(" ") else ""
        wrapped = textwrap.wrap(line, 78 - len(indent), subsequent_indent=" " * len(hang), break_on_hyphens=False,
                                break_long_words=False) or [""]
        lines += [f"{indent}# {part}".rstrip() for part in wrapped]
    return lines


def to_yaml(data: dict, notes: dict[str, str], header: str) -> str:
    """The profile as YAML text, with each note as a comment above its key."""
    lines = _comment(header, "")
    _emit(data, notes, (), lines)
    return "\n".join(lines) + "\n"


INLINE = frozenset({"cost"})        # small mappings written on one line, like {fee: 0}


def _flow(item: dict) -> str:
    return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in item.items() if v is not None) + "}"


def _emit(data: dict, notes: dict[str, str], path: tuple[str, ...], lines: list[str]) -> None:
    indent = "  " * len(path)
    for key, value in data.items():
        if value is None or value == {}:
            continue
        here = path + (key,)
        note = notes.get(".".join(here))
        inline = key in INLINE and isinstance(value, dict)
        if note is not None:
            if (not path or isinstance(value, dict) and not inline) and not lines[-1].endswith(":"):
                lines.append("")
            lines += _comment(note, indent)
        if inline:
            lines.append(f"{indent}{key}: {_flow(value)}")
        elif isinstance(value, dict):
            lines.append(f"{indent}{key}:")
            _emit(value, notes, here, lines)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{indent}{key}:")
            for item in value:
                lines.append(f"{indent}  - {_flow(item)}")
        else:
            lines.append(f"{indent}{key}: {scalar(value)}")


def _options(title: str, choices: tuple[tuple[str, str], ...]) -> str:
    return "\n".join([title, *choice_lines(choices, wrap=False)])


_EDIT = ("Lines that start with # are notes for you; clients never see them. Change any value "
         "between the quotes, and keep the quotes. Every setting is explained in the README's "
         "profile reference.")
_EXAMPLE = ("This is an EXAMPLE: every name, number and address in it is made up. Replace them "
            "with your own before you give these handouts to anyone.")


def practice_notes(it: Interview, example: bool) -> tuple[str, dict[str, str]]:
    name = it.practice["practice"]["name"]
    header = (f"{name}: your practice's details, shared by every clinician in clinicians/.\n"
              + (f"{_EXAMPLE}\n" if example else "") + _EDIT
              + "\nAfter a change, check your files from this folder with:\n  consentgen check clinicians/*.yaml")
    packs = ", ".join(available())
    state = "" if it.code else (f"\nTo add what a state's law asks for ({packs}), add a line "
                                'like this under name:\n  jurisdiction: "US-CO"')
    notes = {
        "schema": "The profile format. Leave it as 1.",
        "practice": "Your practice, as clients know it. These details appear on every handout." + state,
        "practice.jurisdiction": f"Where you are licensed ({packs}). 'consentgen check' names any fact "
                                 "this state's law asks for that is missing.",
        "practice.complaint_notice": "The complaint notice your state prescribes, word for word.",
        "packet": "The handouts 'consentgen build' makes, in this order; 'consentgen templates' lists every "
                  "handout you can add. The fees handout shows the fees set in each clinician's file.",
        "emergency": "What your handouts tell clients to do in a crisis, in this order. Keep 988 and 911.",
        "emergency.local_crisis": "A local crisis line, listed after the lines above.",
    }
    return header, notes


def clinician_notes(it: Interview, file: str, example: bool) -> tuple[str, dict[str, str]]:
    name = it.clinician["clinician"]["name"]
    header = (f"{name}: you and your policies. This file is layered over ../practice.yaml: "
              "what it says adds to that file, or replaces it for you.\n"
              + (f"{_EXAMPLE}\n" if example else "") + _EDIT
              + f"\nAfter a change, check it from the practice folder with:\n  consentgen check clinicians/{file}")
    license = "" if "license" in it.clinician["clinician"] else (
        '\nTo add your license, add a line like this under name:\n  license: {type: "LPC", number: "12345", state: "CO"}')
    if it.pack is not None and it.pack.professions:
        kind = it.license_type
        known = profession_of(it.pack, kind) is not None
        license_note = (f"Your license: its type, its number, and the state that issued it. 'consentgen packs "
                        f"{it.code}' lists the license types {it.pack.name}'s rules know"
                        + ("." if known else f"; for any other type the strictest rules of {it.pack.name}'s "
                           "professions apply, and 'consentgen check' warns."))
    else:
        license_note = "Your license: its type, its number, and the state that issued it."
    supervisor = "Your clinical supervisor. Clients may contact them about your work together."
    sup = it.clinician["clinician"].get("supervisor") or {}
    if sup.get("address") or sup.get("qualifications"):
        supervisor += (f" {it.state} asks you to give clients their business address and their qualifications "
                       "as a supervisor (address, qualifications).")
    coverage = ("EXAMPLE ONLY: Jordan Example and this number are made up. Replace them with the "
                "colleague who really covers for you, and their phone number." if example else
                "The colleague clients can reach while you are away.")
    notes = {
        "clinician": "About you, as clients will see it." + license,
        "clinician.status": _options("Your status, one of:", STATUS),
        "clinician.license": license_note,
        "clinician.education": "Your degrees, with where and when you earned them. Clients read it with the rest "
                               "about you.",
        "clinician.training": "The training and supervised experience your license required, and any training "
                              "since.",
        "clinician.supervisor": supervisor,
        "clinician.board": "The board that licenses you: its name, mailing address, phone and website. Clients "
                           "may contact it with a complaint.",
        "practice": "Practice settings that are yours alone; for you they replace those in ../practice.yaml.",
        "practice.phone": "The office phone number, for appointments and bills.",
        "practice.address": "The street address, on one line.",
        "practice.complaint_notice": "The complaint notice your state prescribes, word for word.",
        "policies": "Your policies. Each block below becomes part of your handouts.",
        "policies.relationship": "1. Your relationship with clients. Your handouts always say that sexual "
                                 "contact is never acceptable, during therapy or after it; that is not a setting.",
        "policies.relationship.gifts": _options("Gifts from clients, one of:", GIFTS),
        "policies.relationship.gift_limit": "The most a gift may be worth.",
        "policies.relationship.chance_meetings": _options("Meeting by chance, one of:", MEETINGS),
        "policies.relationship.dual_relationships": _options("Other roles in a client's life, one of:", DUAL),
        "policies.relationship.touch": _options("Touch, one of:", TOUCH),
        "policies.contact": "2. Contact between sessions. Your handouts always say that messages are not "
                            "for emergencies.",
        "policies.contact.hours": "When you read and answer messages.",
        "policies.contact.channels": _options("Each way to reach you. use is one of:", USE) + "\n"
            'reply_within: how soon you reply, like "1 business day" or "4 hours". private: true only for '
            "a secure, encrypted channel. cost: what a call or message costs the client; {fee: 0} is no "
            "charge, {fee: 40, per_minutes: 15, free_minutes: 10} is $40 for each 15 minutes after the first 10 "
            "free ones. Ways not listed here (video, social_media) are not used.",
        "policies.self_disclosure": "3. Sharing personal things.\n" + _options("level is one of:", SHARING),
        "policies.breaks": "4. Breaks and vacations. notice: how far ahead you tell clients about a planned break.",
        "policies.breaks.coverage": coverage,
        "policies.breaks.coverage_service": "No colleague covers for you. While you are away, your handouts tell "
                                            "clients to call this service if they need help before you are back "
                                            "(and, in a crisis, 988 or 911). If a colleague agrees to cover, "
                                            "replace this block with coverage: and their name, credentials and "
                                            "phone.",
        "policies.breaks.while_away": "channels: ways clients may still reach you while you are away; [] means "
                                      'none. To allow email, write ["email"], and add reply_within: "3 days" '
                                      "below it unless you answer only when you are back. answer_after_return: "
                                      "how soon after you are back you answer messages sent during the break.",
        "policies.termination": "5. Ending therapy. Clients may end therapy at any time; this says how you end "
                                "well when you suggest it. notice_sessions: sessions of notice before the last "
                                "one (0: you talk it over first). final_session: a last session to close well. "
                                "referrals: you help find other care. contact_after: return-welcome (clients may "
                                "come back later) or none. inactive_after: if a client stops coming without a "
                                "word, after how long you write to them, and close their file if they do not "
                                "answer.",
        "policies.therapy": "What therapy with you involves.",
        "policies.therapy.approach": "How you work, in plain words; your state asks you to describe it.",
        "policies.therapy.session_minutes": "How long a regular session lasts, in minutes.",
        "policies.fees": "Your fees. Clients see them in your fees handout.",
        "policies.fees.services": 'Each service and its fee in dollars. Add a line for each other service, like '
                                  '{name: "Couples session (50 minutes)", fee: 160}.',
        "policies.fees.cancellation": "notice_hours: how many hours ahead clients must cancel a session. "
                                      "late_fee: what you charge for cancelling later than that. no_show_fee: "
                                      "what you charge for a missed session with no word. A fee that is not "
                                      "listed is not charged.",
        "policies.fees.insurance": "in_network: the insurance plans you are in network with, like "
                                   '["Aetna", "Cigna"]; [] means none. superbills: true if you give receipts '
                                   "clients can send to their insurer.",
        "policies.records": "custodian: who keeps your records safe if you die or cannot practice.",
        "policies.fees.paid_ahead": _options("Whether clients pay ahead, one of:", PAID_AHEAD),
        "policies.fees.refund_days": "If a client paid for a session that does not take place, you refund it "
                                     "within this many days.",
        "policies.ai": _options("Software with artificial intelligence (AI) in your work. use is one of:", AI_USE)
                       + f"\npurpose: what it does, finishing the sentence '{AI_SENTENCE} ...'. "
                         "transcribes_sessions: true if it records or transcribes sessions (then you ask each "
                         "client first for a separate written consent).",
    }
    return header, notes


# ---- running it ------------------------------------------------------------------------------

INTRO = ("I will ask about your practice, about you, about five things clients often wonder about: "
         "your relationship, contact between sessions, what you share about yourself, breaks, and how "
         "therapy ends, then about your fees and any software with artificial intelligence you use. Press "
         "Enter to keep the answer shown in [brackets]. Nothing is final: your answers go into {practice} and "
         "{folder}/YOUR-NAME.yaml, and you can change any of them there later.")


def example_answer(question: Question) -> Any:
    """The answer --yes gives: the question's example, else its default."""
    return question.value(question.example if question.example is not None else question.default)


def run(directory: Path, ask: Ask, say: Say, *, yes: bool = False, force: bool = False) -> tuple[Path, ...]:
    """Ask the questions (with ``yes``, take every example answer) and write the files.

    Returns the files written, the clinician file last. An existing file is replaced only
    with ``force`` or when the user agrees; with ``yes`` (and no ``force``) it is an error.
    """
    if yes:
        ask, say = example_answer, (lambda line: None)

    def may_replace(path: Path, question: str, help: str = "") -> bool:
        if force or not path.exists():
            return True
        if yes:
            raise ConsentgenError(f"{display_path(path)} already exists; use --force to replace it")
        return ask(Question(f"{display_path(path)} already exists. {question}", False, "yes/no", help=help))

    practice = directory / "practice.yaml"
    say("Welcome! This sets up your client handouts in a few minutes.")
    say(fill(INTRO.format(practice=display_path(practice), folder=display_path(directory / "clinicians"))))
    kept = None
    if not may_replace(practice, "Replace it with new answers?",
                       "If not, I keep it as it is and add you to that practice."):
        kept, _ = read_yaml(practice)
    it = Interview(ask, say, kept)
    if kept is None:
        it.about_practice()
    clinician = directory / "clinicians" / f"{slug(it.name())}.yaml"
    if not may_replace(clinician, "Replace it?"):
        raise NothingWritten(f"kept {display_path(clinician)} as it was; nothing was written")
    it.about_you()
    it.policies()
    it.fees()
    it.technology()
    if kept is None:
        it.crisis()
    it.state_facts()
    return write(it, practice if kept is None else None, clinician, example=yes)


def write(it: Interview, practice: Path | None, clinician: Path, *, example: bool) -> tuple[Path, ...]:
    outputs = {}
    if practice is not None:
        header, notes = practice_notes(it, example)
        outputs[practice] = to_yaml(it.practice, notes, header).encode()
    header, notes = clinician_notes(it, clinician.name, example)
    outputs[clinician] = to_yaml(it.clinician, notes, header).encode()
    return tuple(write_all(outputs))


def next_steps(directory: Path, clinician: Path, example: bool = False) -> str:
    folder = display_path(directory)
    made_up = "\nEvery name and number in these files is made up: put in your own." if example else ""
    return (f"{made_up}\nNext: read and adjust {display_path(clinician)}, then make your handouts with\n"
            f"  consentgen build {folder} -o handouts\n"
            f"and check again after each change with\n"
            f"  consentgen check {display_path(clinician.parent)}/*.yaml")

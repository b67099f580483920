"""`consentgen init` as a therapist meets it, and the pre-commit hook a practice repository uses."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from consentgen import init as wizard
from consentgen.jurisdictions import available, load_pack, missing_required, resolve
from consentgen.pack_model import PROFESSION_WORDS
from consentgen.profiles import load_profile

from .conftest import ROOT
from .readback import pdf_text

# One answer per prompt, in order: a Colorado associate whose choices differ from the defaults.
COLORADO_ASSOCIATE = [
    ("Practice name", "Aspen Path Counseling"),
    ("State", "Colorada"),                     # refused, asked again
    ("State", "co"),
    ("Office phone number", "555-0120"),
    ("Office email", "not an email"),          # refused, asked again
    ("Office email", "hello@aspenpath.example"),
    ("Street address", "12 Aspen Way, Boulder, CO 80302"),
    ("Your name", "Maya O'Connor"),
    ("Degrees and licenses", "MA, LPCC"),
    ("License type, e.g. LPC", "lpcc"),        # Colorado's candidate title, in her own case
    ("License number", "LPCC.0011223"),
    ("State that issued it", ""),              # Enter keeps the suggested CO
    ("Your status", ""),                       # Enter keeps associate, suggested by her title
    ("Your education", "MA in Clinical Mental Health Counseling, Naropa University, 2022"),
    ("Your training", "1,200 hours of supervised practice so far"),
    ("Your supervisor's name", "Dr. Lena Brooks"),
    ("Their degrees and licenses", "PhD, LPC"),
    ("Their phone number", "555-0121"),
    ("Gifts from clients", "small"),
    ("The most a gift may be worth", "15"),
    ("Meeting by chance", "no-greeting"),
    ("Touch", "none"),
    ("When do you read and answer messages?", "Tuesday to Friday, 10 am to 4 pm"),
    ("Phone calls", "check-ins"),
    ("How soon do you return calls and voicemails?", "4 hour"),
    ("Text messages", "check-ins"),
    ("How soon do you answer texts?", "soon"),  # refused, asked again
    ("How soon do you answer texts?", "1 business day"),
    ("Email", "none"),
    ("Client portal messages", "scheduling"),
    ("How soon do you answer portal messages?", "2 business days"),
    ("Is the portal secure", "y"),
    ("Do you charge for calls or messages between sessions?", "y"),
    ("What do you charge, in dollars?", "40"),
    ("For how many minutes?", "15"),
    ("How many minutes are free before you charge?", "10"),
    ("How much you share", "occasional"),
    ("How far ahead do you tell clients?", "3 weeks"),
    ("Who covers for you while you are away?", ""),                  # Enter keeps colleague
    ("Name of the colleague who covers for you", "maya o'connor"),   # refused: that is her
    ("Name of the colleague who covers for you", "Priya Raman"),
    ("Their degrees and licenses", "LPC"),
    ("Their phone number", "555-0123"),
    ("How soon after you are back do you answer messages sent during a break?", "3 business days"),
    ("How many sessions ahead do you say so?", "3"),
    ("Do you offer a last session", "n"),
    ("If a client stops coming without a word", "45 days"),
    ("How long is a regular session, in minutes?", "55"),
    ("Your fee for a 55-minute session", "150"),
    ("Do clients ever pay ahead?", "first-session"),
    ("within how many days do you refund it?", "120"),   # refused: 1 to 90
    ("within how many days do you refund it?", "14"),
    ("How many hours ahead must clients cancel a session?", "48"),
    ("Fee for cancelling later than that", "$75"),
    ("Fee for a missed session with no word", ""),                   # none
    ("Insurance plans you are in network with", "Front Range Health Plan, Aspen Care"),
    ("Do you give receipts (superbills)", "n"),
    ("Do you use software with AI in your work?", "supplementary"),
    ("What does it do?", "Which drafts my session notes, which I check and correct."),
    ("Do you record or transcribe sessions with it?", "n"),
    ("Name of a local crisis line", "Boulder County Crisis Line"),
    ("Its phone number", "555-0124"),
]


@pytest.fixture
def cli(runner):
    """Run the CLI with optional typed input; returns click's Result."""
    from consentgen.cli import main

    def _run(*args, input: str | None = None):
        return runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)

    return _run


def answers(script) -> str:
    return "".join(answer + "\n" for _, answer in script)


def assert_asked_in_order(output: str, script) -> None:
    at = 0
    for prompt, _ in script:
        found = output.find(prompt, at)
        assert found >= 0, f"prompt {prompt!r} not asked (in this order)"
        at = found + len(prompt)


def assert_checks_clean(cli, clinician: Path, *options) -> None:
    """check exits 0, and no error or warning points into the files init wrote (the handouts' own wording
    aside; a note that a fact of the state's pack is not verified is for the practice to read, not to fix)."""
    result = cli("check", "--format", "json", *options, clinician)
    assert result.exit_code == 0, result.output
    findings = [f for p in json.loads(result.stdout)["profiles"] for f in p["findings"]]
    assert [f for f in findings if f["file"].endswith(".yaml") and f["severity"] != "info"] == []


def check_and_build(cli, folder: Path, clinician: Path, tmp_path: Path) -> str:
    """check exits 0, build exits 0 (into tmp_path/out); returns the text of the built our-relationship handout."""
    assert load_profile(clinician).profile
    assert_checks_clean(cli, clinician)
    out = tmp_path / "out"
    result = cli("build", folder, "-o", out, "--format", "pdf", "-q")
    assert result.exit_code == 0, result.output
    return pdf_text(out / clinician.stem / "our-relationship.pdf")


def key_comments(text: str) -> dict[str, str]:
    """Each key of a file init wrote (dotted) -> the comment lines right above it."""
    found, path, above = {}, [], []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("# "))
            continue
        match = re.match(r"( *)([a-z_]+):", line)
        if match:
            depth = len(match.group(1)) // 2
            path[depth:] = [match.group(2)]
            found[".".join(path)] = " ".join(above)
        above = [] if stripped else above
    return found


def assert_explained(text: str, keys) -> None:
    """Every key has a note of its own, or a note on a block around it names it."""
    comments = key_comments(text)
    for key in keys:
        assert key in comments, f"{key} was not written"
        parts = key.split(".")
        around = [comments.get(".".join(parts[:i]), "") for i in range(1, len(parts))]
        assert comments[key] or any(re.search(rf"\b{parts[-1]}\b", note) for note in around), key


def test_the_questions_become_commented_profile_files(cli, tmp_path):
    folder = tmp_path / "aspen"
    result = cli("init", folder, input=answers(COLORADO_ASSOCIATE))
    assert result.exit_code == 0, result.output
    assert_asked_in_order(result.output, COLORADO_ASSOCIATE)
    assert "  ask-first  A handshake or similar" in result.output           # each choice explained
    assert "  professional counselor         LPC, Licensed Professional Counselor" in result.output  # her state's
    assert "under supervision: LPCC" in result.output                                            # license types
    assert "LPCC is a title for someone who works under a supervisor." in result.output
    assert "Your board's name" not in result.output                          # Colorado's rules give it
    shown = " ".join(result.output.split())
    assert "how to reach the Colorado State Board of Licensed Professional Counselor Examiners" in shown
    assert "please give a number of days from 1 to 90" in result.output
    assert "please give a number and a unit" in result.output               # a bad answer asked again
    assert "that is you; clients need someone else" in result.output
    assert "Checking" in result.output and "0 errors" in result.output       # the check ran
    assert "consentgen build" in result.output                               # and told what comes next

    practice = (folder / "practice.yaml").read_text()
    clinician_file = folder / "clinicians" / "maya-o-connor.yaml"
    mine = clinician_file.read_text()
    assert "I have no state rules for 'Colorada'. Type one of CA (California), CO (Colorado)" in result.output
    assert 'jurisdiction: "US-CO"' in practice and '"hello@aspenpath.example"' in practice
    assert '{name: "988 Suicide & Crisis Lifeline", number: "988"' in practice
    assert '# What your handouts tell clients to do in a crisis' in practice
    for expected in ('name: "Maya O\'Connor"', 'status: "associate"', 'name: "Dr. Lena Brooks"',
                     'state: "CO"', 'gift_limit: "$15"', 'chance_meetings: "no-greeting"', 'touch: "none"',
                     'reply_within: "4 hours"', 'private: true', 'level: "occasional"', 'notice: "3 weeks"',
                     'name: "Priya Raman"', 'notice_sessions: 3', 'final_session: false',
                     "# Your clinical supervisor.", "#   no-greeting   You will not greet",
                     "# 4. Breaks and vacations.", 'type: "LPCC"',
                     'education: "MA in Clinical Mental Health Counseling, Naropa University, 2022"',
                     'training: "1,200 hours of supervised practice so far"', 'paid_ahead: "first-session"',
                     "refund_days: 14", 'use: "supplementary"',
                     'purpose: "drafts my session notes, which I check and correct"', "transcribes_sessions: false",
                     "cost: {fee: 40, per_minutes: 15, free_minutes: 10}", 'answer_after_return: "3 business days"',
                     'inactive_after: "45 days"', "session_minutes: 55",
                     '- {name: "Individual session (55 minutes)", fee: 150}', "late_fee: 75",
                     'in_network: ["Front Range Health Plan", "Aspen Care"]', "superbills: false"):
        assert expected in mine, expected
    assert not re.search(r"^ *no_show_fee:", mine, re.M)                     # blank: no such fee
    assert not re.search(r"^ *board:", mine, re.M)                           # the pack's board is used
    assert_explained(mine, (*NEW_KEYS, *STATE_AND_AI_KEYS))

    loaded = load_profile(clinician_file)
    profile = loaded.profile
    assert profile.clinician.supervisor.phone == "555-0121"
    assert profile.clinician.board is None
    assert profile.policies.contact.channels.email.use == "none"
    assert profile.emergency.local_crisis.name == "Boulder County Crisis Line"
    fees = profile.policies.fees
    assert [(s.name, s.fee) for s in fees.services] == [("Individual session (55 minutes)", 150)]
    assert (fees.cancellation.notice_hours, fees.cancellation.late_fee, fees.cancellation.no_show_fee) == (48, 75, None)
    assert fees.insurance.superbills is False
    text = check_and_build(cli, folder, clinician_file, tmp_path)
    assert "Priya Raman" in text and "3 weeks" in text
    fees_handout = pdf_text(tmp_path / "out" / "maya-o-connor" / "fees-and-cancellations.pdf")
    for said in ("Individual session (55 minutes)", "$150", "48 hours", "$75", "Front Range Health Plan"):
        assert said in fees_handout, said
    assert "ask me about my fees" not in fees_handout
    assert "To book your first session, I ask you to pay for it ahead" in fees_handout
    assert "within 14 days" in fees_handout
    consent = " ".join(pdf_text(tmp_path / "out" / "maya-o-connor" / "informed-consent.pdf").split())
    for said in ("MA in Clinical Mental Health Counseling, Naropa University, 2022",
                 "Colorado State Board of Licensed Professional Counselor Examiners", "303-894-7800",
                 "I use software with artificial intelligence, which drafts my session notes, which I check and "
                 "correct."):
        assert said in consent, said


# The keys init writes that a new user met as rough edges (issue 8); each must come with a note.
NEW_KEYS = ("policies.contact.channels.phone.cost",
            "policies.breaks.while_away.answer_after_return", "policies.termination.inactive_after",
            "policies.therapy.session_minutes", "policies.fees.services", "policies.fees.cancellation.notice_hours",
            "policies.fees.cancellation.late_fee", "policies.fees.insurance.in_network",
            "policies.fees.insurance.superbills")
# The keys a state's pack, and software with AI, add; each must come with a note too.
STATE_AND_AI_KEYS = ("clinician.education", "clinician.training", "policies.fees.paid_ahead",
                     "policies.fees.refund_days", "policies.ai.use", "policies.ai.purpose",
                     "policies.ai.transcribes_sessions")


def test_yes_writes_a_complete_example_without_questions(cli, tmp_path):
    result = cli("init", tmp_path / "p", "--yes")
    assert result.exit_code == 0, result.output
    assert "?" not in result.output.split("Checking")[0]                     # nothing was asked
    clinician = tmp_path / "p" / "clinicians" / "alex-example.yaml"
    text = clinician.read_text()
    assert "EXAMPLE ONLY: Jordan Example" in text and 'phone: "555-0155"' in text
    profile = load_profile(clinician).profile
    policies = profile.policies
    assert policies.breaks.coverage.name == "Jordan Example"
    assert [line.number for line in profile.emergency.crisis_lines] == ["988", "911"]
    for area in ("relationship", "contact", "self_disclosure", "breaks", "termination", "fees"):
        assert f"\n  {area}:\n" in text, area                               # every area written out
    # What clients ask and the handouts answer only when these are set (check warns when they are not).
    used = [getattr(policies.contact.channels, c) for c in ("phone", "text", "email", "portal")]
    assert [c.cost.fee for c in used if c.use != "none"] == [0, 0]
    assert policies.termination.inactive_after == "30 days"
    assert policies.breaks.while_away.answer_after_return == "2 business days"
    assert [(s.name, s.fee) for s in policies.fees.services] == [("Individual session (50 minutes)", 140)]
    assert_explained(text, (*NEW_KEYS, "policies.fees.paid_ahead", "policies.fees.refund_days", "policies.ai.use"))
    assert 'use: "none"' in text and 'paid_ahead: "never"' in text
    assert "Jordan Example" in check_and_build(cli, tmp_path / "p", clinician, tmp_path)
    fees = pdf_text(tmp_path / "out" / "alex-example" / "fees-and-cancellations.pdf")
    assert "$140" in fees and "Good Faith Estimate" in fees and "ask me about my fees" not in fees


def auto(state: str, **typed):
    """Answer like a user who keeps every suggestion and fills what is required.

    ``typed`` maps a prompt's first words (spaces as underscores) to what the user types instead; a list is
    typed answer after answer until one is taken. The returned ``ask`` keeps the prompts it was asked
    (``ask.asked``) and the reasons answers were refused (``ask.refused``).
    """
    asked, refused = [], []

    def ask(q: wizard.Question):
        asked.append(q.text)
        for start, answer in typed.items():
            if q.text.startswith(start.replace("_", " ")):
                for one in answer if isinstance(answer, list) else [answer]:
                    try:
                        return q.value(one)
                    except ValueError as exc:
                        refused.append(str(exc))
                raise AssertionError(f"every answer to {q.text!r} was refused: {refused}")
        if q.text == "State":
            return q.value(state)
        if q.kind != "text":
            return q.default
        if q.default is not None or q.example is not None:
            return wizard.example_answer(q)
        answer = "555-0170" if "phone" in q.text else "140" if "fee" in q.text else "Example words"
        return q.value(answer)
    ask.asked, ask.refused = asked, refused
    return ask


def typings(code: str) -> list[str]:
    """The ways a new user may type a state: 'NY', 'ny', 'US-NY', 'us-ny', 'New York', ' NEW  YORK '."""
    name = load_pack(code).name
    return [code[3:], code[3:].lower(), code, code.lower(), name, f" {name.upper().replace(' ', '  ')} ",
            name.lower()]


@pytest.mark.parametrize("code", available())
def test_every_state_with_a_pack_may_be_typed_as_a_new_user_would(code):
    question = wizard.Question("State", "none", check=wizard.state_code)
    for typed in typings(code):
        assert question.value(typed) == code, typed


def test_the_seven_states_are_offered():
    assert available() == ("US-CA", "US-CO", "US-FL", "US-IL", "US-NY", "US-TX", "US-WA")
    question = wizard.Question("State", "none", check=wizard.state_code)
    for typed, code in (("NY", "US-NY"), ("new york", "US-NY"), ("Florida", "US-FL"), ("il", "US-IL"),
                        ("none", None), ("NONE", None), ("", None)):
        assert question.value(typed) == code, typed


@pytest.mark.parametrize("typed", ["OR", "US-OR", "Oregon", "Colorada", "C0", "New Yrok"])
def test_an_unknown_state_is_asked_again_with_the_choices(typed):
    with pytest.raises(ValueError) as refused:
        wizard.state_code(typed)
    message = str(refused.value)
    assert f"'{typed}'" in message
    assert all(f"{code[3:]} ({load_pack(code).name})" in message for code in available())
    assert "NY (New York)" in message and "IL (Illinois)" in message and "FL (Florida)" in message
    assert "none" in message


def test_a_solo_therapist_names_a_service_instead_of_a_colleague(cli, tmp_path):
    said = []
    ask = auto("CO", Who_covers_for_you="service", Name_of_the_service="Boulder Walk-In Counseling",
               Its_phone_number="555-0177", Do_you_charge=True, What_do_you_charge="25", For_how_many="",
               Your_board="Board", Its_mailing="1 Main St", License_number="1", Its_website="")
    written = wizard.run(tmp_path, ask, said.append)
    shown = " ".join(" ".join(said).split())
    assert "no other therapist covers for you while you are away" in shown
    assert "they can call Boulder Walk-In Counseling at 555-0177" in shown and "988" in shown
    text = written[-1].read_text()
    assert not re.search(r"^ *coverage:", text, re.M) and "Jordan Example" not in text
    assert_explained(text, ("policies.breaks.coverage_service",))
    breaks = load_profile(written[-1]).profile.policies.breaks
    assert breaks.coverage is None
    assert (breaks.coverage_service.name, breaks.coverage_service.phone) == ("Boulder Walk-In Counseling", "555-0177")
    assert "cost: {fee: 25}" in text                                         # per call or message: no per_minutes


def pack_types(code: str, supervised: bool = False) -> set[str]:
    pack = load_pack(code)
    return {t for part in pack.professions.values() for t in (part.associate_types if supervised else part.types)}


@pytest.mark.parametrize("state", [*available(), "none"])
def test_every_state_gets_a_profile_that_passes_check(cli, tmp_path, state):
    said = []
    written = wizard.run(tmp_path, auto(state), said.append)
    assert [p.name for p in written] == ["practice.yaml", "alex-example.yaml"]
    assert_checks_clean(cli, written[-1], "--strict")
    profile = load_profile(written[-1]).profile
    if state != "none":                     # the example license type is one the state's rules know
        assert profile.clinician.license.type in pack_types(state)
        assert resolve(profile).profession is not None and missing_required(profile) == []


@pytest.mark.parametrize("state", available())
def test_every_state_gets_an_associate_profile_that_passes_check(cli, tmp_path, state):
    """An associate types their state's title; the status follows it, and what the state asks of
    associates is asked."""
    title = next(t for part in load_pack(state).professions.values() for t in part.associate_types)
    ask = auto(state, License_type=title)
    written = wizard.run(tmp_path, ask, [].append)
    assert_checks_clean(cli, written[-1], "--strict")
    profile = load_profile(written[-1]).profile
    assert (profile.clinician.license.type, profile.clinician.status) == (title, "associate")
    assert profile.clinician.supervisor.name == "Dr. Sam Example" and missing_required(profile) == []


def test_the_wizard_can_fill_whatever_a_state_requires():
    for code in available():
        pack = load_pack(code)
        keys = {r.key for r in pack.required} | {r.key for part in pack.professions.values() for r in part.required}
        assert keys <= wizard.STATE_KEYS, (code, keys - wizard.STATE_KEYS)


@pytest.mark.parametrize("state", available())
def test_the_license_question_offers_the_types_the_state_knows(tmp_path, state):
    """Every type of the state's pack is listed, by profession in plain words; any spelling of a known type
    is written as the pack spells it, and a type the pack does not know is taken as typed."""
    questions = []
    ask = auto(state)

    def keep(q):
        if q.text.startswith("License type"):
            questions.append(q)
        return ask(q)

    wizard.run(tmp_path, keep, [].append)
    (question,) = questions
    listing = "\n".join(question.lines())
    pack = load_pack(state)
    for profession, part in pack.professions.items():
        assert PROFESSION_WORDS[profession] in listing
        for kind in part.types:
            assert kind in " ".join(listing.split()), kind
            assert question.value(f" {kind.lower()} ") == kind
    if part.associate_types:
        assert "under supervision: " in listing
    assert question.value("Registered Art Therapist") == "Registered Art Therapist"
    assert question.example in pack_types(state) - pack_types(state, supervised=True)


def test_a_license_type_the_state_does_not_know_is_taken_with_a_word_on_what_follows(cli, tmp_path):
    said = []
    written = wizard.run(tmp_path, auto("NY", License_type="Creative Arts Therapist"), said.append)
    shown = " ".join(" ".join(said).split())
    assert ("New York's rules do not list 'Creative Arts Therapist'. That is fine: your handouts will follow the "
            "strictest rules of New York's professions, and 'consentgen check' will remind you of it with a "
            "warning.") in shown
    text = written[-1].read_text()
    assert 'type: "Creative Arts Therapist"' in text
    assert "'consentgen packs US-NY' lists the license types New York's rules know" in " ".join(
        line.lstrip("# ") for line in text.splitlines())
    result = cli("check", "--format", "json", written[-1])
    assert result.exit_code == 0, result.output                 # a warning, not an error
    findings = json.loads(result.stdout)["profiles"][0]["findings"]
    assert [f["key"] for f in findings if f["rule"] == "L29"] == ["clinician.license.type"]


# Prompts that show a state's requirement was asked.
EDUCATION, TRAINING, BOARD = "Your education", "Your training", "Your board's name"
SUP_ADDRESS, SUP_QUALIFICATIONS = "Their business address", "Their qualifications"
NOTICE, APPROACH, CUSTODIAN = "Complaint notice", "How you work", "Their name"


@pytest.mark.parametrize("state, license_type, asked, not_asked", [
    ("US-CO", "LPC", {EDUCATION, TRAINING}, {BOARD, SUP_ADDRESS, SUP_QUALIFICATIONS, NOTICE, APPROACH}),
    ("US-CO", "Registered Psychotherapist", {EDUCATION, TRAINING, BOARD}, {NOTICE}),   # no board in the pack
    ("US-TX", "LPC Associate", {SUP_ADDRESS, SUP_QUALIFICATIONS, NOTICE, APPROACH, CUSTODIAN},
     {EDUCATION, TRAINING, BOARD}),
    ("US-TX", "LPC", {NOTICE, APPROACH, CUSTODIAN}, {SUP_ADDRESS, SUP_QUALIFICATIONS, BOARD}),
    ("US-WA", "LMHC", {EDUCATION, TRAINING, APPROACH}, {BOARD, NOTICE, SUP_ADDRESS}),
    ("US-CA", "LMFT", {NOTICE}, {EDUCATION, TRAINING, BOARD, APPROACH}),
    ("US-NY", "LMHC", set(), {EDUCATION, TRAINING, BOARD, NOTICE, APPROACH, CUSTODIAN}),
    ("none", "LPC", set(), {EDUCATION, TRAINING, BOARD, NOTICE, APPROACH, CUSTODIAN}),
])
def test_what_a_state_requires_is_asked_and_nothing_more(cli, tmp_path, state, license_type, asked, not_asked):
    ask = auto(state, License_type=license_type)
    written = wizard.run(tmp_path, ask, [].append)
    started = {prompt for prompt in asked | not_asked if any(q.startswith(prompt) for q in ask.asked)}
    assert started == asked
    fee = next(q for q in ask.asked if q.startswith("Your fee"))
    assert ("leave blank" in fee) == (state not in ("US-WA", "US-TX"))           # they require a fee
    profile = load_profile(written[-1]).profile
    assert missing_required(profile) == []
    assert (profile.clinician.board is not None) == (BOARD in asked)


def test_the_questions_follow_the_pack_not_a_list_of_states(monkeypatch, tmp_path):
    """A requirement added to a pack (in its base or in a profession's part) is asked, with no change here;
    one the wizard cannot ask is named, so the user knows to add it."""
    from consentgen.pack_model import Requirement, Source

    source = Source(cite="Test Rule 1", verified=False, reason="made up for this test")
    real = load_pack("US-NY")
    mft = real.professions["mft"].model_copy(update={"required": (
        Requirement(key="clinician.supervisor.qualifications", when="supervised", source=source),
        Requirement(key="clinician.board", source=source))})
    pack = real.model_copy(update={"required": (Requirement(key="clinician.education", source=source),
                                                Requirement(key="clinician.pronouns", source=source)),
                                   "professions": {**real.professions, "mft": mft}})
    monkeypatch.setattr(wizard, "load_pack", lambda code: pack if code == "US-NY" else load_pack(code))
    said = []
    ask = auto("NY", License_type="Marriage and Family Therapist Limited Permit")
    written = wizard.run(tmp_path, ask, said.append)
    assert any(q.startswith(EDUCATION) for q in ask.asked) and any(q.startswith(SUP_QUALIFICATIONS) for q in ask.asked)
    assert not any(q.startswith((TRAINING, SUP_ADDRESS, BOARD)) for q in ask.asked)   # the pack has the board
    assert "New York also asks for clinician.pronouns (Test Rule 1)" in " ".join(" ".join(said).split())
    clinician = load_profile(written[-1]).profile.clinician
    assert clinician.status == "associate" and clinician.supervisor.qualifications and clinician.education
    assert_explained(written[-1].read_text(), ("clinician.education", "clinician.supervisor.qualifications"))


def test_software_with_ai_is_asked_about_and_explained(cli, tmp_path):
    """Illinois regulates AI in therapy: the question says so, and the handouts carry what the therapist
    said and the state's own statements."""
    questions, said = [], []
    ask = auto("IL", Do_you_use_software="supplementary", What_does_it_do=["", "Which drafts notes after a "
               "session, which I check."], Do_you_record=True)

    def keep(q):
        questions.append(q)
        return ask(q)

    folder = tmp_path / "il"
    written = wizard.run(folder, keep, said.append)
    question = next(q for q in questions if q.text.startswith("Do you use software with AI"))
    listing = " ".join(" ".join(question.lines()).split())
    assert "Illinois law limits how therapists may use AI" in listing
    assert "administrative Only for office tasks" in listing and "supplementary It also helps with clinical" in listing
    assert ask.refused == ["please give an answer"]             # what it does is needed
    ai = load_profile(written[-1]).profile.policies.ai
    assert (ai.use, ai.purpose, ai.transcribes_sessions) == ("supplementary", "drafts notes after a session, which "
                                                             "I check", True)
    assert_explained(written[-1].read_text(), STATE_AND_AI_KEYS[-3:])
    assert_checks_clean(cli, written[-1], "--strict")
    out = tmp_path / "out"
    assert cli("build", folder, "-o", out, "--format", "pdf", "-q").exit_code == 0
    consent = " ".join(pdf_text(out / written[-1].stem / "informed-consent.pdf").split())
    illinois = [" ".join(st.text.split()) for st in load_pack("US-IL").statements if st.section == "technology"]
    assert len(illinois) >= 3
    for words in ("Technology in my work", "I use software with artificial intelligence, which drafts notes after "
                  "a session, which I check.", *illinois):
        assert words in consent, words
    signed = " ".join(pdf_text(out / written[-1].stem / "acknowledgement.pdf").split())
    assert "record or transcribe" in signed                     # clients initial a consent of its own


def test_software_with_ai_is_asked_about_in_every_state(tmp_path):
    questions = []
    ask = auto("CO")

    def keep(q):
        questions.append(q)
        return ask(q)

    written = wizard.run(tmp_path, keep, [].append)
    question = next(q for q in questions if q.text.startswith("Do you use software with AI"))
    assert question.default == "none" and "law limits" not in " ".join(question.lines())
    assert not any(q.text.startswith(("What does it do", "Do you record")) for q in questions)
    assert load_profile(written[-1]).profile.policies.ai.use == "none"


def test_choices_and_defaults_follow_the_schema():
    from typing import get_args

    from consentgen.model_intake import AiUse, Fees
    from consentgen.models import Channel, Clinician, Relationship, SelfDisclosure, Termination

    for model, field, choices in ((Clinician, "status", wizard.STATUS), (Relationship, "gifts", wizard.GIFTS),
                                  (Fees, "paid_ahead", wizard.PAID_AHEAD), (AiUse, "use", wizard.AI_USE),
                                  (Relationship, "chance_meetings", wizard.MEETINGS),
                                  (Relationship, "dual_relationships", wizard.DUAL), (Relationship, "touch", wizard.TOUCH),
                                  (Channel, "use", wizard.USE), (SelfDisclosure, "level", wizard.SHARING)):
        assert tuple(v for v, _ in choices) == get_args(model.model_fields[field].annotation), field
    said = []
    it = wizard.Interview(auto("none"), said.append)
    it.policies()
    assert it.clinician["policies"]["relationship"] == Relationship().model_dump(exclude_none=True)
    assert it.clinician["policies"]["termination"] == {**Termination().model_dump(exclude_none=True),
                                                        "inactive_after": "30 days"}
    assert it.clinician["policies"]["self_disclosure"] == SelfDisclosure().model_dump(exclude_none=True)
    assert [line for line in said if line.startswith(("1.", "2.", "3.", "4.", "5."))] == [
        "1. Your relationship with clients", "2. Contact between sessions", "3. Sharing personal things",
        "4. Breaks and vacations", "5. Ending therapy"]


def test_answers_are_checked_before_they_are_written():
    texas = wizard.Interview(auto("US-TX"), print, {"practice": {"jurisdiction": "US-TX"}})
    assert texas.gift_limit("$50") == "$50"
    with pytest.raises(ValueError, match="Texas does not allow gifts worth more than \\$50"):
        texas.gift_limit("60")
    assert wizard.money("$1,250.50") == wizard.Decimal("1250.50")
    for bad in ("free", "-5", "NaN", "12.345"):
        with pytest.raises(ValueError):
            wizard.money(bad)
    assert wizard.duration(" 1 business days ") == "1 business day"
    with pytest.raises(ValueError):
        wizard.email("nobody")


@pytest.mark.parametrize("license_type, limit", [("LPC", "$50"), ("LMFT", "$60"), ("Art Therapist", "$50")])
def test_the_gift_cap_follows_the_license(tmp_path, license_type, limit):
    """Texas caps gifts at $50 for counselors only; a type its rules do not know gets the strictest cap."""
    ask = auto("TX", License_type=license_type, Gifts_from_clients="small", The_most_a_gift=["60", "50"])
    written = wizard.run(tmp_path, ask, [].append)
    assert load_profile(written[-1]).profile.policies.relationship.gift_limit == limit
    assert ask.refused == ([] if limit == "$60" else ["Texas does not allow gifts worth more than $50"])


def test_no_notice_means_a_last_session():
    asked, said, pol = [], [], {}

    def ask(q):
        asked.append(q.text)
        return 0 if q.kind == "number" else q.default

    wizard.Interview(ask, said.append).termination(pol)
    assert pol["termination"]["notice_sessions"] == 0 and pol["termination"]["final_session"] is True
    assert not any("last session" in text for text in asked) and any("last session" in line for line in said)


def test_stopping_midway_writes_nothing(cli, tmp_path):
    result = cli("init", tmp_path, input="Aspen Path Counseling\nnone\n")      # then the input ends (Ctrl-D)
    assert result.exit_code == 1 and "Aborted" in result.output
    assert list(tmp_path.iterdir()) == []


def test_existing_files_are_kept_unless_the_user_agrees(cli, tmp_path):
    assert cli("init", tmp_path, "--yes").exit_code == 0
    files = [tmp_path / "practice.yaml", tmp_path / "clinicians" / "alex-example.yaml"]
    before = [f.read_bytes() for f in files]

    result = cli("init", tmp_path, input="n\nAlex Example\nn\n")        # keep practice.yaml, then keep the clinician
    assert result.exit_code == 1
    assert "already exists. Replace it" in result.output
    assert "kept " in result.output and "nothing was written" in result.output
    assert [f.read_bytes() for f in files] == before

    result = cli("init", tmp_path, "--yes")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {files[0]} already exists; use --force to replace it"
    assert [f.read_bytes() for f in files] == before

    assert cli("init", tmp_path, "--yes", "--force").exit_code == 0


def test_a_clinician_joins_an_existing_practice(cli, tmp_path):
    folder = tmp_path / "practice"
    shutil.copytree(ROOT / "profiles" / "example-practice", folder)
    before = (folder / "practice.yaml").read_bytes()
    script = [("already exists", "n"), ("Your name", "Robin Vale"), ("Degrees", "MSW, LCSW"),
              ("License type", "LCSW"), ("License number", "CSW.0055555"), ("State that issued it", ""),
              ("Your status", ""), ("Your education", "MSW, University of Denver, 2014"),
              ("Your training", "3,360 hours of supervised clinical practice"), ("Gifts", ""),
              ("Meeting by chance", ""), ("Touch", ""), ("When do you read", ""),
              ("Phone calls", ""), ("return calls", ""), ("Text messages", ""), ("Email", ""), ("answer email", ""),
              ("Client portal", ""), ("Do you charge", ""), ("How much you share", ""), ("How far ahead", ""),
              ("Who covers", ""), ("Name of the colleague", "Jordan Lee"), ("Their degrees", ""),
              ("Their phone number", "555-0142"), ("answer messages sent during a break", ""),
              ("How many sessions ahead", ""), ("last session", ""), ("stops coming", ""), ("How long is", ""),
              ("Your fee", "120"), ("pay ahead", ""), ("refund it", ""), ("hours ahead", ""),
              ("cancelling later", ""), ("missed session", ""), ("Insurance plans", ""),
              ("superbills", ""), ("software with AI", "")]
    result = cli("init", folder, input=answers(script))
    assert result.exit_code == 0, result.output
    assert_asked_in_order(result.output, script)
    assert "Practice name" not in result.output and "local crisis line" not in result.output
    assert "Your board's name" not in result.output             # Colorado's rules know the social work board
    assert (folder / "practice.yaml").read_bytes() == before
    robin = load_profile(folder / "clinicians" / "robin-vale.yaml").profile
    assert robin.practice.name == "Harbor Street Counseling"
    assert robin.clinician.education == "MSW, University of Denver, 2014"
    assert resolve(robin).board.name == "Colorado State Board of Social Work Examiners"
    assert [(s.name, s.fee) for s in robin.policies.fees.services] == [("Individual session (50 minutes)", 120)]


@pytest.mark.parametrize("value", ["plain", 'quote " and \\ backslash', "colon: # hash", "- dash", "&anchor *alias",
                                   "!tag", "yes", "null", "1e3", "0x10", "Núñez 李", "tab\tand\nnewline",
                                   "\u2028line\u0085break\x7f", "{[,]}", "'single'", " spaces "])
def test_strings_are_written_as_safe_yaml(value, tmp_path):
    from consentgen.yamlsafe import read_yaml

    assert yaml.safe_load(f"key: {wizard.scalar(value)}") == {"key": value}
    path = tmp_path / "p.yaml"
    path.write_text(f"key: {wizard.scalar(value)}\n", encoding="utf-8")
    assert read_yaml(path)[0] == {"key": value}


def test_comments_cannot_break_out_of_their_line():
    text = wizard.to_yaml({"practice": {"name": "A\rB"}}, {"practice": "x\ry: 1\u2028z: 2\x85w: 3"}, "Dr. Q\rschema: 2")
    assert yaml.safe_load(text) == {"practice": {"name": "A\rB"}}
    assert all(line.startswith("#") or not line.strip() or line.startswith(("practice:", "  name:"))
               for line in text.split("\n"))


# ---- the pre-commit hook --------------------------------------------------------------------

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def test_hook_definition():
    hooks = yaml.safe_load(HOOKS.read_text())
    hook = next(h for h in hooks if h["id"] == "consentgen-check")
    assert hook["entry"] == "consentgen check"
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    examples = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("profiles/example-*/clinicians/*.yaml"))
    assert len(examples) >= 12
    assert all(files.search(p) for p in examples)
    assert files.search("clinicians/jo.yml") and files.search("my practice/clinicians/jo.yaml")
    for other in ("profiles/example-practice/practice.yaml", ".pre-commit-config.yaml", "consentgen/packs/US-CO.yaml",
                  ".github/workflows/ci.yaml", "clinicians/notes/old.yaml", "clinicians.yaml", "clinicians/jo.txt"):
        assert not files.search(other), other


NETWORK = re.compile(r"(?i)network|connection|resolve|name or service|timed out|no matching distribution|"
                     r"could not find a version|proxy|ssl|temporary failure")


@pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None or shutil.which("git") is None,
                    reason="pre-commit or git is not installed")
def test_hook_runs_in_a_practice_repository(tmp_path):
    """pre-commit installs consentgen from this working tree and checks only the clinician files."""
    hook_repo = tmp_path / "consentgen"
    hook_repo.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, hook_repo)
    for name in ("consentgen", "templates", "profiles"):
        shutil.copytree(ROOT / name, hook_repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    practice = tmp_path / "practice"
    (practice / "clinicians").mkdir(parents=True)
    example = ROOT / "profiles" / "example-practice"
    for name in ("practice.yaml", "logo.png", "clinicians/ana-nunez.yaml"):
        shutil.copy(example / name, practice / name)
    (practice / "clinicians" / "typo.yaml").write_text('clinician:\n  name: "Jo"\n  nmae: "Jo"\n')
    (practice / "unrelated.yaml").write_text("not: [a, profile\n")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for repo in (hook_repo, practice):
        for args in (["init", "-q"], ["add", "-A"], ["-c", "commit.gpgsign=false", "commit", "-qm", "x"]):
            subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    run = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "consentgen-check",
                          "--files", "clinicians/ana-nunez.yaml", "clinicians/typo.yaml", "practice.yaml",
                          "unrelated.yaml"], cwd=practice, env=env, capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    if run.returncode not in (0, 1) and NETWORK.search(output):
        pytest.skip(f"pre-commit could not install the hook (no network to PyPI?): {output[-300:]}")
    assert run.returncode == 1, output
    assert "- exit code: 2" in output
    assert re.search(r"\b\d+ errors?, \d+ warnings? in 2 profiles(?: \(.*\))?; 1 invalid", output)  # the two clinicians
    assert "clinicians/typo.yaml:3: clinician.nmae: unknown key 'nmae'; did you mean 'name'?" in output
    assert "practice.yaml:" not in output and "unrelated" not in output          # not handed to check

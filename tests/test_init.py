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
from consentgen.jurisdictions import available
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
    ("Your status", "associate"),
    ("License type", "LPCC"),
    ("License number", "LPCC.0011223"),
    ("State that issued it", ""),              # Enter keeps the suggested CO
    ("Your supervisor's name", "Dr. Lena Brooks"),
    ("Their degrees and licenses", "PhD, LPC"),
    ("Their phone number", "555-0121"),
    ("Your board's name", "Colorado State Board of Licensed Professional Counselor Examiners"),
    ("Its mailing address", "1560 Broadway, Suite 1350, Denver, CO 80202"),
    ("Its phone number", "555-0122"),
    ("Its website", "dpo.colorado.gov"),
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
    ("How many hours ahead must clients cancel a session?", "48"),
    ("Fee for cancelling later than that", "$75"),
    ("Fee for a missed session with no word", ""),                   # none
    ("Do you see clients who pay for themselves", "n"),
    ("Insurance plans you are in network with", "Front Range Health Plan, Aspen Care"),
    ("Do you give receipts (superbills)", "n"),
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


def assert_checks_clean(cli, clinician: Path) -> None:
    """check exits 0, and no finding points into the files init wrote (the handouts' own wording aside)."""
    result = cli("check", "--format", "json", clinician)
    assert result.exit_code == 0, result.output
    findings = [f for p in json.loads(result.stdout)["profiles"] for f in p["findings"]]
    assert [f for f in findings if f["file"].endswith(".yaml")] == []


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
                     "# 4. Breaks and vacations.", 'website: "dpo.colorado.gov"',
                     "cost: {fee: 40, per_minutes: 15, free_minutes: 10}", 'answer_after_return: "3 business days"',
                     'inactive_after: "45 days"', "session_minutes: 55",
                     '- {name: "Individual session (55 minutes)", fee: 150}', "late_fee: 75", "self_pay: false",
                     'in_network: ["Front Range Health Plan", "Aspen Care"]', "superbills: false"):
        assert expected in mine, expected
    assert not re.search(r"^ *no_show_fee:", mine, re.M)                     # blank: no such fee
    assert_explained(mine, (*NEW_KEYS, "clinician.board.website"))

    loaded = load_profile(clinician_file)
    profile = loaded.profile
    assert profile.clinician.supervisor.phone == "555-0121"
    assert profile.clinician.board.website == "dpo.colorado.gov"
    assert profile.policies.contact.channels.email.use == "none"
    assert profile.emergency.local_crisis.name == "Boulder County Crisis Line"
    fees = profile.policies.fees
    assert [(s.name, s.fee) for s in fees.services] == [("Individual session (55 minutes)", 150)]
    assert (fees.cancellation.notice_hours, fees.cancellation.late_fee, fees.cancellation.no_show_fee) == (48, 75, None)
    assert profile.practice.self_pay is False and fees.insurance.superbills is False
    text = check_and_build(cli, folder, clinician_file, tmp_path)
    assert "Priya Raman" in text and "3 weeks" in text
    fees_handout = pdf_text(tmp_path / "out" / "maya-o-connor" / "fees-and-cancellations.pdf")
    for said in ("Individual session (55 minutes)", "$150", "48 hours", "$75", "Front Range Health Plan"):
        assert said in fees_handout, said
    assert "ask me about my fees" not in fees_handout


# The keys init writes that a new user met as rough edges (issue 8); each must come with a note.
NEW_KEYS = ("practice.self_pay", "policies.contact.channels.phone.cost",
            "policies.breaks.while_away.answer_after_return", "policies.termination.inactive_after",
            "policies.therapy.session_minutes", "policies.fees.services", "policies.fees.cancellation.notice_hours",
            "policies.fees.cancellation.late_fee", "policies.fees.insurance.in_network",
            "policies.fees.insurance.superbills")


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
    assert profile.practice.self_pay is True
    assert_explained(text, NEW_KEYS)
    assert "Jordan Example" in check_and_build(cli, tmp_path / "p", clinician, tmp_path)
    fees = pdf_text(tmp_path / "out" / "alex-example" / "fees-and-cancellations.pdf")
    assert "$140" in fees and "Good Faith Estimate" in fees and "ask me about my fees" not in fees


def auto(state: str, **typed):
    """Answer like a user who keeps every suggestion and fills what is required.

    ``typed`` maps a prompt's first words (spaces as underscores) to what the user types instead.
    """
    def ask(q: wizard.Question):
        for start, answer in typed.items():
            if q.text.startswith(start.replace("_", " ")):
                return q.value(answer)
        if q.text == "State":
            return q.value(state)
        if q.kind != "text":
            return q.default
        if q.default is not None or q.example is not None:
            return wizard.example_answer(q)
        answer = "555-0170" if "phone" in q.text else "140" if "fee" in q.text else "Example words"
        return q.value(answer)
    return ask


@pytest.mark.parametrize("typed, code", [
    ("CO", "US-CO"), ("co", "US-CO"), ("US-CO", "US-CO"), ("us-co", "US-CO"), ("Colorado", "US-CO"),
    (" COLORADO ", "US-CO"), ("wa", "US-WA"), ("Washington", "US-WA"), ("TX", "US-TX"), ("texas", "US-TX"),
    ("us-ca", "US-CA"), ("California", "US-CA"), ("none", None), ("NONE", None), ("", None)])
def test_the_state_may_be_typed_as_a_new_user_would(typed, code):
    question = wizard.Question("State", "none", check=wizard.state_code)
    assert question.value(typed) == code


@pytest.mark.parametrize("typed", ["NY", "US-NY", "New York", "Colorada", "C0"])
def test_an_unknown_state_is_asked_again_with_the_choices(typed):
    with pytest.raises(ValueError) as refused:
        wizard.state_code(typed)
    message = str(refused.value)
    assert f"'{typed}'" in message
    assert all(f"{code[3:]} ({name})" in message for code, name in
               (("US-CO", "Colorado"), ("US-WA", "Washington"), ("US-TX", "Texas"), ("US-CA", "California")))
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


@pytest.mark.parametrize("state", [*available(), "none"])
def test_every_state_gets_a_profile_that_passes_check(cli, tmp_path, state):
    said = []
    written = wizard.run(tmp_path, auto(state), said.append)
    assert [p.name for p in written] == ["practice.yaml", "alex-example.yaml"]
    assert_checks_clean(cli, written[-1])


def test_the_wizard_can_fill_whatever_a_state_requires():
    from consentgen.jurisdictions import load_pack

    for code in available():
        assert {r.key for r in load_pack(code).required} <= wizard.STATE_KEYS, code


def test_choices_and_defaults_follow_the_schema():
    from typing import get_args

    from consentgen.models import Channel, Clinician, Relationship, SelfDisclosure, Termination

    for model, field, choices in ((Clinician, "status", wizard.STATUS), (Relationship, "gifts", wizard.GIFTS),
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
    script = [("already exists", "n"), ("Your name", "Robin Vale"), ("Degrees", "MSW, LCSW"), ("Your status", ""),
              ("License type", "LCSW"), ("License number", "CSW.0055555"), ("State that issued it", ""),
              ("Your board's name", "Colorado State Board of Social Work Examiners"),
              ("Its mailing address", "1560 Broadway, Denver, CO 80202"), ("Its phone number", "555-0193"),
              ("Its website", ""), ("Gifts", ""), ("Meeting by chance", ""), ("Touch", ""), ("When do you read", ""),
              ("Phone calls", ""), ("return calls", ""), ("Text messages", ""), ("Email", ""), ("answer email", ""),
              ("Client portal", ""), ("Do you charge", ""), ("How much you share", ""), ("How far ahead", ""),
              ("Who covers", ""), ("Name of the colleague", "Jordan Lee"), ("Their degrees", ""),
              ("Their phone number", "555-0142"), ("answer messages sent during a break", ""),
              ("How many sessions ahead", ""), ("last session", ""), ("stops coming", ""), ("How long is", ""),
              ("Your fee", "120"), ("hours ahead", ""), ("cancelling later", ""), ("missed session", ""),
              ("pay for themselves", "n"), ("Insurance plans", ""), ("superbills", "")]
    result = cli("init", folder, input=answers(script))
    assert result.exit_code == 0, result.output
    assert_asked_in_order(result.output, script)
    assert "Practice name" not in result.output and "local crisis line" not in result.output
    assert (folder / "practice.yaml").read_bytes() == before
    robin = load_profile(folder / "clinicians" / "robin-vale.yaml").profile
    assert robin.practice.name == "Harbor Street Counseling"
    assert robin.practice.self_pay is False                     # her own answer, over the practice's default
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

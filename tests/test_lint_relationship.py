"""Lint rules about the relationship, ending therapy and self-disclosure (rules_relationship.py).

Each rule has a profile that triggers it, with the file and line of the finding,
and one that does not. Text rules are triggered through user template folders
that replace a built-in document, or through a profile's ``note``.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from consentgen.errors import display_path
from consentgen.lint import check_profile
from consentgen.profiles import load_profile

from .conftest import ROOT

MINE = ("L05", "L06", "L07", "L08", "L09", "L10", "L14", "L17", "L20", "L21")

BASE = """\
schema: 1
packet: [our-relationship]
practice:
  name: Test Practice
  phone: "555-0100"
clinician:
  name: Robin Test
  credentials: LPC
"""


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of ``path`` that contains ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture
def lint(write, tmp_path):
    """lint(profile_text, templates={name: markdown}) -> (profile path, template folder, findings)."""

    def _lint(text: str, templates: dict[str, str] | None = None):
        path = write("profile.yaml", text)
        folder = tmp_path / "templates"
        for name, body in (templates or {}).items():
            write(f"templates/{name}", body)
        dirs = (folder,) if templates else ()
        return path, folder, check_profile(load_profile(path), dirs)

    return _lint


def only(findings, rule_id: str):
    return [f for f in findings if f.rule == rule_id]


def one(findings, rule_id: str):
    found = only(findings, rule_id)
    assert len(found) == 1, [(f.rule, f.message) for f in findings]
    return found[0]


def at_key(finding, path: Path, needle: str) -> None:
    assert (finding.file, finding.line) == (display_path(path), line_of(path, needle)), finding


def at_doc(finding, folder: Path, template: str, needle: str) -> None:
    assert (finding.file, finding.line) == (f"{Path(template).stem} (rendered)", line_of(folder / template, needle))


def md(text: str) -> str:
    return textwrap.dedent(text).lstrip()


# --------------------------------------------------------------------------- no false alarms


@pytest.mark.parametrize("path", sorted(ROOT.glob("profiles/example-*/clinicians/*.yaml")), ids=lambda p: p.stem)
def test_example_clinicians_are_clean(path):
    assert [f for f in check_profile(load_profile(path)) if f.rule in MINE] == []


def test_a_minimal_profile_is_clean(lint):
    _, _, found = lint(BASE)
    assert [f for f in found if f.rule in MINE] == []


def test_rules_are_listed(cli):
    result = cli("rules")
    assert result.exit_code == 0
    listed = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()}
    for rule_id in MINE:
        assert rule_id in listed
    assert listed["L05"] == "error" and listed["L21"] == "warning"


# --------------------------------------------------------------------------- L05, L20


def test_l05_no_referrals(lint):
    path, _, found = lint(BASE + "policies:\n  termination:\n    referrals: false\n")
    f = one(found, "L05")
    assert f.severity == "error" and "referrals" in f.message
    at_key(f, path, "referrals:")
    assert only(found, "L20") == []


def test_l05_and_l20_no_notice_and_no_last_session(lint):
    path, _, found = lint(BASE + "policies:\n  termination:\n    notice_sessions: 0\n    final_session: false\n")
    l05, l20 = one(found, "L05"), one(found, "L20")
    assert l05.severity == l20.severity == "error"
    at_key(l05, path, "notice_sessions:")
    at_key(l20, path, "final_session:")
    assert "pretermination" in l05.message and "goodbye" in l20.message


def test_l05_l20_a_last_session_is_enough(lint):
    _, _, found = lint(BASE + "policies:\n  termination:\n    notice_sessions: 0\n    final_session: true\n")
    assert only(found, "L05") == only(found, "L20") == []


# --------------------------------------------------------------------------- L06

FEES_OK = """\
# Fees

Payment is due at each session.

If a bill stays unpaid, I will write to you first. We may need to end our work.

I will not end our work over money while your safety is at risk.
"""


def test_l06_no_notice_before_collection(lint):
    text = BASE + "policies:\n  fees:\n    nonpayment:\n      notice_days: 0\n      collection_agency: true\n"
    path, _, found = lint(text)
    f = one(found, "L06")
    assert f.severity == "warning" and "collection agency" in f.message
    at_key(f, path, "notice_days:")


def test_l06_fees_text_without_the_safety_exception(lint):
    body = FEES_OK.replace("I will not end our work over money while your safety is at risk.\n", "")
    text = BASE.replace("[our-relationship]", "[fees-and-cancellations, our-relationship]")
    _, folder, found = lint(text, {"fees-and-cancellations.md": body})
    f = one(found, "L06")
    assert f.severity == "warning" and f.message.startswith("fees-and-cancellations ")
    at_doc(f, folder, "fees-and-cancellations.md", "unpaid")


def test_l06_clean(lint):
    text = BASE.replace("[our-relationship]", "[fees-and-cancellations, our-relationship]")
    _, _, found = lint(text, {"fees-and-cancellations.md": FEES_OK})
    assert only(found, "L06") == []
    _, _, found = lint(text)                           # the built-in fees handout has the exception
    assert only(found, "L06") == []


# --------------------------------------------------------------------------- L07


def test_l07_no_sexual_contact_ban_in_the_packet(lint):
    # The built-in key points state the ban too, so a packet lacks it only when both are replaced.
    path, _, found = lint(BASE, {"our-relationship.md": "# Our Relationship\n\nWe are a team.\n",
                                 "key-points.md": "# Key Points\n\nWelcome.\n"})
    f = one(found, "L07")
    assert f.severity == "error" and "never sexual" in f.message
    at_key(f, path, "packet:")


def test_l07_one_document_with_the_ban_is_enough(lint):
    text = BASE.replace("[our-relationship]", "[our-relationship, informed-consent]")
    _, _, found = lint(text, {"our-relationship.md": "# Our Relationship\n\nWe are a team.\n"})
    assert only(found, "L07") == []


def test_l07_waiting_period_in_a_note(lint):
    text = BASE.replace('phone: "555-0100"', 'phone: "555-0100"\n  jurisdiction: US-TX') + (
        "policies:\n  relationship:\n    note: A romantic relationship is possible 2 years after therapy ends.\n")
    path, _, found = lint(text)
    f = one(found, "L07")
    assert f.severity == "error" and "2-year" in f.message and "Texas" in f.message
    at_key(f, path, "note:")


def test_l07_waiting_period_in_a_document(lint):
    text = BASE.replace("[our-relationship]", "[relationship, informed-consent]")
    body = md("""
        # Our Therapy Relationship

        Sexual contact with a client is never okay.

        Dating a former client is allowed five years after therapy ends.
        """)
    _, folder, found = lint(text, {"relationship.md": body})
    f = one(found, "L07")
    assert "5-year" in f.message or "five-year" in f.message
    at_doc(f, folder, "relationship.md", "Dating")


def test_l07_clean_records_years_and_never_even(lint):
    text = BASE.replace("[our-relationship]", "[informed-consent]") + (
        "policies:\n  relationship:\n    note: I will never date a client, not even 10 years after therapy.\n")
    _, _, found = lint(text)                           # informed-consent says "records for 7 years after therapy"
    assert only(found, "L07") == []


# --------------------------------------------------------------------------- L08


def test_l08_intimate_in_a_note(lint):
    path, _, found = lint(BASE + "policies:\n  relationship:\n    note: Therapy is an intimate relationship.\n")
    f = one(found, "L08")
    assert f.severity == "warning" and f.key == "policies.relationship.note"
    at_key(f, path, "note:")


def test_l08_note_with_a_definition(lint):
    note = "Therapy is intimate: we grow emotionally close, but it is never physical or sexual."
    _, _, found = lint(BASE + f"policies:\n  relationship:\n    note: \"{note}\"\n")
    assert only(found, "L08") == []


def test_l08_intimacy_in_a_document(lint):
    text = BASE.replace("[our-relationship]", "[relationship, our-relationship]")
    body = md("""
        # Our Therapy Relationship

        Our work is intimate.

        We meet once a week.

        Sessions last 50 minutes.

        We talk about what matters to you.

        Sexual contact with a client is never okay.
        """)
    _, folder, found = lint(text, {"relationship.md": body})
    f = one(found, "L08")
    assert f.severity == "warning"
    at_doc(f, folder, "relationship.md", "intimate")


def test_l08_clean_with_a_definition_nearby_and_sexual_intimacy(lint):
    text = BASE.replace("[our-relationship]", "[relationship, informed-consent]").replace(
        'phone: "555-0100"', 'phone: "555-0100"\n  jurisdiction: US-CO')
    body = md("""
        # Our Therapy Relationship

        Our work is intimate.

        By that I mean emotionally close. It is never physical or sexual.
        """)
    _, _, found = lint(text, {"relationship.md": body})
    assert only(found, "L08") == []                    # and CO's "Sexual intimacy ... is never appropriate"


# --------------------------------------------------------------------------- L09


def test_l09_note_invites_friend_requests(lint):
    text = BASE + md("""
        policies:
          contact:
            channels:
              social_media:
                use: scheduling
                reply_within: 1 business day
                note: Friend requests are welcome.
        """)
    path, _, found = lint(text)
    f = one(found, "L09")
    assert f.severity == "error" and "scheduling" in f.message
    at_key(f, path, "note:")


def test_l09_document_invites_friend_requests(lint):
    text = BASE.replace("[our-relationship]", "[our-relationship, social-media-and-online]")
    body = md("""
        # Social Media

        Feel free to send me a friend request on my personal Facebook.
        """)
    _, folder, found = lint(text, {"social-media-and-online.md": body})
    f = one(found, "L09")
    assert f.severity == "error"
    at_doc(f, folder, "social-media-and-online.md", "friend request")


def test_l09_warns_when_former_clients_are_not_addressed(lint):
    text = BASE.replace("[our-relationship]", "[relationship, fees-and-cancellations]")
    body = md("""
        # Our Therapy Relationship

        Sexual contact with a client is never okay.

        I do not accept friend requests from clients.
        """)
    _, folder, found = lint(text, {"relationship.md": body})
    f = one(found, "L09")
    assert f.severity == "warning" and "former clients" in f.message
    at_doc(f, folder, "relationship.md", "friend requests")


def test_l09_warns_when_the_packet_says_nothing_about_friend_requests(lint):
    path, _, found = lint(BASE.replace("[our-relationship]", "[informed-consent]"))
    f = one(found, "L09")
    assert f.severity == "warning"
    at_key(f, path, "packet:")


def test_l09_clean(lint):
    text = BASE.replace("[our-relationship]", "[our-relationship, social-media-and-online]") + md("""
        policies:
          online:
            business_page: facebook.com/testpractice
          contact:
            channels:
              social_media:
                use: scheduling
                reply_within: 1 business day
                note: You can follow my practice page, but I do not accept friend requests.
        """)
    _, _, found = lint(text)
    assert only(found, "L09") == []


# --------------------------------------------------------------------------- L10


def test_l10_note_hints_at_friendship_after_therapy(lint):
    path, _, found = lint(BASE + "policies:\n  termination:\n    note: Once therapy is over, we could grab coffee sometime.\n")
    f = one(found, "L10")                              # once, at the note: not again in the rendered handout
    assert f.severity == "error" and f.key == "policies.termination.note"
    at_key(f, path, "note:")


def test_l10_document_hints_at_staying_in_touch(lint):
    text = BASE.replace("[our-relationship]", "[ending-therapy, our-relationship]")
    body = md("""
        # How Therapy Ends

        You can end therapy at any time.

        After therapy ends, we can stay in touch socially.
        """)
    _, folder, found = lint(text, {"ending-therapy.md": body})
    f = one(found, "L10")
    at_doc(f, folder, "ending-therapy.md", "stay in touch")


def test_l10_negations_do_not_count(lint):
    text = BASE.replace("[our-relationship]", "[our-relationship, ending-therapy]") + (
        "policies:\n  termination:\n    note: We will not become friends or meet for coffee after therapy ends.\n")
    _, _, found = lint(text)                           # the built-in text: "We will not become friends after therapy"
    assert only(found, "L10") == []


# --------------------------------------------------------------------------- L14


def test_l14_supervisor_without_contact(lint):
    text = BASE + "  status: trainee\n  supervisor:\n    name: Dana Super\n    credentials: PhD\n"
    path, _, found = lint(text)
    f = one(found, "L14")
    assert f.severity == "error" and "Dana Super" in f.message and "trainee" in f.message
    at_key(f, path, "supervisor:")


def test_l14_clean(lint):
    text = BASE + "  status: associate\n  supervisor:\n    name: Dana Super\n    email: dana@example.org\n"
    _, _, found = lint(text)
    assert only(found, "L14") == []


# --------------------------------------------------------------------------- L17

TX = BASE.replace('phone: "555-0100"', 'phone: "555-0100"\n  jurisdiction: US-TX')


def test_l17_gift_limit_above_the_texas_cap(lint):
    path, _, found = lint(TX + "policies:\n  relationship:\n    gifts: small\n    gift_limit: $75\n")
    f = one(found, "L17")
    assert f.severity == "error" and "$75" in f.message and "$50" in f.message and "Texas" in f.message
    at_key(f, path, "gift_limit:")


def test_l17_gift_limit_that_is_not_an_amount(lint):
    path, _, found = lint(TX + "policies:\n  relationship:\n    gifts: small\n    gift_limit: something modest\n")
    f = one(found, "L17")
    assert f.severity == "warning"
    at_key(f, path, "gift_limit:")


@pytest.mark.parametrize("text", [
    TX + "policies:\n  relationship:\n    gifts: small\n    gift_limit: $25\n",
    TX + "policies:\n  relationship:\n    gifts: small\n",                       # the cap is printed
    BASE + "policies:\n  relationship:\n    gifts: small\n    gift_limit: $75\n",  # no state cap
], ids=["under-cap", "no-limit", "no-pack"])
def test_l17_clean(lint, text):
    _, _, found = lint(text)
    assert only(found, "L17") == []


# --------------------------------------------------------------------------- L21


def test_l21_self_disclosure_note_without_a_purpose(lint):
    text = BASE + "policies:\n  self_disclosure:\n    level: occasional\n    note: I sometimes mention my own divorce and my kids.\n"
    path, _, found = lint(text)
    f = one(found, "L21")
    assert f.severity == "warning"
    at_key(f, path, "note:")


def test_l21_clean(lint):
    text = BASE + "policies:\n  self_disclosure:\n    note: I may share a little of my own story when it helps.\n"
    _, _, found = lint(text)
    assert only(found, "L21") == []

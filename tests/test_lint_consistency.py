"""Consistency rules L23-L27: contradictions across the packet, and client questions left open.

Each rule runs alone through the registry on a rendered packet, so a test sees
only that rule. Each has a profile that trips it, placed at file:line: key, and
one that does not; the examples must pass ``check --strict`` as a whole.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from consentgen.errors import display_path
from consentgen.lint import RULES, context_for
from consentgen.lint.registry import findings
from consentgen.profiles import load_profile

from .conftest import ROOT
from .linting import line_of, place, run, template

EXAMPLES = sorted(ROOT.glob("profiles/example-*/clinicians/*.yaml"))

HEAD = """\
schema: 1
practice:
  name: Test Practice
  phone: "555-0100"
  email: office@test.example
{practice}
clinician:
  name: Robin Test
  credentials: LPC
{clinician}
packet: {packet}
policies:
{policies}
"""


def profile(write, *, practice: str = "", clinician: str = "", packet: str = "[informed-consent]",
            policies: str = "", name: str = "p.yaml") -> Path:
    """A small valid profile; ``practice``, ``clinician`` and ``policies`` are YAML lines under their key."""
    def block(text: str) -> str:
        return textwrap.indent(textwrap.dedent(text).strip(), "  ")
    text = HEAD.format(practice=block(practice), clinician=block(clinician), packet=packet,
                       policies=block(policies) or "  {}")
    return write(name, "\n".join(line for line in text.splitlines() if line.strip()) + "\n")




# --- L23: services offered against fee rows ----------------------------------------------------------

def test_l23_a_service_offered_with_no_fee_row_for_it(write):
    path = profile(write, policies="""\
        therapy: {services: [individual, couples]}
        fees:
          services:
            - {name: First session (60 minutes), fee: 160}
            - {name: Individual session (50 minutes), fee: 140}
        """)
    (f,) = run(path, "L23")
    assert place(f) == ("L23", "error", display_path(path), line_of(path, "therapy:"), "policies.therapy.services")
    assert "couples" in f.message and f"{display_path(path)}:{line_of(path, '  services:')}" in f.message


@pytest.mark.parametrize("rows", [
    # a row for each service
    ["{name: First session (60 minutes), fee: 160}", "{name: Individual session (50 minutes), fee: 140}",
     "{name: Couples or family session (50 minutes), fee: 160}"],
    # a regular session with no service words is for everyone
    ["{name: Session (50 minutes), fee: 140}"],
    # kinds say what a row is for, whatever its name
    ["{name: Session (50 minutes), fee: 140, kinds: [individual]}",
     "{name: Joint session (50 minutes), fee: 160, kinds: [couples]}"],
], ids=["a-row-each", "general-row", "kinds"])
def test_l23_quiet_when_each_service_has_a_row(write, rows):
    path = profile(write, policies="therapy: {services: [individual, couples]}\nfees:\n  services:\n"
                   + "".join(f"    - {r}\n" for r in rows))
    assert run(path, "L23") == []


def test_l23_a_row_whose_name_contradicts_its_kinds(write):
    path = profile(write, policies="""\
        fees:
          services:
            - {name: Individual session (50 minutes), fee: 140}
            - {name: Couples session (50 minutes), fee: 160, kinds: [individual]}
        """)
    (f,) = run(path, "L23")
    assert place(f) == ("L23", "error", display_path(path), line_of(path, "Couples session"),
                        "policies.fees.services[1]")
    assert "names couples work" in f.message


def test_l23_a_row_for_a_service_not_offered_is_left_out(write):
    path = profile(write, policies="""\
        therapy: {services: [individual]}
        fees:
          services:
            - {name: Individual session (50 minutes), fee: 140}
            - {name: Evening circle (90 minutes), fee: 60, kinds: [group]}
        """)
    (f,) = run(path, "L23")
    assert place(f) == ("L23", "warning", display_path(path), line_of(path, "Evening circle"),
                        "policies.fees.services[1]")
    assert "left out of the handouts" in f.message and "individual" in f.message


def test_l23_quiet_for_a_colleagues_row_in_the_shared_practice_file(write):
    """In a group practice the fee list is shared: a row for a service one clinician does not offer is
    expected, and left out of that clinician's handouts."""
    write("practice/practice.yaml", """\
        schema: 1
        practice: {name: Group Practice, phone: "555-0100"}
        packet: [informed-consent]
        policies:
          fees:
            services:
              - {name: Individual session (50 minutes), fee: 140}
              - {name: Joint session (50 minutes), fee: 160, kinds: [couples]}
        """)
    path = write("practice/clinicians/robin.yaml", "clinician: {name: Robin Test}\n")
    write("practice/clinicians/sam.yaml", "clinician: {name: Sam Test}\npolicies: {therapy: {services: [couples]}}\n")
    assert run(path, "L23") == []


# --- L24: an office address printed while its channel is not used -----------------------------------
#
# The practice names its office staff, so the built-in questions block (which prints the office's phone
# and email) says who answers them; only the user template's paragraph is in question.

STAFF = "office_staff: our front desk staff"

def test_l24_user_template_offers_the_office_email_while_email_is_none(write, tmp_path):
    folder = template(tmp_path / "tpl", "welcome", """\
        # Welcome

        We are glad you are here.

        Questions? Email us at office@test.example and we will get back to you.
        """)
    path = profile(write, packet="[welcome]", practice=STAFF)
    (f,) = run(path, "L24", (folder,))
    assert place(f) == ("L24", "error", "welcome (rendered)", 5, None)
    assert "office@test.example" in f.message and "email is not used" in f.message


def test_l24_user_template_offers_the_office_phone_while_phone_and_text_are_none(write, tmp_path):
    folder = template(tmp_path / "tpl", "welcome", """\
        # Welcome

        Call 555.0100 whenever you like.
        """)
    path = profile(write, packet="[welcome]", practice=STAFF)
    (f,) = run(path, "L24", (folder,))
    assert place(f) == ("L24", "error", "welcome (rendered)", 3, None)
    assert "555-0100" in f.message


@pytest.mark.parametrize("text, policies", [
    # the paragraph says what the address is for
    ("For forms and bills, email office@test.example.", ""),
    ("Our front desk staff read office@test.example.", ""),
    # the channel is in use at that address
    ("Email us at office@test.example.", "contact: {channels: {email: {use: scheduling, "
                                         "reply_within: 1 business day, cost: {fee: 0}}}}"),
    # another channel in use gives the office's number as its own
    ("Call 555-0100 to book a video check-in.", "contact: {channels: {video: {use: check-ins, address: 555-0100, "
                                                "reply_within: 1 business day, cost: {fee: 0}}}}"),
    # a table row: its other cells say what the address is for
    ("| Who | Address |\n|---|---|\n| Billing | office@test.example |", ""),
], ids=["purpose", "staff", "channel", "other-channel", "table-row"])
def test_l24_quiet_when_the_address_has_a_purpose_or_a_channel(write, tmp_path, text, policies):
    folder = template(tmp_path / "tpl", "welcome", "# Welcome\n\n" + text + "\n")
    path = profile(write, packet="[welcome]", practice=STAFF, policies=policies)
    assert run(path, "L24", (folder,)) == []


def test_l24_quiet_when_the_paragraph_names_who_reads_it(write, tmp_path):
    folder = template(tmp_path / "tpl", "welcome", "# Welcome\n\nJamie Cruz reads office@test.example.\n")
    path = profile(write, packet="[welcome]", practice="office_staff: Jamie Cruz")
    assert run(path, "L24", (folder,)) == []


def test_l24_quiet_on_the_built_in_documents_with_an_office_that_answers(write):
    """Email and phone not used, the office staff named: the built-in documents say what the
    office's number and address are for."""
    path = profile(write, practice=STAFF + "\nhipaa_covered: true\nnpp_version: 2026-03-01",
                   packet="[informed-consent, our-relationship, fees-and-cancellations, social-media-and-online, "
                          "privacy-notice-acknowledgement]",
                   policies="""\
                       contact: {channels: {portal: {use: scheduling, reply_within: 1 business day, private: true}}}
                       breaks: {coverage: {name: Jordan Lee, phone: "555-0142"}}
                       """)
    assert run(path, "L24") == []


# --- L25: two numbers for one board ------------------------------------------------------------------

BOARD = """\
board:
  name: Texas Behavioral Health Executive Council
  phone: "{phone}"
"""
NOTICE = ("complaint_notice: Complaints are handled by the Texas Behavioral Health Executive Council, "
          "1801 Congress Avenue, Austin, Texas 78701, phone {phone}.\njurisdiction: US-TX")


def test_l25_board_phone_differs_from_the_complaint_notice(write):
    path = profile(write, clinician=BOARD.format(phone="555-0197"), practice=NOTICE.format(phone="(512) 305-7700"))
    (f,) = run(path, "L25")
    assert place(f) == ("L25", "error", display_path(path), line_of(path, "phone: \"555-0197\""),
                        "clinician.board.phone")
    assert "(512) 305-7700" in f.message and "555-0197" in f.message


def test_l25_board_named_by_the_word_council_and_the_state(write):
    notice = ("complaint_notice: To complain, write to the Texas licensing council or call 1-800-555-0199."
              "\njurisdiction: US-TX")
    path = profile(write, clinician=BOARD.format(phone="555-0197"), practice=notice)
    (f,) = run(path, "L25")
    assert f.key == "clinician.board.phone" and "1-800-555-0199" in f.message


@pytest.mark.parametrize("board_phone, practice", [
    ("512-305-7700", NOTICE.format(phone="(512) 305-7700")),          # one number, written two ways
    ("+1 512 305 7700", NOTICE.format(phone="512.305.7700")),
    ("555-0197", NOTICE.format(phone="(512) 555-0197")),              # the same number, with its area code
    # the notice's number is another agency's
    ("555-0197", "complaint_notice: For records questions, call Harbor Records at 555-0150.\njurisdiction: US-TX"),
], ids=["formatted", "country-code", "area-code", "other-agency"])
def test_l25_quiet_when_the_numbers_agree_or_are_not_the_boards(write, board_phone, practice):
    path = profile(write, clinician=BOARD.format(phone=board_phone), practice=practice)
    assert run(path, "L25") == []


# --- L26: session length against fee rows ------------------------------------------------------------

def test_l26_regular_row_with_other_minutes_than_the_session_length(write):
    path = profile(write, packet="[informed-consent, fees-and-cancellations]", policies="""\
        therapy: {session_minutes: 50}
        fees:
          services:
            - {name: First session (90 minutes), fee: 200}
            - {name: Individual session (60 minutes), fee: 140}
        """)
    (f,) = run(path, "L26")
    assert place(f) == ("L26", "error", display_path(path), line_of(path, "Individual session"),
                        "policies.fees.services[1]")
    assert "60 minutes" in f.message and f"is 50 ({display_path(path)}:{line_of(path, 'therapy:')})" in f.message


def test_l26_is_a_warning_when_the_packet_prints_neither(write):
    path = profile(write, packet="[our-relationship]", policies="""\
        fees: {services: [{name: Individual session (45 min), fee: 140}]}
        """)
    (f,) = run(path, "L26")
    assert place(f) == ("L26", "warning", display_path(path), line_of(path, "Individual session"),
                        "policies.fees.services[0]")
    assert "(the default)" in f.message


@pytest.mark.parametrize("rows", [
    "{name: Individual session (50 minutes), fee: 140}",
    "{name: Intake assessment (90 minutes), fee: 200}",        # not a regular session
    "{name: Group session (90 minutes), fee: 60}",             # for a service not offered: left out
    "{name: Individual session, fee: 140}",                    # no minutes in the name
], ids=["same", "intake", "not-offered", "no-minutes"])
def test_l26_quiet(write, rows):
    path = profile(write, packet="[informed-consent, fees-and-cancellations]",
                   policies=f"fees:\n  services:\n    - {rows}\n")
    assert run(path, "L26") == []


# --- L27: client questions left to a default ---------------------------------------------------------

ANSWERED = """\
contact: {channels: {phone: {use: scheduling, reply_within: 1 business day, cost: {fee: 0}}}}
termination: {inactive_after: 30 days}
breaks: {while_away: {answer_after_return: 2 business days}}
"""


def test_l27_quiet_when_the_questions_are_answered(write):
    assert run(profile(write, policies=ANSWERED), "L27") == []


def test_l27_no_number_for_when_a_file_closes(write):
    path = profile(write, policies=ANSWERED.replace("inactive_after: 30 days", "notice_sessions: 2"))
    (f,) = run(path, "L27")
    assert place(f) == ("L27", "warning", display_path(path), line_of(path, "termination:"),
                        "policies.termination.inactive_after")
    assert "some weeks" in f.message


def test_l27_channel_in_use_with_no_cost(write):
    path = profile(write, policies=ANSWERED.replace(", cost: {fee: 0}", ""))
    (f,) = run(path, "L27")
    assert place(f) == ("L27", "warning", display_path(path), line_of(path, "phone: {use"),
                        "policies.contact.channels.phone.cost")
    assert "No charge" in f.message


def test_l27_messages_wait_for_the_return_with_no_time(write):
    path = profile(write, policies=ANSWERED.replace("answer_after_return: 2 business days", "channels: []"))
    (f,) = run(path, "L27")
    assert place(f) == ("L27", "warning", display_path(path), line_of(path, "while_away"),
                        "policies.breaks.while_away.answer_after_return")


def test_l27_quiet_when_messages_are_answered_during_the_break(write):
    path = profile(write, policies=ANSWERED.replace(
        "answer_after_return: 2 business days", "channels: [phone], reply_within: 2 business days"))
    assert run(path, "L27") == []


def group_practice(write, staff: str = "") -> Path:
    """Two clinicians sharing one practice file; the phone channel uses the office's number."""
    write("practice/practice.yaml", "schema: 1\n"
          f"practice: {{name: Group Practice, phone: \"555-0100\"{staff}}}\n"
          "packet: [our-relationship]\n"
          "policies:\n" + textwrap.indent(ANSWERED, "  "))
    write("practice/clinicians/sam.yaml", "clinician: {name: Sam Test}\n")
    return write("practice/clinicians/robin.yaml", "clinician: {name: Robin Test}\n")


def test_l27_office_number_with_no_word_on_who_reads_it(write):
    path = group_practice(write)
    (f,) = run(path, "L27")
    practice = path.parent.parent / "practice.yaml"
    assert place(f) == ("L27", "warning", display_path(practice), 2, "practice.office_staff")
    assert "phone calls (555-0100)" in f.message


def test_l27_quiet_when_the_office_staff_is_named_or_the_practice_is_solo(write):
    assert run(group_practice(write, staff=", office_staff: our front desk staff"), "L27") == []
    assert run(profile(write, policies=ANSWERED), "L27") == []        # one clinician: the number is theirs


# --- the examples -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_raise_no_consistency_findings(path):
    ctx = context_for(load_profile(path))
    found = findings(ctx, [RULES[r] for r in ("L23", "L24", "L25", "L26", "L27")])
    assert [f"{f.location()}: {f.rule} {f.message}" for f in found] == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_passes_check_strict(cli, path):
    result = cli("check", "--strict", path)
    assert result.exit_code == 0, result.output

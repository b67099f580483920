"""Rules L01-L04, L15 and L19: contact between sessions, emergencies, breaks and telehealth.

Each rule has a profile that triggers it (rule id, severity, file and line of
the profile key) and one that does not. Text-based cases use a user template
folder whose document replaces a built-in one and leaves a statement out.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from consentgen.errors import display_path
from consentgen.lint import RULES, check_profile, context_for
from consentgen.lint.registry import findings
from consentgen.profiles import load_profile

from .conftest import ROOT

OURS = ("L01", "L02", "L03", "L04", "L15", "L19")

# Line numbers below are those of this text: keep them in step when editing it.
BASE = """\
schema: 1
packet: [contact]
practice:
  name: Test Practice
  phone: "555-0100"
clinician:
  name: Robin Test
policies:
  breaks:
    coverage: {name: Sam Cover, phone: "555-0199"}
  contact:
    channels:
      phone: {use: scheduling, reply_within: 1 business day}
"""
#          line 2: packet; 9: policies.breaks; 10: coverage; 11: contact; 12: channels; 13: phone


def profile(tmp_path: Path, *extra: str, base: str = BASE, name: str = "me.yaml") -> Path:
    """BASE plus ``extra`` lines (appended from line 14 on)."""
    path = tmp_path / name
    path.write_text(base + "".join(line + "\n" for line in extra), encoding="utf-8")
    return path


def templates(tmp_path: Path, **docs: str) -> tuple[Path, ...]:
    """A user template folder holding ``name.md`` for each keyword (dashes as underscores)."""
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in docs.items():
        (folder / f"{name.replace('_', '-')}.md").write_text(text, encoding="utf-8")
    return (folder,)


def found(path: Path, template_dirs: tuple[Path, ...] = ()):
    """Findings of this module's rules only, so other modules' rules cannot make these tests flaky."""
    return findings(context_for(load_profile(path), template_dirs), [RULES[r] for r in OURS])


def only(findings, rule: str):
    return [f for f in findings if f.rule == rule]


def assert_hit(finding, rule: str, severity: str, path: Path, line: int, key: str) -> None:
    assert (finding.rule, finding.severity, finding.file, finding.line, finding.key) == (
        rule, severity, display_path(path), line, key)


# A contact handout that lists the ways to reach the therapist and keeps the
# crisis box, but drops the privacy paragraph.
CONTACT_NO_PRIVACY = """\
# Contact Between Sessions

You can reach me by phone, text message or email. I reply within {{ policies.contact.channels.phone.reply_within }}.

{% include "sections/emergency.md" %}
"""

# A contact handout with no crisis box: nothing says messages are not for emergencies.
CONTACT_NO_EMERGENCY = """\
# Contact Between Sessions

You can reach me by phone. I reply within {{ policies.contact.channels.phone.reply_within }}.
"""


# --- the shipped examples -------------------------------------------------------------------

def test_the_example_clinicians_do_not_trigger_these_rules():
    for path in sorted(ROOT.glob("profiles/example-*/clinicians/*.yaml")):
        assert found(path) == [], path


def test_the_rules_are_listed(cli):
    result = cli("rules")
    assert result.exit_code == 0
    listed = {line.split()[0]: line.split()[1] for line in result.output.splitlines() if line.strip()}
    assert {r: listed.get(r) for r in OURS} == {
        "L01": "error", "L02": "error", "L03": "error", "L04": "error", "L15": "error", "L19": "warning"}


# --- L01: messages that are not private, with no privacy-risk statement --------------------------

def test_l01_a_template_without_the_privacy_paragraph(tmp_path):
    path = profile(tmp_path,
                   "      text: {use: scheduling, reply_within: 4 hours}",                     # line 14
                   "      email: {use: scheduling, reply_within: 1 business day, private: true}")
    hits = only(found(path, templates(tmp_path, contact=CONTACT_NO_PRIVACY)), "L01")
    assert len(hits) == 1                                     # email is private; phone is not a message channel
    assert_hit(hits[0], "L01", "error", path, 14, "policies.contact.channels.text")
    assert "text messages" in hits[0].message and "not fully private" in hits[0].message


def test_l01_the_built_in_privacy_paragraph_is_enough(tmp_path):
    path = profile(tmp_path,
                   "      text: {use: check-ins, reply_within: 4 hours}",
                   "      email: {use: scheduling, reply_within: 1 business day}",
                   "      social_media: {use: scheduling, reply_within: 2 business days}")
    assert only(found(path), "L01") == []


def test_l01_falls_back_to_the_profile_when_no_document_covers_the_channel(tmp_path):
    base = BASE.replace("packet: [contact]", "packet: [fees-and-cancellations]")
    bare = profile(tmp_path, "      social_media: {use: scheduling, reply_within: 1 business day}", base=base)
    hits = only(found(bare), "L01")
    assert len(hits) == 1
    assert_hit(hits[0], "L01", "error", bare, 14, "policies.contact.channels.social_media")
    assert "social-media messages" in hits[0].message and "note" in hits[0].message

    noted = profile(tmp_path, "      social_media:",
                    "        use: scheduling",
                    "        reply_within: 1 business day",
                    "        note: These messages are not private; I answer scheduling questions only.",
                    base=base, name="noted.yaml")
    assert only(found(noted), "L01") == []


def test_l01_through_check_profile_and_silenced_with_a_reason(tmp_path):
    path = profile(tmp_path, "      text: {use: scheduling, reply_within: 4 hours}")
    dirs = templates(tmp_path, contact=CONTACT_NO_PRIVACY)
    [hit] = [f for f in check_profile(load_profile(path), dirs) if f.rule == "L01"]
    assert (hit.severity, hit.line, hit.silenced) == ("error", 14, None)

    path = profile(tmp_path, "      text: {use: scheduling, reply_within: 4 hours}",
                   "lint: {ignore: {L01: our texts go through an encrypted app}}")
    [hit] = [f for f in check_profile(load_profile(path), dirs) if f.rule == "L01"]
    assert hit.silenced == "our texts go through an encrypted app"


# --- L02: no "never for emergencies" line ----------------------------------------------------

def test_l02_a_template_without_the_crisis_box(tmp_path):
    path = profile(tmp_path)
    hits = only(found(path, templates(tmp_path, contact=CONTACT_NO_EMERGENCY)), "L02")
    assert len(hits) == 1
    assert_hit(hits[0], "L02", "error", path, 12, "policies.contact.channels")
    assert "phone calls" in hits[0].message


def test_l02_the_built_in_crisis_box_is_enough(tmp_path):
    assert only(found(profile(tmp_path)), "L02") == []


@pytest.mark.parametrize("line", [
    "Please do not use email or texts in an emergency.",
    "This is not an emergency line.",
    "If you are in a crisis, don't wait for my reply: call 988.",
    "Messages are not checked for emergencies.",
])
def test_l02_other_wordings_of_the_line(tmp_path, line):
    path = profile(tmp_path)
    contact = CONTACT_NO_EMERGENCY + "\n" + line + "\n"
    assert only(found(path, templates(tmp_path, contact=contact)), "L02") == []


def test_l02_no_channel_in_use_needs_no_line(tmp_path):
    path = profile(tmp_path, base=BASE.replace("use: scheduling, reply_within: 1 business day", "use: none"))
    no_contact = "# Contact Between Sessions\n\nI do not take calls or messages between sessions.\n"
    assert only(found(path, templates(tmp_path, contact=no_contact)), "L02") == []


# --- L03: emergency instructions ---------------------------------------------------------------

def test_l03_only_the_therapists_own_phone(tmp_path):
    path = profile(tmp_path, "emergency:",
                   "  crisis_lines:",                                                       # line 15
                   "    - {name: My office, number: \"(555) 0100\"}")
    hits = only(found(path), "L03")
    assert len(hits) == 1
    assert_hit(hits[0], "L03", "error", path, 15, "emergency.crisis_lines")
    assert "own phone" in hits[0].message


def test_l03_911_missing(tmp_path):
    path = profile(tmp_path, "emergency:",
                   "  crisis_lines:",
                   "    - {name: 988 Suicide & Crisis Lifeline, number: \"988\"}")
    hits = only(found(path), "L03")
    assert [h.message for h in hits] == ["911 is not among the crisis lines"]
    assert_hit(hits[0], "L03", "error", path, 15, "emergency.crisis_lines")


def test_l03_the_default_lines_are_enough(tmp_path):
    assert only(found(profile(tmp_path)), "L03") == []


def test_l03_outside_the_us_988_and_911_are_not_required(tmp_path):
    base = BASE.replace('  phone: "555-0100"', '  phone: "555-0100"\n  jurisdiction: GB')
    path = profile(tmp_path, "emergency:", "  crisis_lines:", "    - {name: Samaritans, number: \"116 123\"}",
                   base=base)
    assert only(found(path), "L03") == []


def test_l03_a_packet_with_no_emergency_instructions(tmp_path):
    path = profile(tmp_path)
    # The built-in key points give the crisis lines, so a packet lacks them only when those are replaced too.
    mine = templates(tmp_path, contact=CONTACT_NO_EMERGENCY, key_points="# Key Points\n\nWelcome.\n")
    hits = only(found(path, mine), "L03")
    assert len(hits) == 1
    assert_hit(hits[0], "L03", "error", path, 2, "packet")


TELEHEALTH = """\
  telehealth:
    offered: true
    platform: a secure video service
    backup: phone
    states: [Colorado]"""
#   line 14: telehealth; 17: backup; 18: states

TELEHEALTH_NO_LOCATION = """\
# Consent for Video Sessions

We will use {{ policies.telehealth.platform }}. If the video stops working, I will call you.

I am licensed to see you by video only while you are in {{ policies.telehealth.states|join_and("or") }}.

{% include "sections/emergency.md" %}
"""


def test_l03_telehealth_without_a_location_plan(tmp_path):
    path = profile(tmp_path, TELEHEALTH, base=BASE.replace("[contact]", "[contact, telehealth-consent]"))
    hits = only(found(path, templates(tmp_path, telehealth_consent=TELEHEALTH_NO_LOCATION)), "L03")
    assert len(hits) == 1
    assert_hit(hits[0], "L03", "error", path, 14, "policies.telehealth")
    assert "telehealth-consent" in hits[0].message


def test_l03_the_built_in_telehealth_consent_has_a_location_plan(tmp_path):
    path = profile(tmp_path, TELEHEALTH, base=BASE.replace("[contact]", "[contact, telehealth-consent]"))
    assert found(path) == []


# --- L04: covering clinician -----------------------------------------------------------------

def test_l04_no_covering_clinician(tmp_path):
    path = profile(tmp_path, base=BASE.replace('    coverage: {name: Sam Cover, phone: "555-0199"}',
                                               "    notice: 3 weeks"))
    hits = only(found(path), "L04")
    assert len(hits) == 1
    assert_hit(hits[0], "L04", "error", path, 9, "policies.breaks.coverage")   # its nearest written parent


def test_l04_the_cover_is_the_therapist(tmp_path):
    path = profile(tmp_path, base=BASE.replace("{name: Sam Cover,", "{name: robin  test,"))
    hits = only(found(path), "L04")
    assert len(hits) == 1
    assert_hit(hits[0], "L04", "warning", path, 10, "policies.breaks.coverage.name")


def test_l04_a_colleague_covers(tmp_path):
    assert only(found(profile(tmp_path)), "L04") == []


# --- L15: telehealth backup and jurisdiction -----------------------------------------------------

def test_l15_telehealth_consent_not_in_the_packet(tmp_path):
    path = profile(tmp_path, TELEHEALTH)
    hits = only(found(path), "L15")
    assert len(hits) == 1
    assert_hit(hits[0], "L15", "error", path, 2, "packet")


def test_l15_a_telehealth_consent_without_backup_or_states(tmp_path):
    path = profile(tmp_path, TELEHEALTH, base=BASE.replace("[contact]", "[contact, telehealth-consent]"))
    bare = """\
# Consent for Video Sessions

We will use {{ policies.telehealth.platform }}. Please tell me where you are, so that I can send help in an emergency.

{% include "sections/emergency.md" %}
"""
    hits = only(found(path, templates(tmp_path, telehealth_consent=bare)), "L15")
    assert len(hits) == 2
    assert_hit(hits[0], "L15", "error", path, 17, "policies.telehealth.backup")
    assert_hit(hits[1], "L15", "error", path, 18, "policies.telehealth.states")
    assert "Colorado" in hits[1].message


def test_l15_the_built_in_telehealth_consent_is_enough(tmp_path):
    path = profile(tmp_path, TELEHEALTH, base=BASE.replace("[contact]", "[contact, telehealth-consent]"))
    assert only(found(path), "L15") == []


# --- L19: reply expectation for channels open during breaks ----------------------------------------

AWAY = """\
  breaks:
    coverage: {name: Sam Cover, phone: "555-0199"}
    while_away:
      channels: [email]"""


@pytest.mark.parametrize("reply_within", [None, "3 business days"])
def test_l19_the_built_in_breaks_handout_states_a_reply(tmp_path, reply_within):
    away = AWAY + (f"\n      reply_within: {reply_within}" if reply_within else "")
    base = BASE.replace("[contact]", "[breaks]").replace(
        '  breaks:\n    coverage: {name: Sam Cover, phone: "555-0199"}\n', away + "\n")
    assert only(found(profile(tmp_path, base=base)), "L19") == []


def test_l19_a_breaks_template_with_no_reply_expectation(tmp_path):
    base = BASE.replace("[contact]", "[breaks]").replace(
        '  breaks:\n    coverage: {name: Sam Cover, phone: "555-0199"}\n', AWAY + "\n")
    path = profile(tmp_path, base=base)
    breaks = """\
# Breaks and Time Away

I will tell you about a break at least {{ policies.breaks.notice }} ahead. While I am away, you can email me.

{% include "sections/emergency.md" %}
"""
    hits = only(found(path, templates(tmp_path, breaks=breaks)), "L19")
    assert len(hits) == 1
    assert_hit(hits[0], "L19", "warning", path, 12, "policies.breaks.while_away.channels")
    assert "email messages" in hits[0].message

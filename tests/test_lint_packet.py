"""Packet rules L12, L13, L16, L18 and L22, the readability report, and the JSON of
``consentgen check`` against its published schema.

Rule tests run one rule through the registry on a rendered packet, so they see
only that rule; the CLI tests run ``check`` as a user would.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import textstat

import consentgen.lint as lint
from consentgen.api import Job, build_document
from consentgen.document import Document, Heading, plain_text
from consentgen.errors import display_path
from consentgen.lint import RULES, context_for, readability
from consentgen.lint.readability import readability_report
from consentgen.lint.registry import Context, findings
from consentgen.profiles import load_profile
from consentgen.templating import list_documents

from .conftest import ROOT
from .linting import line_of, place, run, template

MINE = ("L12", "L13", "L16", "L18", "L22")
SCHEMA = json.loads((Path(lint.__file__).parent / "check-schema.json").read_text(encoding="utf-8"))
EXAMPLES = sorted(ROOT.glob("profiles/*/clinicians/*.yaml"))


def profile(write, *, practice: str = "", packet: str = "[contact]", rest: str = "", name: str = "p.yaml") -> Path:
    """A small valid profile; ``practice`` and ``rest`` are YAML lines (practice keys indented by 2)."""
    text = textwrap.dedent("""\
        schema: 1
        practice:
          name: Test Practice
          phone: "555-0100"
        {practice}
        clinician:
          name: Robin Test
          credentials: LPC
        packet: {packet}
        {rest}
        """).format(practice=textwrap.indent(textwrap.dedent(practice).strip(), "  "), packet=packet,
                    rest=textwrap.dedent(rest).strip())
    return write(name, text)




# --- L12: Good Faith Estimate notice --------------------------------------------------------------

@pytest.mark.parametrize("practice", ["self_pay: true", "self_pay: false", "jurisdiction: US-CO"])
def test_l12_a_us_fees_document_without_the_good_faith_estimate_notice(write, tmp_path, practice):
    """Uninsured clients, and insured ones not using their insurance, are entitled to it: every US
    practice has them, self-pay or in network (45 CFR 149.610)."""
    folder = template(tmp_path / "tpl", "fees-and-cancellations", "# Fees\n\nA session is $140.\n")
    path = profile(write, practice=practice, packet="[fees-and-cancellations]")
    (f,) = run(path, "L12", (folder,))
    assert place(f) == ("L12", "error", "fees-and-cancellations (rendered)", 1, None)
    assert "Good Faith Estimate" in f.message


@pytest.mark.parametrize("practice, packet", [
    ("self_pay: false", "[fees-and-cancellations]"),    # the built-in boxed notice, for every US practice
    ("self_pay: false", "[our-relationship]"),          # no fees document in the packet
    ("jurisdiction: GB", "[fees-and-cancellations]"),   # not a US practice
])
def test_l12_quiet_when_the_notice_is_there_or_not_needed(write, practice, packet):
    assert run(profile(write, practice=practice, packet=packet), "L12") == []


# --- L13: HIPAA privacy notice ----------------------------------------------------------------------

def test_l13_hipaa_covered_packet_without_the_acknowledgement_is_an_error(write):
    path = profile(write, practice="hipaa_covered: true\nnpp_version: 2026-03-01", packet="[our-relationship]")
    (f,) = run(path, "L13")
    assert place(f) == ("L13", "error", display_path(path), line_of(path, "packet:"), "packet")


def test_l13_notice_older_than_february_16_2026_is_a_warning(write):
    path = profile(write, practice="hipaa_covered: true\nnpp_version: 2025-09-23",
                   packet="[privacy-notice-acknowledgement]")
    (f,) = run(path, "L13")
    assert place(f) == ("L13", "warning", display_path(path), line_of(path, "npp_version:"), "practice.npp_version")
    assert "2025-09-23" in f.message


@pytest.mark.parametrize("practice, packet", [
    ("hipaa_covered: true\nnpp_version: 2026-02-16", "[privacy-notice-acknowledgement, contact]"),
    ("hipaa_covered: false\nnpp_version: 2020-01-01", "[contact]"),     # not covered: no notice to give
])
def test_l13_quiet(write, practice, packet):
    assert run(profile(write, practice=practice, packet=packet), "L13") == []


# --- L16: one document contradicting itself ---------------------------------------------------------

EMAIL = """\
policies:
  contact:
    channels:
      email: {use: scheduling, reply_within: 2 business days}
"""
FEES = """\
  fees:
    services: [{name: Individual session (50 minutes), fee: 140}]
"""


def test_l16_note_with_another_reply_time_than_the_setting(write):
    path = profile(write, rest=EMAIL + "    note: I answer email within 1 hour, even at weekends.\n")
    (f,) = run(path, "L16")
    assert place(f) == ("L16", "warning", display_path(path), line_of(path, "note:"), "policies.contact.note")
    assert "1 hour" in f.message and "policies.contact.channels.email.reply_within says 2 business days" in f.message


def test_l16_break_note_with_another_notice_than_the_setting(write):
    path = profile(write, packet="[breaks]", rest="""\
        policies:
          breaks:
            notice: 2 weeks
            note: I always give at least a month's notice before a vacation.
        """)
    (f,) = run(path, "L16")
    assert place(f) == ("L16", "warning", display_path(path), line_of(path, "note:"), "policies.breaks.note")


def test_l16_two_reply_times_in_one_template(write, tmp_path):
    folder = template(tmp_path / "tpl", "card", """\
        # Contact Card

        Email me any time. I reply to email within 2 business days.

        On Fridays, I reply to email within 1 hour.
        """)
    path = profile(write, packet="[card]", rest=EMAIL)
    (f,) = run(path, "L16", (folder,))
    assert place(f) == ("L16", "warning", "card (rendered)", 5, None)
    assert "2 business days (line 3) and 1 hour" in f.message


@pytest.mark.parametrize("weeks, hits", [(3, 0), (4, 1)])
def test_l16_quiet_when_notes_and_text_agree(write, tmp_path, weeks, hits):
    folder = template(tmp_path / "tpl", "card", """\
        # Contact Card

        I reply to email within 2 business days. I tell you about a break at least 3 weeks ahead.
        """)
    path = profile(write, packet="[contact, breaks, card]", rest=EMAIL + (
        "    note: Email gets a reply within 2 business days.\n"
        "  breaks:\n"
        "    notice: 3 weeks\n"
        f"    note: I give {weeks} weeks' notice before a break.\n"))
    assert [f.key for f in run(path, "L16", (folder,))] == ["policies.breaks.note"] * hits


# --- L22: documents of one packet disagreeing -------------------------------------------------------

def test_l22_user_template_states_other_reply_time_fee_and_notice(write, tmp_path):
    folder = template(tmp_path / "tpl", "summary", """\
        # At a Glance

        I reply to email within 1 hour.

        I tell you about a planned break at least 4 weeks ahead.

        | Service | Fee |
        |---|---|
        | Individual session (50 minutes) | $200 |
        """)
    path = profile(write, packet="[contact, breaks, fees-and-cancellations, summary]", rest=EMAIL + FEES + (
        "  breaks: {notice: 2 weeks}\n"))
    found = run(path, "L22", (folder,))
    assert sorted(place(f) for f in found) == [("L22", "warning", "summary (rendered)", line, None) for line in (3, 5, 9)]
    messages = " ".join(f.message for f in found)
    # Each is compared with the first document of the packet that states it (the key points come first).
    for said in ("'Key Points' says 2 business days", "'Breaks and Time Away' says 2 weeks", "says $140"):
        assert said in messages


def test_l22_quiet_when_a_user_template_agrees(write, tmp_path):
    folder = template(tmp_path / "tpl", "summary", """\
        # At a Glance

        I reply to email within 2 business days. A session is $140.

        | Service | Fee |
        |---|---|
        | Individual session (50 minutes) | $140 |
        """)
    path = profile(write, packet="[contact, fees-and-cancellations, summary]", rest=EMAIL + FEES)
    assert run(path, "L22", (folder,)) == []


VARIED = [p for p in EXAMPLES if p.stem in ("samuel-okafor", "darnell-brooks", "kevin-oconnell", "jonah-whitfield")]


def test_built_in_documents_never_contradict_each_other():
    """Every built-in document, for examples that vary the most, agrees with itself and the others."""
    job = Job(docs=("all",))
    for path in VARIED:
        loaded = load_profile(path)
        ctx = Context(loaded, {t.name: build_document(loaded, t.name, job) for t in list_documents()})
        assert findings(ctx, [RULES["L16"], RULES["L22"]]) == [], path.stem


# --- L18: reading level, long sentences, jargon -----------------------------------------------------

HARD_NOTE = ("Please use email between sessions only for scheduling and practical matters; personal "
             "conversations should wait for our next appointment in the office.")


def test_l18_note_at_grade_14_is_a_warning_at_the_note(write):
    assert 13.5 < textstat.flesch_kincaid_grade(HARD_NOTE) < 15
    path = profile(write, rest=EMAIL + f"    note: {HARD_NOTE}\n")
    (f,) = run(path, "L18")
    assert place(f) == ("L18", "warning", display_path(path), line_of(path, "note:"), "policies.contact.note")
    assert "grade 14" in f.message


@pytest.mark.parametrize("warn, error, severity", [(2, 20, "warning"), (2, 3, "error")])
def test_l18_document_grade_over_the_targets(write, warn, error, severity):
    path = profile(write, rest=f"lint:\n  readability: {{warn_above: {warn}, error_above: {error}}}")
    (f,) = [f for f in run(path, "L18") if f.file == "contact (rendered)"]
    assert place(f) == ("L18", severity, "contact (rendered)", 1, None)
    assert "'Contact Between Sessions' reads at grade" in f.message


def test_l18_long_sentence_in_a_note_and_in_a_template(write, tmp_path):
    long = " ".join(["We can talk and then we can rest"] * 4) + "."     # 32 short words: grade 8.7, not hard
    folder = template(tmp_path / "tpl", "card", f"""\
        # Card

        Short and clear.

        - {long.replace("We can", "You and I can")}
        """)
    path = profile(write, packet="[contact, card]", rest=EMAIL + f"    note: {long}\n")
    found = run(path, "L18", (folder,))
    assert sorted(place(f) for f in found) == sorted([
        ("L18", "warning", display_path(path), line_of(path, "note:"), "policies.contact.note"),
        ("L18", "warning", "card (rendered)", 5, None),
    ])
    assert sorted(f.message[:32] for f in found) == ["a sentence of 32 words (over 25)", "a sentence of 40 words (over 25)"]


def test_l18_undefined_jargon_in_a_note_and_in_a_template(write, tmp_path):
    folder = template(tmp_path / "tpl", "card", """\
        # Card

        I keep your PHI safe.

        Transference means having strong feelings about me. We can talk about transference.

        I follow the duty to warn (the law that says I must act to keep someone safe).
        """)
    path = profile(write, packet="[card, relationship]", rest="""\
        policies:
          relationship:
            note: Together we will look at any dual relationship that comes up.
        """)
    found = run(path, "L18", (folder,))
    assert sorted(place(f) for f in found) == sorted([
        ("L18", "warning", "card (rendered)", 3, None),
        ("L18", "warning", display_path(path), line_of(path, "note:"), "policies.relationship.note"),
    ])
    assert any("'PHI'" in f.message for f in found) and any("'dual relationship'" in f.message for f in found)


def test_l18_quiet_for_a_plain_packet(write):
    assert run(profile(write, packet="[contact, breaks]", rest=EMAIL), "L18") == []


# --- The example clinicians ----------------------------------------------------------------------------

# What L18 says about the shipped examples, and why it is right: three built-in sentences
# run over 25 words, and two clinicians name a therapy by its initials alone.
KNOWN_L18 = (
    ("our-relationship (rendered)", "This handout explains how our work"),               # 31 words
    ("social-media-and-online (rendered)", "If I am worried that you or someone"),       # 26 words
    ("informed-consent (rendered)", "Between sessions, you can reach me by"),           # 27-28 with three channels
    ("samuel-okafor.yaml", "'CBT' is jargon"),
    ("wren-kowalski.yaml", "'EMDR' is jargon"),
)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_trigger_only_what_is_right_about_them(path):
    found = findings(context_for(load_profile(path)), [RULES[r] for r in MINE])
    assert [f for f in found if f.rule != "L18"] == []
    for f in found:
        assert any(f.file.endswith(file) and text in f.message for file, text in KNOWN_L18), f.message


# --- The readability report ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ana-nunez", "kevin-oconnell"])
def test_report_agrees_with_textstat_for_every_built_in_document(name):
    (path,) = [p for p in EXAMPLES if p.stem == name]
    loaded = load_profile(path)
    job = Job(docs=("all",))
    ctx = Context(loaded, {t.name: build_document(loaded, t.name, job) for t in list_documents()})
    report = readability_report(ctx)
    assert [r["name"] for r in report] == list(ctx.documents)
    for entry in report:
        doc = ctx.documents[entry["name"]]
        assert entry["title"] == doc.title
        same_as_textstat(entry, plain_text(doc))
        assert entry["smog"] == pytest.approx(textstat.smog_index(plain_text(doc)), abs=0.01)
        starts = [i for i, b in enumerate(doc.blocks) if isinstance(b, Heading) and b.level == 2]
        assert [s["heading"] for s in entry["sections"]] == [doc.blocks[i].text for i in starts]
        for section, start in zip(entry["sections"], starts):
            end = next((i for i in range(start + 1, len(doc.blocks))
                        if isinstance(doc.blocks[i], Heading) and doc.blocks[i].level <= 2), len(doc.blocks))
            assert section["line"] == doc.blocks[start].line
            same_as_textstat(section, plain_text(Document(doc.name, section["heading"], doc.blocks[start:end])))


def same_as_textstat(entry: dict, text: str) -> None:
    assert entry["grade"] == pytest.approx(textstat.flesch_kincaid_grade(text), abs=0.01)
    assert entry["reading_ease"] == pytest.approx(textstat.flesch_reading_ease(text), abs=0.01)
    words = textstat.lexicon_count(text) / textstat.sentence_count(text)
    assert entry["words_per_sentence"] == pytest.approx(words, abs=0.01)


# --- check on the command line: JSON schema, --strict, no textstat ------------------------------------

@pytest.fixture
def packet_rules_only(monkeypatch):
    """check with only this module's rules, so exit codes do not depend on the other rules."""
    monkeypatch.setattr(lint, "RULES", {k: v for k, v in RULES.items() if k in MINE})


def check_json(cli, *args):
    result = cli("check", "--format", "json", *args)
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    return result, data


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_check_json_matches_the_schema_for_clean_failing_silenced_and_invalid_profiles(cli, write, packet_rules_only):
    clean = profile(write, name="clean.yaml", rest=EMAIL)
    hipaa = "hipaa_covered: true\nnpp_version: 2026-03-01"
    failing = profile(write, name="failing.yaml", practice=hipaa)
    silenced = profile(write, name="silenced.yaml", practice=hipaa,
                       rest='lint:\n  ignore: {L13: "we hand out the notice on paper"}')
    invalid = write("invalid.yaml", "schema: 1\npractice: {name: X}\n")
    result, data = check_json(cli, clean)
    assert result.exit_code == 0 and data["profiles"][0]["findings"] == []
    assert [d["name"] for d in data["profiles"][0]["readability"]] == ["key-points", "contact", "acknowledgement"]
    result, data = check_json(cli, failing)
    assert result.exit_code == 1 and [f["rule"] for f in data["profiles"][0]["findings"]] == ["L13"]
    result, data = check_json(cli, clean, failing, silenced, invalid)
    assert result.exit_code == 2 and data["summary"] == {"profiles": 4, "invalid": 1, "errors": 1, "warnings": 0,
                                                         "silenced": 1, "info": 0}
    assert data["profiles"][2]["findings"][0]["silenced"] == "we hand out the notice on paper"
    assert data["profiles"][3]["valid"] is False and data["profiles"][3]["readability"] == []


def test_check_json_matches_the_schema_with_every_rule_on_examples(cli):
    result, data = check_json(cli, *VARIED[:2])
    assert len(data["profiles"]) == 2 and all(p["readability"] for p in data["profiles"])


def test_strict_turns_a_warning_into_exit_1(cli, write, packet_rules_only):
    path = profile(write, practice="hipaa_covered: true\nnpp_version: 2025-09-23",
                   packet="[privacy-notice-acknowledgement]")
    result, data = check_json(cli, path)
    assert result.exit_code == 0 and data["summary"]["warnings"] == 1
    result, data = check_json(cli, "--strict", path)
    assert result.exit_code == 1 and data["summary"]["errors"] == 1 and data["strict"] is True
    assert cli("check", "--strict", path).exit_code == 1


def test_without_textstat_check_says_so_once_and_skips_grades(cli, write, monkeypatch, packet_rules_only):
    monkeypatch.setattr(readability, "_textstat", lambda: None)
    low_targets = "lint:\n  readability: {warn_above: 1, error_above: 2}"
    a = profile(write, name="a.yaml", rest=low_targets)
    b = profile(write, name="b.yaml", rest=low_targets)
    result, data = check_json(cli, a, b)
    assert result.stderr.count("pip install textstat") == 1
    assert result.exit_code == 0 and all(p["readability"] == [] and p["findings"] == [] for p in data["profiles"])
    text = cli("check", a)
    assert text.stderr.count("pip install textstat") == 1 and text.exit_code == 0

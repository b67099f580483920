"""Jurisdiction packs: sourced facts, by license type, every statement printed.

Each pack loads; every fact carries its source; a bad pack is refused with
file:line; the license type picks the profession's rules (an unknown type
gets the strictest, and `check` warns); every statement of every pack reaches
a client's PDF; `check` names each missing required field with its citation.

Every person, practice and number below is fictional (555-01xx phones).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from consentgen.compose import Job, compose, render_documents
from consentgen.errors import ConsentgenError
from consentgen.jurisdictions import available, load_pack, pack_facts, read_pack, resolve
from consentgen.lint import check_profile
from consentgen.model_base import inner_model
from consentgen.models import Profile
from consentgen.pack_model import SECTIONS
from consentgen.profiles import load_profile

from .readback import pdf_body_text, squash

CODES = available()
from .readme_packs import NOTICE, VALUES, everything


def every_part(pack):
    """(profession or None for the base, statements, requirements) of a pack."""
    yield None, pack.statements, pack.required
    for name, part in pack.professions.items():
        yield name, part.statements, part.required


def schema_field(key: str):
    model = Profile
    field = None
    for part in key.split("."):
        if model is None or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        model = inner_model(field.annotation)
    return field


# -- loading and sources --------------------------------------------------------------

def test_seven_packs_load_each_named_by_its_code():
    assert {"US-CA", "US-CO", "US-TX", "US-WA", "US-NY", "US-FL", "US-IL"} <= set(CODES)
    for code in CODES:
        pack = load_pack(code)
        assert pack.code == code and pack.professions, code


@pytest.mark.parametrize("code", CODES)
def test_every_required_key_exists_in_the_schema_is_optional_there_and_has_a_test_value(code):
    for _, _, required in every_part(load_pack(code)):
        for req in required:
            field = schema_field(req.key)
            assert field is not None, f"{code} requires {req.key}, which the profile schema does not have"
            assert not field.is_required(), f"{req.key} is required by the schema itself"
            assert req.key in VALUES, f"add a fictional test value for {req.key}"


@pytest.mark.parametrize("code", CODES)
def test_every_fact_has_a_source_and_a_verified_one_has_its_quote(code):
    _, facts = pack_facts(load_pack(code), None)
    for fact in facts:
        s = fact.source
        if s.verified:
            assert s.url.startswith("http") and s.read and 3 <= len(s.quote.split()) <= 40, fact.label
        else:
            assert len(s.reason) > 20, f"{fact.label}: an unverified fact says why"


@pytest.mark.parametrize("code", CODES)
def test_statements_are_short_plain_and_cite_nothing(code):
    for _, statements, _ in every_part(load_pack(code)):
        for s in statements:
            assert s.section in SECTIONS
            if s.text:
                for sentence in re.split(r"(?<=[.!?])\s+", s.text.strip()):
                    assert len(sentence.split()) <= 22, (code, s.id, sentence)
                assert not re.search(r"\b(?:RCW|WAC|CRS|TAC|CFR|ILCS|Fla\. Stat|B&P)\b|§", s.text), (code, s.id)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


SOURCE = "    source: {cite: X 1, verified: false, reason: nothing could be read for this test pack}\n"
GOOD = ("code: US-ZZ\nname: Zed\nversion: v1\neffective: 2026-01-01\n"
        "delivery:\n  value: In writing.\n" + SOURCE.replace("    ", "  ") +
        "duty_to_warn:\n  value: none\n" + SOURCE.replace("    ", "  "))


@pytest.mark.parametrize("extra, message", [
    ("colour: blue\n", "unknown key 'colour'"),
    ("statements:\n  - id: x\n    text: Hello.\n" + SOURCE, "section: required key is missing"),
    ("statements:\n  - id: x\n    section: elsewhere\n    text: Hello.\n" + SOURCE, "no known section 'elsewhere'"),
    ("statements:\n  - id: x\n    section: rights\n    text: Hello.\n", "source: required key is missing"),
    ("statements:\n  - id: x\n    section: rights\n    text: Hello.\n    source: nowhere\n", "no source named 'nowhere'"),
    ("statements:\n  - id: x\n    section: rights\n    text: Hello.\n"
     "    source: {cite: X 1, verified: true}\n", "a verified source needs its url"),
])
def test_a_bad_pack_is_refused_with_its_file_and_line(tmp_path, extra, message):
    assert read_pack(_write(tmp_path / "US-ZZ.yaml", GOOD)).name == "Zed"
    with pytest.raises(ConsentgenError) as err:
        read_pack(_write(tmp_path / "US-ZZ.yaml", GOOD + extra))
    assert re.search(r"US-ZZ\.yaml:\d+: ", str(err.value)) and message in str(err.value), str(err.value)


# -- the license type picks the rules ---------------------------------------------------

def profile(code: str, license_type: str, **policies) -> Profile:
    data = {"schema": 1, "practice": {"name": "Juniper Lane Counseling (fictional)", "jurisdiction": code},
            "clinician": {"name": "Rowan Ellery", "license": {"type": license_type, "number": "T-1",
                                                              "state": code[3:]}},
            "policies": policies}
    return Profile.model_validate(data)


def test_texas_marriage_and_family_therapists_get_never_and_counselors_five_years():
    assert resolve(profile("US-TX", "LMFT")).post_termination.years is None
    assert resolve(profile("US-TX", "LPC")).post_termination.years == 5
    assert resolve(profile("US-TX", "LPC")).gift_cap == 50
    assert resolve(profile("US-TX", "LMFT")).gift_cap is None     # the $50 cap is the counselors' rule


def test_an_unknown_license_type_gets_the_strictest_rule_and_check_warns(tmp_path):
    law = resolve(profile("US-TX", "Life Coach"))
    assert law.unknown_type and law.post_termination.years is None           # never, the strictest
    assert law.records.adult_years == max(p.records.adult_years for p in load_pack("US-TX").professions.values()
                                          if p.records)
    path = _write(tmp_path / "p.yaml", yaml.safe_dump({
        "schema": 1, "practice": {"name": "Juniper Lane Counseling (fictional)", "jurisdiction": "US-CA",
                                  "complaint_notice": NOTICE},
        "clinician": {"name": "Rowan Ellery", "license": {"type": "Life Coach", "number": "T-1", "state": "CA"}}}))
    found = [f for f in check_profile(load_profile(path)) if f.rule == "L29"]
    assert len(found) == 1 and found[0].severity == "warning" and "Life Coach" in found[0].message


def test_check_lists_unverified_facts_as_information_and_never_as_errors(tmp_path):
    path = _write(tmp_path / "p.yaml", yaml.safe_dump({
        "schema": 1, "practice": {"name": "Juniper Lane Counseling (fictional)", "jurisdiction": "US-CA",
                                  "complaint_notice": NOTICE},
        "clinician": {"name": "Rowan Ellery", "license": {"type": "LMFT", "number": "T-1", "state": "CA"}}}))
    found = check_profile(load_profile(path))
    info = [f for f in found if f.rule == "L28"]
    assert info and all(f.severity == "info" for f in info)
    assert any("12 or older" in f.message or "age a minor" in f.message for f in info)


# -- every statement reaches a client ----------------------------------------------------

@pytest.mark.parametrize("code", CODES)
def test_every_statement_of_every_pack_renders_in_a_pdf(code, tmp_path):
    pack = load_pack(code)
    missing = []
    for profession in pack.professions:
        path = _write(tmp_path / f"{profession}.yaml", yaml.safe_dump(everything(code, profession)))
        loaded = load_profile(path)
        job = Job(formats=("pdf",))
        docs = compose(loaded, job)
        text = " ".join(pdf_body_text(data) for data in render_documents(loaded, job, docs, ("pdf",)).values())
        law = resolve(loaded.profile)
        for s in law.statements:
            said = squash(law.texts[s.id])
            # Compare the words, not the line breaks or the punctuation the PDF may split.
            if re.sub(r"\W+", " ", said) not in re.sub(r"\W+", " ", text):
                missing.append(f"{profession}: {s.id} ({s.section})")
    assert missing == []


def test_the_readme_coverage_table_is_current_every_required_item_renders_and_most_facts_are_verified():
    from .readme_packs import BEGIN, END, table
    from .readme_sections import current

    generated = table()
    assert current(BEGIN, END) == generated, \
        "run: python -m tests.readme_packs"
    assert "**not rendered**" not in generated
    verified, total = map(int, re.search(r"In all, (\d+) of (\d+) facts", generated).groups())
    assert verified / total >= 0.9

"""Jurisdiction packs: each loads, asks only for fields the schema has, makes
`check` name every missing field with its rule and line, and reaches templates
through `context_for` (or the ethics-code baseline when there is no pack).

Every person, practice and number below is fictional (555-01xx phones).
"""
from __future__ import annotations

import copy
import json
import re
import typing
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import BaseModel

from consentgen.cli import main
from consentgen.errors import display_path
from consentgen.model_base import inner_model
from consentgen.jurisdictions import PACKS, available, context_for, load_pack
from consentgen.models import Profile

CODES = ("US-CA", "US-CO", "US-TX", "US-WA")

# The facts each pack encodes: duty to warn, minor consent age, gift cap, both sign.
FACTS = {
    "US-CO": ("mandatory", 12, None, False),
    "US-WA": ("mandatory", 13, None, True),
    "US-TX": ("permissive", None, 50, False),
    "US-CA": ("mandatory", 12, None, False),
}

# A fictional value for every key any pack may require. A pack that requires a
# new key fails test_every_required_key_has_a_test_value until one is added here.
NOTICE = "Example complaint notice for tests only. A real practice pastes the official wording here."
VALUES: dict[str, typing.Any] = {
    "practice.address": "14 Juniper Lane, Suite 2, Springfield (example)",
    "practice.phone": "555-0131",
    "practice.complaint_notice": NOTICE,
    "clinician.credentials": "MA, LPC",
    "clinician.license": {"type": "LPC", "number": "TEST-0001", "state": "XX"},
    "clinician.board": {"name": "Example State Board of Counselors (fictional)"},
    "clinician.board.address": "100 Example Avenue, Capital City (example)",
    "clinician.board.phone": "555-0199",
    "clinician.board.website": "board.example",
    "policies.therapy.approach": "Talk therapy that uses CBT.",
    "policies.fees.services": [{"name": "Individual session (50 minutes)", "fee": 150}],
    "policies.records.custodian": {"name": "Morgan Vale", "credentials": "LPC", "phone": "555-0142"},
}

LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<key>[a-z_.]+): required in (?P<name>.+) by (?P<rule>.+)$")


# ---------------------------------------------------------------- helpers

def schema_field(key: str):
    """The pydantic FieldInfo that a dotted profile key names, or None if the schema has no such key."""
    model: type[BaseModel] | None = Profile
    field = None
    for part in key.split("."):
        if model is None or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        model = inner_model(field.annotation)
    return field


def _set(data: dict, key: str, value: typing.Any) -> None:
    *parents, last = key.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    if isinstance(value, dict) and isinstance(data.get(last), dict):
        data[last].update(copy.deepcopy(value))
    else:
        data[last] = copy.deepcopy(value)


def _delete(data: dict, key: str) -> None:
    *parents, last = key.split(".")
    for part in parents:
        data = data[part]
    del data[last]


def complete_profile(code: str) -> dict:
    """A solo, single-file profile for ``code`` with every field its pack requires."""
    data = {
        "schema": 1,
        "practice": {"name": "Juniper Lane Counseling (fictional)", "jurisdiction": code},
        "clinician": {"name": "Rowan Ellery"},
    }
    for req in sorted(load_pack(code).required, key=lambda r: r.key.count(".")):  # parents before leaves
        _set(data, req.key, VALUES[req.key])
    if "license" in data["clinician"]:
        data["clinician"]["license"]["state"] = code.split("-")[1]
    return data


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Each mapping key path's line, read with PyYAML itself (the oracle, independent of consentgen)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node, path):
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                sub = path + (key_node.value,)
                lines[sub] = key_node.start_mark.line + 1
                walk(value_node, sub)

    walk(yaml.compose(text), ())
    return lines


def nearest_line(lines: dict[tuple[str, ...], int], key: str) -> int:
    parts = tuple(key.split("."))
    return next((lines[parts[:n]] for n in range(len(parts), 0, -1) if parts[:n] in lines), 1)


def check(path: Path):
    return CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)


def l11_lines(path: Path) -> tuple[int, list[str]]:
    """Run check; its exit code and, in the form 'file:line: key: required in State by rule',
    the findings of rule L11 (what the jurisdiction requires). Other rules are tested elsewhere."""
    result = CliRunner().invoke(main, ["check", "--format", "json", str(path)], catch_exceptions=False)
    report = json.loads(result.stdout)
    (profile,) = report["profiles"]
    assert profile["valid"], profile["invalid"]
    lines = [f"{f['file']}:{f['line']}: {f['key']}: {f['message']}" for f in profile["findings"] if f["rule"] == "L11"]
    return result.exit_code, lines


# ---------------------------------------------------------------- (a) packs load; keys exist

def test_every_pack_file_loads_and_is_named_by_its_code():
    files = sorted(p.stem for p in PACKS.glob("*.yaml"))
    assert set(CODES) <= set(files) and files == list(available())
    for code in files:
        pack = load_pack(code)
        assert pack is not None and pack.code == code
        assert pack.sources and pack.delivery and pack.delivery_source and pack.post_termination_source


@pytest.mark.parametrize("code", CODES)
def test_every_required_key_exists_in_the_schema_and_is_optional_there(code):
    keys = [req.key for req in load_pack(code).required]
    assert keys and len(keys) == len(set(keys)), "a required key is listed twice"
    for key in keys:
        field = schema_field(key)
        assert field is not None, f"{code}: '{key}' is not a profile key"
        # If the schema itself demanded the field, `check` could never report it with its rule.
        assert not field.is_required(), f"{code}: '{key}' is already required by the schema"
    for req in load_pack(code).required:
        assert req.rule.strip(), f"{code}: '{req.key}' has no rule"


@pytest.mark.parametrize("code", CODES)
def test_every_required_key_has_a_test_value(code):
    assert {req.key for req in load_pack(code).required} <= set(VALUES)


@pytest.mark.parametrize("code", CODES)
def test_statements_are_our_words_or_prescribed_wording_from_the_profile(code):
    pack = load_pack(code)
    required = {req.key for req in pack.required}
    ids = [s.id for s in pack.statements]
    assert len(ids) == len(set(ids))
    for s in pack.statements:
        assert (s.text is None) != (s.profile_key is None), f"{code}/{s.id}: give text or profile_key, not both"
        assert s.source.strip()
        if s.verbatim:
            # Prescribed wording is never typed into a pack: the practice supplies the official text.
            assert s.profile_key, f"{code}/{s.id}: verbatim wording must come from the profile"
        if s.profile_key:
            assert schema_field(s.profile_key) is not None
            assert s.profile_key in required, f"{code}/{s.id}: `check` must demand {s.profile_key}"


@pytest.mark.parametrize("code", CODES)
def test_our_own_statements_use_short_sentences(code):
    """Readability target (CONTENT.md section 3): no sentence over 20 words."""
    for s in load_pack(code).statements:
        if s.text:
            for sentence in re.split(r"(?<=[.!?])\s+", s.text.strip()):
                assert len(sentence.split()) <= 20, f"{code}/{s.id}: {sentence!r}"


def test_prescribed_complaint_notices_come_from_the_profile():
    for code in ("US-TX", "US-CA"):
        pack = load_pack(code)
        notice = {s.id: s for s in pack.statements}["complaint-notice"]
        assert notice.profile_key == "practice.complaint_notice" and notice.verbatim and notice.text is None
        assert "practice.complaint_notice" in {r.key for r in pack.required}


@pytest.mark.parametrize("code", CODES)
def test_pack_facts(code):
    pack = load_pack(code)
    duty, age, cap, both = FACTS[code]
    assert (pack.duty_to_warn, pack.minor_consent_age, pack.gift_cap, pack.both_sign) == (duty, age, cap, both)
    assert pack.duty_to_warn_source and pack.post_termination
    assert (pack.minor_consent_source is not None) == (age is not None)
    assert (pack.gift_cap_source is not None) == (cap is not None)
    assert (pack.both_sign_source is not None) == both


def test_colorado_reflects_sb_24_115():
    pack = load_pack("US-CO")
    assert str(pack.effective) == "2024-08-07" and "SB 24-115" in pack.version
    assert all("(1)(b)(I)" not in req.rule for req in pack.required)


def test_california_brochure_is_a_trigger_not_a_default():
    (trigger,) = load_pack("US-CA").triggers
    assert trigger.document == "therapy-never-includes-sexual-behavior"
    assert "previous therapist" in trigger.when and "728" in trigger.source
    assert all(not load_pack(c).triggers for c in ("US-CO", "US-TX", "US-WA"))


# ---------------------------------------------------------------- (b) + (d) check, field by field

@pytest.mark.parametrize("code", CODES)
def test_complete_profile_passes_check(code, tmp_path):
    path = write(tmp_path / "profile.yaml", complete_profile(code))
    code_, lines = l11_lines(path)
    assert lines == []


@pytest.mark.parametrize("code", CODES)
def test_each_missing_required_field_is_named_with_its_rule_and_line(code, tmp_path):
    pack = load_pack(code)
    rules = {req.key: req.rule for req in pack.required}
    for req in pack.required:
        data = complete_profile(code)
        _delete(data, req.key)
        path = write(tmp_path / f"{req.key}.yaml", data)
        line = nearest_line(key_lines(path.read_text(encoding="utf-8")), req.key)

        exit_code, lines = l11_lines(path)
        assert exit_code == 1, (req.key, lines)
        expected = f"{display_path(path)}:{line}: {req.key}: required in {pack.name} by {req.rule}"
        assert expected in lines, (expected, lines)
        for reported in lines:  # nothing else is blamed: only the key and what it held
            m = LINE.match(reported)
            assert m, reported
            assert (m["key"] + ".").startswith(req.key + "."), reported
            assert m["rule"] == rules[m["key"]]


def test_line_is_the_nearest_existing_parent_key(tmp_path):
    path = tmp_path / "texas.yaml"
    path.write_text(
        "schema: 1\n"                                                  # 1
        "practice:\n"                                                  # 2
        "  name: Bluebonnet Counseling (fictional)\n"                  # 3
        "  jurisdiction: US-TX\n"                                      # 4
        f"  complaint_notice: {NOTICE}\n"                              # 5
        "clinician:\n"                                                 # 6
        "  name: Casey Ramos\n"                                        # 7
        "  license: {type: LPC, number: TEST-0002, state: TX}\n"       # 8
        "  board:\n"                                                   # 9
        "    name: Example Council (fictional)\n"                      # 10
        "    address: 1 Example Plaza, Austin (example)\n"             # 11
        "policies:\n"                                                  # 12
        "  therapy: {approach: Talk therapy.}\n"                       # 13
        "  fees:\n"                                                    # 14
        "    services:\n"                                              # 15
        "      - {name: Individual session, fee: 120}\n",              # 16
        encoding="utf-8")
    exit_code, lines = l11_lines(path)
    assert exit_code == 1
    shown = display_path(path)
    assert lines == [
        f"{shown}:9: clinician.board.phone: required in Texas by 22 TAC 681.35(a)(7); 22 TAC 884.31(b)",
        f"{shown}:12: policies.records.custodian: required in Texas by 22 TAC 681.35(a)(8)",
    ]


def test_a_key_with_no_existing_parent_is_reported_at_line_1(tmp_path):
    data = complete_profile("US-WA")
    del data["policies"]
    path = write(tmp_path / "washington.yaml", data)
    exit_code, lines = l11_lines(path)
    assert exit_code == 1
    assert lines == [
        f"{display_path(path)}:1: policies.therapy.approach: required in Washington by WAC 246-809-710(1)(e)",
        f"{display_path(path)}:1: policies.fees.services: required in Washington by WAC 246-809-710(1)(h)(i)",
    ]


def test_no_pack_means_nothing_extra_is_required(tmp_path):
    for code in (None, "US-ZZ"):
        data = {"schema": 1, "practice": {"name": "Elm Counseling (fictional)"}, "clinician": {"name": "Sam Reyes"}}
        if code:
            data["practice"]["jurisdiction"] = code
        path = write(tmp_path / "baseline.yaml", data)
        assert l11_lines(path)[1] == []
        result = check(path)
        notes = [line for line in result.stderr.splitlines() if ": note: " in line]
        if code is None:
            assert notes == []
        else:  # a code with no pack is likely a typo: say so, but it is not an error
            assert notes == [f"{path}: note: no jurisdiction pack for 'US-ZZ' (packs: US-CA, US-CO, US-TX, US-WA); "
                             "the ethics-code baseline applies"]


# ---------------------------------------------------------------- (c) context_for

@pytest.mark.parametrize("code", CODES)
def test_context_for_gives_the_pack_to_templates(code):
    pack = load_pack(code)
    ctx = context_for(Profile.model_validate(complete_profile(code)))
    duty, age, cap, both = FACTS[code]
    assert ctx["pack"] is True and ctx["code"] == code and ctx["name"] == pack.name
    assert (ctx["duty_to_warn"], ctx["minor_consent_age"], ctx["gift_cap"], ctx["both_sign"]) == (duty, age, cap, both)
    assert set(ctx["statements"]) == {s.id for s in pack.statements}
    for s in pack.statements:
        shown = ctx["statements"][s.id]
        assert shown["source"] == s.source and shown["verbatim"] == s.verbatim
        assert shown["text"] == (NOTICE if s.profile_key else s.text)
    assert [t["document"] for t in ctx["triggers"]] == [t.document for t in pack.triggers]


@pytest.mark.parametrize("code", ("US-TX", "US-CA"))
def test_prescribed_notice_is_the_profiles_text_verbatim(code):
    data = complete_profile(code)
    data["practice"]["complaint_notice"] = "Line one of the official wording.\nLine two, exactly as pasted."
    ctx = context_for(Profile.model_validate(data))
    assert ctx["statements"]["complaint-notice"] == {
        "text": "Line one of the official wording.\nLine two, exactly as pasted.",
        "source": {s.id: s for s in load_pack(code).statements}["complaint-notice"].source,
        "verbatim": True,
    }
    del data["practice"]["complaint_notice"]
    assert "complaint-notice" not in context_for(Profile.model_validate(data))["statements"]


@pytest.mark.parametrize("code", (None, "US-ZZ", "US"))
def test_context_for_falls_back_to_the_baseline(code):
    data = {"schema": 1, "practice": {"name": "Elm Counseling (fictional)"}, "clinician": {"name": "Sam Reyes"}}
    if code:
        data["practice"]["jurisdiction"] = code
    assert context_for(Profile.model_validate(data)) == {
        "code": code, "name": None, "pack": False, "duty_to_warn": None, "minor_consent_age": None,
        "gift_cap": None, "both_sign": False, "statements": {}, "triggers": (), "sources": ()}

"""Loading profiles: layering, and one clear line for every kind of bad input."""
from __future__ import annotations

import pytest

from consentgen.errors import ProfileError
from consentgen.profiles import load_profile

from .conftest import CLINICIANS, EXAMPLE, MINIMAL


def errors_of(path) -> tuple[str, ...]:
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    return info.value.errors


def test_clinician_layers_over_practice_defaults():
    ana = load_profile(EXAMPLE / "clinicians" / "ana-nunez.yaml")
    samuel = load_profile(EXAMPLE / "clinicians" / "samuel-okafor.yaml")
    assert [p.name for p in ana.layers] == ["practice.yaml", "ana-nunez.yaml"]
    # Ana keeps the practice's coverage; Samuel's own file replaces it.
    assert ana.profile.policies.breaks.coverage.name == "Jordan Lee"
    assert samuel.profile.policies.breaks.coverage.name == "Priya Raman"
    # Mappings merge key by key: Samuel overrides text but keeps the practice's hours key untouched.
    assert samuel.profile.policies.contact.channels.text.reply_within == "4 hours"
    assert ana.profile.policies.contact.hours == "Monday to Friday, 9 am to 5 pm"
    # A clinician's value wins; a list replaces a list.
    assert ana.profile.policies.breaks.while_away.channels == ("email",)


def test_every_example_clinician_is_valid():
    names = {load_profile(p).profile.clinician.name for p in CLINICIANS}
    assert len(names) == len(CLINICIANS) >= 3


def test_solo_profile_in_one_file(write):
    profile = load_profile(write("solo.yaml", MINIMAL)).profile
    assert profile.clinician.name == "Robin Test"
    assert [line.number for line in profile.emergency.crisis_lines] == ["988", "911"]


def test_lists_replace_rather_than_merge(write):
    write("p/practice.yaml", MINIMAL.replace("clinician:\n  name: Robin Test\n  credentials: LPC\n", "")
          + "emergency:\n  crisis_lines:\n    - {name: A, number: '1'}\n    - {name: B, number: '2'}\n")
    clinician = write("p/clinicians/x.yaml", "clinician: {name: X}\nemergency:\n  crisis_lines:\n    - {name: C, number: '3'}\n")
    lines = load_profile(clinician).profile.emergency.crisis_lines
    assert [line.name for line in lines] == ["C"]


def test_unknown_key_names_file_line_key_and_suggests(write):
    path = write("p.yaml", MINIMAL + "policies:\n  breaks:\n    notise: 2 weeks\n")
    (error,) = errors_of(path)
    assert error == f"{path}:10: policies.breaks.notise: unknown key 'notise'; did you mean 'notice'?"


def test_error_in_clinician_layer_points_at_that_file(write):
    write("p/practice.yaml", MINIMAL)
    clinician = write("p/clinicians/x.yaml", "clinician:\n  name: X\npolicies:\n  termination:\n    notice_sessions: lots\n")
    (error,) = errors_of(clinician)
    assert error.startswith(f"{clinician}:5: policies.termination.notice_sessions: expected a whole number")


def test_wrong_type_and_bad_choice_are_all_reported(write):
    path = write("p.yaml", MINIMAL + "policies:\n  self_disclosure: {level: lots}\n  termination: {final_session: maybe}\n")
    errors = errors_of(path)
    assert any(":9: policies.self_disclosure.level: expected 'minimal'" in e for e in errors)
    assert any(":10: policies.termination.final_session: expected true or false" in e for e in errors)


def test_missing_required_field(write):
    path = write("p.yaml", "schema: 1\npractice:\n  phone: '1'\nclinician: {name: X}\n")
    (error,) = errors_of(path)
    assert error == f"{path}:2: practice.name: required key is missing"


def test_associate_needs_a_supervisor(write):
    path = write("p.yaml", MINIMAL + "  status: associate\n")
    (error,) = errors_of(path)
    assert "clinician" in error and "needs a 'supervisor'" in error and error.startswith(f"{path}:5:")


def test_channel_in_use_needs_a_reply_time(write):
    path = write("p.yaml", MINIMAL + "policies:\n  contact:\n    channels:\n      text: {use: check-ins}\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:11: policies.contact.channels.text:") and "reply_within" in error


def test_durations_are_checked_and_normalized(write):
    ok = load_profile(write("a.yaml", MINIMAL + "policies:\n  breaks: {notice: 1 weeks}\n")).profile
    assert ok.policies.breaks.notice == "1 week"
    (error,) = errors_of(write("b.yaml", MINIMAL + "policies:\n  breaks: {notice: soon}\n"))
    assert "policies.breaks.notice" in error and "'3 weeks'" in error


def test_malformed_yaml(write):
    path = write("p.yaml", "schema: 1\npractice: {name: [unclosed\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:3: invalid YAML:")


def test_alias_bomb_is_refused_before_expansion(write):
    # Nine levels of nine-fold aliases would expand to 387 million strings.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 9) + "]")
    (error,) = errors_of(write("bomb.yaml", "\n".join(lines) + "\n"))
    assert error.endswith(":2: a1[0]: YAML aliases (*name) are not allowed in profiles; write the value out")


def test_python_tags_are_refused(write):
    path = write("p.yaml", MINIMAL + "evil: !!python/object/apply:os.system ['echo hi']\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:8: evil: unsupported value")


def test_duplicate_key(write):
    (error,) = errors_of(write("p.yaml", MINIMAL + "practice: {name: Again}\n"))
    assert ":8: practice: this key appears twice" in error


def test_missing_file_and_folder(tmp_path):
    assert errors_of(tmp_path / "nope.yaml") == (f"{tmp_path / 'nope.yaml'}: no such file",)
    assert "is a folder" in errors_of(tmp_path)[0]


def test_empty_and_non_mapping_files(write):
    assert errors_of(write("e.yaml", ""))[0].endswith(":1: file is empty")
    assert "must be a mapping" in errors_of(write("l.yaml", "- a\n- b\n"))[0]


def test_sexual_contact_prohibition_is_not_a_setting(write):
    path = write("p.yaml", MINIMAL + "policies:\n  relationship:\n    sexual_contact: allowed\n")
    (error,) = errors_of(path)
    assert "unknown key 'sexual_contact'" in error

"""Silencing a rule: with a reason it is kept but not counted; without one it is an error itself."""
from __future__ import annotations

import json

from consentgen.lint import RULES, check_profile
from consentgen.profiles import load_profile

from .conftest import MINIMAL

NO_COVER = MINIMAL + "lint:\n  ignore:\n"            # MINIMAL names no covering clinician: L04 fires


def test_a_rule_silenced_with_a_reason_is_kept_but_not_counted(write, cli):
    path = write("p.yaml", NO_COVER + "    L04: \"Jo covers informally; we are adding her to the file\"\n")
    findings = [f for f in check_profile(load_profile(path)) if f.rule == "L04"]
    assert findings and all(f.silenced.startswith("Jo covers informally") for f in findings)
    report = json.loads(cli("check", "--format", "json", path).stdout)
    assert report["summary"]["silenced"] >= 1
    assert all(f["rule"] != "L04" or f["silenced"] for f in report["profiles"][0]["findings"])
    text = cli("check", path)
    assert "L04" not in text.stderr and "silenced with a reason" in text.stdout


def test_silencing_without_a_reason_or_an_unknown_rule_is_an_error(write, cli):
    path = write("p.yaml", NO_COVER + "    L04: \"\"\n    L99: because\n")
    findings = check_profile(load_profile(path))
    l00 = [f for f in findings if f.rule == "L00"]
    assert [(f.severity, f.line, f.key) for f in l00] == [
        ("error", 10, "lint.ignore.L04"), ("error", 11, "lint.ignore.L99")]
    assert "without a reason" in l00[0].message and "'L99' is not a rule" in l00[1].message
    assert not any(f.rule == "L04" and f.silenced for f in findings)   # an empty reason silences nothing
    result = cli("check", path)
    assert result.exit_code == 1
    assert f"{path}:10: lint.ignore.L04: error L00: L04 is silenced without a reason" in result.stderr
    assert "L99" not in RULES

"""The no-op build: told from the last build's receipt without loading a profile, and only when nothing it
read, searched or wrote has changed since (receipt.py)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys

import pytest

from consentgen import receipt
from consentgen.build import build
from consentgen.options import BuildOptions, Settings

from .conftest import EXAMPLE, ROOT

HTML = Settings(formats=("html",))
KEYS = ["ana-nunez", "samuel-okafor", "wren-kowalski"]


@pytest.fixture
def practice(tmp_path):
    return shutil.copytree(EXAMPLE, tmp_path / "practice")


def run(practice, out, settings=HTML, **options):
    return build(practice, out, BuildOptions(settings=settings, **options))


def outputs(out):
    return {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".consentgen" not in p.parts}


def test_a_no_op_build_is_told_by_the_receipt_and_touches_nothing(practice, tmp_path):
    out = tmp_path / "out"
    first = run(practice, out)
    assert not first.by_receipt and sorted(first.built) == KEYS
    before = outputs(out)
    again = run(practice, out)
    assert again.by_receipt and again.skipped == KEYS and again.total == 3 and not again.built
    assert outputs(out) == before
    assert sorted(p.name for p in (out / ".consentgen").iterdir()) == ["lock", "receipt.json", "state.json"]


def test_whatever_the_build_read_searched_or_wrote_changes_sends_it_the_full_way(practice, tmp_path):
    out = tmp_path / "out"
    run(practice, out)
    ana = practice / "clinicians" / "ana-nunez.yaml"
    mine = tmp_path / "mine"
    mine.mkdir()

    def full_way(expect_built, **options):
        report = run(practice, out, **options)
        assert not report.by_receipt and sorted(report.built) == expect_built and not report.failures
        assert run(practice, out, **options).by_receipt         # and the build after it is a no-op again
        return report

    ana.write_text(ana.read_text() + "# a note to myself\n")
    full_way(["ana-nunez"])                               # a profile's bytes
    (practice / "logo.png").write_bytes((practice / "logo.png").read_bytes() + b"\0")
    full_way(KEYS)                                        # a file a profile names
    shutil.copy(ana, practice / "clinicians" / "zoe-new.yaml")
    full_way(["zoe-new"])                                 # a clinician added to the folder
    (out / "wren-kowalski" / "key-points.html").write_text("edited")
    full_way(["wren-kowalski"])                           # an output changed by hand
    (out / "samuel-okafor" / "our-relationship.html").unlink()
    full_way(["samuel-okafor"])                           # an output gone
    keys = sorted([*KEYS, "zoe-new"])
    full_way(keys, settings=Settings(formats=("html",), large_print=True))   # an option that shapes a file
    (mine / "notes.txt").write_text("not a template")
    full_way([], settings=Settings(formats=("html",), large_print=True, template_dirs=(mine,)))
    (mine / "our-relationship.md").write_text("# Our relationship\n\nOur own words.\n")      # a template now found first
    report = run(practice, out, settings=Settings(formats=("html",), large_print=True, template_dirs=(mine,)))
    assert not report.by_receipt and sorted(report.built) == keys
    assert "Our own words." in (out / "ana-nunez" / "our-relationship.html").read_text()


def test_the_receipt_is_believed_only_as_written(practice, tmp_path):
    out = tmp_path / "out"
    run(practice, out)
    manifest = out / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"manifest": 1,', b'"manifest": 1, '))
    assert not run(practice, out).by_receipt          # the manifest is not the one the receipt saw
    (out / ".consentgen" / receipt.NAME).write_text("{not json")
    report = run(practice, out)
    assert not report.by_receipt and report.skipped == KEYS and not report.failures
    assert run(practice, out, force=True).built        # --force never asks the receipt
    assert run(practice, out).by_receipt


def test_a_date_taken_from_the_clock_holds_for_that_day_only(practice, tmp_path, monkeypatch):
    layer = practice / "practice.yaml"
    layer.write_text(layer.read_text().replace("effective_date: 2026-01-05\n", ""))
    out = tmp_path / "out"
    run(practice, out)
    body = json.loads((out / ".consentgen" / receipt.NAME).read_text())
    assert body["today"] == dt.date.today().isoformat()
    assert run(practice, out).by_receipt
    monkeypatch.setattr(receipt, "today", lambda: dt.date.today() + dt.timedelta(days=1))
    assert not run(practice, out).by_receipt
    monkeypatch.undo()
    assert sorted(run(practice, out, effective=dt.date(2026, 3, 2)).built) == KEYS   # a date given: no day kept
    assert json.loads((out / ".consentgen" / receipt.NAME).read_text())["today"] is None


def test_a_failed_build_leaves_no_receipt(practice, tmp_path):
    out = tmp_path / "out"
    run(practice, out)
    ana = practice / "clinicians" / "ana-nunez.yaml"
    ana.write_text(ana.read_text() + "not_a_key: 1\n")
    for _ in range(2):                       # the failure is reported every time, never hidden by a receipt
        report = run(practice, out)
        assert not report.by_receipt and report.failures and "not_a_key" in report.failures[0]
        assert not (out / ".consentgen" / receipt.NAME).exists()


def test_a_roster_receipt_keeps_names_out_and_needs_the_key(practice, tmp_path, monkeypatch):
    roster = practice / "new-clients.csv"
    out = tmp_path / "out"
    options = BuildOptions(settings=HTML)
    build(practice, out, options, roster=roster)
    text = (out / ".consentgen" / receipt.NAME).read_text()
    names = [row.split(",")[2] for row in roster.read_text().splitlines()[1:]]
    assert names and not any(part in text for name in names for part in name.split())
    assert hashlib.sha256(roster.read_bytes()).hexdigest() not in text       # keyed, like the state
    assert build(practice, out, options, roster=roster).by_receipt
    roster.write_text(roster.read_text().replace("c-1003", "c-1004"))
    changed = build(practice, out, options, roster=roster)
    assert not changed.by_receipt and "wren-kowalski/c-1004" in changed.built
    monkeypatch.setenv("CONSENTGEN_STATE_KEY_FILE", str(tmp_path / "elsewhere" / "key"))
    assert not build(practice, out, options, roster=roster).by_receipt      # another key: the full way


def test_the_no_op_check_loads_no_renderer(practice, tmp_path):
    out = tmp_path / "out"
    run(practice, out)
    code = ("import sys; from consentgen.cli import main\n"
            "try: main(['build', sys.argv[1], '-o', sys.argv[2], '--format', 'html', '-q'], prog_name='consentgen',"
            " standalone_mode=False)\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in ('pydantic', 'jinja2', 'reportlab', 'docx', 'yaml') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(practice), str(out)], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    said, loaded = done.stdout.splitlines()
    assert said.startswith("nothing to do: all 3 packets unchanged") and loaded == "[]", done

"""``consentgen check --a11y OUT``: built files are checked for accessibility, each
failure named by file (and page, in a PDF), with no traceback on bad files."""
from __future__ import annotations

import json

import pytest

from consentgen.api import Job, compose, load_profile
from consentgen.backends.pdf import render
from consentgen.compose import meta_for, resolved

from .conftest import ROOT

PRACTICE = ROOT / "profiles" / "example-practice"
ANA = PRACTICE / "clinicians" / "ana-nunez.yaml"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from consentgen.build import BuildOptions, build
    from consentgen.options import Settings

    out = tmp_path_factory.mktemp("a11y") / "dist"
    settings = Settings(formats=("pdf", "html"), combined=True, large_print=True, page_size="a4")
    report = build(PRACTICE, out, BuildOptions(settings=settings, jobs=1))
    assert not report.failures, report.failures
    return out


def test_a_built_practice_passes(cli, built):
    result = cli("check", "--a11y", built)
    assert result.exit_code == 0, result.output
    pdfs, pages = len(list(built.rglob("*.pdf"))), len(list(built.rglob("*.html")))
    assert pdfs and pages
    assert result.output.strip() == f"checked {pdfs + pages} files: no accessibility failures"


def test_each_failure_names_its_file_and_page(cli, tmp_path):
    loaded = load_profile(ANA)
    doc = resolved(compose(loaded, Job()))["acknowledgement"]
    (tmp_path / "ana").mkdir()
    (tmp_path / "ana" / "untagged.pdf").write_bytes(render(doc, meta_for(loaded, doc, Job()), tagged=False))
    (tmp_path / "ana" / "bare.html").write_text("<html><body><h2>Fees</h2><img src='https://example.org/x.png'>"
                                                "<script>alert(1)</script></body></html>")
    (tmp_path / "ana" / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    result = cli("check", "--a11y", tmp_path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "ana/untagged.pdf: no structure tree (the PDF is not tagged)" in lines
    assert "ana/untagged.pdf: page 1: font Helvetica is not embedded" in lines
    assert "ana/broken.pdf: not a readable PDF" in lines
    for problem in ("no language on <html lang>", "an image has no alt text", "<img> loads src from outside the page",
                    "holds a <script>: a handout page runs nothing", "heading level skipped: h2 after no heading",
                    "the first link is not a skip link to the page's content"):
        assert f"ana/bare.html: {problem}" in lines
    assert lines[-1].startswith("checked 3 files: ")
    as_json = json.loads(cli("check", "--a11y", tmp_path, "--format", "json").output)
    assert as_json["checked"] == 3 and "ana/broken.pdf: not a readable PDF" in as_json["failures"]


def test_nothing_to_check_and_misuse_are_one_line_errors(cli, tmp_path):
    (tmp_path / ".consentgen").mkdir()
    (tmp_path / ".consentgen" / "state.pdf").write_bytes(b"bookkeeping, not a client's file")
    result = cli("check", "--a11y", tmp_path)
    assert result.exit_code == 2
    assert "no PDF or HTML file to check" in result.output and "Traceback" not in result.output
    assert cli("check", "--a11y", tmp_path, ANA).exit_code == 2
    assert cli("check").exit_code == 2
    assert cli("check", "--a11y", tmp_path / "missing").exit_code == 2

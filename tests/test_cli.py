"""The command line as a user meets it: outputs, one-line errors, exit codes."""
from __future__ import annotations

import subprocess
import sys

import pytest

from consentgen import __version__

from .conftest import EXAMPLE, MINIMAL
from .readback import pdf_text

ANA = EXAMPLE / "clinicians" / "ana-nunez.yaml"


def test_render_both_formats(cli, tmp_path):
    result = cli("render", ANA, "--doc", "contact", "--format", "pdf", "--format", "docx", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(tmp_path / "ana-nunez-contact.pdf"), str(tmp_path / "ana-nunez-contact.docx")]
    assert (tmp_path / "ana-nunez-contact.docx").stat().st_size > 0


def test_render_defaults_to_the_packet_as_pdf(cli, tmp_path):
    result = cli("render", ANA, "-o", tmp_path)
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"ana-nunez-{d}.pdf" for d in (
        "key-points", "informed-consent", "our-relationship", "fees-and-cancellations", "social-media-and-online",
        "acknowledgement"))


def test_render_to_a_single_file_with_client_and_date(cli, tmp_path):
    out = tmp_path / "handout.pdf"
    result = cli("render", ANA, "--doc", "breaks", "--client-name", "Quinn Example", "--date", "2027-03-01", "-o", out)
    assert result.exit_code == 0
    text = pdf_text(out)
    assert "Prepared for Quinn Example" in text and "Effective March 1, 2027" in text
    assert "Quinn" not in result.output


def test_a4_pages(cli, tmp_path):
    import pikepdf

    cli("render", ANA, "--doc", "contact", "--a4", "-o", tmp_path)
    with pikepdf.open(tmp_path / "ana-nunez-contact.pdf") as pdf:
        assert [round(float(v)) for v in pdf.pages[0].MediaBox][2:] == [595, 842]


def assert_one_line_error(result, start: str) -> None:
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), result.stderr
    assert "Traceback" not in result.stderr


def test_bad_profile_is_one_line_exit_2_and_writes_nothing(cli, write, tmp_path):
    path = write("p.yaml", MINIMAL + "polices: {}\n")
    out = tmp_path / "out"
    result = cli("render", path, "-o", out)
    assert_one_line_error(result, f"error: {path}:8: polices: unknown key 'polices'; did you mean 'policies'?")
    assert not out.exists()


def test_missing_profile(cli, tmp_path):
    assert_one_line_error(cli("render", tmp_path / "nope.yaml"), f"error: {tmp_path / 'nope.yaml'}: no such file")


def test_hostile_template_fails_with_template_line_and_writes_nothing(cli, write, tmp_path):
    template = write("mine/x.md", "# X\n\n{{ ''.__class__.__mro__ }}\n")
    out = tmp_path / "out"
    result = cli("render", ANA, "--templates", tmp_path / "mine", "--doc", "contact", "--doc", "x", "-o", out)
    assert_one_line_error(result, f"error: {template}:3: refused:")
    assert not out.exists()


def test_unknown_document_and_bad_date(cli):
    assert_one_line_error(cli("render", ANA, "--doc", "nope"), "error: no document named 'nope'")
    result = cli("render", ANA, "--date", "05/01/2026")
    assert result.exit_code == 2 and "is not a date like 2026-01-05" in result.stderr


def test_a_packet_naming_an_unknown_document_is_refused_at_the_profiles_line(cli, write, tmp_path):
    bad = write("p.yaml", MINIMAL + "packet: [contact, no-such-document]\n")
    out = tmp_path / "out"
    assert_one_line_error(cli("render", bad, "-o", out),
                          f"error: {bad}:8: packet[1]: no such document")
    assert not out.exists()


def test_a_channel_cost_without_a_fee_means_no_charge_and_warns_nothing(cli, write, tmp_path):
    prof = write("p.yaml", MINIMAL + "policies:\n  contact:\n    channels:\n      phone: {use: scheduling, "
                 "reply_within: 1 business day, cost: {per_minutes: 15}}\n")
    result = cli("render", prof, "--doc", "contact", "-o", tmp_path / "out")
    assert result.exit_code == 0 and result.stderr == ""


def test_check_reports_ok_or_every_error(cli, write):
    assert cli("check", ANA).stdout.splitlines() == [f"{ANA}: ok", "0 errors, 0 warnings in 1 profile"]
    bad = write("p.yaml", MINIMAL + "polices: {}\npractice2: 1\n")
    result = cli("check", ANA, bad)
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [f"{ANA}: ok", "0 errors, 0 warnings in 2 profiles; 1 invalid"]
    assert result.stderr.splitlines() == [
        f"{bad}:8: polices: unknown key 'polices'; did you mean 'policies'?",
        f"{bad}:9: practice2: unknown key 'practice2'; did you mean 'practice'?",
    ]


def test_templates_lists_documents(cli):
    lines = cli("templates").stdout.splitlines()
    assert any(line.startswith("our-relationship") and "All five boundary areas" in line for line in lines)


def test_python_dash_m_and_help():
    result = subprocess.run([sys.executable, "-m", "consentgen", "--help"], capture_output=True, text=True, check=True)
    assert "render" in result.stdout and "check" in result.stdout


def test_console_script_exits_quickly_but_completely():
    """``run`` skips the interpreter's teardown, not what a user sees: output, exit status, exit handlers."""
    script = ("import atexit, sys; atexit.register(lambda: print('handler ran')); "
              "sys.argv = ['consentgen', *sys.argv[1:]]; from consentgen.cli import run; run()")
    shown = subprocess.run([sys.executable, "-c", script, "--version"], capture_output=True, text=True)
    assert shown.returncode == 0
    assert shown.stdout.splitlines() == [f"consentgen, version {__version__}", "handler ran"]
    usage = subprocess.run([sys.executable, "-c", script, "render"], capture_output=True, text=True)
    assert usage.returncode == 2 and "Missing argument 'PROFILES...'" in usage.stderr
    assert usage.stdout == "handler ran\n"


BAD_INPUTS = {
    "unknown key": (MINIMAL + "polices: {}\n", ":8: polices: unknown key 'polices'; did you mean 'policies'?"),
    "wrong type": (MINIMAL + "policies:\n  termination: {notice_sessions: two}\n",
                   ":9: policies.termination.notice_sessions: expected a whole number"),
    "missing field": ("schema: 1\npractice: {phone: '1'}\nclinician: {name: X}\n", ":2: practice.name: required key is missing"),
    "malformed YAML": ("schema: 1\npractice: [\n", ":3: invalid YAML:"),
    "alias bomb": ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                   "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", ":2: b[0]: YAML aliases (*name) are not allowed"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_with_file_line_key(cli, write, tmp_path, case):
    text, expected = BAD_INPUTS[case]
    path = write("p.yaml", text)
    out = tmp_path / "out"
    result = cli("render", path, "--format", "pdf", "--format", "docx", "-o", out)
    assert_one_line_error(result, f"error: {path}{expected}")
    assert not out.exists()


def test_doc_all_renders_every_built_in_document(cli, tmp_path):
    from consentgen.templating import list_documents

    from .conftest import BUILT_IN_DOCS

    assert cli("render", ANA, "--doc", "all", "-o", tmp_path).exit_code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"ana-nunez-{d.name}.pdf" for d in list_documents())
    assert set(names) >= {f"ana-nunez-{d}.pdf" for d in BUILT_IN_DOCS}


def test_the_example_profiles_pass_check_strict(cli):
    from .conftest import ROOT

    examples = sorted((ROOT / "profiles").glob("example-*/clinicians/*.yaml"))
    result = cli("check", "--strict", *examples)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"0 errors, 0 warnings in {len(examples)} profiles"


SAMUEL = EXAMPLE / "clinicians" / "samuel-okafor.yaml"


def test_render_several_profiles_into_one_folder(cli, tmp_path):
    result = cli("render", ANA, SAMUEL, "--doc", "contact", "--format", "pdf", "--format", "docx", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    names = ["ana-nunez-contact.pdf", "ana-nunez-contact.docx", "samuel-okafor-contact.pdf",
             "samuel-okafor-contact.docx"]
    assert result.stdout.split() == [str(tmp_path / n) for n in names]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert "Samuel" in pdf_text(tmp_path / "samuel-okafor-contact.pdf")


@pytest.mark.parametrize("bad_first", [True, False])
def test_one_bad_profile_among_several_writes_nothing(cli, write, tmp_path, bad_first):
    bad = write("p.yaml", MINIMAL + "polices: {}\n")
    out = tmp_path / "out"
    profiles = (bad, ANA, SAMUEL) if bad_first else (ANA, SAMUEL, bad)
    result = cli("render", *profiles, "--doc", "contact", "-o", out)
    assert_one_line_error(result, f"error: {bad}:8: polices: unknown key 'polices'; did you mean 'policies'?")
    assert not out.exists()


def test_a_template_error_among_several_names_the_profile(cli, write, tmp_path):
    template = write("mine/x.md", "# X\n\n{{ ''.__class__.__mro__ }}\n")
    out = tmp_path / "out"
    result = cli("render", ANA, SAMUEL, "--templates", tmp_path / "mine", "--doc", "x", "-o", out)
    assert_one_line_error(result, "error: ")
    assert "ana-nunez.yaml: " in result.stderr and f"{template}:3: refused:" in result.stderr
    assert not out.exists()


def test_two_profiles_for_the_same_clinician_are_refused(cli, write, tmp_path):
    one, two = write("one.yaml", MINIMAL), write("two.yaml", MINIMAL)
    out = tmp_path / "out"
    result = cli("render", one, two, "--doc", "contact", "-o", out)
    assert_one_line_error(result, f"error: {two}: its clinician has the same name as in {one}")
    assert not out.exists()
    again = cli("render", one, one, "--doc", "contact", "-o", out)         # the same file twice: rendered once
    assert again.exit_code == 0 and again.stdout.split() == [str(out / "robin-test-contact.pdf")]


def test_build_and_verify_count_one_packet_and_one_file_in_words(cli, write, tmp_path):
    from consentgen import manifest

    profile = write("solo.yaml", MINIMAL + "packet: [contact]\n")
    out = tmp_path / "out"
    first = cli("build", profile, "-o", out, "--format", "pdf", "-q")
    assert first.exit_code == 0, first.output
    files = len(manifest.load(out))
    assert first.stdout.startswith(f"built 1 packet ({files} file{'s' if files > 1 else ''}), skipped 0 unchanged")
    assert cli("build", profile, "-o", out, "--format", "pdf", "-q").stdout.startswith(
        "nothing to do: 1 packet unchanged (")
    for extra in manifest.load(out)[1:]:                 # a build whose manifest holds a single file
        (out / extra.path).unlink()
    (out / "manifest.json").write_bytes(manifest.dumps(manifest.load(out)[:1]))
    assert cli("verify", out).stdout.strip() == "1 file matches the manifest"


def test_the_build_summary_says_1_file_not_1_files():
    from consentgen.options import Report
    from consentgen.cli import _summary

    one = Report(built=["jo"], files_written=1)
    assert _summary(one) == "built 1 packet (1 file), skipped 0 unchanged, failed 0, in 0.0 s"
    assert _summary(Report(built=["jo", "al"], files_written=8, skipped=["mo"])).startswith(
        "built 2 packets (8 files), skipped 1 unchanged")


@pytest.mark.parametrize("command", ["render", "check", "build"])
def test_the_template_budget_the_help_names_is_the_one_applied(cli, command):
    from consentgen.limits import DEFAULT_SECONDS

    assert f"[default: {DEFAULT_SECONDS:g}]" in " ".join(cli(command, "--help").stdout.split())

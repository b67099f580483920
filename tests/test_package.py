"""The wheel carries the built-in templates and example profiles and works
from any folder; the README's profile reference matches the schema."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import zipfile

import pytest

from consentgen.reference import BEGIN, END, reference, rows

from .conftest import ROOT


def test_readme_profile_reference_matches_the_models():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert BEGIN in readme and END in readme, "README lacks the profile reference markers"
    current = readme[readme.index(BEGIN): readme.index(END) + len(END)]
    assert current == reference(), "README is stale: run `python -m consentgen.reference` and paste it in"


def test_every_row_of_the_profile_reference_reads_as_plain_words():
    for row in rows():
        key, type_, default, meaning = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert type_ and meaning, row
        assert not re.search(r"<class|typing\.|Annotated|NoneType|FieldInfo|Decimal\(", row), row
        assert not re.search(r"\((\)|'[^']*',)", default), row                    # a Python tuple: () or ('a',)


def test_readme_build_summary_is_what_its_first_command_prints(cli, tmp_path):
    """The README's sample summary line is what its very first command prints today (bar the time)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh\n(.*?)\n```", readme, re.S).group(1)
    command = next(part for part in first.split("&&") if "consentgen build" in part)
    args = shlex.split(command.split("consentgen", 1)[1])
    assert args[:2] == ["build", "profiles/example-practice"] and args[2:4] == ["-o", "dist/"], args
    result = cli("build", ROOT / args[1], "-o", tmp_path / "dist", *args[4:])
    assert result.exit_code == 0, result.output
    (sample,) = re.findall(r"^built \d+ packets? .*$", readme, re.M)
    printed = result.stdout.strip().splitlines()[-1]
    timeless = re.compile(r"in \d+\.\d s$")
    assert timeless.sub("in # s", sample) == timeless.sub("in # s", printed), "README's sample summary is stale"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    (path,) = out.glob("consentgen-*.whl")
    return path


def test_wheel_ships_templates_and_example_profiles(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for doc in ("our-relationship", "contact", "sections/emergency"):
        assert f"consentgen/templates/en/{doc}.md" in names
    assert "consentgen/profiles/example-practice/practice.yaml" in names
    assert "consentgen/profiles/example-practice/clinicians/ana-nunez.yaml" in names


def test_installed_wheel_renders_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    profile = site / "consentgen" / "profiles" / "example-practice" / "clinicians" / "wren-kowalski.yaml"
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-m", "consentgen", "render", str(profile), "--doc", "contact", "--format", "docx", "-o", "out"],
        cwd=elsewhere, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "out" / "wren-kowalski-contact.docx").stat().st_size > 0
    located = subprocess.run([sys.executable, "-c", "import consentgen.resources as r; print(r.data_dir('templates'))"],
                             cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert located.stdout.strip() == str(site / "consentgen" / "templates")


def test_readme_document_table_and_grades_are_current():
    from .readme_table import BEGIN as TABLE_BEGIN, END as TABLE_END, table

    from .readme_sections import current

    assert current(TABLE_BEGIN, TABLE_END) == table(), "README's document table is stale: run `python -m tests.readme_table`"

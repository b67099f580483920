"""Shared fixtures: the example practice, a tiny profile writer, a CLI runner."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from . import hypothesis_profiles  # noqa: F401  (registers --hypothesis-profile=long before pytest reads it)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "profiles" / "example-practice"
CLINICIANS = sorted((EXAMPLE / "clinicians").glob("*.yaml"))
BUILT_IN_DOCS = ("our-relationship", "relationship", "contact", "self-disclosure", "breaks", "ending-therapy")

MINIMAL = """\
schema: 1
practice:
  name: Test Practice
  phone: "555-0100"
clinician:
  name: Robin Test
  credentials: LPC
"""


@pytest.fixture(autouse=True)
def _state_key_outside_home(tmp_path_factory, monkeypatch):
    """Builds keep their state key in the user's config folder; tests keep theirs in a temporary one."""
    monkeypatch.setenv("CONSENTGEN_STATE_KEY_FILE", str(tmp_path_factory.getbasetemp() / "config" / "consentgen-key"))


@pytest.fixture
def write(tmp_path):
    """write('name.yaml', text) -> Path, with the text dedented."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def cli(runner):
    """Run the CLI; returns click's Result (exit_code, stdout, stderr)."""
    from consentgen.cli import main

    def _run(*args: str):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return _run

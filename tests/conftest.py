"""Shared fixtures: the example practice, a tiny profile writer, a CLI runner."""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable

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


@pytest.fixture(scope="session", autouse=True)
def _template_cache_outside_home(tmp_path_factory):
    """Compiled templates are cached in the user's cache folder; the test run's workers share a temporary one.

    Session-scoped, so it is in place before any module's fixtures render (a process picks its cache once)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    os.environ["CONSENTGEN_CACHE_DIR"] = str(base.parent / f"cache-{run}" if run else base / "cache")


def digest_in_another_process(fmt: str, test_module: str) -> str:
    """SHA-256 of ``tests/<test_module>.py``'s SAMPLE rendered with its META by backend ``fmt``,
    in a fresh interpreter: no state of this process (caches, registered fonts) can make it so."""
    code = (
        "import hashlib, sys; sys.path.insert(0, sys.argv[1]);"
        "from consentgen.backends import get_backend; from consentgen.document import parse;"
        f"import tests.{test_module} as t;"
        f"print(hashlib.sha256(get_backend('{fmt}')(parse(t.SAMPLE, 't'), t.META)).hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    return out.stdout.strip()


def shared_build(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder ``make`` fills once per test run, shared by the run's workers (pytest-xdist).

    The first worker to ask builds while holding a lock; the others wait for it and read the
    same files, which no test changes. Without xdist it is this process's own folder.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    root = tmp_path_factory.getbasetemp().parent / f"shared-{run}" if run else tmp_path_factory.getbasetemp() / "shared"
    root.mkdir(parents=True, exist_ok=True)
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            make(folder)
            done.touch()
    return folder


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

"""build --scheduler: the same bytes from a Dask cluster as from this machine, a worker lost mid-build
retried with nothing half-written, and one-line errors (nothing written) when the cluster cannot be used.

The two cluster builds start a LocalCluster of two worker processes each (``local:2``): about 5 s each.
Their references are local one-process builds, shared with the rest of the run (``shared_build``).
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import pickle
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

from consentgen import distributed as dist
from consentgen.build import _Planner
from consentgen.compose import Job, documents_for
from consentgen.options import Settings
from consentgen.packet import Packet
from consentgen.profiles import load_profile
from consentgen.runners import Failed, Task, render_each

from .conftest import EXAMPLE, shared_build
from .test_packet import _Packets

needs_dask = pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                                reason="needs the dask extra: pip install -e '.[test]'")
ROSTER = EXAMPLE / "new-clients.csv"


def files_of(out: Path) -> dict[str, bytes]:
    """Every file of a build but its lock (state.json only where told)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "lock"}


def same_bytes(built: Path, reference: Path, state: bool = True) -> None:
    got, want = files_of(built), files_of(reference)
    if not state:        # roster packets are fingerprinted with each test worker's own key
        got.pop(".consentgen/state.json")
        want.pop(".consentgen/state.json")
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []


@needs_dask
def test_a_build_on_dask_workers_is_byte_identical_to_a_local_one(cli, tmp_path_factory, tmp_path):
    reference = shared_build(tmp_path_factory, f"packets-{EXAMPLE.name}", lambda f: _Packets._build(EXAMPLE, f))
    out = tmp_path / "out"
    result = cli("build", EXAMPLE, "-o", out, "--format", "pdf", "--combined", "--scheduler", "local:2", "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""          # no log line, warning or progress of Dask's
    same_bytes(out, reference)          # every PDF, manifest.json and state.json


@needs_dask
def test_a_worker_killed_mid_build_is_retried_and_nothing_is_half_written(cli, tmp_path_factory, tmp_path,
                                                                          monkeypatch):
    reference = shared_build(tmp_path_factory, "dask-roster-reference", lambda f: _cli_build(cli, f, "-j", "1"))
    marker = tmp_path / "killed"
    monkeypatch.setenv(dist.KILL_ENV, str(marker))     # seen by the worker processes, which inherit it
    out = tmp_path / "out"
    result = _cli_build(cli, out, "--scheduler", "local:2")
    assert marker.exists()                              # a worker did die, its first packet rendered
    assert result.stderr == ""
    same_bytes(out, reference, state=False)
    assert sorted(p.name for p in (out / ".consentgen").iterdir()) == ["lock", "receipt.json", "state.json"]   # no journal, no tmp
    state = json.loads((out / ".consentgen" / "state.json").read_text())
    assert sorted(state["packets"]) == ["ana-nunez/c-1001", "samuel-okafor/c-1002", "wren-kowalski/c-1003"]


def _cli_build(cli, out: Path, *options: str):
    result = cli("build", EXAMPLE, "-o", out, "--roster", ROSTER, "--format", "pdf", "-q", *options)
    assert result.exit_code == 0, result.output
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_dask
def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(cli, tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "out"
    started = time.monotonic()
    result = cli("build", EXAMPLE, "-o", out, "--scheduler", address)
    assert time.monotonic() - started < dist.CONNECT_SECONDS
    assert result.exit_code == 2
    assert result.stderr == f"error: {address}: cannot reach the Dask scheduler (connection refused)\n"
    assert not out.exists()


@needs_dask
def test_a_scheduler_that_never_answers_fails_within_the_connect_timeout(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(dist, "CONNECT_SECONDS", 1.0)
    out = tmp_path / "out"
    with socket.socket() as silent:             # accepts the connection, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        result = cli("build", EXAMPLE, "-o", out, "--scheduler", address)
        assert time.monotonic() - started < 5
    assert result.exit_code == 2
    assert result.stderr == f"error: {address}: cannot reach the Dask scheduler (no answer within 1 s)\n"
    assert not out.exists()


@needs_dask
@pytest.mark.parametrize("scheduler", ["local:0", "local:two", "nosuch://somewhere"])
def test_a_scheduler_option_that_makes_no_sense_is_one_line(cli, tmp_path, scheduler):
    result = cli("build", EXAMPLE, "-o", tmp_path / "out", "--scheduler", scheduler)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {scheduler}: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_without_the_dask_extra_the_scheduler_option_says_how_to_get_it(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)     # import distributed: ImportError
    result = cli("build", EXAMPLE, "-o", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:8786")
    assert result.exit_code == 2
    assert result.stderr == "error: --scheduler needs the dask extra: pip install 'consentgen[dask]'\n"
    assert not (tmp_path / "out").exists()


# -- what travels: no cluster (nor dask), the worker's function called here --------------

@pytest.fixture
def task_elsewhere(tmp_path, monkeypatch):
    """A packet of a copy of the example practice, its logo and a --templates folder, and its settings."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "worker-tmp"))      # the worker's cache, outside a worker
    (tmp_path / "worker-tmp").mkdir()
    practice = tmp_path / "practice"
    shutil.copytree(EXAMPLE, practice)
    templates = tmp_path / "templates"
    (templates / "sections").mkdir(parents=True)
    section = EXAMPLE.parent.parent / "templates" / "en" / "sections" / "self-disclosure.md"
    (templates / "sections" / "self-disclosure.md").write_text(section.read_text() + "\nMy own closing line.\n")
    settings = Settings(formats=("pdf",), template_dirs=(templates,))
    loaded = load_profile(practice / "clinicians" / "ana-nunez.yaml")
    packet = Packet("ana-nunez", "ana-nunez", loaded, documents_for(loaded, Job(template_dirs=(templates,))),
                    dt.date(2026, 1, 5))
    inputs = _Planner(practice, settings).inputs(loaded, packet.docs)
    return Task((packet,), inputs, tmp_path / "stage"), settings, practice, templates


def test_a_task_carries_the_bytes_it_needs(task_elsewhere, tmp_path):
    task, settings, practice, templates = task_elsewhere
    [(want, records)] = list(render_each(task, settings, tmp_path / "out"))
    shipped = pickle.dumps(dist.ship(task, dist.template_folders(settings.template_dirs), {}))
    shutil.rmtree(practice)                     # the worker has neither the logo nor the templates
    shutil.rmtree(templates)
    [(got, got_records)] = dist.render_shipped(pickle.loads(shipped), settings, tmp_path / "out")
    assert got == want and got_records == records
    cached = sorted(p.name for p in (tmp_path / "worker-tmp").glob("consentgen-inputs-*/*"))
    assert len(cached) == 2 and all(len(name) == 64 for name in cached)       # logo and templates, by SHA-256


def test_a_worker_names_the_files_as_this_machine_does(task_elsewhere, tmp_path):
    task, settings, practice, templates = task_elsewhere
    with (templates / "sections" / "self-disclosure.md").open("a") as f:
        f.write("{{ nosuch }}\n")
    [local] = list(_failures(task, settings))
    shipped = dist.ship(task, dist.template_folders(settings.template_dirs), {})
    [remote] = dist.render_shipped(shipped, settings, tmp_path / "out")
    assert isinstance(remote, Failed) and remote.message == local
    assert "self-disclosure.md" in local and "consentgen-inputs" not in remote.message


def _failures(task: Task, settings: Settings):
    from consentgen.runners import work

    for result in work(task, settings, Path("out")):
        assert isinstance(result, Failed)
        yield result.message

"""Compiled templates kept between runs: used when safe, never trusted blindly, never a reason to fail."""
from __future__ import annotations

import datetime as dt
import os

import jinja2
import pytest

from consentgen import sandbox, template_cache, templating
from consentgen.api import Job
from consentgen.compose import build_document
from consentgen.profiles import load_profile

from .conftest import EXAMPLE

ANA = EXAMPLE / "clinicians" / "ana-nunez.yaml"
JOB = Job(effective=dt.date(2026, 1, 5))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache folder of this test's own, and a process that has not compiled anything yet."""
    base = tmp_path / "cache"
    monkeypatch.setenv(template_cache.CACHE_ENV, str(base))
    fresh_process()
    yield base
    fresh_process()         # the next test gets the run's own cache again


def fresh_process() -> None:
    """What a new process starts with: no Environment, no cache folder chosen."""
    template_cache.bytecode_cache.cache_clear()
    templating.make_env.cache_clear()


def entries(base):
    return sorted(p for p in base.glob("templates-*/*") if p.is_file())


def no_compiling(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a template was compiled, not taken from the cache")

    monkeypatch.setattr(sandbox.LimitedEnvironment, "_parse", refuse)


def test_a_new_process_renders_from_the_cache_what_it_would_have_compiled(cache, monkeypatch):
    loaded = load_profile(ANA)
    compiled = build_document(loaded, "our-relationship", JOB)
    assert len(entries(cache)) >= 2                   # the document and what it includes
    fresh_process()
    no_compiling(monkeypatch)
    assert build_document(loaded, "our-relationship", JOB) == compiled


def test_an_edited_template_is_compiled_again(cache, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    note = folder / "note.md"
    note.write_text("# Note\n\nCall {{ name }} first.\n", encoding="utf-8")
    assert "Call Robin first" in templating.render_markdown("note", {"name": "Robin"}, (folder,))
    note.write_text("# Note\n\nText {{ name }} first.\n", encoding="utf-8")        # same size, new words
    fresh_process()
    assert "Text Robin first" in templating.render_markdown("note", {"name": "Robin"}, (folder,))


def test_a_damaged_entry_is_compiled_again_and_mended(cache, monkeypatch):
    loaded = load_profile(ANA)
    compiled = build_document(loaded, "contact", JOB)
    damaged = entries(cache)
    assert damaged
    for path in damaged:
        path.write_bytes(path.read_bytes()[:20])      # cut short, as by a full disk
    fresh_process()
    assert build_document(loaded, "contact", JOB) == compiled
    fresh_process()
    no_compiling(monkeypatch)                         # written again, whole
    assert build_document(loaded, "contact", JOB) == compiled


def test_no_cache_in_a_folder_others_can_write_or_a_link(cache, tmp_path):
    cache.mkdir(mode=0o700)
    os.chmod(cache, 0o777)
    assert template_cache.bytecode_cache() is None
    assert "Call Robin" in render_note(tmp_path)
    assert entries(cache) == []

    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    os.chmod(cache, 0o700)
    (cache / f"templates-{template_cache.fingerprint()}").symlink_to(real, target_is_directory=True)
    fresh_process()
    assert template_cache.bytecode_cache() is None
    render_note(tmp_path)
    assert list(real.iterdir()) == []


def test_switched_off_or_unmakeable_means_compiling_as_before(cache, tmp_path, monkeypatch):
    monkeypatch.setenv(template_cache.CACHE_ENV, "")
    assert template_cache.bytecode_cache() is None
    assert "Call Robin" in render_note(tmp_path)

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv(template_cache.CACHE_ENV, str(blocker / "cache"))
    fresh_process()
    assert template_cache.bytecode_cache() is None
    assert "Call Robin" in render_note(tmp_path)


def test_a_cache_that_cannot_be_written_never_fails_a_render(cache, tmp_path, monkeypatch):
    def disk_full(self, bucket):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "dump_bytecode", disk_full)
    assert "Call Robin" in render_note(tmp_path)
    assert entries(cache) == []


def test_an_upgrade_clears_the_old_compiled_templates(cache, tmp_path):
    old = cache / "templates-0123456789abcdef"
    old.mkdir(parents=True)
    (old / "__jinja2_x.cache").write_bytes(b"old code")
    os.chmod(cache, 0o700)
    render_note(tmp_path)
    assert not old.exists()
    assert [p.name for p in cache.iterdir()] == [f"templates-{template_cache.fingerprint()}"]


def render_note(tmp_path) -> str:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "note.md").write_text("# Note\n\nCall {{ name }} first.\n", encoding="utf-8")
    return templating.render_markdown("note", {"name": "Robin"}, (folder,))

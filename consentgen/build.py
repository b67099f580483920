"""Practice builds: every clinician's (or every new client's) packet at once.

Plan in the parent (load profiles, read the roster, hash the inputs, decide
what is unchanged), render what changed in a process pool, then write the
manifest. One clinician's bad file fails only that clinician's packets.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import __version__, manifest
from .api import Job, documents_for, logo_path
from .compose import SOURCES
from .errors import ConsentgenError, ProfileError, display_path
from .manifest import Record
from .output import slug, write_atomic
from .packet import COMBINED, Packet, Settings, render_packet
from .profiles import LoadedProfile, load_profile
from .roster import read_roster
from .templating import template_files

STATE_DIR = ".consentgen"          # under OUT: build state and the staging area for atomic writes


@dataclass(frozen=True)
class BuildOptions:
    settings: Settings = Settings()
    jobs: int = 1
    force: bool = False
    fail_fast: bool = False
    effective: dt.date | None = None


@dataclass
class Report:
    """What a build did; ``failures`` are one-line messages (file:line: message)."""

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    files_written: int = 0
    manifest_written: bool = False
    seconds: float = 0.0
    total: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.failures)


class Progress(Protocol):
    """Told how many packets a build has, then of each as it is settled."""

    def start(self, total: int) -> None: ...

    def step(self, key: str, status: str) -> None: ...      # status: built, skipped or failed


def find_clinicians(practice: Path) -> dict[str, Path]:
    """Clinician slug -> profile file: ``PRACTICE/clinicians/*.yaml``, or one solo profile file."""
    if practice.is_file():
        return {slug(practice.stem): practice}
    folder = practice / "clinicians"
    if not practice.is_dir():
        raise ConsentgenError(f"{display_path(practice)}: no such practice folder or profile")
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise ConsentgenError(f"{display_path(folder)}: no clinician profiles (*.yaml) here")
    found: dict[str, Path] = {}
    for path in files:
        key = slug(path.stem)
        if key in found:
            raise ConsentgenError(f"{display_path(path)}: same name as {display_path(found[key])} once made safe ('{key}')")
        found[key] = path
    return found


def _state_key(out: Path) -> bytes:
    """A per-OUT secret, so the build state can fingerprint a client's name without holding it."""
    path = out / STATE_DIR / "key"
    if not path.is_file():
        write_atomic(path, secrets.token_bytes(32))
    return path.read_bytes()


def _load_state(out: Path) -> dict[str, dict]:
    try:
        return json.loads((out / STATE_DIR / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class _Planner:
    """Hashes inputs once per file and builds the packets of a practice."""

    def __init__(self, practice: Path, settings: Settings):
        self.base = practice if practice.is_dir() else practice.parent
        self.settings = settings
        self._hashes: dict[Path, str] = {}
        self._templates: dict[tuple[str, str], dict[str, Path]] = {}

    def digest(self, path: Path) -> str:
        if path not in self._hashes:
            self._hashes[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._hashes[path]

    def templates(self, name: str, language: str) -> dict[str, Path]:
        """The template files of a document, worked out once per build."""
        key = (name, language)
        if key not in self._templates:
            self._templates[key] = template_files(name, self.settings.template_dirs, language)
        return self._templates[key]

    def label(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.base.resolve()).as_posix()
        except ValueError:
            return display_path(path)

    def inputs(self, loaded: LoadedProfile, docs: tuple[str, ...]) -> dict[str, dict[str, str]]:
        """Per document (and the combined packet): input label -> SHA-256.

        A packet is rendered as one document (its key points cite the pages of
        the others), so each of its files depends on every input of the packet.
        """
        found = {f"profile:{self.label(p)}": self.digest(p) for p in loaded.layers}
        logo = logo_path(loaded)
        if logo is not None:
            found[f"logo:{self.label(logo)}"] = self.digest(logo)
        docs = (*docs, SOURCES) if self.settings.sources else docs
        for name in docs:
            files = self.templates(name, loaded.profile.language)
            found.update({f"template:{t}": self.digest(p) for t, p in files.items()})
        packet = dict(sorted(found.items()))
        return {name: packet for name in (*docs, COMBINED)}


def _fingerprint(key: bytes, packet: Packet, settings: Settings, inputs: dict) -> str:
    """Everything that decides a packet's bytes, keyed so a client's name cannot be read back."""
    payload = json.dumps({
        "version": __version__, "docs": packet.docs, "effective": packet.effective.isoformat(),
        "formats": settings.formats, "combined": settings.combined, "page_size": settings.page_size,
        "sources": settings.sources,
        "client_id": packet.client_id, "client_name": packet.client_name,
        "second_signer": packet.second_signer, "inputs": inputs,
    }, sort_keys=True, default=str)
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def _unchanged(out: Path, old: list[Record]) -> bool:
    return bool(old) and all((out / r.path).is_file() and manifest.sha256_file(out / r.path) == r.sha256 for r in old)


def build(practice: Path, out: Path, options: BuildOptions = BuildOptions(), roster: Path | None = None,
          progress: Progress | None = None) -> Report:
    """Build every packet of a practice into ``out``; see the module docstring."""
    started = time.perf_counter()
    report = Report()
    clinicians = find_clinicians(practice)
    clients, roster_problems = read_roster(roster, set(clinicians)) if roster else (None, [])
    report.failures.extend(roster_problems)
    out.mkdir(parents=True, exist_ok=True)
    tmp_dir = out / STATE_DIR / "tmp"
    shutil.rmtree(tmp_dir, ignore_errors=True)     # leftovers of an interrupted build
    planner, key = _Planner(practice, options.settings), _state_key(out)
    state, old_manifest = _load_state(out), manifest.load(out)
    old_by_packet: dict[str, list[Record]] = {}
    for r in old_manifest:
        old_by_packet.setdefault(r.path.rsplit("/", 1)[0], []).append(r)

    todo: list[tuple[Packet, dict, str]] = []
    kept: list[Record] = []
    new_state: dict[str, dict] = {}
    planned: set[str] = set()
    settled: list[tuple[str, str]] = []      # packets decided while planning, reported once counted

    def keep_old(k: str) -> None:
        """A packet not rebuilt keeps its earlier files, records and state."""
        kept.extend(old_by_packet.get(k, []))
        if k in state:
            new_state[k] = state[k]

    for packet_or_error in _packets(clinicians, clients, options):
        if isinstance(packet_or_error, tuple):            # (keys, messages): a profile that failed to load
            keys, messages = packet_or_error
            report.failures.extend(messages)
            planned.update(keys)
            for k in keys:
                keep_old(k)
                settled.append((k, "failed"))
            continue
        packet = packet_or_error
        planned.add(packet.key)
        try:
            inputs = planner.inputs(packet.loaded, packet.docs)
        except ConsentgenError as exc:
            report.failures.append(str(exc))
            keep_old(packet.key)
            settled.append((packet.key, "failed"))
            continue
        fingerprint = _fingerprint(key, packet, options.settings, inputs)
        unchanged = state.get(packet.key, {}).get("fingerprint") == fingerprint
        if not options.force and unchanged and _unchanged(out, old_by_packet.get(packet.key, [])):
            keep_old(packet.key)
            report.skipped.append(packet.key)
            settled.append((packet.key, "skipped"))
        else:
            todo.append((packet, inputs, fingerprint))
    if options.fail_fast and report.failures:       # a profile or roster row failed already: stop here
        for packet, _, _ in todo:
            keep_old(packet.key)
        todo = []
    report.total = len(planned)
    if progress is not None:
        progress.start(report.total)
        for key_status in settled:
            progress.step(*key_status)
    for k in old_by_packet:      # packets this build does not touch (earlier clients, say) stay as they are
        if k not in planned:
            keep_old(k)

    records = kept + _run(todo, options, out, tmp_dir, report, new_state, old_by_packet, progress)
    _finish(out, records, old_manifest, new_state, report)
    shutil.rmtree(tmp_dir, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _notify(progress: Progress | None, key: str, status: str) -> None:
    if progress is not None:
        progress.step(key, status)


def _packets(clinicians: dict[str, Path], clients, options: BuildOptions):
    """Yield a Packet per clinician (or per roster client), or (keys, messages) for a profile that fails."""
    wanted: dict[str, list] = {c: [None] for c in clinicians} if clients is None else {}
    for client in clients or []:
        wanted.setdefault(client.clinician, []).append(client)
    for clinician, rows in wanted.items():
        keys = [clinician if row is None else f"{clinician}/{row.client_id}" for row in rows]
        try:
            loaded = load_profile(clinicians[clinician])
            docs = documents_for(loaded, Job())
        except ProfileError as exc:
            yield keys, list(exc.errors)
            continue
        for packet_key, row in zip(keys, rows):
            effective = (row and row.date) or options.effective or loaded.profile.effective_date or dt.date.today()
            yield Packet(packet_key, clinician, loaded, docs, effective,
                         client_id=row.client_id if row else None, client_name=row.name if row else None,
                         second_signer=row.second_signer if row else None)


def _run(todo, options: BuildOptions, out: Path, tmp_dir: Path, report: Report, new_state: dict,
         old_by_packet: dict, progress: Progress | None) -> list[Record]:
    """Render the changed packets, in this process or a pool; failures stay with their packet."""
    records: list[Record] = []

    def done(packet: Packet, fingerprint: str, result) -> bool:
        if isinstance(result, str):
            report.failures.append(result)
            records.extend(old_by_packet.get(packet.key, []))
            _notify(progress, packet.key, "failed")
            return options.fail_fast
        records.extend(result)
        report.built.append(packet.key)
        report.files_written += len(result)
        new_state[packet.key] = {"fingerprint": fingerprint}
        _notify(progress, packet.key, "built")
        return False

    args = [(p, options.settings, out, tmp_dir, inputs) for p, inputs, _ in todo]
    if options.jobs <= 1 or len(todo) <= 1:
        for (packet, _, fingerprint), a in zip(todo, args):
            if done(packet, fingerprint, _render_safely(*a)):
                break
        return records
    _preload()
    with ProcessPoolExecutor(max_workers=options.jobs, mp_context=_context()) as pool:
        pending: dict[Future, tuple[Packet, str]] = {
            pool.submit(_render_safely, *a): (packet, fp) for (packet, _, fp), a in zip(todo, args)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: pending[f][0].key):
                packet, fingerprint = pending.pop(future)
                if done(packet, fingerprint, future.result()):
                    for f in pending:
                        f.cancel()
                    pool.shutdown(wait=True, cancel_futures=True)
                    return records
    return records


def _render_safely(packet: Packet, settings: Settings, out: Path, tmp_dir: Path, inputs) -> list[Record] | str:
    """Run in a worker: the packet's records, or a one-line failure message."""
    try:
        return render_packet(packet, settings, out, tmp_dir, inputs)
    except ConsentgenError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - one packet's bug must not stop the others
        return f"{display_path(packet.loaded.source)}: internal error while building ({type(exc).__name__})"


def _preload() -> None:
    """Import the renderers before forking, so every worker starts warm."""
    from .backends import get_backend

    for fmt in ("pdf", "docx"):
        get_backend(fmt)


def _context():
    import multiprocessing

    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _finish(out: Path, records: list[Record], old: list[Record], state: dict, report: Report) -> None:
    """Write the manifest (only if it changed) and the state.

    A rebuilt packet owns its folder: a file it no longer produces (a document
    dropped from the packet) is removed.
    """
    current = {r.path for r in records}
    rebuilt = set(report.built)
    for r in old:
        if r.path not in current and r.path.rsplit("/", 1)[0] in rebuilt:
            (out / r.path).unlink(missing_ok=True)
            _prune_empty(out, (out / r.path).parent)
    data = manifest.dumps(records)
    path = out / manifest.NAME
    if not path.is_file() or path.read_bytes() != data:
        write_atomic(path, data, out / STATE_DIR / "tmp")
        report.manifest_written = True
    state_data = json.dumps(state, indent=1, sort_keys=True).encode()
    state_path = out / STATE_DIR / "state.json"
    if not state_path.is_file() or state_path.read_bytes() != state_data:
        write_atomic(state_path, state_data, out / STATE_DIR / "tmp")


def _prune_empty(out: Path, folder: Path) -> None:
    while folder != out and folder.is_relative_to(out) and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def default_jobs() -> int:
    return os.cpu_count() or 1

"""Practice builds: every clinician's (or every new client's) packet at once.

Plan in the parent (load profiles, read the roster, hash the inputs, decide
what is unchanged), render what changed in a process pool into a staging
folder, swap each packet into OUT as it arrives (all its files or none, see
``journal.py``), then write the manifest. One clinician's bad file, or a bug
met while building one packet, fails only that clinician's packets; a full
disk or a folder that may not be written stops the build cleanly: the packet
in progress is left as it was, the manifest lists what did build, and the
summary is printed.

OUT is locked (``lock.py``) before anything in it is read, until the manifest
is written, so two builds never interleave.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import __version__, manifest, state
from .api import Job, documents_for, effective_date, logo_path
from .compose import COMBINED, SOURCES
from .errors import ConsentgenError, ProfileError, WriteError, debugging, display_path, internal_error
from .journal import Journal, recover, stops_build
from .lock import hold
from .manifest import STATE_DIR, Record
from .output import slug, write_atomic
from .packet import Packet, Settings, render_packet
from .profiles import LoadedProfile, load_profile
from .roster import read_roster
from .templating import template_files

NEVER = "0" * 64        # the fingerprint of a packet that is rebuilt every time (a client's name, and no key)


@dataclass(frozen=True)
class BuildOptions:
    settings: Settings = Settings()
    jobs: int = 1
    force: bool = False
    fail_fast: bool = False
    effective: dt.date | None = None
    wait: float = 0.0                 # seconds to wait for another build of the same OUT; 0: refuse at once


@dataclass
class Report:
    """What a build did; ``failures`` are one-line messages (file:line: message)."""

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # what the build repaired or could not keep, one line each
    files_written: int = 0
    manifest_written: bool = False
    seconds: float = 0.0
    total: int = 0
    stopped: bool = False            # a full disk or a folder it may not write ended the build early
    not_started: int = 0             # packets left as they were because the build stopped

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
        return {slug(practice.stem, "clinician"): practice}
    folder = practice / "clinicians"
    if not practice.is_dir():
        raise ConsentgenError(f"{display_path(practice)}: no such practice folder or profile")
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise ConsentgenError(f"{display_path(folder)}: no clinician profiles (*.yaml) here")
    found: dict[str, Path] = {}
    for path in files:
        key = slug(path.stem, "clinician")
        if key in found:
            raise ConsentgenError(f"{display_path(path)}: same name as {display_path(found[key])} once made safe ('{key}')")
        found[key] = path
    return found


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


def _payload(packet: Packet, settings: Settings, inputs: dict) -> dict:
    """Everything that decides a packet's bytes, but the client's name (state.fingerprint keys that)."""
    return {
        "version": __version__, "docs": packet.docs, "effective": packet.effective.isoformat(),
        "formats": settings.formats, "combined": settings.combined, "page_size": settings.page_size,
        "large_print": settings.large_print, "sources": settings.sources, "client_id": packet.client_id, "second_signer": packet.second_signer,
        "inputs": inputs,
    }


def _unchanged(out: Path, old: list[Record]) -> bool:
    try:
        return bool(old) and all((out / r.path).is_file() and manifest.sha256_file(out / r.path) == r.sha256
                                 for r in old)
    except OSError:
        return False


def build(practice: Path, out: Path, options: BuildOptions = BuildOptions(), roster: Path | None = None,
          progress: Progress | None = None) -> Report:
    """Build every packet of a practice into ``out``; see the module docstring."""
    started = time.perf_counter()
    report = Report()
    clinicians = find_clinicians(practice)
    clients, roster_problems = read_roster(roster, set(clinicians)) if roster else (None, [])
    report.failures.extend(roster_problems)
    state_dir = state.prepare(out)
    with hold(out, state_dir, wait=options.wait):
        state.check(out)
        _build(practice, out, clinicians, clients, options, report, progress)
    report.seconds = time.perf_counter() - started
    return report


def _read_out(out: Path, report: Report) -> tuple[list[Record], dict[str, state.Entry], list[Record] | None]:
    """What OUT holds: the manifest's records and the state, with what an interrupted build left folded in;
    and the manifest's records as the file has them, when it had nothing to ignore (else None)."""
    found = recover(out)                      # undoes a half-done swap; may raise ConsentgenError
    for begin in found.unfinished:
        report.notes.append(f"{begin.packet}: a stopped build was replacing its files; they are back as they were")
    report.notes.extend(f"{line}; ignored" for line in found.ignored)
    state.clear_tmp(out)
    old_key = state.remove_old_key(out)
    if old_key:
        report.notes.append(old_key)
    entries, notes = state.read_state(out)
    report.notes.extend(notes)
    try:
        loaded = manifest.read(out)
        as_read = None if loaded.ignored or not (out / manifest.NAME).is_file() else list(loaded.records)
    except ConsentgenError as exc:
        report.notes.append(f"{exc}; every packet is rebuilt")
        loaded, as_read = manifest.Loaded([], []), None
    report.notes.extend(f"{line}; ignored (its packet is rebuilt)" for line in loaded.ignored)
    records = loaded.records
    for key, (recs, entry) in found.rebuilt.items():
        records = [r for r in records if r.packet != key] + recs
        entries[key] = entry
    if found.rebuilt:
        report.notes.append(f"{len(found.rebuilt)} packet(s) an interrupted build had finished are now in the manifest")
    return records, entries, as_read


def _build(practice: Path, out: Path, clinicians: dict[str, Path], clients, options: BuildOptions, report: Report,
           progress: Progress | None) -> None:
    old_records, old_state, as_read = _read_out(out, report)
    planner = _Planner(practice, options.settings)
    old_by_packet: dict[str, list[Record]] = {}
    for r in old_records:
        old_by_packet.setdefault(r.packet, []).append(r)

    todo: list[tuple[Packet, dict, str]] = []
    kept: list[Record] = []
    new_state: dict[str, state.Entry] = {}
    planned: set[str] = set()
    settled: list[tuple[str, str]] = []      # packets decided while planning, reported once counted
    secret: list[tuple[bytes | None, str]] = []

    def client_key() -> bytes | None:
        if not secret:
            secret.append(state.private_key(out))
            if secret[0][0] is None:
                report.notes.append(f"packets with a client's name are rebuilt every time: {secret[0][1]}")
        return secret[0][0]

    def keep_old(k: str) -> None:
        """A packet not rebuilt keeps its earlier files, records and state."""
        kept.extend(old_by_packet.get(k, []))
        if k in old_state:
            new_state[k] = old_state[k]

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
            fingerprint = state.fingerprint(_payload(packet, options.settings, inputs), packet.client_name,
                                            client_key() if packet.client_name is not None else None) or NEVER
        except Exception as exc:  # noqa: BLE001 - one packet's trouble must not stop the others
            report.failures.append(_failure(packet, exc))
            keep_old(packet.key)
            settled.append((packet.key, "failed"))
            continue
        entry, old = old_state.get(packet.key), old_by_packet.get(packet.key, [])
        unchanged = (fingerprint != NEVER and entry is not None and entry.fingerprint == fingerprint
                     and set(entry.files) == {r.path for r in old} and _unchanged(out, old))
        if not options.force and unchanged:
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

    journal = Journal(out)
    done = _run(todo, options, out, journal, report, new_state, old_by_packet, progress)
    for packet, _, _ in todo:            # not reached: the build stopped (or --fail-fast) before them
        if packet.key not in done:
            keep_old(packet.key)
            report.not_started += 1
    _finish(out, journal, kept + done.records, new_state, report, as_read)


def _failure(packet: Packet, exc: BaseException) -> str:
    if isinstance(exc, ConsentgenError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        return f"{display_path(exc.filename)}: cannot read ({exc.strerror or type(exc).__name__})"
    if debugging():
        traceback.print_exception(exc, file=sys.stderr)
    return internal_error(f"{display_path(packet.loaded.source)}: packet {packet.key}", exc)


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
            docs = documents_for(loaded, Job(template_dirs=options.settings.template_dirs))
        except ProfileError as exc:
            yield keys, list(exc.errors)
            continue
        except ConsentgenError as exc:
            yield keys, [str(exc)]
            continue
        except Exception as exc:  # noqa: BLE001 - a bug met loading one profile fails only its packets
            if debugging():
                traceback.print_exception(exc, file=sys.stderr)
            yield keys, [internal_error(f"{display_path(clinicians[clinician])}: packet {clinician}", exc)]
            continue
        for packet_key, row in zip(keys, rows):
            effective = effective_date(loaded, Job(effective=(row and row.date) or options.effective))
            yield Packet(packet_key, clinician, loaded, docs, effective,
                         client_id=row.client_id if row else None, client_name=row.name if row else None,
                         second_signer=row.second_signer if row else None)


@dataclass(frozen=True)
class _Failed:
    """A worker's answer when its packet did not render: one line, and whether the build must stop."""

    message: str
    stop: bool = False


@dataclass
class _Done:
    """The packets a run settled, and the records of those that are now in place."""

    keys: set[str] = field(default_factory=set)
    records: list[Record] = field(default_factory=list)

    def __contains__(self, key: str) -> bool:
        return key in self.keys


def _run(todo, options: BuildOptions, out: Path, journal: Journal, report: Report, new_state: dict,
         old_by_packet: dict, progress: Progress | None) -> _Done:
    """Render the changed packets, in this process or a pool, and swap each in; failures stay with their packet."""
    run = _Done()
    build_id = secrets.token_hex(4)
    stages = {packet.key: f"{build_id}-{i}" for i, (packet, _, _) in enumerate(todo)}

    def failed(packet: Packet, message: str, stop: bool = False) -> bool:
        report.failures.append(message)
        run.records.extend(old_by_packet.get(packet.key, []))
        run.keys.add(packet.key)
        _notify(progress, packet.key, "failed")
        if stop:
            report.stopped = True
        return stop or options.fail_fast

    def done(packet: Packet, fingerprint: str, result) -> bool:
        """Settle one packet; True when the build must stop."""
        if isinstance(result, _Failed):
            return failed(packet, result.message, result.stop)
        stage = stages[packet.key]
        paths = {r.path for r in result}
        drop = sorted(r.path for r in old_by_packet.get(packet.key, []) if r.path not in paths)
        entry = state.Entry(fingerprint, tuple(sorted(paths)))
        try:
            journal.swap(packet.key, stage, result, drop, entry)
        except OSError as exc:
            stop = stops_build(exc.errno)
            return failed(packet, f"{display_path(out / packet.key)}: cannot write ({exc.strerror or type(exc).__name__}); "
                                  f"packet {packet.key} is left as it was" + ("; the build stopped" if stop else ""),
                          stop)
        except Exception as exc:  # noqa: BLE001 - the swap was undone; only this packet fails
            return failed(packet, _failure(packet, exc))
        run.records.extend(result)
        run.keys.add(packet.key)
        report.built.append(packet.key)
        report.files_written += len(result)
        new_state[packet.key] = entry
        _notify(progress, packet.key, "built")
        return False

    args = [(p, options.settings, out, out / STATE_DIR / state.TMP / stages[p.key] / "new", inputs)
            for p, inputs, _ in todo]
    if options.jobs <= 1 or len(todo) <= 1:
        for (packet, _, fingerprint), a in zip(todo, args):
            if done(packet, fingerprint, _render_safely(*a)):
                break
        return run
    _preload()
    with ProcessPoolExecutor(max_workers=options.jobs, mp_context=_context()) as pool:
        pending: dict[Future, tuple[Packet, str]] = {
            pool.submit(_render_safely, *a): (packet, fp) for (packet, _, fp), a in zip(todo, args)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: pending[f][0].key):
                packet, fingerprint = pending.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - a worker that died (out of memory, say)
                    result = _Failed(_failure(packet, exc))
                if done(packet, fingerprint, result):
                    for f in pending:
                        f.cancel()
                    pool.shutdown(wait=True, cancel_futures=True)
                    return run
    return run


def _render_safely(packet: Packet, settings: Settings, out: Path, stage: Path, inputs) -> list[Record] | _Failed:
    """Run in a worker: the packet's records (its files are in ``stage``), or why it failed."""
    try:
        return render_packet(packet, settings, stage, inputs)
    except WriteError as exc:            # the staging folder full or closed to us is so for every packet: stop
        stop = stops_build(exc.errno)
        return _Failed(f"{display_path(out)}: {exc}; packet {packet.key} is left as it was"
                       + ("; the build stopped" if stop else ""), stop)
    except Exception as exc:  # noqa: BLE001 - one packet's bug must not stop the others
        return _Failed(_failure(packet, exc))


def _preload() -> None:
    """Import the renderers before forking, so every worker starts warm."""
    from .backends import get_backend

    for fmt in ("pdf", "docx"):
        get_backend(fmt)


def _context():
    import multiprocessing

    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _finish(out: Path, journal: Journal, records: list[Record], entries: dict, report: Report,
            as_read: list[Record] | None = None) -> None:
    """Write the manifest (only if it changed) and the state; then the journal has done its work.

    ``as_read`` is what the manifest held when the build began: when the records are the same,
    the file is left as it is without serializing it (600 records take 0.15 s to format).

    When they cannot be written (the disk is full), the journal keeps what
    was built: ``verify`` names those packets and the next build records them.
    """
    path = out / manifest.NAME
    tmp = out / STATE_DIR / state.TMP
    by_path = lambda r: r.path     # noqa: E731
    try:
        if as_read is None or sorted(as_read, key=by_path) != sorted(records, key=by_path):
            data = manifest.dumps(records)
            if not path.is_file() or path.read_bytes() != data:
                write_atomic(path, data, tmp)
                report.manifest_written = True
        state.write_state(out, entries)
    except OSError as exc:
        report.failures.append(f"{display_path(path)}: cannot write ({exc.strerror or type(exc).__name__}); what was "
                               f"built is recorded in {display_path(journal.path)}, and the next build adds it")
        return
    if not journal.unresolved:
        try:
            journal.remove()
        except OSError:
            pass                     # harmless: the next build reads the same records again
        state.clear_tmp(out)


def default_jobs() -> int:
    return os.cpu_count() or 1

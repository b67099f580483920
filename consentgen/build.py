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
import heapq
import os
import secrets
import sqlite3
import sys
import time
import traceback
from pathlib import Path

from . import __version__, manifest, receipt, state
from .api import Job, documents_for, effective_date, logo_path
from .compose import COMBINED, SOURCES
from .errors import ConsentgenError, ProfileError, debugging, display_path, internal_error
from .journal import Journal, Swap, recover, stops_build
from .ledger import Ledger
from .lock import hold
from .manifest import STATE_DIR, Record
from .output import replace_if_changed, slug
from .options import BuildOptions, Progress, Report, Settings
from .packet import SYNC_EACH, Packet
from .profiles import LoadedProfile, load_profile
from .roster import read_roster
from .runners import Failed, Result, Runner, Task, make_runner
from .templating import template_files

NEVER = "0" * 64        # the fingerprint of a packet that is rebuilt every time (a client's name, and no key)


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
        self.read: dict[Path, str] = {}          # every file read: path -> SHA-256
        self._templates: dict[tuple[str, str], dict[str, Path]] = {}
        self._last: tuple | None = None        # (loaded profile, documents, inputs) of the last packet

    def digest(self, path: Path) -> str:
        if path not in self.read:
            self.read[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self.read[path]

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
        if self._last is not None and self._last[0] is loaded and self._last[1] == docs:
            return self._last[2]                 # the next client of the same clinician
        found = {f"profile:{self.label(p)}": self.digest(p) for p in loaded.layers}
        logo = logo_path(loaded)
        if logo is not None:
            found[f"logo:{self.label(logo)}"] = self.digest(logo)
        docs = (*docs, SOURCES) if self.settings.sources else docs
        for name in docs:
            files = self.templates(name, loaded.profile.language)
            found.update({f"template:{t}": self.digest(p) for t, p in files.items()})
        packet = dict(sorted(found.items()))
        result = {name: packet for name in (*docs, COMBINED)}
        self._last = (loaded, docs, result)
        return result


def _payload(packet: Packet, settings: Settings, inputs: dict) -> dict:
    """Everything that decides a packet's bytes, but the client's name (state.fingerprint keys that)."""
    return {
        "version": __version__, "docs": packet.docs, "effective": packet.effective.isoformat(),
        "formats": settings.formats, "combined": settings.combined, "page_size": settings.page_size,
        "large_print": settings.large_print, "sources": settings.sources, "client_id": packet.client_id, "second_signer": packet.second_signer,
        "inputs": inputs,
    }


def build(practice: Path, out: Path, options: BuildOptions = BuildOptions(), roster: Path | None = None,
          progress: Progress | None = None, *, receipt_checked: bool = False) -> Report:
    """Build every packet of a practice into ``out``; see the module docstring.

    First the receipt of the last build (``receipt.py``) is asked whether anything changed, unless the
    caller has just asked it (``receipt_checked``)."""
    started = time.perf_counter()
    if not receipt_checked:
        done = receipt.unchanged(practice, out, options, roster, progress)
        if done is not None:
            return done
    report = Report()
    clinicians = find_clinicians(practice)
    try:
        taken = receipt.survey(practice, out, options, roster)    # before a file is read
    except OSError:
        taken = None                                               # a folder it cannot list: no receipt
    clients, roster_problems = read_roster(roster, set(clinicians)) if roster else (None, [])
    report.failures.extend(roster_problems)
    runner = make_runner(options.settings, out, options.jobs, options.scheduler)   # a Dask scheduler: reached before OUT is made
    try:
        state_dir = state.prepare(out)
        with hold(out, state_dir, wait=options.wait):
            state.check(out)
            _build(practice, out, clinicians, clients, options, report, progress, runner, taken)
    finally:
        getattr(runner, "close", lambda: None)()      # a Dask client and its cluster, even if the build never started
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
           progress: Progress | None, runner: Runner, taken: receipt.Survey | None) -> None:
    receipt.discard(out)
    old_records, old_state, as_read = _read_out(out, report)
    old_by_packet: dict[str, list[Record]] = {}
    for r in old_records:
        old_by_packet.setdefault(r.packet, []).append(r)
    run = _Run(out, options, report, progress, old_by_packet, old_state)
    report.total = len(clinicians) if clients is None else len(clients)
    if progress is not None:
        progress.start(report.total)
    plan = _Plan(practice, out, clinicians, clients, options, run)
    results = runner.results(plan.tasks())
    try:
        for task, outcome in results:
            if run.settle(task, outcome):
                break
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()                       # cancels what is still pending (the build stopped)
    for k in old_by_packet:      # packets this build did not reach or touch (earlier clients, say) stay as they are
        if k not in run.keys:
            run.keep_old(k)
    report.not_started = report.total - len(report.built) - len(report.skipped) - run.failed
    _finish(out, run, report, as_read)
    if taken is not None and taken.usable and plan.clean and not report.failures and not report.stopped \
            and not run.journal.unresolved:
        try:
            receipt.write(out, taken, plan.planner.read, plan.order, plan.today)
        except OSError:
            pass          # no receipt: the next no-op goes the full way, as slow as before and as right


GROUP = 50           # roster clients per task: a worker renders their group once (and keeps it for the
                     # group's next task, stamp.py), so a task is mostly cheap stamping. What a task
                     # brings back (records, journal lines) is held at once: at 250 a task, the 10,000-client
                     # roster's build peaked at 78 MB against 67 for 1,000 clients; at 50, 70 MB, and its time
                     # moved within the run-to-run noise (bench/README.md)


class _Plan:
    """Decides, packet by packet, what to rebuild; yields the work as it goes (see ``runners.py``)."""

    def __init__(self, practice: Path, out: Path, clinicians, clients, options: BuildOptions, run: _Run):
        self.planner = _Planner(practice, options.settings)
        self.out, self.clinicians, self.clients, self.options, self.run = out, clinicians, clients, options, run
        self.secret: list[tuple[bytes | None, str]] = []
        self.stage = f"{secrets.token_hex(4)}-"
        self.count = 0
        self.order: list[str] = []                # the packets as planned (receipt.py)
        self.dated: set[dt.date] = set()          # the dates taken from the clock
        self.never = False                        # a packet rebuilt every time (receipt.py: no receipt)

    @property
    def clean(self) -> bool:
        """Whether the build may leave a receipt: no packet is rebuilt every time, and a date taken from
        the clock was the same for every packet."""
        return not self.never and len(self.dated) <= 1

    @property
    def today(self) -> dt.date | None:
        return next(iter(self.dated), None)

    def client_key(self) -> bytes | None:
        if not self.secret:
            self.secret.append(state.private_key(self.out))
            if self.secret[0][0] is None:
                self.run.report.notes.append(f"packets with a client's name are rebuilt every time: {self.secret[0][1]}")
        return self.secret[0][0]

    def tasks(self):
        """Tasks to render, as planning finds them; stops when the build must (--fail-fast, a full disk)."""
        run, report = self.run, self.run.report
        groups: dict[tuple, list[tuple[Packet, str]]] = {}
        inputs_of: dict[tuple, dict] = {}
        clinician = None
        for item in _packets(self.clinicians, self.clients, self.options, self.dated):
            if run.stop or (self.options.fail_fast and report.failures):
                return
            if isinstance(item, tuple):            # (keys, messages): a profile that failed to load
                keys, messages = item
                report.failures.extend(messages)
                for k in keys:
                    run.settled(k, "failed")
                continue
            self.order.append(item.key)
            if item.clinician != clinician:        # one clinician's groups at a time: memory stays flat
                yield from self._flush(groups, inputs_of)
                clinician = item.clinician
            planned = self._plan(item)
            if planned is None:
                continue
            inputs, fingerprint = planned
            group = _group_key(item)
            groups.setdefault(group, []).append((item, fingerprint))
            inputs_of[group] = inputs
            run.fingerprints[item.key] = fingerprint
            if len(groups[group]) >= GROUP or group == (item.key,):     # full, or a clinician's own packet
                yield from self._flush({group: groups.pop(group)}, inputs_of)
        if not run.stop and not (self.options.fail_fast and report.failures):
            yield from self._flush(groups, inputs_of)

    def _flush(self, groups: dict, inputs_of: dict):
        for group, members in list(groups.items()):
            self.count += 1              # the packets of a task share a staging folder (a folder costs a
            name = f"{self.stage}{self.count}"     # millisecond to remove), their files named by their paths
            stage = self.out / STATE_DIR / state.TMP / name / "new"
            self.run.stages.update({p.key: f"{name}.{i}" for i, (p, _) in enumerate(members)})
            yield Task(tuple(p for p, _ in members), inputs_of[group], stage)
        groups.clear()

    def _plan(self, packet: Packet) -> tuple[dict, str] | None:
        """The packet's inputs and fingerprint when it must be rebuilt; None when settled here."""
        run = self.run
        try:
            inputs = self.planner.inputs(packet.loaded, packet.docs)
            key = self.client_key() if packet.client_name is not None else None
            fingerprint = state.fingerprint(_payload(packet, self.options.settings, inputs), packet.client_name,
                                            key) or NEVER
            self.never |= fingerprint == NEVER
        except Exception as exc:  # noqa: BLE001 - one packet's trouble must not stop the others
            run.report.failures.append(describe(packet, exc))
            run.settled(packet.key, "failed")
            return None
        entry, old = run.old_state.get(packet.key), run.old_by_packet.get(packet.key, [])
        unchanged = (fingerprint != NEVER and entry is not None and entry.fingerprint == fingerprint
                     and set(entry.files) == {r.path for r in old} and bool(old) and manifest.on_disk(self.out, old))
        if not self.options.force and unchanged:
            run.report.skipped.append(packet.key)
            run.settled(packet.key, "skipped")
            return None
        return inputs, fingerprint


def _group_key(packet: Packet) -> tuple:
    """Packets that differ only in the client's name and id render once and are stamped (``stamp.py``)."""
    if packet.client_name is None and packet.client_id is None:
        return (packet.key,)
    return (packet.clinician, packet.docs, packet.effective, packet.second_signer,
            packet.client_name is None, packet.client_id is None)


def describe(packet: Packet, exc: BaseException) -> str:
    """A bug or an error met while building one packet, as one line that names the packet, not the client."""
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


def _packets(clinicians: dict[str, Path], clients, options: BuildOptions, dated: set[dt.date]):
    """Yield a Packet per clinician (or per roster client), or (keys, messages) for a profile that fails.
    Adds to ``dated`` each date it takes from the clock."""
    wanted: dict[str, list] = {c: [None] for c in clinicians} if clients is None else {}
    for client in clients or []:
        wanted.setdefault(client.clinician, []).append(client)
    if clients:
        clients.clear()              # each clinician's rows go once their packets are made: memory stays flat
    while wanted:
        clinician = next(iter(wanted))
        rows = wanted.pop(clinician)
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
            given = (row and row.date) or options.effective
            effective = effective_date(loaded, Job(effective=given))
            if given is None and loaded.profile.effective_date is None:
                dated.add(effective)
            yield Packet(packet_key, clinician, loaded, docs, effective,
                         client_id=row.client_id if row else None, client_name=row.name if row else None,
                         second_signer=row.second_signer if row else None)


class _Run:
    """What a build has settled so far: records, state, and the packets it is done with."""

    def __init__(self, out: Path, options: BuildOptions, report: Report, progress: Progress | None,
                 old_by_packet: dict[str, list[Record]], old_state: dict[str, state.Entry]):
        self.out, self.options, self.report, self.progress = out, options, report, progress
        self.old_by_packet, self.old_state = old_by_packet, old_state
        self.journal = Journal(out)
        self.records: list[Record] = []              # of the packets kept as they were
        self.new_state: dict[str, state.Entry] = {}  # of the packets kept as they were
        self.ledger: Ledger | None = None             # what this build built (on disk: ledger.py)
        self.keys: set[str] = set()                  # packets settled (built, skipped or failed)
        self.fingerprints: dict[str, str] = {}       # packets handed to a runner
        self.stages: dict[str, str] = {}             # packet -> its staging folder's name under OUT's tmp
        self.failed = 0
        self.stop = False                            # a full disk, or --fail-fast after a failure

    def keep_old(self, key: str) -> None:
        """A packet not rebuilt keeps its earlier files, records and state."""
        self.records.extend(self.old_by_packet.get(key, []))
        if key in self.old_state:
            self.new_state[key] = self.old_state[key]

    def settled(self, key: str, status: str) -> None:
        self.keys.add(key)
        if status != "built":
            self.keep_old(key)
        if status == "failed":
            self.failed += 1
        _notify(self.progress, key, status)

    def settle(self, task: Task, outcome: list[Result]) -> bool:
        """Swap the packets of a finished task into OUT (one journal batch); True when the build must
        stop. Every packet of the task is settled either way: those after a failure were rendered."""
        if not SYNC_EACH:
            os.sync()                     # the task's staged files are on disk before any swap is recorded
        swaps: dict[str, Swap] = {}
        for packet, result in zip(task.packets, outcome):
            if not isinstance(result, Failed):
                paths = {r.path for r in result}
                drop = sorted(r.path for r in self.old_by_packet.get(packet.key, []) if r.path not in paths)
                entry = state.Entry(self.fingerprints.pop(packet.key), tuple(sorted(paths)))
                swaps[packet.key] = Swap(packet.key, self.stages.pop(packet.key), result, drop, entry)
        errors = dict(zip(swaps, self.journal.swap_all(list(swaps.values())))) if swaps else {}
        stop = False
        for packet, result in zip(task.packets, outcome):
            if isinstance(result, Failed):
                stop |= self._failed(packet, result.message, result.stop)
            else:
                stop |= self._swapped(packet, swaps[packet.key], errors[packet.key])
        self.stop |= stop
        return stop

    def _failed(self, packet: Packet, message: str, stop: bool = False) -> bool:
        self.report.failures.append(message)
        self.settled(packet.key, "failed")
        if stop:
            self.report.stopped = True
        return stop or self.options.fail_fast

    def _swapped(self, packet: Packet, swap: Swap, error: BaseException | None) -> bool:
        if isinstance(error, OSError):
            stop = stops_build(error.errno)
            return self._failed(packet, f"{display_path(self.out / packet.key)}: cannot write "
                                        f"({error.strerror or type(error).__name__}); packet {packet.key} is left as "
                                        "it was" + ("; the build stopped" if stop else ""), stop)
        if error is not None:             # the swap was undone; only this packet fails
            return self._failed(packet, describe(packet, error))
        if packet.client_name is not None or packet.client_id is not None:
            self.report.clients[getattr(swap.records, "how", "rendered")] += 1
        self.report.built.append(packet.key)
        self.report.files_written += len(swap.records)
        self.settled(packet.key, "built")
        try:
            if self.ledger is None:
                self.ledger = Ledger(self.out / STATE_DIR / state.TMP)
            self.ledger.add(packet.key, swap.records, swap.entry)
        except (OSError, sqlite3.Error) as exc:      # the journal has the packet: the next build records it
            self.journal.unresolved = True
            self.report.stopped = True
            self.report.failures.append(f"{display_path(self.out / STATE_DIR / state.TMP)}: cannot keep the build's "
                                        f"records ({exc}); the build stopped, and the next build records "
                                        f"what this one built")
            return True
        return False


def _finish(out: Path, run: _Run, report: Report, as_read: list[Record] | None = None) -> None:
    """Write the manifest (only if it changed) and the state; then the journal has done its work.

    The records and state entries are those of the packets kept as they were (in memory) and of
    those built (``run.ledger``, on disk), merged in order. ``as_read`` is what the manifest held when
    the build began: when nothing was built and the records are the same, the file is left as it is
    without serializing it (600 records take 0.15 s to format).

    When they cannot be written (the disk is full), the journal keeps what
    was built: ``verify`` names those packets and the next build records them.
    """
    path = out / manifest.NAME
    tmp = out / STATE_DIR / state.TMP
    journal, built = run.journal, run.ledger
    by_path = lambda r: r.path     # noqa: E731
    kept = sorted(run.records, key=by_path)
    try:
        if as_read is None or built is not None or sorted(as_read, key=by_path) != kept:
            records = heapq.merge(kept, built.records(), key=by_path) if built is not None else kept
            report.manifest_written = replace_if_changed(path, manifest.chunks(records, presorted=True), tmp)
        entries = sorted(run.new_state.items())
        state.write_state(out, heapq.merge(entries, built.entries(), key=lambda item: item[0])
                          if built is not None else entries)
    except (OSError, sqlite3.Error) as exc:
        report.failures.append(f"{display_path(path)}: cannot write ({getattr(exc, 'strerror', None) or exc}); what "
                               f"was built is recorded in {display_path(journal.path)}, and the next build adds it")
        return
    finally:
        if built is not None:
            built.close()
    if not journal.unresolved:
        try:
            journal.remove()
        except OSError:
            pass                     # harmless: the next build reads the same records again
        state.clear_tmp(out)

"""Replacing a packet's files all together, and finishing or undoing that after a kill.

A worker renders a packet into the staging area (``OUT/.consentgen/tmp/<stage>/new/``).
The build then swaps it in: the old files move to ``<stage>/old/`` and the new
ones into their places, one rename each. Around that, ``OUT/.consentgen/journal``
(one JSON line each, made durable before the next step) says

- ``begin``: which files this packet is about to replace, and the SHA-256 of
  each new file whose place was empty;
- ``commit``: all are in place, with the packet's manifest records;
- ``abort``: the swap failed and was undone.

A failure during a swap (a full disk, a folder it may not write) undoes it at
once. A kill leaves a ``begin`` with no ``commit``; the next build undoes it
from the journal, so each packet is either as it was or wholly the new build.
An undo puts each backup back over whatever is in its place, and removes only
a file it can prove it put there: one whose place was empty at the begin and
that still has the new file's SHA-256. So an undo that is itself interrupted
can be run again, and an undo run when the staging area is gone (deleted by
hand, say) never takes away a file that was there before.

Packets committed before a kill are in the journal but not yet in
``manifest.json``; ``verify`` names them, and the next build writes them into
the manifest. After the manifest is written the journal is deleted.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from . import manifest
from .errors import ConsentgenError, display_path
from .manifest import HEX64, STATE_DIR, Record, path_problem
from .output import append_line, not_a_file, open_regular, sha256_file, staged_name
from .state import JOURNAL as NAME, TMP, Entry, parse_entry

# A begin's id: its staging folder's name, and after a dot the packet's number when the packets
# of one task share the folder (their files are apart already: each named by its path under OUT).
_STAGE = re.compile(r"[0-9a-z-]{1,40}(\.[0-9]{1,9})?")


def folder(stage: str) -> str:
    """The staging folder (under OUT's tmp) of a begin's id."""
    return stage.split(".", 1)[0]


# Errors that no later packet would escape: the build stops rather than fail them one by one.
STOPPING = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EIO", "EFBIG")
                     if hasattr(errno, name))


def stops_build(code: int | None) -> bool:
    """Whether a write error (its errno) stops the build: the one rule for staging a packet and swapping it in."""
    return code in STOPPING


@dataclass(frozen=True)
class Swap:
    """One packet to put in place: its staging folder's name, records, files to drop, and state."""

    key: str
    stage: str
    records: list[Record]
    drop: list[str]
    entry: Entry


@dataclass(frozen=True)
class Begin:
    packet: str
    stage: str                       # also the begin's id in the journal
    files: tuple[str, ...]
    drop: tuple[str, ...]
    mkdirs: tuple[str, ...]
    new: dict[str, str] = field(default_factory=dict)     # file -> SHA-256, for files whose place was empty


class Journal:
    """The journal of one output folder (the build holds its lock)."""

    def __init__(self, out: Path):
        self.out = out
        self.path = out / STATE_DIR / NAME
        self.tmp = out / STATE_DIR / TMP
        self.unresolved = False       # a swap could not be undone or its undo not recorded: keep tmp and journal

    def _append(self, *entries: dict) -> None:
        """Append lines and make them durable, all in one write."""
        append_line(self.path, b"".join((json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n").encode()
                                        for e in entries))

    def swap_all(self, swaps: list[Swap]) -> list[BaseException | None]:
        """Put staged packets in place of their earlier files, each all or none: their begins made
        durable in one write, each placed (or undone at once after an error), their commits made
        durable in one write. A task of a roster build settles hundreds of packets: two flushes, not
        two per packet.

        One result per swap: None, a ConsentgenError (nothing was touched), or the error met
        while placing or committing it (it was undone). A bug (not an Exception) is raised after undoing.
        """
        results: list[BaseException | None] = [None] * len(swaps)
        begins: dict[int, Begin] = {}
        lines = []
        root, safe = self.out.resolve(), set()
        for i, swap in enumerate(swaps):
            try:
                begins[i], line = self._begin(swap, root, safe)
                lines.append(line)
            except ConsentgenError as exc:
                results[i] = exc
        if not begins:
            return results
        try:
            self._append(*lines)
        except OSError as exc:              # nothing was touched: every packet stays as it was
            for i in begins:
                results[i] = exc
            return results
        placed: list[int] = []
        for i, begin in begins.items():
            try:
                self._place(begin)
                placed.append(i)
            except BaseException as exc:
                self._undo_now(begin)
                if not isinstance(exc, Exception):
                    raise
                results[i] = exc
        try:
            self._append(*({"commit": begins[i].stage, "records": [manifest.as_json(r) for r in swaps[i].records],
                            "state": swaps[i].entry.as_json()} for i in placed))
        except BaseException as exc:
            for i in placed:
                self._undo_now(begins[i])
                results[i] = exc
            if not isinstance(exc, Exception):
                raise
            return results
        for i in placed:
            begin = begins[i]
            for rel in (*begin.files, *begin.drop):      # the earlier files are no longer needed
                with contextlib.suppress(OSError):
                    os.unlink(self.tmp / folder(begin.stage) / "old" / rel)
            for rel in begin.drop:
                _prune(self.out, (self.out / rel).parent)
        return results

    def _begin(self, swap: Swap, root: Path, safe: set[Path]) -> tuple[Begin, dict]:
        """The begin of one swap and its journal line; ConsentgenError if a file cannot go where it should.

        ``root``: OUT resolved; ``safe``: folders found to exist inside it (checked once per batch). Each
        folder is looked at once, not each file: a roster task swaps in a thousand files."""
        out = self.out
        files = tuple(r.path for r in swap.records)
        missing: set[Path] = set()               # folders to make, OUT's own aside
        fresh: set[Path] = set()                 # folders that do not exist yet: no file is in them
        for parent in dict.fromkeys((out / rel).parent for rel in files):
            if parent in safe:
                continue
            existing = parent
            while not existing.exists() and existing != out:
                missing.add(existing)
                existing = existing.parent
            if not existing.resolve().is_relative_to(root):
                raise ConsentgenError(f"{display_path(parent)}: leads outside the output folder; not written")
            if existing == parent:
                safe.add(parent)
            else:
                fresh.add(parent)
        for rel in files:
            dest = out / rel
            if dest.parent not in fresh and dest.is_dir() and not dest.is_symlink():
                raise ConsentgenError(f"{display_path(dest)}: is a folder; cannot write a file there")
        mkdirs = sorted((p.relative_to(out).as_posix() for p in missing), key=lambda p: (p.count("/"), p))
        new = {r.path: r.sha256 for r in swap.records
               if (out / r.path).parent in fresh or not os.path.lexists(out / r.path)}
        begin = Begin(swap.key, swap.stage, files, tuple(swap.drop), tuple(mkdirs), new)
        return begin, {"begin": swap.stage, "packet": swap.key, "stage": swap.stage, "files": list(files),
                       "drop": list(swap.drop), "mkdirs": list(mkdirs), "new": new}

    def _place(self, begin: Begin) -> None:
        out = self.out
        for d in begin.mkdirs:
            (out / d).mkdir(exist_ok=True)
        staged, old = self.tmp / folder(begin.stage) / "new", self.tmp / folder(begin.stage) / "old"
        for rel in begin.drop:
            _backup(out / rel, old / rel)
        for rel in begin.files:
            _backup(out / rel, old / rel)
            os.replace(staged / staged_name(rel), out / rel)

    def _undo_now(self, begin: Begin) -> None:
        try:
            undo(self.out, self.tmp, begin)
            self.abort(begin)
        except OSError:
            self.unresolved = True       # the journal still holds the begin: the next build finishes the undo

    def abort(self, begin: Begin) -> None:
        """Record that a begun swap was undone."""
        self._append({"abort": begin.stage})

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _backup(dest: Path, backup: Path) -> None:
    if os.path.lexists(dest):
        backup.parent.mkdir(parents=True, exist_ok=True)
        os.replace(dest, backup)


def undo(out: Path, tmp: Path, begin: Begin) -> None:
    """Put back a packet's earlier files; each step can be repeated after an interruption.

    Only a file this swap provably put in an empty place is removed: the
    staging area may be gone, and then a file in place may be the earlier one.
    """
    old = tmp / folder(begin.stage) / "old"
    for rel in reversed(begin.files):
        b, d = old / rel, out / rel
        if os.path.lexists(b):
            os.replace(b, d)                     # the earlier file back, over the new one if that is in place
        elif rel in begin.new and _holds(d, begin.new[rel]):
            d.unlink()                           # the new file, where there was none
    for rel in begin.drop:
        if os.path.lexists(old / rel):
            os.replace(old / rel, out / rel)
    for d in reversed(begin.mkdirs):
        try:
            (out / d).rmdir()
        except OSError:
            pass             # not empty (or gone): leave it


def _holds(path: Path, sha256: str) -> bool:
    """Whether ``path`` is a file with these bytes (the new file this swap put there)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode) and sha256_file(path) == sha256
    except OSError:
        return False


def _prune(out: Path, folder: Path) -> None:
    while folder != out and folder.is_relative_to(out) and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


@dataclass
class Pending:
    """What an interrupted build left in the journal."""

    rebuilt: dict[str, tuple[list[Record], Entry]] = field(default_factory=dict)   # committed packets
    unfinished: list[Begin] = field(default_factory=list)                           # begun, neither committed nor undone
    ignored: list[str] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)

    @property
    def interrupted(self) -> set[str]:
        return {b.packet for b in self.unfinished}


def _begin(out: Path, line: dict) -> Begin | None:
    if set(line) - {"new"} != {"begin", "packet", "stage", "files", "drop", "mkdirs"}:
        return None
    key, stage = line["packet"], line["stage"]
    lists = [line[k] for k in ("files", "drop", "mkdirs")]
    if not (isinstance(key, str) and isinstance(stage, str) and _STAGE.fullmatch(stage) and line["begin"] == stage
            and all(isinstance(v, list) and all(isinstance(p, str) for p in v) for v in lists)):
        return None
    files, drop, mkdirs = lists
    new = line.get("new", {})       # a begin from before "new" was recorded removes no file
    if not (isinstance(new, dict) and all(p in files and isinstance(h, str) and HEX64.fullmatch(h)
                                          for p, h in new.items())):
        return None
    if any(path_problem(out, p) or p.rsplit("/", 1)[0] != key for p in files + drop):
        return None
    if any(path_problem(out, f"{d}/x") or not (key == d or key.startswith(f"{d}/")) for d in mkdirs):
        return None
    return Begin(key, stage, tuple(files), tuple(drop), tuple(mkdirs), new)


def pending(out: Path) -> Pending:
    """Read the journal (without changing anything).

    Raises ConsentgenError when a link, folder or device stands in its place.
    """
    path = out / STATE_DIR / NAME
    found = Pending()
    if not os.path.lexists(path):
        return found
    if path.is_symlink() or not path.is_file():
        raise not_a_file(path)
    try:
        fd = open_regular(path, os.O_RDONLY)
        with open(fd, "rb") as handle:
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        found.ignored.append(f"{display_path(path)}: unreadable")
        return found
    begins: dict[str, Begin] = {}
    for number, text in enumerate(lines, start=1):
        try:
            line = json.loads(text)
        except ValueError:
            if number < len(lines):            # the last line may be cut short by a kill: that is expected
                found.ignored.append(f"{display_path(path)}:{number}: not a journal line")
            continue
        if not isinstance(line, dict):
            found.ignored.append(f"{display_path(path)}:{number}: not a journal line")
        elif "begin" in line:
            begin = _begin(out, line)
            if begin is None:
                found.ignored.append(f"{display_path(path)}:{number}: not a journal line")
            else:
                begins[begin.stage] = begin
                found.paths.update(begin.files + begin.drop)
        elif set(line) == {"abort"} and isinstance(line["abort"], str) and line["abort"] in begins:
            begins.pop(line["abort"])
        elif (set(line) == {"commit", "records", "state"} and isinstance(line["commit"], str)
              and line["commit"] in begins and isinstance(line["records"], list)):
            begin = begins.pop(line["commit"])
            loaded = manifest.parse_entries(out, line["records"], f"{display_path(path)}:{number}: records")
            entry = parse_entry(out, begin.packet, line["state"])
            if loaded.ignored or entry is None or {r.path for r in loaded.records} != set(begin.files):
                found.ignored.append(f"{display_path(path)}:{number}: not a journal line")
                continue
            found.rebuilt[begin.packet] = (loaded.records, entry)
        else:
            found.ignored.append(f"{display_path(path)}:{number}: not a journal line")
    found.unfinished = list(begins.values())
    return found


def recover(out: Path) -> Pending:
    """Undo the swap a killed build left half done; returns what the journal holds (the build records it).

    Raises ConsentgenError when a swap cannot be undone (the journal keeps it
    for the next try).
    """
    found = pending(out)
    journal = Journal(out)
    for begin in reversed(found.unfinished):
        try:
            undo(out, journal.tmp, begin)
            journal.abort(begin)
        except OSError as exc:
            raise ConsentgenError(f"{display_path(out / begin.packet)}: a stopped build was replacing these files "
                                  f"and they cannot be put back ({exc.strerror}); fix that and build again") from None
    return found

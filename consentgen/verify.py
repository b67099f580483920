"""``consentgen verify``: re-hash what the manifest lists, and what an interrupted build recorded since.

It sits above the journal and the lock (it reads the one under the other's shared hold), so the
manifest module below them stays a plain record format.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from . import journal
from .errors import ConsentgenError, display_path
from .lock import hold
from .manifest import NAME, STATE_DIR, Loaded, read
from .output import sha256_file


@dataclass(frozen=True)
class Verification:
    ok: int
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    ignored: tuple[str, ...] = ()          # manifest entries not trusted, one line each
    rebuilt: tuple[str, ...] = ()          # packets an interrupted build replaced after the manifest was written
    interrupted: tuple[str, ...] = ()      # packets a killed build was replacing at that moment
    untracked: tuple[str, ...] = ()        # files in OUT that no record lists

    @property
    def passed(self) -> bool:
        return not (self.changed or self.missing or self.ignored or self.rebuilt or self.interrupted)


def verify(out: Path) -> Verification:
    """Re-hash every output the manifest lists (and what an interrupted build recorded since)."""
    if not out.is_dir():
        raise ConsentgenError(f"{display_path(out)}: no such folder")
    state_dir = out / STATE_DIR
    with hold(out, state_dir, shared=True, doing="verify") if state_dir.is_dir() else contextlib.nullcontext():
        pending = journal.pending(out)
        if not (out / NAME).is_file() and not pending.rebuilt and not pending.unfinished:
            raise ConsentgenError(f"{display_path(out / NAME)}: no manifest here; run 'consentgen build' first")
        loaded = read(out) if (out / NAME).exists() else Loaded([], [])
        listed: dict[str, set] = {}
        for r in loaded.records:
            listed.setdefault(r.packet, set()).add((r.path, r.sha256))
        rebuilt = {key: recs for key, (recs, _) in pending.rebuilt.items()     # not those the manifest has already
                   if listed.get(key) != {(r.path, r.sha256) for r in recs} and key not in pending.interrupted}
        records = [r for r in loaded.records if r.packet not in rebuilt and r.packet not in pending.interrupted]
        for recs in rebuilt.values():
            records.extend(recs)
        ok, changed, missing = 0, [], []
        for record in sorted(records, key=lambda r: r.path):
            path = out / record.path
            if not path.is_file():
                missing.append(record.path)
            elif sha256_file(path) != record.sha256:
                changed.append(record.path)
            else:
                ok += 1
        known = {r.path for r in loaded.records} | {r.path for r in records} | pending.paths
        untracked = sorted(p.relative_to(out).as_posix() for p in _files(out) if p.relative_to(out).as_posix() not in known)
        return Verification(ok, tuple(changed), tuple(missing), tuple(loaded.ignored + pending.ignored),
                            tuple(sorted(rebuilt)), tuple(sorted(pending.interrupted)), tuple(untracked))


def _files(folder: Path, top: bool = True):
    """Every file in OUT but the manifest and the build's bookkeeping (links to folders are not followed)."""
    for path in sorted(folder.iterdir()):
        if top and path.name in (STATE_DIR, NAME):
            continue
        if path.is_dir() and not path.is_symlink():
            yield from _files(path, top=False)
        elif path.is_file():
            yield path

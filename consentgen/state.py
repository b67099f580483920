"""The build's bookkeeping in ``OUT/.consentgen/``: the folder itself, ``state.json``, and its key.

``state.json`` holds, per packet, a fingerprint of everything that decided
its bytes and the files it made, so the next build can skip what is
unchanged. It is read defensively: anything of an unknown shape counts as
untracked (that packet is rebuilt, and the build says so), never a traceback.

A client's name decides their packet's bytes, so a packet with a name is
fingerprinted with a keyed hash (HMAC-SHA-256) whose key is *not* in OUT: it
lives in the user's config folder (``$XDG_CONFIG_HOME/consentgen/key``, else
``~/.config/consentgen/key``; ``%APPDATA%`` on Windows; or the file
``CONSENTGEN_STATE_KEY_FILE`` names), created 0600 on first use. Holding OUT
therefore never lets anyone confirm a guessed name. Without that key (no
home folder, say) such packets are simply rebuilt every time. Earlier
versions kept the key in ``OUT/.consentgen/key``; it is removed when found.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import ConsentgenError, display_path
from .manifest import HEX64, NAME as MANIFEST, STATE_DIR, Within, path_problem, shown
from .output import PRIVATE, not_a_file, replace_if_changed, write_new

STATE = "state.json"
JOURNAL = "journal"         # see journal.py
TMP = "tmp"                 # the staging area; emptied at the start and the end of each build
OLD_KEY = "key"             # where versions before 0.2 kept the key, inside OUT
FORMAT = 2
KEY_ENV = "CONSENTGEN_STATE_KEY_FILE"


@dataclass(frozen=True)
class Entry:
    """What the state remembers of one packet."""

    fingerprint: str
    files: tuple[str, ...]           # the packet's files, relative to OUT

    def as_json(self) -> dict:
        return {"fingerprint": self.fingerprint, "files": list(self.files)}


def _cannot(path: Path, exc: OSError) -> ConsentgenError:
    return ConsentgenError(f"{display_path(path)}: cannot write here ({exc.strerror or type(exc).__name__})")


def prepare(out: Path) -> Path:
    """Make sure OUT and ``OUT/.consentgen`` are folders we can use; returns the latter.

    Anything that makes the folder unusable is one line (exit 2), before
    anything is written.
    """
    if out.exists() and not out.is_dir():
        raise ConsentgenError(f"{display_path(out)}: is a file, not an output folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot(out, exc) from None
    state_dir = out / STATE_DIR
    if state_dir.is_symlink() or (state_dir.exists() and not state_dir.is_dir()):
        raise ConsentgenError(f"{display_path(state_dir)}: is not a folder; consentgen keeps its build state "
                              "there, so move it away")
    try:
        state_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise _cannot(out, exc) from None
    return state_dir


def check(out: Path) -> None:
    """With the lock held: the bookkeeping files, where present, are files; the staging area is writable."""
    state_dir = out / STATE_DIR
    for path in (state_dir / STATE, state_dir / JOURNAL, out / MANIFEST):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise not_a_file(path, "build again")
    tmp = state_dir / TMP
    try:
        if tmp.is_symlink() or (tmp.exists() and not tmp.is_dir()):
            tmp.unlink()
        tmp.mkdir(exist_ok=True)
    except OSError as exc:
        raise _cannot(state_dir, exc) from None


def clear_tmp(out: Path) -> None:
    tmp = out / STATE_DIR / TMP
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)


def read_state(out: Path) -> tuple[dict[str, Entry], list[str]]:
    """The packets the state knows, and a note for whatever it had to ignore."""
    path = out / STATE_DIR / STATE
    where = display_path(path)
    if not path.exists():
        return {}, []
    try:
        body = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return {}, [f"{where}: unreadable; every packet is rebuilt"]
    if not isinstance(body, dict) or body.get("state") != FORMAT or not isinstance(body.get("packets"), dict):
        return {}, [f"{where}: not a build state this consentgen knows; every packet is rebuilt"]
    entries: dict[str, Entry] = {}
    notes: list[str] = []
    within = Within(out)
    for key, value in body["packets"].items():
        entry = parse_entry(out, key, value, within)
        if entry is None:
            notes.append(f"{where}: packet {shown(key)}: not a state entry this consentgen knows; it is rebuilt")
        else:
            entries[key] = entry
    return entries, notes


def parse_entry(out: Path, key: object, value: object, within: Within | None = None) -> Entry | None:
    """A state entry from parsed JSON, or None when it has an unknown shape."""
    if not isinstance(key, str) or not isinstance(value, dict) or set(value) != {"fingerprint", "files"}:
        return None
    if path_problem(out, f"{key}/x", within) is not None:       # a packet's key is the folder its files are in
        return None
    fingerprint, files = value["fingerprint"], value["files"]
    if not isinstance(fingerprint, str) or not HEX64.fullmatch(fingerprint) or not isinstance(files, list):
        return None
    if len(set(map(str, files))) != len(files):
        return None
    for rel in files:
        if path_problem(out, rel, within) is not None or rel.rsplit("/", 1)[0] != key:
            return None
    return Entry(fingerprint, tuple(sorted(files)))


def state_bytes(entries: dict[str, Entry]) -> bytes:
    body = {"state": FORMAT, "packets": {k: e.as_json() for k, e in sorted(entries.items())}}
    return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode()


def chunks(items: Iterable[tuple[str, Entry]]) -> Iterator[bytes]:
    """``state_bytes`` of entries given in packet order, an entry at a time."""
    yield b'{\n "packets": {'
    first = True
    for key, entry in items:
        body = json.dumps(entry.as_json(), indent=1, sort_keys=True).replace("\n", "\n  ")
        yield f'{"" if first else ","}\n  {json.dumps(key)}: {body}'.encode()
        first = False
    yield f'{"" if first else chr(10) + " "}}},\n "state": {FORMAT}\n}}\n'.encode()


def write_state(out: Path, entries: dict[str, Entry] | Iterable[tuple[str, Entry]]) -> None:
    """Write ``state.json`` unless it holds these entries already (a dict, or (packet, entry) in packet order)."""
    items = sorted(entries.items()) if isinstance(entries, dict) else entries
    replace_if_changed(out / STATE_DIR / STATE, chunks(items), out / STATE_DIR / TMP)


# -- the key, outside OUT ----------------------------------------------------------

def key_file() -> Path | None:
    """Where the state's key lives: never in an output folder."""
    named = os.environ.get(KEY_ENV)
    if named:
        return Path(named).expanduser()
    base = os.environ.get("APPDATA" if os.name == "nt" else "XDG_CONFIG_HOME")
    if not base or not Path(base).is_absolute():
        try:
            base = Path.home() / ("AppData/Roaming" if os.name == "nt" else ".config")
        except RuntimeError:        # no home folder
            return None
    return Path(base) / "consentgen" / "key"


def private_key(out: Path) -> tuple[bytes | None, str]:
    """The key for fingerprints of packets with a client's name, or None and why there is none."""
    path = key_file()
    if path is None:
        return None, "there is no home folder to keep the build state's key in"
    try:
        if path.resolve().is_relative_to(out.resolve()):
            return None, f"{display_path(path)} ({KEY_ENV}) is inside the output folder, where it must not be"
        if not path.exists():
            _create_key(path)
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot use {display_path(path)} ({exc.strerror or type(exc).__name__})"
    if len(data) < 32:
        return None, f"{display_path(path)} is not a key (too short)"
    return data, ""


def _create_key(path: Path) -> None:
    """Create the key file at once, complete, readable by its owner only; another process may race us."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.parent / f".key.{secrets.token_hex(6)}.part"
    write_new(tmp, secrets.token_bytes(32), PRIVATE)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:              # no hard links on this file system
        try:
            write_new(path, tmp.read_bytes(), PRIVATE)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def remove_old_key(out: Path) -> str | None:
    """Delete a key an earlier version kept in OUT (with it, OUT could confirm a guessed name)."""
    old = out / STATE_DIR / OLD_KEY
    if old.is_file() or old.is_symlink():
        try:
            old.unlink()
        except OSError as exc:
            return f"{display_path(old)}: cannot remove the old state key ({exc.strerror}); delete it by hand"
    return None


def fingerprint(payload: dict, client_name: str | None, key: bytes | None) -> str | None:
    """A packet's fingerprint; None when it has a client's name and there is no key (rebuild it)."""
    data = json.dumps(payload, sort_keys=True, default=str).encode()
    if client_name is None:
        return hashlib.sha256(data).hexdigest()
    if key is None:
        return None
    return hmac.new(key, data + b"\0" + client_name.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

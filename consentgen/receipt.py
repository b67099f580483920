"""``OUT/.consentgen/receipt.json``: what the last clean build read, so that a no-op build is seen at once.

A build that ends with nothing failed writes a receipt. It holds:
- the request: consentgen's version and every option that shapes a file;
- the SHA-256 of every file the build read: profile layers, logos,
  templates, and the roster. The roster hash is keyed like the state
  (``state.private_key``), because the roster holds names;
- the names in every folder it searched (a new clinician, a
  ``practice.yaml`` or a template that would now be found);
- the day, when a date came from the clock;
- the packets in the order they were planned;
- the SHA-256 of the manifest and the state it wrote.

The next build reads the receipt before it loads a profile, and so before
pydantic, Jinja2 or reportlab are imported. When all of that is the same,
and every output still has the SHA-256 in its manifest, the build is the
same as the last one and there is nothing to do. A build is a function of
what the receipt records, so the receipt alone is enough to show this.
Anything else, any doubt, or an unreadable receipt sends the build the full
way, and that first removes the receipt.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import __version__, manifest, state
from .errors import ConsentgenError
from .lock import hold
from .manifest import STATE_DIR
from .options import BuildOptions, Progress, Report
from .output import sha256_file, write_atomic
from .resources import data_dir

NAME = "receipt.json"
FORMAT = 1


def today() -> dt.date:
    """The clock's date, as the build takes it (``compose.effective_date``)."""
    return dt.date.today()


def _abs(path: Path | str) -> str:
    return os.path.abspath(path)


def _listing(folder: Path, deep: bool) -> str:
    """The SHA-256 of the names in ``folder`` (and, ``deep``, in every folder under it); "" when it is not one."""
    if not folder.is_dir():
        return ""
    names: list[str] = []
    if deep:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            rel = os.path.relpath(root, folder)
            names.extend(f"{rel}/{n}" for n in sorted(files))
            names.extend(f"{rel}/{n}/" for n in dirs)
    else:
        names = sorted(os.listdir(folder))
    return hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def _keyed(path: Path, key: bytes) -> str:
    return hmac.new(key, path.read_bytes(), hashlib.sha256).hexdigest()


@dataclass
class Survey:
    """What a build is asked and what it searches, taken before it plans anything."""

    request: dict
    folders: dict[str, str]           # folder -> _listing
    roster: tuple[str, str] | None    # (path, keyed digest); None: no roster, or no key to hash it with

    @property
    def usable(self) -> bool:
        """False for a roster that could not be hashed with the key (no receipt then)."""
        return self.request["roster"] is None or self.roster is not None


def survey(practice: Path, out: Path, options: BuildOptions, roster: Path | None) -> Survey:
    """The request and the folders' names as they are now; hashes the roster with the state's key."""
    s = options.settings
    request = {
        "version": __version__, "practice": _abs(practice), "roster": None if roster is None else _abs(roster),
        "effective": None if options.effective is None else options.effective.isoformat(),
        "formats": list(s.formats), "combined": s.combined, "page_size": s.page_size,
        "large_print": s.large_print, "sources": s.sources, "template_dirs": [_abs(d) for d in s.template_dirs],
    }
    folders: dict[str, bool] = {}       # folder -> deep
    if practice.is_dir():
        folders.update({_abs(practice): False, _abs(practice / "clinicians"): False})
    else:                                # a solo profile; a file in a clinicians folder is layered on practice.yaml
        folders[_abs(practice.parent)] = False
        if practice.parent.name == "clinicians":
            folders[_abs(practice.parent.parent)] = False
    for folder in (*s.template_dirs, data_dir("templates")):
        folders[_abs(folder)] = True
    listed = {f: _listing(Path(f), deep) for f, deep in folders.items()}
    digest = None
    if roster is not None:
        key, _ = state.private_key(out)
        try:
            digest = (_abs(roster), _keyed(roster, key)) if key is not None else None
        except OSError:
            pass
    return Survey(request, listed, digest)


def discard(out: Path) -> None:
    """A build that goes the full way first removes the receipt (the next one writes it anew)."""
    try:
        (out / STATE_DIR / NAME).unlink(missing_ok=True)
    except OSError:
        pass       # harmless: the receipt is checked against every input and output before it is believed


def write(out: Path, taken: Survey, files: dict[Path, str], packets: Iterable[str], day: dt.date | None) -> None:
    """Record a clean build: ``files`` are those it read (path -> SHA-256), ``packets`` its keys in order,
    ``day`` the date it took from the clock (if any). Call it when the manifest and state are written."""
    state_dir = out / STATE_DIR
    read = {_abs(p): digest for p, digest in files.items()}
    if taken.roster is not None:
        read[taken.roster[0]] = taken.roster[1]
    body = {
        "receipt": FORMAT, "request": taken.request, "folders": taken.folders, "files": dict(sorted(read.items())),
        "today": day and day.isoformat(),
        "packets": list(packets), "manifest": sha256_file(out / manifest.NAME),
        "state": sha256_file(state_dir / state.STATE),
    }
    write_atomic(state_dir / NAME, (json.dumps(body, indent=1) + "\n").encode(), state_dir / state.TMP)
    state.clear_tmp(out)


def unchanged(practice: Path, out: Path, options: BuildOptions, roster: Path | None = None,
              progress: Progress | None = None) -> Report | None:
    """The report of a build with nothing to do, when the receipt shows it; else None (build the full way).

    Holds OUT's lock while it looks, as a build does (and says so when another build holds it).
    """
    if options.force or options.scheduler:      # a scheduler is reached (or refused) as the full build does
        return None
    started = time.perf_counter()
    state_dir = out / STATE_DIR
    path = state_dir / NAME
    if path.is_symlink() or not path.is_file():
        return None
    with hold(out, state_dir, wait=options.wait):
        try:
            packets = _check(practice, out, options, roster, path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ConsentgenError):
            packets = None           # a receipt or a file it cannot read, of a shape it does not know: the full way
    if packets is None:
        return None
    report = Report(skipped=packets, total=len(packets), by_receipt=True)
    if progress is not None:
        progress.start(len(packets))
        for key in packets:
            progress.step(key, "skipped")
    report.seconds = time.perf_counter() - started
    return report


def _check(practice: Path, out: Path, options: BuildOptions, roster: Path | None, path: Path) -> list[str] | None:
    """The packets, when the receipt holds for this build and OUT; else None."""
    state_dir = out / STATE_DIR
    body = json.loads(path.read_bytes())
    if not isinstance(body, dict) or body.get("receipt") != FORMAT:
        return None
    if any((state_dir / name).exists() or (state_dir / name).is_symlink()
           for name in (state.JOURNAL, state.TMP, state.OLD_KEY)):
        return None                          # an interrupted build, or an old key to remove: the full way
    if body["today"] is not None and body["today"] != today().isoformat():
        return None
    now = survey(practice, out, options, roster)
    if not now.usable or now.request != body["request"] or now.folders != body["folders"]:
        return None
    keyed = dict([now.roster]) if now.roster is not None else {}      # the roster (its path is in the request)
    for name, digest in body["files"].items():
        found = keyed[name] if name in keyed else sha256_file(Path(name))
        if found != digest:
            return None
    if (sha256_file(out / manifest.NAME) != body["manifest"]
            or sha256_file(state_dir / state.STATE) != body["state"]):
        return None
    loaded = manifest.read(out)
    if loaded.ignored or not manifest.on_disk(out, loaded.records):
        return None
    packets = body["packets"]
    if not isinstance(packets, list) or not all(isinstance(k, str) for k in packets):
        return None
    return packets

"""Compiled templates kept between runs, so that a process need not compile them again.

Compiling a packet's 25 templates (Jinja's parse, the sandbox's
instrumentation, Jinja's code generation, Python's compile) takes about 0.4 s
in every process that renders, each build worker included. Jinja can keep a
template's compiled code in a bytecode cache; this module gives it a folder:

- the folder ``CONSENTGEN_CACHE_DIR`` names (set but empty: no cache), else
  ``$XDG_CACHE_HOME/consentgen``, else ``~/.cache/consentgen``;
- inside it, ``templates-<fingerprint>``: one folder per consentgen, Jinja and
  Python that could compile differently. The fingerprint covers consentgen's
  version and the size and time of every one of its modules (the sandbox's
  instrumentation and the limits it compiles in live there), Jinja's version
  and Python's bytecode tag. A new fingerprint clears the folders of old ones.
- Each entry holds the SHA-1 of its template's source (Jinja's check), so an
  edited template is compiled afresh.

Cached code is run as Python, so the folders must be the user's own: real
folders, not links, owned by this user and writable by no one else. If not,
or on a system without POSIX owners, there is no cache. The cache never fails
a render: a folder that cannot be made, read or written means compiling as
before. It holds compiled templates only: no profile value, no client's name.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import stat
import sys
from pathlib import Path

import jinja2

from . import __version__

CACHE_ENV = "CONSENTGEN_CACHE_DIR"
_PREFIX = "templates-"


class _Cache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache, made quiet: an entry that cannot be read or written is compiled instead."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged entry (pickle's and marshal's errors vary) is compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.cache
def bytecode_cache() -> jinja2.BytecodeCache | None:
    """This process's template cache, or None (no safe folder for one)."""
    base = cache_home()
    if base is None or os.name != "posix":
        return None
    folder = base / (_PREFIX + fingerprint())
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(base):
            return None
        fresh = not folder.exists()
        folder.mkdir(mode=0o700, exist_ok=True)
        if not _private(folder):
            return None
        if fresh:
            _clear_others(base, folder.name)
    except OSError:
        return None
    return _Cache(str(folder))


def cache_home() -> Path | None:
    """The cache's folder, before the fingerprint; None when switched off or there is no home folder."""
    named = os.environ.get(CACHE_ENV)
    if named is not None:
        return Path(named).expanduser() if named.strip() else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not Path(base).is_absolute():
        try:
            base = Path.home() / ".cache"
        except RuntimeError:        # no home folder
            return None
    return Path(base) / "consentgen"


def fingerprint() -> str:
    """What decides a template's compiled code, besides its source, as 16 hex digits."""
    digest = hashlib.sha256(f"{__version__}|{jinja2.__version__}|{sys.implementation.cache_tag}".encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        info = path.stat()
        digest.update(f"|{path.relative_to(package).as_posix()}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _private(folder: Path) -> bool:
    info = os.lstat(folder)
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _clear_others(base: Path, keep: str) -> None:
    """Remove the folders of other fingerprints (an upgrade, an edited checkout); best effort."""
    for old in base.glob(_PREFIX + "*"):
        if old.name != keep and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)

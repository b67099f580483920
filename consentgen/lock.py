"""One consentgen at a time in an output folder: an advisory lock on ``OUT/.consentgen/lock``.

A build holds the lock from before it reads anything in OUT until it has
written its manifest, so two builds never interleave. ``verify`` takes it
shared (it waits for no one, and no build starts while it reads), and
``render`` into a build's folder takes it for its few writes. While a build
or render holds it, the lock file holds its pid and what it does ("123 build"),
for the message a second consentgen shows, and is emptied on release; it is
never deleted (deleting a lock file others may have open breaks the lock).
It is created with the mode the umask gives, like the outputs, so a colleague
sharing OUT can open it; one who may only read it locks it all the same.
A link, folder or device in its place is refused, never followed.

POSIX uses ``fcntl.flock``; Windows ``msvcrt.locking`` on one byte; where
neither exists there is no lock.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from pathlib import Path

from .errors import ConsentgenError, display_path
from .output import PUBLIC, not_a_file, open_regular

NAME = "lock"
_BYTE = 1 << 20          # Windows: the byte locked (past the pid, so others can still read it)

try:
    import fcntl
except ImportError:      # pragma: no cover - Windows
    fcntl = None
try:
    import msvcrt
except ImportError:
    msvcrt = None


class Busy(ConsentgenError):
    """Another consentgen holds the output folder."""


def _try(fd: int, shared: bool) -> bool:
    """Take the lock without waiting; False when someone else holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        elif msvcrt is not None:     # pragma: no cover - Windows: no shared locks, so verify takes it whole
            os.lseek(fd, _BYTE, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK):
            return False
        if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            return True          # a file system without locks (some network shares): go on unlocked
        raise


_NAMED = re.compile(r"([0-9]{1,10})(?: (build|render))?")
_DOING = {"build": "being built", "render": "being rendered into"}


def _alive(pid: int) -> bool:
    if os.name == "nt":          # pragma: no cover - os.kill would end it there; the pid is cleared on release
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:              # someone else's process, alive
        return True
    return True


def _busy(folder: Path, path: Path, fd: int, shared: bool, doing: str) -> Busy | None:
    """Why the lock is taken, saying only what is known: a reader (verify), or the writer the file names.

    None when it turns out to be free after all (its holder has just let go): it is ours now.
    """
    if not shared and fcntl is not None and _try(fd, shared=True):
        if _try(fd, shared=False):
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)           # only readers hold it: let go of the share just taken
        what = "is being verified by another consentgen"
    else:
        try:
            with open(open_regular(path, os.O_RDONLY), "rb") as handle:
                named = _NAMED.fullmatch(handle.read(40).decode("ascii", "replace").strip())
        except (OSError, ConsentgenError):
            named = None
        if named and _alive(int(named[1])):      # a killed holder's pid stays behind; an alive one wrote it
            what = f"is {_DOING[named[2] or 'build']} by another consentgen (pid {named[1]})"
        else:                                     # a colleague who may not write the file, say
            what = "is in use by another consentgen"
    hint = {"build": "wait for it (build --wait SECONDS) or use another folder",
            "verify": "verify it when that build has ended",
            "render": "wait for it or render into another folder"}[doing]
    return Busy(f"{display_path(folder)} {what}; {hint}")


@contextlib.contextmanager
def hold(folder: Path, state_dir: Path, *, wait: float = 0.0, shared: bool = False, doing: str = "build"):
    """Hold the lock of output folder ``folder`` (its file is ``state_dir/lock``) for the ``with`` block.

    Waits up to ``wait`` seconds for another holder; then raises Busy, one
    line saying who holds it as far as that is known: a ``verify``, or the
    building or rendering process the file names. A shared holder (verify)
    never creates the lock file: a folder no build has used needs no lock to
    be read.
    """
    path = state_dir / NAME
    writable = not shared
    try:
        if shared:
            fd = open_regular(path, os.O_RDONLY)
        else:
            try:
                fd = open_regular(path, os.O_RDWR | os.O_CREAT, PUBLIC)     # the umask's mode: colleagues lock it too
            except PermissionError:
                if path.is_symlink() or not path.is_file():
                    raise
                fd, writable = open_regular(path, os.O_RDONLY), False    # a colleague's lock file: lock it all the same
    except FileNotFoundError:
        if shared:
            yield
            return
        raise
    except IsADirectoryError:
        raise not_a_file(path) from None
    except OSError as exc:
        raise ConsentgenError(f"{display_path(path)}: cannot open the output folder's lock "
                              f"({exc.strerror or type(exc).__name__})") from None
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while not _try(fd, shared):
            if time.monotonic() >= deadline:
                busy = _busy(folder, path, fd, shared, doing)
                if busy is None:
                    break
                raise busy
            time.sleep(0.1)
        if writable:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, f"{os.getpid()} {doing}\n".encode())
        try:
            yield
        finally:
            if writable:      # the pid names the holder only while it holds the lock
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
    finally:
        os.close(fd)          # closing the descriptor releases the lock

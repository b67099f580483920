"""Writing output files safely: all or nothing, never half a file.

Each file is written to a temporary name (beside it, or in a staging folder on
the same file system) and then renamed into place, which is atomic on POSIX
and Windows; a crash at any moment leaves either the old file or the new one,
never a fragment. New files get the mode the user's umask gives (0644 under
umask 022), so colleagues can read handouts on a shared folder; only the
state's secret key asks for 0600.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from .errors import ConsentgenError, display_path

PUBLIC = 0o666         # narrowed by the umask, as any program's new files are
PRIVATE = 0o600

# Names Windows keeps for devices, with or without an extension ('con.pdf' too).
RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                      *(f"lpt{i}" for i in range(1, 10))})


def slug(text: str, fallback: str = "unnamed") -> str:
    """A safe file-name part: 'Ana Núñez' -> 'ana-nunez'; '../../etc' -> 'etc'.

    A Windows device name gets an underscore ('con' -> 'con_'; no other slug
    has one, so it cannot clash). Text with no Latin letter or digit at all
    gets ``fallback`` and a short hash of the text, so two such names differ
    and each keeps its slug from one build to the next.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    if not cleaned:
        return f"{fallback}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return f"{cleaned}_" if cleaned in RESERVED else cleaned


def staged_name(rel: str) -> str:
    """A file's name in the staging folder: its path under OUT in one name (no folders to make and remove
    per packet: on some disks removing a folder takes milliseconds)."""
    return rel.replace("%", "%25").replace("/", "%2F")


def _write_bytes(fd: int, data: bytes) -> None:
    """Every byte consentgen writes into a file passes here (tests simulate a full disk with it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_new(path: Path, data: bytes, mode: int = PUBLIC, sync: bool = True) -> None:
    """Create ``path`` (it must not exist yet) holding ``data``; a failure removes it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        try:
            _write_bytes(fd, data)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


_NO_LINK = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)    # a FIFO must not block us either


def not_a_file(path: Path, then: str = "try again") -> ConsentgenError:
    """The one line for a link (named as itself, not as its target), folder or device where a file of ours goes."""
    shown = Path(display_path(path.parent)) / path.name
    return ConsentgenError(f"{shown}: is not a file; move it away and {then}")


def open_regular(path: Path, flags: int, mode: int = PUBLIC) -> int:
    """Open one of consentgen's own files without following a link to somewhere else.

    A link, a folder or a device there is refused (ConsentgenError naming the
    path), so whoever can write OUT cannot make consentgen write a file elsewhere.
    """
    if os.path.islink(path):            # also where there is no O_NOFOLLOW (Windows)
        raise not_a_file(path)
    try:
        fd = os.open(path, flags | _NO_LINK | getattr(os, "O_BINARY", 0), mode)
    except OSError:
        if os.path.islink(path) or os.path.isdir(path):    # made a link since, or a folder (EISDIR)
            raise not_a_file(path) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise not_a_file(path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def append_line(path: Path, line: bytes) -> None:
    """Append one line to ``path`` and make it durable before returning; on failure, none of it."""
    fd = open_regular(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        size = os.fstat(fd).st_size
        try:
            _write_bytes(fd, line)
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)       # no torn line for the next one to be glued to
            raise
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, tmp_dir: Path | None = None, mode: int = PUBLIC) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    ``tmp_dir`` (on the same file system) holds the temporary file; by default
    it sits beside ``path`` under a hidden name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp_dir is not None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = (tmp_dir or path.parent) / f".{path.name}.{secrets.token_hex(6)}.part"
    write_new(tmp, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_if_changed(path: Path, chunks: Iterable[bytes], tmp_dir: Path, mode: int = PUBLIC) -> bool:
    """Write ``chunks`` to a temporary file and put it in place of ``path`` unless ``path`` holds the same
    bytes already (then it is left as it was, and False is returned). Never holds the whole text."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f".{path.name}.{secrets.token_hex(6)}.part"
    digest, size = hashlib.sha256(), 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        try:
            for chunk in chunks:
                _write_bytes(fd, chunk)
                digest.update(chunk)
                size += len(chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
        if path.is_file() and path.stat().st_size == size and sha256_file(path) == digest.hexdigest():
            tmp.unlink()
            return False
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_all(outputs: dict[Path, bytes]) -> list[Path]:
    """Write every output or none; returns the paths in order.

    Each file is written in full under a temporary name beside its place, and
    only then are they all renamed into place. On any failure the temporary
    files go, the files already renamed are put back as they were (or removed,
    where there was none), and so are the folders made for them: a refused
    write leaves every file as it was.
    """
    for path in outputs:
        if path.is_dir():
            raise ConsentgenError(f"{display_path(path)}: is a folder; cannot write a file there")
    made: list[Path] = []                           # folders this call created, outermost first
    staged: dict[Path, Path] = {}                   # path -> its new bytes under a temporary name
    placed: list[tuple[Path, Path | None]] = []     # (path, its earlier file set aside, or None: there was none)
    current = next(iter(outputs), None)
    try:
        for current, data in outputs.items():
            _make_folders(current.parent, made)
            staged[current] = current.parent / f".{current.name}.{secrets.token_hex(6)}.part"
            write_new(staged[current], data)
        for current, tmp in staged.items():
            placed.append((current, _set_aside(current)))
            os.replace(tmp, current)
    except BaseException as exc:
        _put_back(staged, placed, made)
        if isinstance(exc, OSError):
            raise ConsentgenError(f"{display_path(current)}: cannot write: {exc.strerror}") from None
        raise
    for _, earlier in placed:
        if earlier is not None:
            with contextlib.suppress(OSError):
                earlier.unlink()
    return list(outputs)


def _make_folders(folder: Path, made: list[Path]) -> None:
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        made.append(path)


def _set_aside(path: Path) -> Path | None:
    """Keep the file at ``path`` under a hidden name until the write is done (a hard link where possible,
    so ``path`` never goes missing); None when there is no file there."""
    if not os.path.lexists(path):
        return None
    backup = path.parent / f".{path.name}.{secrets.token_hex(6)}.old"
    if not path.is_symlink():
        try:
            os.link(path, backup)
            return backup
        except OSError:
            pass                     # no hard links here (some shares): move it instead
    os.replace(path, backup)
    return backup


def _put_back(staged: dict[Path, Path], placed: list[tuple[Path, Path | None]], made: list[Path]) -> None:
    """Undo a write_all that failed, as far as can be done."""
    for path, earlier in reversed(placed):
        with contextlib.suppress(OSError):
            if earlier is None:
                path.unlink(missing_ok=True)
            elif os.path.lexists(path) and os.path.samestat(os.lstat(earlier), os.lstat(path)):
                earlier.unlink()         # never replaced: the link is the file itself (a rename would do nothing)
            else:
                os.replace(earlier, path)
    for tmp in staged.values():
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()

"""Reading a user's text file (a profile, a roster, a template): capped, UTF-8, one-line errors.

Each reader turns an ``Unreadable`` into its own error (ProfileError,
RosterError, TemplateError) at ``Where(file, line)``, so the words a user
sees for a missing file, a folder, a file too large or text that is not
UTF-8 are the same whichever file it was.
"""
from __future__ import annotations

from pathlib import Path


class Unreadable(Exception):
    """Why a file cannot be read as text, and the line of the first bad byte when that is known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line


def read_bytes(path: Path, limit: int, what: str, too_large: str) -> bytes:
    """The file's bytes, read no further than ``limit`` (a pipe or a device has no size to check).

    ``what`` names the file's kind ("a profile file") for a folder given in its place;
    ``too_large`` is the message for a file over the limit.
    """
    try:
        with path.open("rb") as f:
            raw = _read_at_most(f, limit + 1)
    except FileNotFoundError:
        raise Unreadable("no such file") from None
    except IsADirectoryError:
        raise Unreadable(f"is a folder, not {what}") from None
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > limit:
        raise Unreadable(too_large)
    return raw


def _read_at_most(f, most: int) -> bytes:
    """Up to ``most`` bytes, read in blocks: ``f.read(most)`` would ask for a buffer of the whole limit
    (8 MB for a roster) however small the file, and after it is freed the C library serves later
    large buffers from the heap it keeps, so the process grows."""
    blocks: list[bytes] = []
    left = most
    while left > 0:
        block = f.read(min(left, 1 << 16))
        if not block:
            break
        blocks.append(block)
        left -= len(block)
    return b"".join(blocks)


def decode(raw: bytes, save_as: str = "UTF-8", bom: bool = False) -> str:
    """UTF-8 text (a leading BOM dropped when ``bom``), or Unreadable naming the first bad byte's line.

    ``save_as`` is what the user's editor calls the encoding to choose ("'CSV UTF-8'").
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable(f"saved as UTF-16 text; save it as {save_as}", 1)
    try:
        return raw.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        try:
            meant = f" (in Windows text it is {bytes([byte]).decode('cp1252')})" if byte >= 0x80 else ""
        except UnicodeDecodeError:
            meant = ""
        raise Unreadable(f"not UTF-8 text: byte 0x{byte:02X} cannot be read{meant}; save the file as {save_as}",
                         raw.count(b"\n", 0, exc.start) + 1) from None

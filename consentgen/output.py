"""Writing output files safely: all or nothing, never half a file.

Each file is written to a temporary name in its destination folder and then
renamed into place, which is atomic on POSIX and Windows; a crash at any
moment leaves either the old file or the new one, never a fragment.
"""
from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

from .errors import ConsentgenError, display_path


def slug(text: str) -> str:
    """A safe file-name part: 'Ana Núñez' -> 'ana-nunez'; '../../etc' -> 'etc'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return cleaned[:60].strip("-") or "unnamed"


def write_atomic(path: Path, data: bytes, tmp_dir: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    ``tmp_dir`` (on the same file system) holds the temporary file; by default
    it sits beside ``path`` under a hidden name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp_dir is not None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=tmp_dir or path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_all(outputs: dict[Path, bytes], tmp_dir: Path | None = None) -> list[Path]:
    """Write every output, each atomically; returns the paths in order."""
    for path in outputs:
        if path.is_dir():
            raise ConsentgenError(f"{display_path(path)}: is a folder; cannot write a file there")
    for path, data in outputs.items():
        try:
            write_atomic(path, data, tmp_dir)
        except OSError as exc:
            raise ConsentgenError(f"{display_path(path)}: cannot write: {exc.strerror}") from None
    return list(outputs)

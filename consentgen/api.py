"""The library's face: render a profile's documents to bytes and to files.

The pipeline itself is ``compose.py``; this module loads the profile and
writes what it renders, everything in memory first so a failure writes nothing.
"""
from __future__ import annotations

from pathlib import Path

from .backends import FORMATS
from .compose import (DEFAULT_DOCS, Job, build_document, compose, documents_for, effective_date, logo_path,
                      meta_for, render_bytes)
from .errors import ConsentgenError
from .lock import hold
from .manifest import STATE_DIR
from .output import slug, write_all
from .profiles import LoadedProfile, load_profile

__all__ = ["DEFAULT_DOCS", "Job", "build_document", "compose", "documents_for", "effective_date", "load_profile",
           "logo_path", "meta_for", "output_name", "render", "render_bytes", "write_outputs"]


def output_name(loaded: LoadedProfile, name: str, fmt: str) -> str:
    """'ana-nunez-contact.pdf' ('con-contact.pdf' needs no guard against Windows device names)."""
    return f"{slug(loaded.profile.clinician.name).rstrip('_')}-{name}.{fmt}"


def render(profile_path: Path | str, out: Path | str, job: Job = Job()) -> list[Path]:
    """Render a profile's documents into ``out`` (a folder, or one file name).

    Everything is rendered in memory first, so a failure writes nothing.
    """
    loaded = load_profile(profile_path)
    rendered = render_bytes(loaded, job)
    out = Path(out)
    if len(rendered) == 1 and out.suffix.lstrip(".") in FORMATS:
        (_, fmt), data = next(iter(rendered.items()))
        if out.suffix != f".{fmt}":
            raise ConsentgenError(f"{out}: the file name ends in '{out.suffix}' but the format is {fmt}")
        return write_outputs({out: data}, out.parent)
    return write_outputs({out / output_name(loaded, n, f): data for (n, f), data in rendered.items()}, out)


def write_outputs(outputs: dict[Path, bytes], folder: Path) -> list[Path]:
    """Write rendered files into ``folder``, all or none (see ``output.write_all``); in a build's output
    folder, only while no build runs there."""
    state_dir = folder / STATE_DIR
    if not state_dir.is_dir() or state_dir.is_symlink():
        return write_all(outputs)
    with hold(folder, state_dir, doing="render"):
        return write_all(outputs)

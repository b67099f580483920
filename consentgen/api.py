"""The library's face: render a profile's documents to bytes and to files.

The pipeline itself is ``compose.py``; this module loads the profile and
writes what it renders, everything in memory first so a failure writes nothing.
``render_packet`` is the face for platforms that embed consentgen: a pure
function from a profile and a client to the packet's bytes.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from .backends import FORMATS
from .compose import (DEFAULT_DOCS, Job, build_document, compose, documents_for, effective_date,
                      logo_path, meta_for, packet_bytes, render_bytes)
from .errors import ConsentgenError
from .lock import hold
from .manifest import STATE_DIR
from .output import slug, write_all
from .profiles import LoadedProfile, load_profile

__all__ = ["DEFAULT_DOCS", "Job", "build_document", "compose", "documents_for", "effective_date", "load_profile",
           "logo_path", "meta_for", "output_name", "render", "render_bytes", "render_packet", "write_outputs"]


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


def render_packet(profile: Path | str | LoadedProfile, *, effective: dt.date | None = None,
                  formats: Sequence[str] = ("pdf",), combined: bool = False, client_name: str | None = None,
                  client_id: str | None = None, second_signer: str | None = None, page_size: str = "letter",
                  large_print: bool = False, template_dirs: Sequence[Path] = ()) -> dict[str, bytes]:
    """A clinician's packet, or one client's, in memory: file name -> bytes, as ``build`` writes
    them into the clinician's (or client's) folder ('informed-consent.pdf', ..., 'packet.pdf' with
    ``combined``).

    A pure function of its arguments and the files they name: the same inputs give the same bytes,
    nothing is written, and nothing reads the clock. So the date the policies take effect must come
    from ``effective`` or the profile's ``effective_date``. Bad input raises ``ConsentgenError``
    (``ProfileError`` for a profile) with a one-line message.
    """
    loaded = profile if isinstance(profile, LoadedProfile) else load_profile(profile)
    if effective is None and loaded.profile.effective_date is None:
        raise ConsentgenError(f"{loaded.where(('effective_date',))}: effective_date: give the date the policies "
                              "take effect (effective=..., or effective_date in the profile)")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ConsentgenError(f"formats must be some of {', '.join(FORMATS)}, not {list(formats)!r}")
    job = Job(formats=tuple(dict.fromkeys(formats)), effective=effective, client_name=client_name,
              client_id=client_id, second_signer=second_signer, page_size=page_size, large_print=large_print,
              template_dirs=tuple(Path(t) for t in template_dirs))
    return {f"{name}.{fmt}": data for (name, fmt), data in packet_bytes(loaded, job, combined).items()}


def write_outputs(outputs: dict[Path, bytes], folder: Path) -> list[Path]:
    """Write rendered files into ``folder``, all or none (see ``output.write_all``); in a build's output
    folder, only while no build runs there."""
    state_dir = folder / STATE_DIR
    if not state_dir.is_dir() or state_dir.is_symlink():
        return write_all(outputs)
    with hold(folder, state_dir, doing="render"):
        return write_all(outputs)

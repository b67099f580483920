"""The library's face: render a profile's documents to bytes and to files.

Each step is one call into its own module; data flows one way:
profile -> context -> Markdown -> Document -> bytes -> files.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .backends import FORMATS, Meta, get_backend
from .document import Document, parse
from .errors import ConsentgenError
from .models import Profile
from .output import slug, write_all
from .profiles import LoadedProfile, load_profile
from .templating import list_documents, long_date, make_context, render_markdown

DEFAULT_DOCS: tuple[str, ...] = ("our-relationship",)


@dataclass(frozen=True)
class Job:
    """Everything that decides the bytes of one profile's documents."""

    docs: tuple[str, ...] = ()
    formats: tuple[str, ...] = ("pdf",)
    effective: dt.date | None = None
    client_name: str | None = None
    client_id: str | None = None
    second_signer: str | None = None      # from a roster row: guardian, partner or none
    template_dirs: tuple[Path, ...] = ()
    page_size: str = "letter"


def effective_date(loaded: LoadedProfile, job: Job) -> dt.date:
    return job.effective or loaded.profile.effective_date or dt.date.today()


def documents_for(loaded: LoadedProfile, job: Job) -> tuple[str, ...]:
    """The documents a job names; 'all' means every document there is."""
    if "all" in job.docs:
        return tuple(t.name for t in list_documents(job.template_dirs, loaded.profile.language))
    return job.docs or loaded.profile.packet or DEFAULT_DOCS


def build_document(loaded: LoadedProfile, name: str, job: Job) -> Document:
    """Render one document of a profile to the document model."""
    profile = loaded.profile
    client = None
    if job.client_name or job.client_id or job.second_signer:
        client = {"name": job.client_name, "id": job.client_id, "second_signer": job.second_signer}
    context = make_context(profile, effective=effective_date(loaded, job), client=client, document=name)
    markdown = render_markdown(name, context, job.template_dirs, profile.language)
    return parse(markdown, name, profile.language)


def meta_for(loaded: LoadedProfile, doc: Document, job: Job) -> Meta:
    profile: Profile = loaded.profile
    clinician = profile.clinician
    author = f"{clinician.name}, {clinician.credentials}" if clinician.credentials else clinician.name
    return Meta(
        title=doc.title,
        author=author,
        practice=profile.practice.name,
        version=f"Effective {long_date(effective_date(loaded, job))}",
        language={"en": "en-US"}.get(profile.language, profile.language),
        accent=profile.practice.branding.accent_color,
        logo=logo_path(loaded),
        page_size=job.page_size,
    )


def logo_path(loaded: LoadedProfile) -> Path | None:
    """The logo, relative to the profile layer that names it."""
    logo = loaded.profile.practice.branding.logo
    if logo is None:
        return None
    where = loaded.positions.get(("practice", "branding", "logo"))
    base = Path(where.file).parent if where else loaded.source.parent
    path = (base / logo).resolve()
    if not path.is_file():
        line = f":{where.line}" if where and where.line else ""
        file = where.file if where else str(loaded.source)
        raise ConsentgenError(f"{file}{line}: practice.branding.logo: no such image file '{logo}'")
    return path


def render_bytes(loaded: LoadedProfile, job: Job) -> dict[tuple[str, str], bytes]:
    """Every (document, format) of a job, rendered in memory."""
    out: dict[tuple[str, str], bytes] = {}
    for name in documents_for(loaded, job):
        doc = build_document(loaded, name, job)
        meta = meta_for(loaded, doc, job)
        for fmt in job.formats:
            out[(name, fmt)] = get_backend(fmt)(doc, meta)
    return out


def output_name(loaded: LoadedProfile, name: str, fmt: str) -> str:
    return f"{slug(loaded.profile.clinician.name)}-{name}.{fmt}"


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
        return write_all({out: data})
    return write_all({out / output_name(loaded, n, f): data for (n, f), data in rendered.items()})

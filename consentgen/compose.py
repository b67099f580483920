"""One render pipeline: a profile's documents, alone or as one packet, to bytes.

profile -> context -> Markdown -> Document (IR) -> resolved cross-references -> bytes.

A *packet* (``render`` without ``--doc``, every ``build``) is read as one
document: it opens with the key points, ends with the one signature page,
and prints each shared block once (see ``context.HOMES``). Its
cross-references name a document of the packet and, in a PDF, the page: the
PDF backend reports where each heading landed, so a document is laid out
after the documents it points to, and again only if a page it cites moved.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .backends import Meta, check_fonts, get_backend
from .context import KEY_POINTS, SIGNATURES, PacketView, make_context
from .document import Document, Heading, marked, parse, refs_in, resolve_refs
from .errors import ConsentgenError, ProfileError
from .models import Profile
from .profiles import LoadedProfile
from .templating import document_names, list_documents, long_date, render_markdown

DEFAULT_DOCS: tuple[str, ...] = ("our-relationship",)
SOURCES = "sources"       # the practice's appendix of sources (--sources)
LAYOUT_ROUNDS = 3        # a page cited by two documents that cite each other settles in two


@dataclass(frozen=True)
class Job:
    """Everything that decides the bytes of one profile's documents."""

    docs: tuple[str, ...] = ()            # named documents, each on its own; empty: the profile's packet
    formats: tuple[str, ...] = ("pdf",)
    effective: dt.date | None = None
    client_name: str | None = None
    client_id: str | None = None
    second_signer: str | None = None      # from a roster row: guardian, partner or none
    template_dirs: tuple[Path, ...] = ()
    page_size: str = "letter"
    large_print: bool = False             # 16-point body text, in every format
    sources: bool = False                 # add the practice's sources appendix (never part of the packet)
    template_seconds: float | None = None  # each document's time to render its templates; None: limits.DEFAULT_SECONDS

    @property
    def packet(self) -> bool:
        """A job that names no documents renders the profile's packet, as one document."""
        return not self.docs


def effective_date(loaded: LoadedProfile, job: Job) -> dt.date:
    return job.effective or loaded.profile.effective_date or dt.date.today()


def documents_for(loaded: LoadedProfile, job: Job) -> tuple[str, ...]:
    """The documents a job renders, in order: the named ones ('all': every one), or the packet.

    A packet opens with the key points and ends with the signature page, wherever
    (or whether) the profile's ``packet`` list names them.
    """
    if "all" in job.docs:
        return tuple(t.name for t in list_documents(job.template_dirs, loaded.profile.language))
    if job.docs:
        return job.docs
    middle = [d for d in (loaded.profile.packet or DEFAULT_DOCS) if d not in (KEY_POINTS, SIGNATURES)]
    _known_documents(loaded, job)
    return (KEY_POINTS, *dict.fromkeys(middle), SIGNATURES)


def _known_documents(loaded: LoadedProfile, job: Job) -> None:
    """A packet that names a document no template folder has is the profile's error, at its line."""
    known = document_names(job.template_dirs, loaded.profile.language)
    for i, name in enumerate(loaded.profile.packet or ()):
        if name not in known and name not in (KEY_POINTS, SIGNATURES):
            raise ProfileError(f"{loaded.where(('packet', i))}: packet[{i}]: no such document "
                               "(see 'consentgen templates' for their names)")


def build_document(loaded: LoadedProfile, name: str, job: Job, packet: PacketView | None = None) -> Document:
    """Render one document of a profile to the document model (on its own unless ``packet`` is given)."""
    profile = loaded.profile
    client = None
    if job.client_name or job.client_id or job.second_signer:
        client = {"name": marked(job.client_name, "name"), "id": marked(job.client_id, "id"),
                  "second_signer": job.second_signer}
    context = make_context(profile, effective=effective_date(loaded, job), client=client, document=name,
                           packet=packet)
    markdown = render_markdown(name, context, job.template_dirs, profile.language, job.template_seconds)
    return parse(markdown, name, profile.language)


def compose(loaded: LoadedProfile, job: Job) -> dict[str, Document]:
    """Every document of a job, by name in order, with cross-references not yet resolved.

    In a packet the key points and the signature page are rendered last, when
    the other documents' titles are known.
    """
    names = documents_for(loaded, job)
    if not job.packet:
        docs = {name: build_document(loaded, name, job) for name in names}
        if job.sources and SOURCES not in docs:
            docs[SOURCES] = build_document(loaded, SOURCES, job)
        return docs
    docs: dict[str, Document] = {}
    titles: dict[str, str] = {}
    for name in sorted(names, key=lambda n: n in (KEY_POINTS, SIGNATURES)):
        docs[name] = build_document(loaded, name, job, PacketView(name, names, titles))
        titles[name] = docs[name].title
    docs = {name: docs[name] for name in names}
    if job.sources:     # for the practice: it lists the packet, but is not a part of it
        docs[SOURCES] = build_document(loaded, SOURCES, job, PacketView(SOURCES, names, titles))
    return docs


# -- cross-references ---------------------------------------------------------

def _heading_texts(doc: Document) -> dict[str, str]:
    found: dict[str, str] = {}
    for b in doc.blocks:
        if isinstance(b, Heading):
            found.setdefault(b.anchor, b.text)
    return found


def section_words(docs: dict[str, Document]) -> Callable[[str, str | None], str]:
    """Cross-references by title and section, for formats without fixed pages (DOCX, checks)."""
    headings = {name: _heading_texts(doc) for name, doc in docs.items()}

    def words(name: str, anchor: str | None) -> str:
        doc = _target(docs, name)
        section = headings[name].get(anchor or "")
        return f"{doc.title}, “{section}”" if section and section != doc.title else doc.title

    return words


def page_words(docs: dict[str, Document], pages: dict[str, dict[str, int]]) -> Callable[[str, str | None], str]:
    """Cross-references by title and page, as printed in each page's footer."""

    def words(name: str, anchor: str | None) -> str:
        doc = _target(docs, name)
        page = pages.get(name, {}).get(anchor or "", 1)
        return f"{doc.title}, page {page}"

    return words


def _target(docs: dict[str, Document], name: str) -> Document:
    if name not in docs:     # only a user template can get here: the built-in ones ask the packet first
        raise ConsentgenError(f"a cross-reference names '{name}', which is not in this packet")
    return docs[name]


def resolved(docs: dict[str, Document]) -> dict[str, Document]:
    """The documents with cross-references in words (title and section), for checks and DOCX."""
    words = section_words(docs)
    return {name: resolve_refs(doc, words) for name, doc in docs.items()}


def _layout_order(docs: dict[str, Document]) -> list[str]:
    """Documents before the ones that cite them; a cycle keeps packet order."""
    cites = {name: {target for target, _ in refs_in(doc)} - {name} for name, doc in docs.items()}
    order: list[str] = []
    todo = list(docs)
    while todo:
        ready = next((n for n in todo if cites[n] <= set(order)), todo[0])
        order.append(ready)
        todo.remove(ready)
    return order


def pdf_parts(docs: dict[str, Document], meta: Callable[[Document], Meta],
              slots: dict[str, list] | None = None) -> dict[str, bytes]:
    """Each document's PDF, cross-references carrying the page they point to (``slots``: see ``laid_out``)."""
    return {name: data for name, (data, _) in laid_out(docs, meta, slots).items()}


def laid_out(docs: dict[str, Document], meta: Callable[[Document], Meta],
             slots: dict[str, list] | None = None) -> dict[str, tuple[bytes, Document]]:
    """Each document's PDF, and the document as drawn (its cross-references in words and pages).

    ``slots`` (a dict) receives, for each document that shows a client's value, where it was drawn
    (``backends.pdf.render_with_pages``): what a roster build stamps (``stamp.py``)."""
    from .backends.pdf import render_with_pages

    pages: dict[str, dict[str, int]] = {}
    drawn: dict[str, Document] = {}
    out: dict[str, bytes] = {}
    order = _layout_order(docs)
    for _ in range(LAYOUT_ROUNDS):
        moved = False
        words = page_words(docs, pages)
        for name in order:
            doc = resolve_refs(docs[name], words)
            if drawn.get(name) == doc:
                continue
            drawn_slots: list = []
            out[name], found = render_with_pages(doc, meta(doc), slots=drawn_slots)
            if slots is not None and drawn_slots:
                slots[name] = drawn_slots
            drawn[name] = doc
            moved |= pages.get(name) != found
            pages[name] = found
            words = page_words(docs, pages)
        if not moved:
            break
    return {name: (out[name], drawn[name]) for name in docs}


# -- metadata and bytes ---------------------------------------------------------

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
        logo_alt=profile.practice.branding.logo_alt or "",
        page_size=job.page_size,
        large_print=job.large_print,
    )


def logo_path(loaded: LoadedProfile) -> Path | None:
    """The logo, relative to the profile layer that names it."""
    logo = loaded.profile.practice.branding.logo
    if logo is None:
        return None
    where = loaded.where(("practice", "branding", "logo"))
    try:
        path = (Path(where.file).parent / logo).resolve()
        found = path.is_file()
    except OSError as exc:               # a folder on the way that may not be read, a name too long
        raise ConsentgenError(f"{where}: practice.branding.logo: the image cannot be read ({exc.strerror})") from None
    if not found:
        raise ConsentgenError(f"{where}: practice.branding.logo: no such image file "
                              "(a relative path starts from this file's folder)")
    problem = _image_problem(path)
    if problem:
        raise ConsentgenError(f"{where}: practice.branding.logo: the image {problem}")
    return path


LOGO_FORMATS = ("PNG", "JPEG")     # what both the PDF and the DOCX backends draw
LOGO_MAX_PIXELS = 25_000_000       # a logo is a few hundred pixels wide; more is a mistake or a bomb


def _image_problem(path: Path) -> str | None:
    """Why the file at ``path`` cannot be the logo, or None."""
    stat = path.stat()
    return _decoded_problem(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _decoded_problem(path: Path, mtime_ns: int, size: int) -> str | None:
    """Decode the image once per version of the file: a truncated one fails here, not while drawing."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            kind, (w, h) = image.format, image.size
            if kind not in LOGO_FORMATS:
                return f"is a {kind} image; use a PNG or JPEG"
            if w * h > LOGO_MAX_PIXELS:
                return f"is {w} x {h} pixels; a logo of at most {LOGO_MAX_PIXELS // 1_000_000} million pixels will do"
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, ValueError):
        return "is not a PNG or JPEG image"
    except OSError:
        return "is damaged or cut short; export it again as PNG or JPEG"
    return None


def render_documents(loaded: LoadedProfile, job: Job, docs: dict[str, Document], formats: tuple[str, ...],
                     slots: dict[str, list] | None = None) -> dict[tuple[str, str], bytes]:
    """Every (document, format) of composed documents, in memory (``slots``: see ``laid_out``)."""
    out: dict[tuple[str, str], bytes] = {}
    meta = lambda doc: meta_for(loaded, doc, job)   # noqa: E731 - one line, used twice
    if "pdf" in formats:
        check_fonts(loaded, job, docs)      # text no font can draw: the error names its field
        for name, data in pdf_parts(docs, meta, slots).items():
            out[(name, "pdf")] = data
    in_words = resolved(docs)
    for fmt in formats:
        if fmt != "pdf":
            for name, doc in in_words.items():
                out[(name, fmt)] = get_backend(fmt)(doc, meta(doc))
    return {(name, fmt): out[(name, fmt)] for name in docs for fmt in formats}


def render_bytes(loaded: LoadedProfile, job: Job) -> dict[tuple[str, str], bytes]:
    """Every (document, format) of a job, rendered in memory."""
    return render_documents(loaded, job, compose(loaded, job), job.formats)


COMBINED = "packet"       # the document name of a combined packet (packet.pdf, packet.html)


def packet_bytes(loaded: LoadedProfile, job: Job, combined: bool = False, slots: dict[str, list] | None = None,
                 docs: dict[str, Document] | None = None) -> dict[tuple[str, str], bytes]:
    """Every (document, format) of a job, and with ``combined`` the whole packet as one PDF (and one
    HTML page when HTML is asked for), under the document name ``COMBINED``: the one loop from a
    profile to bytes that ``render``, ``build`` and the library's ``render_packet`` share.

    ``docs``: the job's documents when composed already; ``slots``: see ``laid_out``."""
    docs = compose(loaded, job) if docs is None else docs
    formats = job.formats if not combined or "pdf" in job.formats else (*job.formats, "pdf")
    rendered = render_documents(loaded, job, docs, formats, slots)
    out = {key: data for key, data in rendered.items() if key[1] in job.formats}
    if combined:
        parts = {name: doc for name, doc in docs.items() if name != SOURCES}
        out[(COMBINED, "pdf")] = combined_pdf(loaded, job, parts, {name: rendered[(name, "pdf")] for name in parts})
        if "html" in job.formats:       # the packet as one page too, its cross-references links
            out[(COMBINED, "html")] = packet_html(loaded, job, parts)
    return out


def combined_pdf(loaded: LoadedProfile, job: Job, docs: dict[str, Document], pdfs: dict[str, bytes]) -> bytes:
    """The packet's documents (``docs``, drawn as ``pdfs``) as one PDF."""
    from .combine import combine

    clinician = loaded.profile.clinician
    language = meta_for(loaded, next(iter(docs.values())), job).language
    return combine([(name, doc.title, pdfs[name]) for name, doc in docs.items()], title=_packet_title(loaded),
                   author=clinician.name, language=language)


def _packet_title(loaded: LoadedProfile) -> str:
    return f"Client packet: {loaded.profile.clinician.name}"


def packet_html(loaded: LoadedProfile, job: Job, docs: dict[str, Document]) -> bytes:
    """A packet's documents as one HTML page, each cross-reference a link within it (``docs``: unresolved)."""
    from dataclasses import replace

    from .backends.html import render_packet

    meta = replace(meta_for(loaded, next(iter(docs.values())), job), title=_packet_title(loaded))
    return render_packet(list(docs.values()), meta, section_words(docs))

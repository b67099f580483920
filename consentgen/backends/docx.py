"""DOCX backend: the document model as an editable Word file.

Every render opens a cached, already styled base document (docx_styles.py),
writes the blocks straight into its XML with one small renderer per block
type, and saves reproducible bytes (docx_package.py). python-docx supplies the
package, relationships, images and core properties; paragraphs are built
with lxml because python-docx has no API for hyperlinks, fields, content
controls or list restarts, and its ``add_paragraph`` slows as a document
grows (python-docx #408).
"""
from __future__ import annotations

import functools
import io
import re
from pathlib import Path

import docx
from docx.shared import Twips

from ..document import Callout, Document, Field, Heading, List, PageBreak, Paragraph, Table
from ..errors import BackendError, display_path
from . import Meta
from . import docx_styles
from .docx_context import Context, control, inline
from .docx_look import look_for
from .docx_package import embed_fonts, package_bytes
from .docx_numbering import (BULLET_NUM, BULLET_STYLES, CONTINUE_STYLES, LEVELS, NUMBER_STYLES, list_indent,
                              style_level)
from .docx_styles import BOLD_STYLES, FONT_NAME, LIST_STEP, base_bytes, embeddable, font_bytes
from .docx_tables import callout, table
from .docx_xml import TABLE_GAP, W, Flow, el, field_code, keep_with_next_block, ppr_child, run, set_spacing

PAGE_SIZES = {"letter": (12240, 15840), "a4": (11906, 16838)}   # twips
MARGIN = 1440
PAGE_WORDS = {"en": ("Page", "of"), "es": ("Página", "de")}
LOGO_HEIGHT = 432         # twips (0.3 inch) in normal print
LOGO_GAP = 144            # twips between the logo and the practice's name
KEEP_BEFORE_FIELDS = 3    # paragraphs kept on the page of the form fields they lead into
_ACCENT = re.compile(r"^#[0-9A-Fa-f]{6}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _heading(ctx: Context, flow: Flow, block: Heading, depth: int) -> None:
    if block.level == 1 and not ctx.title_done:
        style, ctx.title_done = "Title", True
    else:
        style = f"Heading{block.level}"
    inline(ctx, flow.p(style), block.runs)
    ctx.heading = block.text.strip()


def _paragraph(ctx: Context, flow: Flow, block: Paragraph, depth: int) -> None:
    # Inside a list item, later paragraphs line up with the item's text.
    p = flow.p(CONTINUE_STYLES[style_level(depth - 1)] if depth else None)
    if depth > len(CONTINUE_STYLES):        # deeper than the styles go: the level's own indent
        ppr_child(p, "ind").set(W + "left", str(list_indent(min(depth, LEVELS) - 1, ctx.look.tw(LIST_STEP))))
    inline(ctx, p, block.runs)


def _list(ctx: Context, flow: Flow, block: List, depth: int) -> None:
    level = min(depth, LEVELS - 1)          # a nested list is the next level of a Word list
    style = (NUMBER_STYLES if block.ordered else BULLET_STYLES)[style_level(level)]
    # Bullets share one list; each numbered list, nested ones too, gets its own
    # w:num so it starts afresh, and a nested one restarts with each item.
    num_id = ctx.restart(level, block.start) if block.ordered else str(BULLET_NUM)
    for item in block.items:
        p = flow.p(style, num_id=num_id, level=level)
        rest = item.blocks
        if rest and isinstance(rest[0], Paragraph):
            inline(ctx, p, rest[0].runs)
            rest = rest[1:]
        _blocks(ctx, flow, rest, depth + 1)
    if depth == 0 and flow.last == "p":
        set_spacing(flow.parent[-1], after=ctx.look.tw(160))     # the list ends like a paragraph


def _field(ctx: Context, flow: Flow, block: Field, depth: int) -> None:
    """A labelled line to fill in, held in a content control tagged with the field name."""
    p = flow.p("FormField")
    if block.kind != "checkbox":
        run(p, block.label + ("" if block.label.endswith((":", "?", ".")) else ":") + " ")
    control(ctx, p, block)
    if block.kind == "checkbox":
        run(p, " " + block.label)


def _page_break(ctx: Context, flow: Flow, block: PageBreak, depth: int) -> None:
    flow.page_break = True


_RENDERERS = {Heading: _heading, Paragraph: _paragraph, List: _list, Table: table,
              Callout: callout, Field: _field, PageBreak: _page_break}


def _holds_fields(block) -> bool:
    return isinstance(block, Field) or (
        isinstance(block, Table) and any(isinstance(c, Field) for row in block.rows for c in row))


def _leads_into_fields(blocks) -> set[int]:
    """The paragraphs that introduce a run of form fields: up to KEEP_BEFORE_FIELDS right
    before it, back to the heading (which keeps with its next by style), so heading,
    sentence and fields share a page."""
    keep: set[int] = set()
    for i, block in enumerate(blocks):
        if _holds_fields(block) and not (i and _holds_fields(blocks[i - 1])):
            j = i - 1
            while j >= 0 and i - j <= KEEP_BEFORE_FIELDS and isinstance(blocks[j], Paragraph):
                keep.add(j)
                j -= 1
    return keep


def _blocks(ctx: Context, flow: Flow, blocks, depth: int) -> None:
    lead_in = _leads_into_fields(blocks)
    for i, block in enumerate(blocks):
        renderer = _RENDERERS.get(type(block))
        if renderer is None:
            raise BackendError(f"the DOCX backend cannot render a {type(block).__name__} block")
        renderer(ctx, flow, block, depth)
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if i in lead_in or (_holds_fields(block) and _holds_fields(following)):
            keep_with_next_block(flow.parent[-1])    # a signature block stays on one page


def _bar(root, style: str, width: int, border: str | None, tabs: tuple[int, ...] = ()):
    """The only paragraph of a header or footer: a style, left tabs at ``tabs``, a right
    tab at the margin, a rule."""
    root[:] = []
    p = el(root, "p")
    ppr = el(p, "pPr")
    el(ppr, "pStyle", val=style)
    if border:
        el(el(ppr, "pBdr"), border, val="single", sz="4", space="6", color="D9D9D9")
    stops = el(ppr, "tabs")
    for pos in tabs:
        el(stops, "tab", val="left", pos=str(pos))
    el(stops, "tab", val="right", pos=str(width))
    return p


def _logo(ctx: Context, part, meta: Meta):
    """The logo as an inline picture whose alternative text (docPr descr) is ``meta.logo_text``."""
    try:
        picture = part.new_pic_inline(io.BytesIO(Path(meta.logo).read_bytes()), height=Twips(ctx.look.tw(LOGO_HEIGHT)))
    except Exception as exc:             # unreadable or not an image python-docx knows
        raise BackendError(f"cannot use logo {display_path(meta.logo)} ({type(exc).__name__})") from None
    # Alternative text is the description, which screen readers read; a title as
    # well would only repeat it (Word's guidance: a title only for a long description).
    picture.docPr.set("descr", meta.logo_text)
    for side in ("distT", "distB", "distL", "distR"):
        picture.set(side, "0")           # else LibreOffice adds room around it, past the tab stop
    return picture


def _header_footer(ctx: Context, section, meta: Meta, title: str) -> None:
    part = section.header.part
    picture = _logo(ctx, part, meta) if meta.logo is not None else None
    # The practice's name stands at a tab stop just past the logo, not after typed spaces.
    tabs = (min(int(picture.extent.cx) // 635 + ctx.look.tw(LOGO_GAP), ctx.width // 2),) if picture is not None else ()
    p = _bar(part.element, "Header", ctx.width, "bottom", tabs)
    if picture is not None:
        el(el(p, "r"), "drawing").append(picture)
        run(p, "\t")
    run(p, meta.practice, bold=True, color=ctx.accent)
    run(p, "\t" + title)

    p = _bar(section.footer.part.element, "Footer", ctx.width, None)
    page, of = PAGE_WORDS.get(ctx.language.split("-")[0].lower(), PAGE_WORDS["en"])
    run(p, f"{meta.version}\t{page} ")
    field_code(p, "PAGE")
    run(p, f" {of} ")
    field_code(p, "NUMPAGES")


def _faces_used(document) -> set[tuple[bool, bool]]:
    """The (bold, italic) faces of the text font that some text of the document is set in."""
    faces: set[tuple[bool, bool]] = set()
    roots = [document.element.body]
    for section in document.sections:
        roots += [section.header.part.element, section.footer.part.element]
    for root in roots:
        for p in root.iter(W + "p"):
            style = p.find(f"{W}pPr/{W}pStyle")
            bold_style = style is not None and style.get(W + "val") in BOLD_STYLES
            for r in p.iter(W + "r"):
                if r.find(W + "t") is None or r.find(f"{W}rPr/{W}rFonts") is not None:
                    continue                 # no text, or another font (the checkbox glyph)
                faces.add((bold_style or r.find(f"{W}rPr/{W}b") is not None,
                           r.find(f"{W}rPr/{W}i") is not None))
    return faces


@functools.lru_cache(maxsize=8)
def _embeddable(path) -> bool:
    return embeddable(font_bytes(path))


def _embed_fonts(document) -> None:
    """Embed the faces the text uses, of those whose licence bits allow it (``embeddable``:
    Vera's do not, so today its name travels without it)."""
    faces = {face: font_bytes(path) for face, path in docx_styles.FONT_FACES.items()
             if _embeddable(path)}
    if faces:
        used = _faces_used(document)
        embed_fonts(document, FONT_NAME, {face: data for face, data in faces.items() if face in used})


def _check(meta: Meta) -> None:
    if not _ACCENT.match(meta.accent or ""):
        raise BackendError(f"accent colour must look like #2F5D62, not {meta.accent!r}")
    if meta.page_size not in PAGE_SIZES:
        raise BackendError(f"page size must be one of {', '.join(PAGE_SIZES)}, not {meta.page_size!r}")
    if not _LANGUAGE.match(meta.language or ""):
        raise BackendError(f"language must be a tag such as en-US, not {meta.language!r}")


def render(doc: Document, meta: Meta) -> bytes:
    """The document as .docx bytes; the same inputs always give the same bytes."""
    _check(meta)
    accent = meta.accent[1:].upper()
    document = docx.Document(io.BytesIO(base_bytes(accent, meta.language, meta.large_print)))
    page_w, page_h = PAGE_SIZES[meta.page_size]
    section = document.sections[0]
    section.page_width, section.page_height = Twips(page_w), Twips(page_h)
    title = meta.title or doc.title
    ctx = Context(document.part, document.part.numbering_part.element, accent,
                  page_w - 2 * MARGIN, meta.language, _blocks, heading=title, look=look_for(meta.large_print))
    _header_footer(ctx, section, meta, title)

    body = document.element.body
    sect_pr = body.sectPr
    body.remove(sect_pr)                     # append blocks, then put it back last
    flow = Flow(body, ctx.look.tw(TABLE_GAP))
    _blocks(ctx, flow, doc.blocks, 0)
    flow.close()
    body.append(sect_pr)

    _embed_fonts(document)

    props = document.core_properties
    props.title = title[:255]
    props.subject = meta.subject[:255]
    props.author = props.last_modified_by = meta.author[:255]
    return package_bytes(document)

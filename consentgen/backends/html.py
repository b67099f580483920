"""HTML backend: a handout to read on any screen, in one self-contained file.

One file per document (``render``) and one per packet (``render_packet``):
inline CSS (``html_style.py``), no script, nothing fetched (a logo is an inline
``data:`` image). Built for WCAG 2.1 AA: the ``lang`` of the profile, a skip
link to ``<main>``, headings that never skip a level, real lists and tables
(header cells with a scope; a wide table becomes one block per row on a
phone), a visible focus ring, and text colours of 4.5:1 or more. Every text
is escaped: values from profiles are data, never markup.

It is a handout to read, not a signing page: form fields become a plain note
that they are filled in on the printed copy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from typing import Callable, Sequence

from ..document import (REF, Callout, Document, Field, Heading, List, PageBreak, Paragraph, Runs, Table, anchor_of,
                        iter_blocks, plain, ref_target)
from ..errors import BackendError
from . import Meta
from .html_page import check, page, text as _text, words_for

LINK_SCHEMES = ("https:", "http:", "mailto:", "tel:")
LONG_WORD = 18               # characters: in a table cell, a longer word (an address) may break after @ . /
STACK_COLUMNS = 3            # a table this wide becomes one block per row on a phone

Words = Callable[[str, "str | None"], str]


# -- ids and cross-references ----------------------------------------------------

def _headings(blocks) -> list[Heading]:
    """Every heading in reading order, those inside callouts and list items too."""
    return [b for b in iter_blocks(blocks) if isinstance(b, Heading)]


@dataclass
class _Ids:
    """Unique element ids, decided before writing so a reference can point forward."""

    used: set[str] = field(default_factory=lambda: {"main", "contents"})
    targets: dict[tuple[str, str | None], str] = field(default_factory=dict)   # (document, anchor) -> id
    headings: dict[str, list[str]] = field(default_factory=dict)              # document -> its headings' ids

    def new(self, wanted: str) -> str:
        wanted = wanted or "section"
        found, n = wanted, 1
        while found in self.used:
            n += 1
            found = f"{wanted}-{n}"
        self.used.add(found)
        return found

    def plan(self, doc: Document, prefix: str) -> None:
        """Ids for ``doc``'s headings; its first level-1 heading is the document's own target."""
        ids: list[str] = []
        titled = False
        for h in _headings(doc.blocks):
            if h.level == 1 and not titled:
                titled = True
                ids.append(self.new(prefix or h.anchor))
                self.targets[(doc.name, None)] = ids[-1]
            else:
                ids.append(self.new(f"{prefix}-{h.anchor}" if prefix else h.anchor))
            self.targets.setdefault((doc.name, h.anchor), ids[-1])
        self.headings[doc.name] = ids


@dataclass
class _Ctx:
    """What the block writers share while writing one document."""

    out: list[str]
    words: dict[str, str]
    heading_ids: list[str]
    ids: _Ids
    ref_words: Words | None = None       # a packet's cross-references: their words; None in a single document
    shift: int = 0                       # heading levels below the page's own h1 (1 in a packet)
    level: int = 0                       # the level of the last heading written
    last_heading: str | None = None      # its id: what a table is labelled by
    next_heading: int = 0

    def heading_id(self) -> str:
        self.next_heading += 1
        return self.heading_ids[self.next_heading - 1]

    def href(self, link: str | None) -> str | None:
        """Where a link goes, or None to print its words alone."""
        if not link:
            return None
        if link.startswith(REF):             # a cross-reference: a link only within a packet's page
            name, _, anchor = link[len(REF):].partition("#")
            found = self.ids.targets.get((name, anchor or None)) or self.ids.targets.get((name, None))
            return f"#{found}" if found and self.ref_words is not None else None
        if link.startswith("#"):
            return link if link[1:] in self.ids.used else None
        return link if link.lower().startswith(LINK_SCHEMES) else None


# -- inline text ----------------------------------------------------------------

_BREAK_AFTER = re.compile(r"(?<=[@/])|(?=\.)")


def _breakable(text: str) -> str:
    """Escaped ``text`` whose long words (an email or web address) may break after @ or / and before a dot:
    a narrow table column then breaks ``office@harborstreet.example`` there, not between any two letters."""
    return " ".join(_BREAK_AFTER.sub("<wbr>", word) if len(word) > LONG_WORD else word
                    for word in _text(text).split(" "))


def _runs(ctx: _Ctx, runs: Runs, cell: bool = False) -> str:
    out = []
    for r in runs:
        target = ref_target(r)
        text = (_breakable if cell else _text)(ctx.ref_words(*target) if target and ctx.ref_words else r.text)
        if r.bold:
            text = f"<strong>{text}</strong>"
        if r.italic:
            text = f"<em>{text}</em>"
        href = ctx.href(r.link)
        out.append(f'<a href="{escape(href, quote=True)}">{text}</a>' if href else text)
    return "".join(out)


# -- blocks ---------------------------------------------------------------------

def _heading(ctx: _Ctx, b: Heading) -> None:
    # Never deeper than one below the heading before: a level-3 heading right after a level-1 one is an h2.
    level = max(1, min(b.level + ctx.shift, ctx.level + 1, 6))
    ctx.level = level
    ctx.last_heading = ident = ctx.heading_id()
    ctx.out.append(f'<h{level} id="{ident}">{_runs(ctx, b.runs)}</h{level}>')


def _paragraph(ctx: _Ctx, b: Paragraph) -> None:
    ctx.out.append(f"<p>{_runs(ctx, b.runs)}</p>")


def _list(ctx: _Ctx, b: List) -> None:
    tag = "ol" if b.ordered else "ul"
    start = f' start="{b.start}"' if b.ordered and b.start != 1 else ""
    ctx.out.append(f"<{tag}{start}>")
    for item in b.items:
        blocks = item.blocks
        first = ""
        if blocks and isinstance(blocks[0], Paragraph):      # a list item's first paragraph is its text
            first, blocks = _runs(ctx, blocks[0].runs), blocks[1:]
        if not blocks:
            ctx.out.append(f"<li>{first}</li>")
            continue
        ctx.out.append(f"<li>{first}")
        _blocks(ctx, blocks)
        ctx.out.append("</li>")
    ctx.out.append(f"</{tag}>")


def _callout(ctx: _Ctx, b: Callout) -> None:
    ctx.out.append('<section class="callout">')
    if b.title:
        level = min(ctx.level + 1, 6)
        # The title's id is planned with the other headings only when it is a heading of the
        # document; a callout title gets one of its own.
        ident = ctx.ids.new(anchor_of(b.title) or "note")
        ctx.out.append(f'<h{level} id="{ident}">{_text(b.title)}</h{level}>')
    saved = ctx.level, ctx.last_heading
    _blocks(ctx, b.blocks)
    ctx.level, ctx.last_heading = saved
    ctx.out.append("</section>")


def _on_paper(ctx: _Ctx, labels: Sequence[str]) -> None:
    """One note for neighbouring form fields: this copy is read, the printed one is signed."""
    ctx.out.append(f'<div class="paper"><p>{_text(ctx.words["on_paper"])}:</p><ul>')
    ctx.out.extend(f"<li>{_text(label)}</li>" for label in labels)
    ctx.out.append("</ul></div>")


def _table(ctx: _Ctx, b: Table) -> None:
    rows = list(b.rows)
    ncols = max([len(b.header), *(len(r) for r in rows)], default=0)

    def cell(row, c):
        return row[c] if c < len(row) else ()

    # A column of form fields (and blanks) is for the printed copy: its header goes to a note below.
    signed = [c for c in range(ncols)
              if any(isinstance(cell(r, c), Field) for r in rows)
              and all(isinstance(cell(r, c), Field) or not plain(cell(r, c)).strip() for r in rows)]
    kept = [c for c in range(ncols) if c not in signed]
    if kept:
        _table_html(ctx, b, rows, kept, cell)
    if signed:
        labels = [plain(cell(b.header, c)) or next(cell(r, c).label for r in rows if isinstance(cell(r, c), Field))
                  for c in signed]
        ctx.out.append(f'<div class="paper"><p>{_text(ctx.words["on_paper"])}: '
                       f'{_text(", ".join(labels))}.</p></div>')


def _table_html(ctx: _Ctx, b: Table, rows, kept: list[int], cell) -> None:
    stack = len(kept) >= STACK_COLUMNS
    labelled = (f'aria-labelledby="{ctx.last_heading}"' if ctx.last_heading
                else f'aria-label="{_text(ctx.words["table"])}"')
    # A scroll region of its own, never the page's, if it cannot fit; a wide table becomes one
    # block per row on a narrow screen (html_style), so it rarely has to.
    ctx.out.append(f'<div class="scroll" role="region" {labelled} tabindex="0">'
                   + ('<table class="stack">' if stack else "<table>"))
    head = [cell(b.header, c) for c in kept]
    if b.header:
        ctx.out.append("<thead><tr>" + "".join(f'<th scope="col">{_runs(ctx, h)}</th>' for h in head)
                       + "</tr></thead>")
    ctx.out.append("<tbody>")
    for row in rows:
        parts = []
        for i, c in enumerate(kept):
            value = cell(row, c)
            text = (_text(ctx.words["on_paper_cell"]) if isinstance(value, Field) else _runs(ctx, value, cell=True))
            if i == 0:
                parts.append(f'<th scope="row">{text}</th>')
                continue
            label = plain(head[i]) if stack and b.header else ""
            if label:    # shown only when the header row is hidden; a screen reader has the header already
                text = f'<span class="cell-label" aria-hidden="true">{_text(label)}</span>{text}'
            parts.append(f"<td>{text}</td>")
        ctx.out.append("<tr>" + "".join(parts) + "</tr>")
    ctx.out.append("</tbody></table></div>")


def _page_break(ctx: _Ctx, b: PageBreak) -> None:
    """A screen has no pages."""


_RENDERERS = {Heading: _heading, Paragraph: _paragraph, List: _list, Table: _table, Callout: _callout,
              PageBreak: _page_break}


def _blocks(ctx: _Ctx, blocks) -> None:
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if isinstance(block, Field):         # neighbouring fields share one note
            j = i
            while j < len(blocks) and isinstance(blocks[j], Field):
                j += 1
            _on_paper(ctx, [f.label for f in blocks[i:j]])
            i = j
            continue
        renderer = _RENDERERS.get(type(block))
        if renderer is None:
            raise BackendError(f"the HTML backend cannot render a {type(block).__name__} block")
        renderer(ctx, block)
        i += 1


def render(doc: Document, meta: Meta) -> bytes:
    """One document as a self-contained HTML page; the same inputs always give the same bytes.

    Cross-references must already be words (``compose.resolved``): a single
    file has nothing to link them to.
    """
    check(meta)
    ids = _Ids()
    ids.plan(doc, "")
    ctx = _Ctx([], words_for(meta.language), ids.headings[doc.name], ids)
    _blocks(ctx, doc.blocks)
    title = meta.title or doc.title
    return page(meta, f"{title} – {meta.practice}" if meta.practice else title, ctx.out)


def render_packet(docs: Sequence[Document], meta: Meta, ref_words: Words) -> bytes:
    """A packet's documents, in order, as one HTML page: a contents list, then each document.

    ``docs`` keep their cross-references (``ref:``); each becomes a link to
    the heading it names, in the words ``ref_words(document, anchor)`` gives.
    """
    check(meta)
    ids = _Ids()
    for doc in docs:
        ids.plan(doc, anchor_of(doc.name) or "document")
    words = words_for(meta.language)
    body = [f"<h1>{_text(meta.title)}</h1>",
            f'<nav aria-labelledby="contents"><h2 id="contents">{_text(words["contents"])}</h2><ol>']
    body += [f'<li><a href="#{ids.targets[(d.name, None)]}">{_text(d.title)}</a></li>'
             for d in docs if (d.name, None) in ids.targets]
    body.append("</ol></nav>")
    for doc in docs:
        ctx = _Ctx([], words, ids.headings[doc.name], ids, ref_words=ref_words, shift=1, level=1)
        _blocks(ctx, doc.blocks)
        title = ids.targets.get((doc.name, None))
        body.append(f'<article aria-labelledby="{title}">' if title else "<article>")
        body += ctx.out
        body.append("</article>")
    return page(meta, meta.title, body)

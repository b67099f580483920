"""Markdown in, a small frozen document model (IR) out.

Backends and checks read only this model, never Markdown or output bytes.
Templates write plain CommonMark plus these conventions:

- a block quote is a ``Callout`` (a boxed notice); if its first paragraph is
  bold text only, that text is the callout's title;
- a fenced block with the info string ``field`` holds one form field per line,
  ``KIND NAME Label text`` (KIND is signature, initials, date, text or
  checkbox), and a fenced block ``pagebreak`` starts a new page;
- a table cell that holds only a code span ``field KIND NAME Label`` is that
  form field (the initials column of the signature page);
- a link to ``ref:DOCUMENT#ANCHOR`` is a cross-reference to another document
  of the packet (``ANCHOR``, a heading's ``anchor``, may be left out); the
  packet fills in its words, with a page number in a PDF (``resolve_refs``).

Raw HTML, indented code and images are switched off or refused: values from
profiles are data, never markup.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Iterator, Literal, Union

from typing import TYPE_CHECKING, NamedTuple

from .errors import DocumentError, Where

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.tree import SyntaxTreeNode


@dataclass(frozen=True)
class Run:
    """A stretch of text with one look."""

    text: str
    bold: bool = False
    italic: bool = False
    link: str | None = None
    stamp: str | None = None     # "name" or "id": the client's value, which a roster build stamps (stamp.py)


# A client's name and id reach the templates between these marks (compose.build_document), so the
# model knows which runs hold them; the marks themselves never leave the parser.
STAMP_MARKS = {"name": ("\ue000", "\ue001"), "id": ("\ue002", "\ue003")}
_MARK_OF = {c: (value, i == 0) for value, pair in STAMP_MARKS.items() for i, c in enumerate(pair)}
_ANY_MARK = re.compile("[" + "".join(_MARK_OF) + "]")


def marked(value: str | None, what: str) -> str | None:
    """A client's value as templates see it: between the marks of ``what`` ("name" or "id")."""
    return None if value is None else STAMP_MARKS[what][0] + value + STAMP_MARKS[what][1]


def unmarked(text: str) -> str:
    return _ANY_MARK.sub("", text)


def _split_stamps(run: Run) -> list[Run]:
    """A run cut where a client's value begins and ends; the value's pieces carry ``stamp``."""
    if not _ANY_MARK.search(run.text):
        return [run]
    out: list[Run] = []
    stamp = run.stamp
    for piece in re.split(f"({_ANY_MARK.pattern})", run.text):
        if piece in _MARK_OF:
            value, opens = _MARK_OF[piece]
            stamp = value if opens else None
        elif piece:
            out.append(Run(piece, run.bold, run.italic, run.link, stamp))
    return out


Runs = tuple[Run, ...]


def plain(runs: Runs) -> str:
    return "".join(r.text for r in runs)


class _Text:
    """A block made of runs; ``text`` is its plain text."""

    runs: Runs

    @property
    def text(self) -> str:
        return plain(self.runs)


_ANCHOR = re.compile(r"[^a-z0-9]+")


def anchor_of(text: str) -> str:
    """A heading's anchor: 'Cancelling or missing a session' -> 'cancelling-or-missing-a-session'."""
    return _ANCHOR.sub("-", text.lower()).strip("-")


@dataclass(frozen=True)
class Heading(_Text):
    level: int
    runs: Runs
    line: int

    @property
    def anchor(self) -> str:
        return anchor_of(self.text)


@dataclass(frozen=True)
class Paragraph(_Text):
    runs: Runs
    line: int


@dataclass(frozen=True)
class ListItem:
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class List:
    ordered: bool
    items: tuple[ListItem, ...]
    line: int
    start: int = 1


@dataclass(frozen=True)
class Callout:
    title: str | None
    blocks: tuple[Block, ...]
    line: int


FieldKind = Literal["signature", "initials", "date", "text", "checkbox"]
FIELD_KINDS: tuple[str, ...] = ("signature", "initials", "date", "text", "checkbox")


@dataclass(frozen=True)
class Field:
    kind: FieldKind
    name: str
    label: str
    line: int


Cell = Union[Runs, Field]     # a table cell: text, or one form field


def cell_text(cell: Cell) -> str:
    """A cell's reading text; a form field has none."""
    return "" if isinstance(cell, Field) else plain(cell)


@dataclass(frozen=True)
class Table:
    header: tuple[Runs, ...]
    rows: tuple[tuple[Cell, ...], ...]
    line: int


@dataclass(frozen=True)
class PageBreak:
    line: int


Block = Union[Heading, Paragraph, List, Table, Callout, Field, PageBreak]


@dataclass(frozen=True)
class Document:
    """One rendered document: its title (the first level-1 heading) and blocks."""

    name: str
    title: str
    blocks: tuple[Block, ...]
    language: str = "en"
    fields: tuple[Field, ...] = field(default=(), compare=False)


def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.enable("table")
    md.disable(["code", "html_block", "html_inline", "image"])
    return md


@functools.cache
def _markdown() -> MarkdownIt:
    """The parser, built on first use: a build with nothing to render never imports markdown-it."""
    return _parser()
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # a fence is raw text: undo Markdown escapes in labels


class _Builder:
    """Walks markdown-it's syntax tree; one method per node type."""

    def __init__(self, name: str):
        self.name = name

    def where(self, node: SyntaxTreeNode) -> Where:
        line = node.map[0] + 1 if node.map else None
        return Where(f"{self.name} (rendered Markdown)", line)

    def line(self, node: SyntaxTreeNode) -> int:
        return node.map[0] + 1 if node.map else 0

    def blocks(self, nodes) -> tuple[Block, ...]:
        out: list[Block] = []
        for node in nodes:
            handler = getattr(self, "block_" + node.type, None)
            if handler is None:
                raise DocumentError(f"unsupported Markdown: {node.type}", self.where(node))
            result = handler(node)
            out.extend(result if isinstance(result, list) else [result])
        return tuple(out)

    def block_heading(self, node) -> Heading:
        return Heading(int(node.tag[1]), self.inline(node.children[0]), self.line(node))

    def block_paragraph(self, node) -> Paragraph:
        return Paragraph(self.inline(node.children[0]), self.line(node))

    def _list(self, node, ordered: bool) -> List:
        items = tuple(ListItem(self.blocks(item.children)) for item in node.children)
        start = int(node.attrs.get("start", 1)) if ordered else 1
        return List(ordered, items, self.line(node), start)

    def block_bullet_list(self, node) -> List:
        return self._list(node, False)

    def block_ordered_list(self, node) -> List:
        return self._list(node, True)

    def block_blockquote(self, node) -> Callout:
        inner = self.blocks(node.children)
        title = None
        first = inner[0] if inner else None
        if isinstance(first, Paragraph) and first.runs and all(r.bold for r in first.runs):
            title, inner = first.text.strip(), inner[1:]
        return Callout(title, inner, self.line(node))

    def block_table(self, node) -> Table:
        head, body = [], []
        for section in node.children:
            for i, tr in enumerate(section.children):
                line = self.line(node) + (0 if section.type == "thead" else 2 + i)
                cells = tuple(self.cell(td, line) for td in tr.children)
                (head if section.type == "thead" else body).append(cells)
        return Table(head[0] if head else (), tuple(body), self.line(node))

    def cell(self, td, line: int) -> Cell:
        inline = td.children[0] if td.children else None
        parts = inline.children if inline is not None else []
        if len(parts) == 1 and parts[0].type == "code_inline" and parts[0].content.startswith("field "):
            return self.field_line(parts[0].content[len("field "):], Where(self.where(td).file, line), line)
        return self.inline(inline) if inline is not None else ()

    def field_line(self, raw: str, where: Where, line: int) -> Field:
        parts = raw.split(None, 2)
        if len(parts) < 3 or parts[0] not in FIELD_KINDS or not _FIELD_NAME.match(parts[1]):
            raise DocumentError(f"a field line is 'KIND NAME Label' with KIND one of {', '.join(FIELD_KINDS)}", where)
        return Field(parts[0], parts[1], unmarked(_UNESCAPE.sub(r"\1", parts[2].strip())), line)

    def block_fence(self, node) -> list[Block]:
        info = node.info.strip()
        if info == "pagebreak":
            return [PageBreak(self.line(node))]
        if info != "field":
            raise DocumentError(f"unsupported fenced block '{info}'", self.where(node))
        fields = []
        for offset, raw in enumerate(node.content.splitlines(), start=1):
            if raw.strip():
                line = self.line(node) + offset
                fields.append(self.field_line(raw, Where(self.where(node).file, line), line))
        return fields

    def block_hr(self, node) -> PageBreak:
        return PageBreak(self.line(node))

    def inline(self, node: SyntaxTreeNode) -> Runs:
        runs: list[Run] = []
        self._walk(node.children, runs, False, False, None)
        return _merge(runs)

    def _walk(self, nodes, runs: list[Run], bold: bool, italic: bool, link: str | None) -> None:
        for n in nodes:
            t = n.type
            if t in ("text", "code_inline"):
                runs.append(Run(n.content, bold, italic, link))
            elif t == "softbreak":
                runs.append(Run(" ", bold, italic, link))
            elif t == "hardbreak":
                runs.append(Run("\n", bold, italic, link))
            elif t == "strong":
                self._walk(n.children, runs, True, italic, link)
            elif t == "em":
                self._walk(n.children, runs, bold, True, link)
            elif t == "link":
                self._walk(n.children, runs, bold, italic, str(n.attrs.get("href", "")))
            else:
                raise DocumentError(f"unsupported inline Markdown: {t}", self.where(n))


def _merge(runs: list[Run]) -> Runs:
    """Join neighbouring runs that look the same, so backends get fewer pieces; a client's value
    (between its marks) stays a run of its own."""
    out: list[Run] = []
    for r in runs:
        if not r.text:  # markdown-it leaves empty text tokens around emphasis
            continue
        if out and (out[-1].bold, out[-1].italic, out[-1].link, out[-1].stamp) == (r.bold, r.italic, r.link, r.stamp):
            out[-1] = Run(out[-1].text + r.text, r.bold, r.italic, r.link, r.stamp)
        else:
            out.append(r)
    if not any(_ANY_MARK.search(r.text) for r in out):
        return tuple(out)
    return _merge([piece for r in out for piece in _split_stamps(r)])


def iter_blocks(blocks) -> Iterator[Block]:
    """Every block in reading order, those inside callouts and list items too."""
    for b in blocks:
        yield b
        if isinstance(b, Callout):
            yield from iter_blocks(b.blocks)
        elif isinstance(b, List):
            for item in b.items:
                yield from iter_blocks(item.blocks)


def stamped_runs(blocks) -> list[Run]:
    """Every run that holds a client's value (``Run.stamp``), in reading order, tables included."""
    found: list[Run] = []
    for b in iter_blocks(blocks):
        if isinstance(b, Table):
            for row in (b.header, *b.rows):
                found.extend(r for cell in row if not isinstance(cell, Field) for r in cell if r.stamp)
        else:
            found.extend(r for r in getattr(b, "runs", None) or () if r.stamp)
    return found


def _all_fields(blocks) -> list[Field]:
    found: list[Field] = []
    for b in iter_blocks(blocks):
        if isinstance(b, Field):
            found.append(b)
        elif isinstance(b, Table):
            found.extend(c for row in b.rows for c in row if isinstance(c, Field))
    return found


def parse(markdown: str, name: str, language: str = "en") -> Document:
    """Parse rendered Markdown into a Document; raises DocumentError with a line."""
    from markdown_it.tree import SyntaxTreeNode

    tree = SyntaxTreeNode(_markdown().parse(markdown))
    builder = _Builder(name)
    blocks = builder.blocks(tree.children)
    title = next((b.text for b in blocks if isinstance(b, Heading) and b.level == 1), None)
    if title is None:
        raise DocumentError("a document needs a level-1 heading ('# Title') for its title", Where(name))
    fields = _all_fields(blocks)
    seen: set[str] = set()
    for f in fields:
        if f.name in seen:
            raise DocumentError(f"field name '{f.name}' is used twice", Where(f"{name} (rendered Markdown)", f.line))
        seen.add(f.name)
    return Document(name, title, blocks, language, tuple(fields))


class TextUnit(NamedTuple):
    """One piece of reading text and the rendered-Markdown line of its block."""

    line: int
    text: str
    heading: bool = False          # a heading or a callout's title


def located_units(blocks: tuple[Block, ...]) -> list[TextUnit]:
    """Each piece of reading text in order, with its line: headings, paragraphs,
    list items, callout titles and table cells.

    Form fields and page breaks are not reading text. Checks (readability,
    lint) and tests read documents through this, never through output bytes.
    """
    units: list[TextUnit] = []
    for b in blocks:
        if isinstance(b, (Heading, Paragraph)):
            units.append(TextUnit(b.line, b.text, isinstance(b, Heading)))
        elif isinstance(b, List):
            for item in b.items:
                units.extend(located_units(item.blocks))
        elif isinstance(b, Callout):
            units.extend([TextUnit(b.line, b.title, True)] if b.title else [])
            units.extend(located_units(b.blocks))
        elif isinstance(b, Table):
            for row in (b.header, *b.rows):
                units.extend(TextUnit(b.line, cell_text(cell)) for cell in row)
    return [u._replace(text=u.text.strip()) for u in units if u.text.strip()]


def text_units(blocks: tuple[Block, ...]) -> list[str]:
    """Each piece of reading text in order (see ``located_units``)."""
    return [u.text for u in located_units(blocks)]


def plain_text(doc: Document) -> str:
    """The document's reading text; a unit without end punctuation ends as a sentence."""
    return "\n".join(u if u[-1] in ".!?:" else u + "." for u in text_units(doc.blocks))


# -- cross-references ---------------------------------------------------------

REF = "ref:"


def ref_target(run: Run) -> tuple[str, str | None] | None:
    """(document, anchor) for a cross-reference run, else None."""
    if not (run.link and run.link.startswith(REF)):
        return None
    doc, _, anchor = run.link[len(REF):].partition("#")
    return doc, anchor or None


def _map_runs(blocks: tuple[Block, ...], fn) -> tuple[Block, ...]:
    """``blocks`` with every run passed through ``fn`` (a run in, a run out)."""
    from dataclasses import replace

    def runs(rs: Runs) -> Runs:
        return _merge([fn(r) for r in rs])

    out: list[Block] = []
    for b in blocks:
        if isinstance(b, (Heading, Paragraph)):
            b = replace(b, runs=runs(b.runs))
        elif isinstance(b, List):
            b = replace(b, items=tuple(ListItem(_map_runs(i.blocks, fn)) for i in b.items))
        elif isinstance(b, Callout):
            b = replace(b, blocks=_map_runs(b.blocks, fn))
        elif isinstance(b, Table):
            b = replace(b, header=tuple(runs(c) for c in b.header),
                        rows=tuple(tuple(c if isinstance(c, Field) else runs(c) for c in row) for row in b.rows))
        out.append(b)
    return tuple(out)


def refs_in(doc: Document) -> set[tuple[str, str | None]]:
    """The (document, anchor) pairs ``doc`` refers to."""
    found: set[tuple[str, str | None]] = set()

    def note(run: Run) -> Run:
        if (target := ref_target(run)) is not None:
            found.add(target)
        return run

    _map_runs(doc.blocks, note)
    return found


def resolve_refs(doc: Document, words) -> Document:
    """``doc`` with each cross-reference's text set to ``words(document, anchor)``; plain text after."""
    from dataclasses import replace

    def fill(run: Run) -> Run:
        target = ref_target(run)
        return run if target is None else Run(words(*target), run.bold, run.italic, None)

    return replace(doc, blocks=_map_runs(doc.blocks, fill))

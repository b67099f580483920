"""Jinja2 over Markdown: one Environment factory, and the render context.

The Environment is sandboxed, strict about undefined names, and looks in the
user's template folders before the built-in ones. Every value printed with
``{{ }}`` is escaped for Markdown on output, so a clinician named ``Dr. *Kim*``
or ``<b>`` prints literally: ``finalize`` turns plain text into escaped
``Markup``, while Markdown that a template wrote itself (macros, block
``set``, ``field()``) is already ``Markup`` and passes untouched.

Errors name ``template:line`` and never show the render context: it can hold
a client's name. A name, key or template name an error quotes is shown only if
a template the error passed through writes it as a string literal, a name
(variable, attribute, filter) or a number, and it equals no text or number in
the render context (the profile's values, the client's name and id); else the
error says "(a value, not shown)". Type names ('dict object') are shown.
Limits on time, output and memory are in ``limits.py``, put into the sandbox by
``sandbox.py``.
"""
from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import functools
import re
import traceback
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from markupsafe import Markup

from . import sandbox, textfile
from .template_cache import bytecode_cache
from .limits import MAX_SOURCE
from .errors import TemplateError, Where, display_path
from .document import unmarked
from .resources import data_dir
from .labels import state_name
from .views import money

_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark
_SPACE = re.compile(r"\s+")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December")


def md_escape(text: str) -> str:
    """Escape text so Markdown shows it literally, on one line."""
    return _SPECIAL.sub(r"\\\1", _SPACE.sub(" ", text))


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if value is None:
        raise TemplateError("a template printed an empty value; guard it with {% if %}")
    return Markup(md_escape(str(value)))


def long_date(value: dt.date) -> str:
    """January 5, 2026: spelled out, so no reader mistakes day for month."""
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"


def join_and(items: list | tuple, word: str = "and") -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) < 3:
        return f" {word} ".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def stop(value: Any) -> str:
    """End a value as a sentence: 'LPC' -> 'LPC.', but 'Ph.D.' stays 'Ph.D.' (no 'Ph.D..')."""
    text = str(value).rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def upper_first(value: Any) -> str:
    """'our office manager, Dana' -> 'Our office manager, Dana' (Jinja's capitalize lowers the rest)."""
    text = str(value)
    return text[:1].upper() + text[1:]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """plural(1, 'session') -> '1 session'; plural(3, 'session') -> '3 sessions'."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def field(kind: str, name: str, label: str) -> Markup:
    """A form field block: fillable in the PDF, a line to fill in the DOCX."""
    return Markup(f"\n```field\n{kind} {name} {md_escape(label)}\n```\n")


def field_cell(kind: str, name: str, label: str) -> Markup:
    """A form field that stands alone in a table cell (a code span; see document.py)."""
    safe = " ".join(str(label).replace("`", "'").replace("|", "/").split())
    return Markup(f"`field {kind} {name} {safe}`")


def read_template(path: Path) -> str:
    """A template file's text; a file that cannot be read, or is not UTF-8, is a one-line TemplateError."""
    try:
        raw = textfile.read_bytes(path, 4 * MAX_SOURCE, "a template file",      # UTF-8: up to 4 bytes a character
                                  f"refused: a template longer than {MAX_SOURCE:,} characters")
        return textfile.decode(raw)
    except textfile.Unreadable as exc:
        raise TemplateError(exc.message, Where(display_path(path), exc.line)) from None


class _Loader(jinja2.FileSystemLoader):
    """Jinja's loader for one folder, with ``read_template``'s errors instead of an exception of Python's.

    A file is read only when a document needs it, so a bad file nobody uses
    harms nothing.
    """

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        try:
            return super().get_source(environment, template)
        except (UnicodeDecodeError, OSError):
            pieces = jinja2.loaders.split_template_path(template)
            for folder in self.searchpath:
                path = Path(folder, *pieces)
                if path.is_file():
                    read_template(path)     # raises the one-line error
            raise


@functools.cache
def make_env(user_dirs: tuple[Path, ...] = (), language: str = "en") -> sandbox.LimitedEnvironment:
    """The one Environment: user folders first, then the built-in templates."""
    loaders = [_Loader(str(d)) for d in user_dirs]
    loaders.append(_Loader(str(data_dir("templates") / language)))
    env = sandbox.LimitedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=bytecode_cache(),
    )
    env.filters.pop("safe", None)  # nothing a profile says may become markup
    env.filters.update(long_date=long_date, join_and=join_and, money=money, stop=stop, upper_first=upper_first,
                       state=state_name)
    env.globals.update(field=field, field_cell=field_cell, plural=plural, title_of=title_of, sources_of=sources_of)
    return env


_TITLE = re.compile(r"^# (.+)$", re.M)


@jinja2.pass_context
def title_of(context: jinja2.runtime.Context, name: str) -> str:
    """Another document's title, worked out with this document's values (for lists of documents).

    A template's ``title`` block is rendered (it may depend on the profile,
    like the telehealth form's); else its first '# ' line is read.
    """
    env = context.environment
    try:
        template = env.get_template(f"{name}.md")
    except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError):
        return name
    if "title" in template.blocks:
        return "".join(template.blocks["title"](template.new_context(context.get_all()))).strip() or name
    m = _TITLE.search(env.loader.get_source(env, f"{name}.md")[0])
    return m.group(1).strip() if m and "{" not in m.group(1) else name


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    description: str
    path: Path


_DESCRIPTION = re.compile(r"^\{#-?\s*(.+?)\s*-?#\}", re.S)


def document_names(user_dirs: tuple[Path, ...] = (), language: str = "en") -> set[str]:
    """The names of every document (a top-level ``NAME.md``), without reading the files."""
    return {path.stem for folder in (*user_dirs, data_dir("templates") / language) for path in folder.glob("*.md")}


def list_documents(user_dirs: tuple[Path, ...] = (), language: str = "en") -> list[TemplateInfo]:
    """Every document (a top-level ``NAME.md``), user folders shadowing built-ins.

    A file that cannot be read is still listed, its description saying why:
    only a document that uses it fails.
    """
    found: dict[str, TemplateInfo] = {}
    for folder in (*user_dirs, data_dir("templates") / language):
        for path in sorted(folder.glob("*.md")):
            if path.stem not in found:
                try:
                    m = _DESCRIPTION.match(read_template(path))
                    desc = _SPACE.sub(" ", m.group(1)).strip() if m else ""
                except TemplateError as exc:
                    desc = f"(cannot be used: {exc})"
                found[path.stem] = TemplateInfo(path.stem, desc, path)
    return sorted(found.values(), key=lambda t: t.name)


def render_markdown(name: str, context: dict[str, Any], user_dirs: tuple[Path, ...] = (),
                    language: str = "en", seconds: float | None = None) -> str:
    """Render document ``name`` to Markdown within ``seconds`` (None: the default); errors name template:line."""
    env = make_env(tuple(user_dirs), language)
    try:
        template = env.get_template(f"{name}.md")
    except jinja2.TemplateNotFound as exc:
        if exc.name == f"{name}.md":
            raise TemplateError(f"no document named '{name}' (see 'consentgen templates')") from None
        raise _template_error(exc, _document_where(env, name), env, context) from None
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_error(exc) from None
    except (RecursionError, MemoryError) as exc:      # an expression nested thousands deep
        raise TemplateError("refused: nested too deeply to read (brackets or blocks thousands deep?)"
                            if isinstance(exc, RecursionError) else _STOPPED[MemoryError],
                            _document_where(env, name)) from None
    try:
        return sandbox.render(template, context, seconds)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line; see _template_error
        raise _template_error(exc, _where(template.filename, None), env, context) from None


def _document_where(env: jinja2.Environment, name: str) -> Where:
    try:
        return _where(env.loader.get_source(env, f"{name}.md")[1], None)
    except Exception:  # noqa: BLE001 - only for naming the file in an error
        return Where(f"{name}.md")


_STOPPED = {
    RecursionError: "stopped: nested too deeply (a macro, include or layout that calls itself?)",
    MemoryError: "stopped: out of memory (the template makes something too large)",
}


def _template_error(exc: Exception, fallback: Where, env: jinja2.Environment,
                    context: dict[str, Any]) -> TemplateError:
    """One line for anything that went wrong while rendering, quoting no value from the context."""
    where = _where_from_traceback(exc, fallback)
    if isinstance(exc, jinja2.TemplateSyntaxError):       # an included template
        return _syntax_error(exc)
    if isinstance(exc, TemplateError):                     # a limit, or a file that could not be read
        return TemplateError(exc.message, exc.where or where)

    def shown(message: str) -> str:
        return _shown(message, _spelled(env, exc), _context_texts(context))

    if isinstance(exc, jinja2.exceptions.SecurityError):
        return TemplateError(shown(f"refused: {exc}"), where)
    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(shown(f"undefined: {exc.message}"), where)
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateError(shown(f"template '{exc.name}' not found"), where)
    if isinstance(exc, (RecursionError, MemoryError)):
        return TemplateError(_STOPPED[type(exc)], where)
    # The message is withheld: it could quote a client's data.
    return TemplateError(f"{type(exc).__name__} while rendering", where)


def _syntax_error(exc: jinja2.TemplateSyntaxError) -> TemplateError:
    """Found while parsing, before any value exists: the message quotes only the template."""
    return TemplateError(f"syntax error: {exc.message}", _where(exc.filename, exc.lineno))


_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")
_ELEMENT = re.compile(r"(?<= has no element ).+")    # Jinja prints a key that is not text unquoted (its repr)
_TYPE_NAME = re.compile(r"[\w.]+ object")       # Jinja names a value's type as 'str object'
_SPELLING = frozenset({"string", "name", "integer", "float"})
_NOT_SHOWN = "(a value, not shown)"


def _type_name(text: str) -> bool:
    """'str object', 'consentgen.views.Fees object', 'str', 'None': a type, never a value.

    (So is the 'X' in "'X' object", the sandbox's way of naming a type.)
    """
    return bool(_TYPE_NAME.fullmatch(text)) or text == "None" or isinstance(getattr(builtins, text, None), type)


def _shown(message: str, spelled: set[str], hidden: set[str]) -> str:
    """The message, with each quoted name or key left out unless the template spelled it.

    ``spelled``: what the templates write as literals, names and numbers;
    ``hidden``: every text and number of the render context, never shown even
    if a template spells it too. ``{{ practice[client.name] }}`` fails with
    "has no attribute 'Zelda …'": the key is a client's name.
    """
    message = unmarked(message)          # a client's value keeps no mark of its own (document.marked)
    hidden = {unmarked(t) for t in hidden}

    def keep(text: str, type_follows: bool = False) -> bool:
        return text not in hidden and (text in spelled or type_follows or _type_name(text))

    def quoted(m: re.Match) -> str:
        text = m.group(1) if m.group(1) is not None else m.group(2)
        return m.group(0) if keep(text, m.string.startswith(" object", m.end())) else _NOT_SHOWN

    element = _ELEMENT.search(message)
    if element and not keep(element.group(0)):
        message = message[:element.start()] + _NOT_SHOWN
    return _QUOTED.sub(quoted, message)


def _spelled(env: jinja2.Environment, exc: BaseException) -> set[str]:
    """What the templates an error passed through spell: string literals, names, attribute names, numbers.

    Read with Jinja's own lexer, so a word of the template's text ("Grace
    period") or of a comment is not among them.
    """
    found: set[str] = set()
    for filename in dict.fromkeys(f.filename for f in _template_frames(exc)):
        try:
            source = Path(filename).read_text(encoding="utf-8")
            found.update(str(token.value) for token in env.lexer.tokenize(source) if token.type in _SPELLING)
        except (OSError, ValueError, jinja2.TemplateSyntaxError):
            continue
    return found


_MAX_CONTEXT_ITEMS = 100_000


def _context_texts(context: dict[str, Any]) -> set[str]:
    """Every text and number the render context holds (in its dicts, lists and view objects), as printed."""
    found: set[str] = set()
    todo: list[Any] = list(context.values())
    seen: set[int] = set()
    while todo and len(seen) < _MAX_CONTEXT_ITEMS:
        item = todo.pop()
        if isinstance(item, str):
            found.add(str(item))
        elif isinstance(item, (int, float, Decimal)) and not isinstance(item, bool):
            found.update((str(item), repr(item)))
        elif id(item) in seen:
            continue
        elif isinstance(item, dict):
            seen.add(id(item))
            todo.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            seen.add(id(item))
            todo.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            seen.add(id(item))
            todo.extend(getattr(item, f.name, None) for f in dataclasses.fields(item))
    return found


def _where(filename: str | None, line: int | None) -> Where:
    return Where(display_path(filename) if filename else "<template>", line)


_TEMPLATE_FRAMES = ("template", "top-level template code")


def _template_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """Jinja rewrites tracebacks so template frames carry the template's file and line."""
    return [f for f in traceback.extract_tb(exc.__traceback__)
            if f.filename.endswith(".md") or f.name in _TEMPLATE_FRAMES or f.name.startswith("block '")]


def _where_from_traceback(exc: BaseException, fallback: Where | None = None) -> Where:
    frames = _template_frames(exc)
    if not frames:
        return fallback or Where("<template>")
    return _where(frames[-1].filename, frames[-1].lineno)


_COMMENT = re.compile(r"\{#-?(.*?)-?#\}", re.S)
_INTERNAL = re.compile(r"[^.;]*\b(?:context\.|CONTENT\.md|HOMES|template|\{\{)[^.;]*[.;]?\s*")


_SKELETON = ("layouts/handout.md", "sections/intro.md")      # a byline cites nothing a practice checks


@jinja2.pass_context
def sources_of(context: jinja2.runtime.Context, names: list[str]) -> list[tuple[str, list[str]]]:
    """Per document, the source notes in its templates' comments, for the practice's appendix.

    Each comment is one note, spaces joined; remarks about the templates
    themselves (which file prints what) are left out, and a note shared by
    several documents (the crisis box, say) is listed under the first.
    """
    env = context.environment
    seen: set[str] = set()
    out: list[tuple[str, list[str]]] = []
    for name in names:
        notes: list[str] = []
        try:
            files = template_files(name, tuple(context.get("template_dirs", ())), context.get("language", "en"))
        except TemplateError:
            files = {}
        for template in files:
            if template in _SKELETON:
                continue
            for m in _COMMENT.finditer(env.loader.get_source(env, template)[0]):
                note = _INTERNAL.sub("", " ".join(m.group(1).split())).strip()
                if note and re.search(r"\d", note) and note not in seen:
                    seen.add(note)
                    notes.append(note)
        out.append((name, notes))
    return out


# A template names another only in one of these tags. A file without any needs no parse to find its
# includes (half the templates; a no-op build parsed every one). A syntax error in such a file is
# reported when the document is rendered, as for any other.
_NAMES_OTHERS = re.compile(r"\{%[-+]?\s*(include|import|from|extends)\b")


def template_files(name: str, user_dirs: tuple[Path, ...] = (), language: str = "en") -> dict[str, Path]:
    """Every template file document ``name`` uses (itself and its includes), by template name.

    Used to record what shaped an output and to decide whether it must be
    rebuilt. An include whose name is computed at render time cannot be known
    in advance, so then every file in the template folders counts.
    """
    env = make_env(tuple(user_dirs), language)
    found: dict[str, Path] = {}
    todo = [f"{name}.md"]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        try:
            source, filename, _ = env.loader.get_source(env, current)
            if not _NAMES_OTHERS.search(source):       # no tag that could name a template: nothing to parse
                found[current] = Path(filename)
                continue
            ast = env.references(source, current, filename)
        except jinja2.TemplateNotFound:
            continue  # reported properly when the document is rendered
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"syntax error: {exc.message}", _where(exc.filename, exc.lineno)) from None
        found[current] = Path(filename)
        for ref in jinja2.meta.find_referenced_templates(ast):
            if ref is None:
                return _all_template_files(user_dirs, language)
            todo.append(ref)
    return dict(sorted(found.items()))


def _all_template_files(user_dirs: tuple[Path, ...], language: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in (*user_dirs, data_dir("templates") / language):
        for path in sorted(folder.rglob("*.md")):
            found.setdefault(path.relative_to(folder).as_posix(), path)
    return dict(sorted(found.items()))

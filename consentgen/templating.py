"""Jinja2 over Markdown: one Environment factory, and the render context.

The Environment is sandboxed, strict about undefined names, and looks in the
user's template folders before the built-in ones. Every value printed with
``{{ }}`` is escaped for Markdown on output, so a clinician named ``Dr. *Kim*``
or ``<b>`` prints literally: ``finalize`` turns plain text into escaped
``Markup``, while Markdown that a template wrote itself (macros, block
``set``, ``field()``) is already ``Markup`` and passes untouched.

Errors name ``template:line`` and never show the render context: it can hold
a client's name.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from .errors import TemplateError, Where, display_path
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


@functools.cache
def make_env(user_dirs: tuple[Path, ...] = (), language: str = "en") -> SandboxedEnvironment:
    """The one Environment: user folders first, then the built-in templates."""
    loaders = [jinja2.FileSystemLoader(str(d)) for d in user_dirs]
    loaders.append(jinja2.FileSystemLoader(str(data_dir("templates") / language)))
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
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


def list_documents(user_dirs: tuple[Path, ...] = (), language: str = "en") -> list[TemplateInfo]:
    """Every document (a top-level ``NAME.md``), user folders shadowing built-ins."""
    found: dict[str, TemplateInfo] = {}
    for folder in (*user_dirs, data_dir("templates") / language):
        for path in sorted(folder.glob("*.md")):
            if path.stem not in found:
                m = _DESCRIPTION.match(path.read_text(encoding="utf-8"))
                desc = _SPACE.sub(" ", m.group(1)).strip() if m else ""
                found[path.stem] = TemplateInfo(path.stem, desc, path)
    return sorted(found.values(), key=lambda t: t.name)


def render_markdown(name: str, context: dict[str, Any], user_dirs: tuple[Path, ...] = (),
                    language: str = "en") -> str:
    """Render document ``name`` to Markdown; errors name template:line."""
    env = make_env(tuple(user_dirs), language)
    try:
        template = env.get_template(f"{name}.md")
    except jinja2.TemplateNotFound as exc:
        if exc.name == f"{name}.md":
            raise TemplateError(f"no document named '{name}' (see 'consentgen templates')") from None
        raise TemplateError(f"template '{exc.name}' not found", _where_from_traceback(exc)) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error: {exc.message}", _where(exc.filename, exc.lineno)) from None
    try:
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:  # an included template
        raise TemplateError(f"syntax error: {exc.message}", _where(exc.filename, exc.lineno)) from None
    except TemplateError as exc:
        raise TemplateError(exc.message, _where_from_traceback(exc)) from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"refused: {exc}", _where_from_traceback(exc)) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"undefined: {exc.message}", _where_from_traceback(exc)) from None
    except Exception as exc:  # noqa: BLE001 - message withheld: it could quote a client's data
        raise TemplateError(f"{type(exc).__name__} while rendering", _where_from_traceback(exc)) from None


def _where(filename: str | None, line: int | None) -> Where:
    return Where(display_path(filename) if filename else "<template>", line)


def _where_from_traceback(exc: BaseException) -> Where:
    """Jinja rewrites tracebacks so template frames carry the template's file and line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".md")]
    if not frames:
        return Where("<template>")
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
            ast = env.parse(source, current, filename)
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

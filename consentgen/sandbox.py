"""Jinja's sandbox with the limits of ``limits.py`` built in.

Every way a template makes or writes something passes a check: filters are
wrapped as they are added (``GuardedFilters``); calls, operators, items and
``str.format`` are intercepted by ``LimitedEnvironment``; and each parsed
template is instrumented (``_Instrument``) so that each loop item, each
output, each ``~`` and each list, tuple or dict it writes out calls a hook.
The hooks are reachable only from the code Jinja generates, never by a name a
template can write.
"""
from __future__ import annotations

import functools
import sys
from functools import update_wrapper
from typing import Any, Callable, Iterator

from jinja2 import nodes, pass_context
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from .errors import TemplateError, Where, display_path
from .limits import (FILTER_CHECKS, KEEPERS, LOOP_BYTES, MAX_LENGTH, MAX_PARAGRAPHS, MAX_RANGE, MAX_SOURCE,
                     MAX_WORDS, charge, check_format, check_made, check_method, check_plus, check_power,
                     check_printf, check_text, check_times, kept, made, refuse, tick, weight, wrote)
from .limits import DEFAULT_SECONDS, Budget, TemplateTimeout, render

__all__ = ["DEFAULT_SECONDS", "Budget", "LimitedEnvironment", "TemplateTimeout", "render"]


def guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that checks its arguments and its result, and is never run at compile time.

    Made a context filter, so Jinja cannot fold it into a constant while compiling
    (where no budget applies); the filter itself still gets what it asked for.
    """
    if getattr(func, "_consentgen_guarded", False):
        return func
    wants = getattr(getattr(func, "jinja_pass_arg", None), "name", None)
    check = FILTER_CHECKS.get(name)

    @pass_context                     # applied after wraps(), which copied the inner filter's own
    @functools.wraps(func)
    def guarded(context, value, *args, **kwargs):
        tick()
        check_text(value)
        paid = check(value, *args, **kwargs) if check is not None else 0
        charge(paid)
        if wants == "context":
            result = func(context, value, *args, **kwargs)
        elif wants == "eval_context":
            result = func(context.eval_ctx, value, *args, **kwargs)
        elif wants == "environment":
            result = func(context.environment, value, *args, **kwargs)
        else:
            result = func(value, *args, **kwargs)
        return made(result, value, paid=paid)

    guarded._consentgen_guarded = True
    return guarded


class GuardedFilters(dict):
    """The environment's filters: each one guarded as it is added."""

    def __init__(self, filters: dict[str, Callable[..., Any]]):
        super().__init__({name: guard_filter(name, f) for name, f in filters.items()})

    def __setitem__(self, name: str, func: Callable[..., Any]) -> None:
        super().__setitem__(name, guard_filter(name, func))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for name, func in dict(*args, **kwargs).items():
            self[name] = func

    def setdefault(self, name: str, func: Any = None) -> Any:
        if name not in self:
            self[name] = func
        return self[name]


# -- globals ----------------------------------------------------------------------------

def limited_range(*args: int) -> range:
    """range(), at most MAX_RANGE numbers."""
    numbers = range(*args)
    try:
        too_many = len(numbers) > MAX_RANGE
    except OverflowError:
        too_many = True
    if too_many:
        refuse(f"a range of more than {MAX_RANGE:,} numbers")
    return numbers


def limited_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002 - Jinja's names
    """lipsum(), at most MAX_PARAGRAPHS paragraphs of at most MAX_WORDS words."""
    if not isinstance(n, int) or n > MAX_PARAGRAPHS:
        refuse(f"lipsum() of more than {MAX_PARAGRAPHS} paragraphs")
    if not isinstance(min, int) or not isinstance(max, int) or max > MAX_WORDS or min > MAX_WORDS:
        refuse(f"lipsum() paragraphs of more than {MAX_WORDS:,} words")
    return generate_lorem_ipsum(n, html, min, max)


# -- what the compiled templates call (see _Instrument) ---------------------------------
# Each is reached only as ``environment._consentgen_NAME`` in the code Jinja
# generates from the instrumented tree: no filter or global a template could
# name (``map('...')`` looks filters up by a name given as text), and no
# template can reach the environment. ``LimitedEnvironment.call`` runs them
# directly, with the context, and nothing else does.

class _Hook:
    """One of the instrumentation's checks; see ``LimitedEnvironment.call``."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[..., Any]):
        self.func = func


def _loop(context, iterable: Any) -> Iterator[Any]:
    """Every {% for %} iterates through this: the clock is checked on each item."""
    charge(LOOP_BYTES)
    for item in iterable:
        tick()
        yield item


def _concat(context, parts: list[Any]) -> str:
    """``a ~ b``: refused before the join if the result would be too long."""
    total = 0
    for part in parts:
        total += weight(part, MAX_LENGTH - total)
        if total > MAX_LENGTH:
            refuse(f"joining texts to more than {MAX_LENGTH:,} characters")
    tick()
    charge(total)
    return made(markup_join(parts) if context.eval_ctx.autoescape else str_join(parts), paid=total)


def _literal(context, value: Any) -> Any:
    """A list, tuple or dict the template writes out (``[a, b]``, ``{'k': v}``): its own slots.

    What it holds was counted when it was made; a literal is bounded by the
    source, but a loop may make one many times and keep each.
    """
    charge(sys.getsizeof(value))
    return value


def _written(context, size: int) -> Markup:
    """Count the template text an output writes (it may run once per loop item, or per macro call)."""
    wrote(size)
    return Markup("")


HOOKS = {"loop": _loop, "concat": _concat, "written": _written, "literal": _literal}
_HOOK_PREFIX = "_consentgen_"


def counting_finalize(finalize: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """Count each printed value ({{ }}) against the document's budget, before it becomes text."""

    def counted(value: Any) -> Any:
        size = weight(value)
        if size > MAX_LENGTH:
            refuse(f"printing a value longer than {MAX_LENGTH:,} characters")
        wrote(size)
        return finalize(value) if finalize is not None else value

    return counted


class _Instrument(NodeTransformer):
    """Put the checks into a parsed template: each loop and its items, each output, each ``~``, each literal."""

    def __init__(self, environment):
        self.environment = environment

    def _hook(self, name: str, arg: nodes.Expr, lineno: int) -> nodes.Call:
        """``environment._consentgen_NAME(arg)``: a call no template source can spell."""
        return nodes.Call(nodes.EnvironmentAttribute(_HOOK_PREFIX + name, lineno=lineno), [arg], [], None, None,
                          lineno=lineno)

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = self._hook("loop", node.iter, node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return self._hook("concat", nodes.List(node.nodes, lineno=node.lineno), node.lineno)

    def _charged(self, node: nodes.List | nodes.Tuple | nodes.Dict) -> nodes.Expr:
        self.generic_visit(node)
        if getattr(node, "ctx", "load") != "load":      # {% set a, b = ... %}: names, not a tuple
            return node
        return self._hook("literal", node, node.lineno)

    visit_List = visit_Tuple = visit_Dict = _charged

    def _template_names(self, node: nodes.Stmt) -> nodes.Stmt:
        """{% include ['a.md', 'b.md'] %}: the list of names stays as written, for jinja2.meta to read."""
        names = node.template
        self.generic_visit(node)
        if isinstance(names, (nodes.List, nodes.Tuple)):
            node.template = names
        return node

    visit_Include = visit_Extends = visit_Import = visit_FromImport = _template_names

    def visit_Output(self, node: nodes.Output) -> nodes.Output:
        self.generic_visit(node)
        eval_ctx = nodes.EvalContext(self.environment)
        size = 0
        for child in node.nodes:
            try:
                value = child.as_const(eval_ctx)
            except Exception:  # noqa: BLE001 - not a constant: counted by finalize when it runs
                continue
            if isinstance(value, str):
                size += len(value)
        if size:
            node.nodes.insert(0, self._hook("written", nodes.Const(size, lineno=node.lineno), node.lineno))
        return node


class LimitedEnvironment(SandboxedEnvironment):
    """Jinja's sandbox, with limits on time, output and the size of everything a template makes."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.finalize = counting_finalize(self.finalize)
        self.filters = GuardedFilters(self.filters)
        for name, func in HOOKS.items():
            setattr(self, _HOOK_PREFIX + name, _Hook(func))
        self.globals.update(range=limited_range, lipsum=limited_lipsum)

    def references(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """The tree as Jinja reads it, to find the templates it names; never compiled, so not instrumented."""
        if len(source) > MAX_SOURCE:
            raise TemplateError(f"refused: a template longer than {MAX_SOURCE:,} characters",
                                Where(display_path(filename) if filename else name or "<template>"))
        return super()._parse(source, name, filename)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = _Instrument(self).visit(self.references(source, name, filename))
        tree.set_environment(self)
        return tree

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        tick()
        paid = 0
        if operator == "*":
            paid = check_times(left, right)
        elif operator == "+":
            paid = check_plus(left, right)
        elif operator == "**":
            paid = check_power(left, right)
        elif operator == "%" and isinstance(left, (str, bytes, bytearray)):
            paid = check_printf(left, right)
        charge(paid)
        return made(super().call_binop(context, operator, left, right), left, right, paid=paid)

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        if type(__obj) is _Hook:                                  # only generated code holds one
            return __obj.func(__context, *args)
        tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, KEEPERS):        # append, extend, update...: what it is given, it may keep
            kept(args, kwargs)
        elif owner is None:                    # a macro keeps its arguments (varargs, kwargs)
            charge(sys.getsizeof(args) + sys.getsizeof(kwargs))
        paid = check_method(__obj, owner, args, kwargs)
        charge(paid)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(owner, KEEPERS):
            check_made(owner)
        return made(result, owner, *args, *kwargs.values(), paid=paid)

    def getattr(self, obj: Any, attribute: str) -> Any:
        tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        tick()
        if isinstance(argument, slice):        # a copy of part of a text or list
            return made(super().getitem(obj, argument), obj)
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = str(value.__self__)
        by_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            tick()
            if by_map and len(args) == 1 and isinstance(args[0], dict):
                paid = check_format(fmt, (), args[0])
            else:
                paid = check_format(fmt, args, kwargs)
            charge(paid)
            return made(wrapped(*args, **kwargs), paid=paid)

        return update_wrapper(checked, value)

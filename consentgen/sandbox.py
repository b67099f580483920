"""Limits for templates: a time budget, an output cap, and no operation that can eat memory.

A user's template (``--templates``) is code a clinician may have copied from
anywhere. Jinja's sandbox keeps it from reaching Python's internals, but not
from running forever or filling memory: ``range(100000)`` nested twice,
``'x' * 10**9``, ``2 ** 10**8``, ``lipsum(100000)``, ``'%999999999s'``. Here:

- a time budget per document (``--template-seconds``, 10 s by default). Every
  hook the sandbox has (calls, attributes, items, operators, filters, each
  loop iteration, each output) checks the clock; on the main thread a timer
  signal is armed as well, half a second later, for anything that slips past;
- an output cap per document, and a cap on what all of a document's buffers
  (macros, ``set`` blocks, ``caller()``) may hold together;
- a size check before anything is made that could be large: ranges,
  repetition, powers, padding widths, format strings, joins, replacements,
  filters, Lorem Ipsum, and the template source itself.

Each refusal is a ``TemplateError`` raised inside the template, so the caller
names template:line. No message quotes a value: only sizes and limits.
"""
from __future__ import annotations

import functools
import math
import re
import signal
import string
import threading
import time
from decimal import Decimal
from functools import update_wrapper
from typing import Any, Callable, Iterable, Iterator, NoReturn

from jinja2 import nodes, pass_context
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from .errors import TemplateError, Where, display_path

DEFAULT_SECONDS = 10.0
MAX_RANGE = 10_000            # numbers in one range()
MAX_LENGTH = 1_000_000        # characters in one text, items in one list, a width or count
MAX_DIGITS = 4_000            # digits in one whole number (Python prints no more than 4,300)
MAX_OUTPUT = 2_000_000        # characters of Markdown in one document
MAX_WRITTEN = 20_000_000      # characters written by one document in all, macros and blocks included
MAX_SOURCE = 1_000_000        # characters in one template file
MAX_WRAP = 100_000            # characters the wordwrap filter takes (its cost grows with the square)
MAX_PARAGRAPHS = 50           # lipsum(n)
MAX_WORDS = 1_000             # lipsum(max=...)
ALARM_GRACE = 0.5             # the timer signal fires this long after the budget, if no check caught it
ALARM_GIVE_UP = 5.0           # ...and stops firing this long after it

_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_CONTAINERS = (list, tuple, set, frozenset, dict)


class TemplateTimeout(TemplateError):
    """A document's templates ran longer than their budget."""

    def __init__(self, seconds: float):
        super().__init__(f"stopped: still rendering after {seconds:g} s, the limit "
                         f"(--template-seconds sets it)")


def refuse(what: str) -> NoReturn:
    raise TemplateError(f"refused: {what}")


# -- the budget of the document being rendered ---------------------------------

class _Run:
    """One document's render: its deadline and what it has written so far."""

    __slots__ = ("seconds", "deadline", "written", "active")

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.written = 0
        self.active = True


class _State(threading.local):
    run: _Run | None = None


_state = _State()

def tick() -> None:
    """Stop the render if its time is up (cheap: called on every hook)."""
    run = _state.run
    if run is not None and time.monotonic() > run.deadline:
        raise TemplateTimeout(run.seconds)


def _wrote(size: int) -> None:
    run = _state.run
    if run is None:
        return
    run.written += size
    if run.written > MAX_WRITTEN:
        refuse(f"the templates wrote more than {MAX_WRITTEN:,} characters for one document")
    if time.monotonic() > run.deadline:
        raise TemplateTimeout(run.seconds)


class Budget:
    """``with Budget(seconds):`` one document's render. On leaving, however that happens,
    the timer signal is disarmed and the previous handler put back.

    A class, not a generator: leaving runs ``__exit__`` directly, with no
    generator to resume that a stray signal could leave unfinished.
    """

    def __init__(self, seconds: float | None = None):
        self.run = _Run(DEFAULT_SECONDS if seconds is None else seconds)
        self.outer: _Run | None = None
        self.armed: tuple | None = None

    def __enter__(self) -> _Run:
        self.outer, _state.run = _state.run, self.run
        self.armed = _arm(self.run)
        return self.run

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self.run.active = False        # from here on the handler does nothing
        finally:
            _disarm(self.armed)
            _state.run = self.outer


def _arm(run: _Run) -> tuple | None:
    """A timer signal as a backstop, on the main thread only, and only if no other timer is set."""
    if (not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0)):
        return None

    def on_alarm(signum, frame):
        if not run.active:
            return
        late = time.monotonic() - run.deadline
        if late > ALARM_GIVE_UP:       # stopped long ago, or something keeps catching the stop: no more signals
            signal.setitimer(signal.ITIMER_REAL, 0)
        elif late > 0:
            raise TemplateTimeout(run.seconds)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, run.seconds + ALARM_GRACE, 0.25)   # again every 0.25 s if swallowed
    return (previous,)


def _disarm(armed: tuple | None) -> None:
    if armed is not None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        previous = armed[0]
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


def render(template, context: dict[str, Any], seconds: float | None = None) -> str:
    """Render a template within its budget and the output cap."""
    with Budget(seconds):
        chunks = template.generate(context)
        parts: list[str] = []
        size = 0
        for chunk in chunks:
            size += len(chunk)
            parts.append(chunk)
            if size > MAX_OUTPUT:      # thrown into the template, so the error names its line
                chunks.throw(TemplateError(f"stopped: the document is longer than {MAX_OUTPUT:,} characters"))
            tick()
        return "".join(parts)


# -- sizes ------------------------------------------------------------------------

def weight(value: Any, limit: int = MAX_LENGTH) -> int:
    """About how many characters ``str(value)`` has; counting stops once past ``limit``.

    A list holding one long text many times prints it many times, so items are
    counted each time they occur (shared or not).
    """
    total = 0
    todo = [value]
    while todo and total <= limit:
        item = todo.pop()
        if isinstance(item, (str, bytes, bytearray)):
            total += len(item)
        elif isinstance(item, _CONTAINERS):
            total += 2 + 2 * len(item)
            if total <= limit:
                todo.extend(item.items() if isinstance(item, dict) else item)
        elif type(item) is int:
            total += item.bit_length() // 3 + 1
        else:
            total += 1
    return total


def _check_text(value: Any, what: str = "a text") -> None:
    if weight(value) > MAX_LENGTH:
        refuse(f"{what} longer than {MAX_LENGTH:,} characters")


def check_made(value: Any) -> Any:
    """Refuse a value that is too large now that it exists (each check before it keeps this rare)."""
    if isinstance(value, (str, bytes, bytearray)):
        if len(value) > MAX_LENGTH:
            refuse(f"a text longer than {MAX_LENGTH:,} characters")
    elif isinstance(value, _CONTAINERS):
        if len(value) > MAX_LENGTH:
            refuse(f"a list of more than {MAX_LENGTH:,} items")
    elif isinstance(value, int) and value.bit_length() > _MAX_BITS:
        refuse(f"a number of more than {MAX_DIGITS:,} digits")
    return value


def _count(value: Any, what: str) -> None:
    if isinstance(value, int) and abs(value) > MAX_LENGTH:
        refuse(f"{what} over {MAX_LENGTH:,}")


def _int_bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _check_times(left: Any, right: Any) -> None:
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, _SEQUENCES) and isinstance(n, int) and len(seq) * n > MAX_LENGTH:
            kind = "a text" if isinstance(seq, (str, bytes, bytearray)) else "a list"
            refuse(f"repeating {kind} to more than {MAX_LENGTH:,} {'characters' if 'text' in kind else 'items'}")
    if isinstance(left, int) and isinstance(right, int) and _int_bits(left) + _int_bits(right) > _MAX_BITS:
        refuse(f"a number of more than {MAX_DIGITS:,} digits")


def _check_plus(left: Any, right: Any) -> None:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES) and len(left) + len(right) > MAX_LENGTH:
        refuse(f"joining texts or lists to more than {MAX_LENGTH:,} characters or items")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if exponent * math.log2(abs(base)) > _MAX_BITS:
            refuse(f"a power of more than {MAX_DIGITS:,} digits")


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def _format_size(fmt: str, fields: int, widths: int, args: Iterable[Any]) -> None:
    """Refuse a format whose result could be longer than the limit."""
    args = list(args)
    biggest = max((weight(a) for a in args), default=0)
    if len(fmt) + widths + fields * biggest > MAX_LENGTH:
        refuse(f"a formatted text longer than {MAX_LENGTH:,} characters")


def _format_args(args: Any) -> list[Any]:
    if isinstance(args, dict):
        return list(args.values())
    return list(args) if isinstance(args, tuple) else [args]


def check_printf(fmt: Any, args: Any) -> None:
    """``'%999999999s' % x`` and the ``format`` filter: widths and what the fields print."""
    if isinstance(fmt, (bytes, bytearray)):
        fmt = fmt.decode("latin-1")
    if not isinstance(fmt, str):
        return
    values = _format_args(args)
    fields = widths = 0
    for m in _PRINTF.finditer(fmt):
        fields += 1
        for number in m.groups():
            if number == "*":
                widths += sum(abs(v) for v in values if isinstance(v, int))
            elif number:
                widths += int(number) if len(number) < 10 else MAX_LENGTH + 1
    _format_size(fmt, fields, widths, values)


def check_format(fmt: str, args: tuple, kwargs: dict) -> None:
    """``'{:>999999999}'.format(x)``: widths, precisions and what the fields print."""
    values = [*args, *kwargs.values()]
    fields = widths = 0
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError:
        return                        # the call itself says what is wrong
    for _, field_name, spec, _ in parsed:
        if field_name is None:
            continue
        fields += 1
        for number in re.findall(r"\d+", spec or ""):
            widths += int(number) if len(number) < 10 else MAX_LENGTH + 1
        if spec and "{" in spec:      # a width taken from the arguments
            widths += sum(abs(v) for v in values if isinstance(v, int))
    _format_size(fmt, fields, widths, values)


# -- methods of built-in types ------------------------------------------------------

def _check_method(func: Any, owner: Any, args: tuple, kwargs: dict) -> None:
    """Before a built-in type's method runs: no count over the limit, no result over it."""
    if not isinstance(owner, (str, bytes, bytearray, int)):
        return                        # a list's, dict's or set's size is checked after the call
    for value in (*args, *kwargs.values()):
        _count(value, "a width or count")   # 'x'.ljust(10**9), (1).to_bytes(10**9)
    if isinstance(owner, int):
        return
    name = getattr(func, "__name__", "")
    size = len(owner)
    if name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, type(owner)) and isinstance(new, type(owner)) and len(new) > len(old):
            times = owner.count(old) if old else size + 1
            count = args[2] if len(args) > 2 else kwargs.get("count", -1)
            if isinstance(count, int) and count >= 0:
                times = min(times, count)
            size += times * (len(new) - len(old))
    elif name == "join" and args and isinstance(args[0], _CONTAINERS):
        size = weight(args[0]) + size * len(args[0])
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        size += owner.count("\t" if isinstance(owner, str) else b"\t") * (tab if isinstance(tab, int) else 8)
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, (str, bytes))), default=1)
        size *= max(longest, 1)
    if size > MAX_LENGTH:
        refuse(f"a text longer than {MAX_LENGTH:,} characters")


# -- filters --------------------------------------------------------------------------

def _lines(text: Any) -> int:
    return str(text).count("\n") + 1


def _f_center(value, width=80, *a, **k):
    _count(width, "a width")


def _f_indent(s, width=4, first=False, blank=False, *a, **k):
    _count(width, "a width")
    step = width if isinstance(width, int) else len(str(width))
    if weight(s) + _lines(s) * step > MAX_LENGTH:
        refuse(f"an indented text longer than {MAX_LENGTH:,} characters")


def _f_format(value, *args, **kwargs):
    check_printf(str(value) if isinstance(value, (str, int, float)) else value, kwargs or args)


def _f_join(value, d="", attribute=None, *a, **k):
    if isinstance(value, _CONTAINERS) and weight(value) + len(str(d)) * len(value) > MAX_LENGTH:
        refuse(f"a joined text longer than {MAX_LENGTH:,} characters")


def _f_replace(s, old="", new="", count=None, *a, **k):
    text, old, new = str(s), str(old), str(new)
    if len(new) > len(old):
        times = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        if len(text) + times * (len(new) - len(old)) > MAX_LENGTH:
            refuse(f"a text longer than {MAX_LENGTH:,} characters")


def _f_wordwrap(s, width=79, break_long_words=True, wrapstring=None, *a, **k):
    text = str(s)
    if len(text) > MAX_WRAP:
        refuse(f"wrapping a text longer than {MAX_WRAP:,} characters")
    if wrapstring is not None and isinstance(width, int) and width > 0:
        lines = len(text) // width + _lines(text)
        if len(text) + lines * len(str(wrapstring)) > MAX_LENGTH:
            refuse(f"a wrapped text longer than {MAX_LENGTH:,} characters")


def _f_batch(value, linecount=None, fill_with=None, *a, **k):
    _count(linecount, "a batch size")


def _f_slice(value, slices=None, fill_with=None, *a, **k):
    if isinstance(slices, int) and slices > MAX_RANGE:
        refuse(f"more than {MAX_RANGE:,} slices")


def _f_sum(iterable, attribute=None, start=0, *a, **k):
    if not isinstance(start, (int, float, Decimal)) and isinstance(iterable, _CONTAINERS):
        if len(iterable) * weight(iterable) > 10 * MAX_LENGTH:     # adding lists copies them again each time
            refuse("adding up that many lists")


def _f_truncate(s, length=255, killwords=False, end="...", *a, **k):
    _count(length, "a length")


_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _f_center, "indent": _f_indent, "format": _f_format, "join": _f_join, "replace": _f_replace,
    "wordwrap": _f_wordwrap, "batch": _f_batch, "slice": _f_slice, "sum": _f_sum, "truncate": _f_truncate,
}


def guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that checks its arguments and its result, and is never run at compile time.

    Made a context filter, so Jinja cannot fold it into a constant while compiling
    (where no budget applies); the filter itself still gets what it asked for.
    """
    if getattr(func, "_consentgen_guarded", False):
        return func
    wants = getattr(getattr(func, "jinja_pass_arg", None), "name", None)
    check = _FILTER_CHECKS.get(name)

    @pass_context                     # applied after wraps(), which copied the inner filter's own
    @functools.wraps(func)
    def guarded(context, value, *args, **kwargs):
        tick()
        _check_text(value)
        if check is not None:
            check(value, *args, **kwargs)
        if wants == "context":
            result = func(context, value, *args, **kwargs)
        elif wants == "eval_context":
            result = func(context.eval_ctx, value, *args, **kwargs)
        elif wants == "environment":
            result = func(context.environment, value, *args, **kwargs)
        else:
            result = func(value, *args, **kwargs)
        return check_made(result)

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
    for item in iterable:
        run = _state.run
        if run is not None and time.monotonic() > run.deadline:
            raise TemplateTimeout(run.seconds)
        yield item


def _concat(context, parts: list[Any]) -> str:
    """``a ~ b``: refused before the join if the result would be too long."""
    total = 0
    for part in parts:
        total += weight(part, MAX_LENGTH - total)
        if total > MAX_LENGTH:
            refuse(f"joining texts to more than {MAX_LENGTH:,} characters")
    tick()
    return markup_join(parts) if context.eval_ctx.autoescape else str_join(parts)


def _written(context, size: int) -> Markup:
    """Count the template text an output writes (it may run once per loop item, or per macro call)."""
    _wrote(size)
    return Markup("")


HOOKS = {"loop": _loop, "concat": _concat, "written": _written}
_HOOK_PREFIX = "_consentgen_"


def counting_finalize(finalize: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """Count each printed value ({{ }}) against the document's budget, before it becomes text."""

    def counted(value: Any) -> Any:
        size = weight(value)
        if size > MAX_LENGTH:
            refuse(f"printing a value longer than {MAX_LENGTH:,} characters")
        _wrote(size)
        return finalize(value) if finalize is not None else value

    return counted


class _Instrument(NodeTransformer):
    """Put the checks into a parsed template: each loop item, each output, each ``~``."""

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

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        self.generic_visit(node)
        return self._hook("concat", nodes.List(node.nodes, lineno=node.lineno), node.lineno)

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

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        if len(source) > MAX_SOURCE:
            raise TemplateError(f"refused: a template longer than {MAX_SOURCE:,} characters",
                                Where(display_path(filename) if filename else name or "<template>"))
        tree = super()._parse(source, name, filename)
        tree = _Instrument(self).visit(tree)
        tree.set_environment(self)
        return tree

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        tick()
        if operator == "*":
            _check_times(left, right)
        elif operator == "+":
            _check_plus(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, (str, bytes, bytearray)):
            check_printf(left, right)
        return check_made(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        if type(__obj) is _Hook:                                  # only generated code holds one
            return __obj.func(__context, *args)
        tick()
        owner = getattr(__obj, "__self__", None)
        if owner is not None:
            _check_method(__obj, owner, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(owner, (list, dict, set, bytearray)):      # append, extend, update...
            check_made(owner)
        return check_made(result)

    def getattr(self, obj: Any, attribute: str) -> Any:
        tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        tick()
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
                check_format(fmt, (), args[0])
            else:
                check_format(fmt, args, kwargs)
            return check_made(wrapped(*args, **kwargs))

        return update_wrapper(checked, value)

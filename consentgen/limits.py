"""The limits on templates: a time budget, caps on output and memory, and size checks.

A user's template (``--templates``) is code a clinician may have copied from
anywhere. Jinja's sandbox keeps it from reaching Python's internals, but not
from running forever or filling memory: ``range(100000)`` nested twice,
``'x' * 10**9``, ``2 ** 10**8``, ``lipsum(100000)``, ``'%999999999s'``. Here:

- a time budget per document (``--template-seconds``, 10 s by default). Every
  hook the sandbox has (calls, attributes, items, operators, filters, each
  loop iteration, each output) checks the clock; on the main thread a timer
  signal is armed as well, half a second later, for anything that slips past;
- an output cap per document, and a cap on all the text its templates write,
  printed or not: what macros, ``set`` blocks and ``caller()`` write into
  their buffers is counted as it is written, so no buffer holds more;
- a cap on all that a document's templates make, in bytes: every text, list
  or other value a filter, method, operator, ``~``, format or slice gives
  back (with all it holds), each list, tuple or dict the template writes out,
  each loop, and all that a list, dict or set is handed to keep. Nothing is
  given back when a value is let go, so this also bounds what is held;
- a size check before anything is made that could be large: ranges,
  repetition, powers, padding widths, format strings, joins, replacements,
  filters, Lorem Ipsum, and the template source itself. Where the size is
  known in advance it is charged to the cap before the thing is made.

Each refusal is a ``TemplateError`` raised inside the template, so the caller
names template:line. No message quotes a value: only sizes and limits.
``sandbox.py`` puts these checks into Jinja's sandbox.
"""
from __future__ import annotations

import math
import re
import signal
import string
import sys
import threading
import time
from decimal import Decimal
from typing import Any, Callable, Iterable, NoReturn

from jinja2.utils import Namespace

from .errors import TemplateError

DEFAULT_SECONDS = 10.0
MAX_RANGE = 10_000            # numbers in one range()
MAX_LENGTH = 1_000_000        # characters in one text, items in one list, a width or count
MAX_DIGITS = 4_000            # digits in one whole number (Python prints no more than 4,300)
MAX_OUTPUT = 2_000_000        # characters of Markdown in one document
MAX_WRITTEN = 20_000_000      # characters written by one document in all, macros and blocks included
MAX_MADE = 50_000_000         # bytes of texts, lists and other values one document's templates make, in all
MAX_SOURCE = 1_000_000        # characters in one template file
MAX_WRAP = 100_000            # characters the wordwrap filter takes (its cost grows with the square)
MAX_PARAGRAPHS = 50           # lipsum(n)
MAX_WORDS = 1_000             # lipsum(max=...)
ALARM_GRACE = 0.5             # the timer signal fires this long after the budget, if no check caught it
ALARM_GIVE_UP = 5.0           # ...and stops firing this long after it

_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_CONTAINERS = (list, tuple, set, frozenset, dict)
KEEPERS = (list, dict, set, bytearray)      # what a method call can add to (append, update, add...)
LOOP_BYTES = 600             # a loop's own objects: its LoopContext and iterators (CPython 3.11)


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

    __slots__ = ("seconds", "deadline", "written", "made", "active")

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.written = 0
        self.made = 0
        self.active = True


class _State(threading.local):
    run: _Run | None = None


_state = _State()


def tick() -> None:
    """Stop the render if its time is up (cheap: called on every hook)."""
    run = _state.run
    if run is not None and time.monotonic() > run.deadline:
        raise TemplateTimeout(run.seconds)


def wrote(size: int) -> None:
    run = _state.run
    if run is None:
        return
    run.written += size
    if run.written > MAX_WRITTEN:
        refuse(f"the templates wrote more than {MAX_WRITTEN:,} characters for one document")
    tick()


def charge(size: int) -> None:
    """Count ``size`` bytes the templates made (or are about to make) for the document being rendered.

    Nothing is given back when a value is let go (only an estimate charged in
    advance is corrected), so a bound on all that is made bounds what is held.
    """
    run = _state.run
    if run is None:
        return
    run.made += size
    if run.made > MAX_MADE:
        refuse(f"the templates made more than {MAX_MADE // 1_000_000} MB of texts and lists for one document")


def kept(args: tuple, kwargs: dict) -> None:
    """A list, dict or set's method was handed these (append, extend, update...): it may keep them all."""
    run = _state.run
    if run is not None:
        charge(footprint((args, kwargs), MAX_MADE - run.made))


def made(value: Any, *inputs: Any, paid: int = 0) -> Any:
    """``value`` was just made by a template's operation: check its size and charge for it, then return it.

    ``paid``: bytes already charged for it before it was made (a size known in
    advance, so a refusal comes before the allocation). A value that is one of
    ``inputs`` (a filter or method that gave back what it got) is not new.
    """
    check_made(value)
    run = _state.run
    if run is not None and not any(value is i for i in inputs):
        charge(footprint(value, MAX_MADE - run.made + paid) - paid)
    return value


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

def _total(value: Any, limit: int, own: Callable[[Any], int]) -> int:
    """``own`` size of ``value`` and of everything it holds; counting stops once past ``limit``.

    Lists, tuples, sets, dicts and namespaces are looked into. An item held
    many times is counted each time (shared or not): a list holding one long
    text a thousand times prints it a thousand times.
    """
    total = 0
    todo = [value]
    while todo and total <= limit:
        item = todo.pop()
        total += own(item)
        if total > limit:
            break
        if isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            todo.extend(item)
        elif isinstance(item, Namespace):
            todo.append(object.__getattribute__(item, "__dict__"))   # its attributes (hidden from vars())
    return total


def _printed(item: Any) -> int:
    if isinstance(item, (str, bytes, bytearray)):
        return len(item)
    if isinstance(item, _CONTAINERS):
        return 2 + (4 if isinstance(item, dict) else 2) * len(item)
    if type(item) is int:
        return item.bit_length() // 3 + 1
    return 1


def weight(value: Any, limit: int = MAX_LENGTH) -> int:
    """About how many characters ``str(value)`` has; counting stops once past ``limit``."""
    return _total(value, limit, _printed)


def footprint(value: Any, limit: int) -> int:
    """About how many bytes of memory ``value`` takes, with all it holds; counting stops once past ``limit``."""
    return _total(value, limit, sys.getsizeof)


def check_text(value: Any, what: str = "a text") -> None:
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


def check_times(left: Any, right: Any) -> int:
    """``'x' * n``, ``[0] * n`` and large products: the characters or items it makes."""
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, _SEQUENCES) and isinstance(n, int):
            size = len(seq) * n
            if size > MAX_LENGTH:
                kind = "a text" if isinstance(seq, (str, bytes, bytearray)) else "a list"
                refuse(f"repeating {kind} to more than {MAX_LENGTH:,} {'characters' if 'text' in kind else 'items'}")
            return max(size, 0)
    if isinstance(left, int) and isinstance(right, int) and _int_bits(left) + _int_bits(right) > _MAX_BITS:
        refuse(f"a number of more than {MAX_DIGITS:,} digits")
    return 0


def check_plus(left: Any, right: Any) -> int:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        size = len(left) + len(right)
        if size > MAX_LENGTH:
            refuse(f"joining texts or lists to more than {MAX_LENGTH:,} characters or items")
        return size
    return 0


def check_power(base: Any, exponent: Any) -> int:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if exponent * math.log2(abs(base)) > _MAX_BITS:
            refuse(f"a power of more than {MAX_DIGITS:,} digits")
    return 0


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def _format_size(fmt: str, fields: int, widths: int, args: Iterable[Any]) -> int:
    """Refuse a format whose result could be longer than the limit; else that longest length."""
    biggest = max((weight(a) for a in args), default=0)
    size = len(fmt) + widths + fields * biggest
    if size > MAX_LENGTH:
        refuse(f"a formatted text longer than {MAX_LENGTH:,} characters")
    return size


def _format_args(args: Any) -> list[Any]:
    if isinstance(args, dict):
        return list(args.values())
    return list(args) if isinstance(args, tuple) else [args]


def check_printf(fmt: Any, args: Any) -> int:
    """``'%999999999s' % x`` and the ``format`` filter: widths and what the fields print."""
    if isinstance(fmt, (bytes, bytearray)):
        fmt = fmt.decode("latin-1")
    if not isinstance(fmt, str):
        return 0
    values = _format_args(args)
    fields = widths = 0
    for m in _PRINTF.finditer(fmt):
        fields += 1
        for number in m.groups():
            if number == "*":
                widths += sum(abs(v) for v in values if isinstance(v, int))
            elif number:
                widths += int(number) if len(number) < 10 else MAX_LENGTH + 1
    return _format_size(fmt, fields, widths, values)


def check_format(fmt: str, args: tuple, kwargs: dict) -> int:
    """``'{:>999999999}'.format(x)``: widths, precisions and what the fields print."""
    values = [*args, *kwargs.values()]
    fields = widths = 0
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError:
        return 0                      # the call itself says what is wrong
    for _, field_name, spec, _ in parsed:
        if field_name is None:
            continue
        fields += 1
        for number in re.findall(r"\d+", spec or ""):
            widths += int(number) if len(number) < 10 else MAX_LENGTH + 1
        if spec and "{" in spec:      # a width taken from the arguments
            widths += sum(abs(v) for v in values if isinstance(v, int))
    return _format_size(fmt, fields, widths, values)


def _replaced_size(text: Any, old: Any, new: Any, count: Any) -> int:
    """The length of ``text.replace(old, new, count)``, worked out without making it."""
    size = len(text)
    if len(new) > len(old):
        times = text.count(old) if old else size + 1
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        size += times * (len(new) - len(old))
    return size


def _check_length(size: int, what: str = "a text") -> int:
    if size > MAX_LENGTH:
        refuse(f"{what} longer than {MAX_LENGTH:,} characters")
    return size


# -- methods of built-in types ------------------------------------------------------

_PADDING = frozenset({"center", "ljust", "rjust", "zfill"})


def check_method(func: Any, owner: Any, args: tuple, kwargs: dict) -> int:
    """Before a built-in type's method runs: no count over the limit, no result over it.

    Returns the length of the text it will make, when that is known (else 0).
    """
    if not isinstance(owner, (str, bytes, bytearray, int)):
        return 0                      # a list's, dict's or set's size is checked after the call
    for value in (*args, *kwargs.values()):
        _count(value, "a width or count")   # 'x'.ljust(10**9), (1).to_bytes(10**9)
    if isinstance(owner, int):
        return 0
    name = getattr(func, "__name__", "")
    size = len(owner)
    if name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, type(owner)) and isinstance(new, type(owner)):
            size = _replaced_size(owner, old, new, args[2] if len(args) > 2 else kwargs.get("count", -1))
    elif name == "join" and args and isinstance(args[0], _CONTAINERS):
        size = weight(args[0]) + size * len(args[0])
    elif name in _PADDING and args and isinstance(args[0], int):
        size = max(size, args[0])
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        size += owner.count("\t" if isinstance(owner, str) else b"\t") * (tab if isinstance(tab, int) else 8)
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, (str, bytes))), default=1)
        size *= max(longest, 1)
    return _check_length(size)


# -- filters --------------------------------------------------------------------------
# Each check refuses arguments that would make too much, and returns the length
# of the text the filter will make when that is known (else 0).

def _lines(text: Any) -> int:
    return str(text).count("\n") + 1


def _f_center(value, width=80, *a, **k):
    _count(width, "a width")
    return max(weight(value), width if isinstance(width, int) else 0)


def _f_indent(s, width=4, first=False, blank=False, *a, **k):
    _count(width, "a width")
    step = width if isinstance(width, int) else len(str(width))
    return _check_length(weight(s) + _lines(s) * step, "an indented text")


def _f_format(value, *args, **kwargs):
    return check_printf(str(value) if isinstance(value, (str, int, float)) else value, kwargs or args)


def _f_join(value, d="", attribute=None, *a, **k):
    if isinstance(value, _CONTAINERS):
        return _check_length(weight(value) + len(str(d)) * len(value), "a joined text")
    return 0


def _f_replace(s, old="", new="", count=None, *a, **k):
    return _check_length(_replaced_size(str(s), str(old), str(new), count))


def _f_wordwrap(s, width=79, break_long_words=True, wrapstring=None, *a, **k):
    text = str(s)
    if len(text) > MAX_WRAP:
        refuse(f"wrapping a text longer than {MAX_WRAP:,} characters")
    if wrapstring is not None and isinstance(width, int) and width > 0:
        lines = len(text) // width + _lines(text)
        return _check_length(len(text) + lines * len(str(wrapstring)), "a wrapped text")
    return len(text)


def _f_batch(value, linecount=None, fill_with=None, *a, **k):
    _count(linecount, "a batch size")
    return 0


def _f_slice(value, slices=None, fill_with=None, *a, **k):
    if isinstance(slices, int) and slices > MAX_RANGE:
        refuse(f"more than {MAX_RANGE:,} slices")
    return 0


def _f_sum(iterable, attribute=None, start=0, *a, **k):
    if not isinstance(start, (int, float, Decimal)) and isinstance(iterable, _CONTAINERS):
        if len(iterable) * weight(iterable) > 10 * MAX_LENGTH:     # adding lists copies them again each time
            refuse("adding up that many lists")
    return 0


def _f_truncate(s, length=255, killwords=False, end="...", *a, **k):
    _count(length, "a length")
    return 0


FILTER_CHECKS: dict[str, Callable[..., int]] = {
    "center": _f_center, "indent": _f_indent, "format": _f_format, "join": _f_join, "replace": _f_replace,
    "wordwrap": _f_wordwrap, "batch": _f_batch, "slice": _f_slice, "sum": _f_sum, "truncate": _f_truncate,
}

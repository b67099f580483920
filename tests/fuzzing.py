"""The fuzzing harness behind tests/test_fuzz.py: mutated profiles and rosters, and the contract they must keep.

A *case* starts from a copy of one example profile (a practice file and a
clinician file) and changes its YAML *text*, so PyYAML's reader, the safe
loader and the schema all meet the mutation, not only the schema:

- a value at a random key path replaced by a random YAML value (any unicode,
  control characters, right-to-left text, emoji, long strings round the
  limits, huge numbers, nan and inf, impossible dates, lists, mappings, null,
  booleans, tags, anchors and aliases, markup);
- a key deleted, an unknown key added, a key written twice;
- the text itself damaged: characters inserted or deleted, tabs, bad
  indentation, unbalanced quotes, the file truncated, other encodings.

The contract (``expect_render`` and friends) is the project's error contract:
every command either succeeds with files that reopen (pikepdf, python-docx),
or refuses with exit 2 and one line; never a traceback, never another exit
code, never a client's name in an error, nothing written by a refused render.

Each breach raises its own exception class (or the original exception, for a
crash), so Hypothesis shrinks each distinct bug separately. With
``CONSENTGEN_FUZZ_LOG=FILE.jsonl`` set, breaches are appended to that file
instead of raised: a run then goes through every example, which is how the
findings of a long run are catalogued (see ``python -m tests.fuzzing``).
"""
from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import traceback
import warnings
from pathlib import Path
from typing import Any

import yaml
from hypothesis import event
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "profiles"

# (practice folder, clinician file): a group practice with a logo, a solo video-only practice, a New York one.
BASES = (
    ("example-practice", "ana-nunez.yaml"),
    ("example-solo", "noor-haddad.yaml"),
    ("example-ny", "grace-obi.yaml"),
)
DOCS = ("contact", "breaks", "relationship", "self-disclosure", "ending-therapy", "informed-consent",
        "fees-and-cancellations", "social-media-and-online", "acknowledgement", "key-points", "our-relationship",
        "telehealth-consent", "privacy-notice-acknowledgement")

# ---------------------------------------------------------------------------------------------------------------
# Failures: one class per kind, so Hypothesis keeps distinct bugs apart while shrinking.


class FuzzFailure(AssertionError):
    """The error contract was broken."""


class NotOneLine(FuzzFailure):
    """A refusal of more or fewer than one line (or with a line break character inside it)."""


class NoPlace(FuzzFailure):
    """An error that names no file (profile, roster, template) where the problem is."""


class ControlCharInError(FuzzFailure):
    """An error message holds a raw control character (a terminal may act on it)."""


class UnexpectedExit(FuzzFailure):
    """An exit code the command may not use for this outcome."""


class BadOutput(FuzzFailure):
    """A command said it succeeded but a file it wrote does not reopen."""


class HalfWritten(FuzzFailure):
    """A refused render left files behind."""


class WarningShown(FuzzFailure):
    """A Python warning reached the user's terminal (lines of noise, or a refusal of more than one line)."""


class InternalError(FuzzFailure):
    """A build reported an 'internal error': a traceback, caught and hidden."""


class NameLeaked(FuzzFailure):
    """A client's name reached an error message, a file name, the manifest or the build state."""


class MarkupInterpreted(FuzzFailure):
    """A value with markup did not come out literally."""


LOG_ENV = "CONSENTGEN_FUZZ_LOG"


def fail(kind: type[FuzzFailure], message: str, case: Any = None, result: Any = None,
         signature: str | None = None) -> None:
    """Raise ``kind`` (or, in log mode, record it and carry on)."""
    text = message
    if result is not None:
        text += f"\n--- exit {result.exit_code}\n--- stdout:\n{_clip(result.stdout)}\n--- stderr:\n{_clip(result.stderr)}"
    if case is not None:
        text += f"\n--- case:\n{case!r}"
    if os.environ.get(LOG_ENV):
        _log({"kind": kind.__name__, "signature": signature or signature_of(kind.__name__, result),
              "message": message,
              "stderr": result.stderr if result is not None else "", "exit": getattr(result, "exit_code", None),
              "case": repr(case)})
        return
    raise kind(text)


def crashed(exc: BaseException, case: Any = None) -> None:
    """An exception escaped the command: the worst breach. Re-raised as is (its traceback is the finding)."""
    if os.environ.get(LOG_ENV):
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "/consentgen/" in f.filename]
        where = ours[-1] if ours else (frames[-1] if frames else None)
        deepest = frames[-1] if frames else None
        _log({"kind": "Traceback", "signature": f"{type(exc).__name__} at {_frame(where)}",
              "message": f"{type(exc).__name__}: {_clip(str(exc), 300)}", "deepest": _frame(deepest),
              "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:],
              "case": repr(case)})
        return
    raise exc


def note(kind: str, message: str, case: Any = None) -> None:
    """Not a breach, but worth a look (logged only)."""
    if os.environ.get(LOG_ENV):
        _log({"kind": f"note:{kind}", "signature": kind, "message": message, "case": repr(case)})


def _frame(f) -> str:
    if f is None:
        return "?"
    name = f.filename.split("/consentgen/", 1)[-1] if "/consentgen/" in f.filename else f.filename
    return f"{name}:{f.lineno} ({f.name})"


def signature_of(kind: str, result: Any) -> str:
    """A breach's kind and the shape of its first error line, without paths, numbers or quoted values."""
    if result is None:
        return kind
    lines = [ln for ln in (result.stderr or "").splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    first = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", first)
    first = re.sub(r"(/[^\s:]+)+", "<path>", first)
    first = re.sub(r"\d+", "N", first)
    return f"{kind}: exit {result.exit_code}: {first[:120]}"


def _log(entry: dict) -> None:
    entry["test"] = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
    with open(os.environ[LOG_ENV], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=True) + "\n")


def _clip(text: str | None, most: int = 2000) -> str:
    text = text or ""
    return text if len(text) <= most else text[:most] + f"…({len(text)} chars)"


# ---------------------------------------------------------------------------------------------------------------
# YAML values, as text.

CONTROL = [chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]
INTERESTING = [
    *CONTROL,
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029", "\ufeff", "\ufffd", "\ufffe", "\uffff",
    "\u00a0", "\u00ad", "\u0301", "\u0308", "\u034f", "\u1680", "\u3000",
    "مرحبا", "سلام عليكم", "שלום", "עברית", "ایران", "ܐܒܓ",
    "😀", "👩‍👩‍👧", "🇺🇸", "🏳️‍🌈", "👍🏽", "𝒜𝓃𝒶", "𝔘", "\U0001f600", "\U0010ffff", "\U000e0041",
    "漢字", "日本語", "한국어", "ไทย", "देवनागरी", "ქართული", "Ελληνικά", "Кириллица", "ǅ", "ß", "ﬁ",
    "Nguyễn Thị Minh Khai", "Zoë", "Ångström", "İstanbul", "ŉ",
    "Ä\u0308", "a\u0300\u0301\u0302\u0303\u0304", "Z̸̢̛̛a̴l̵g̶o̷",
]
MARKUP = [
    "**x**", "*x*", "__x__", "_x_", "`code`", "# heading", "> quote", "- item", "1. item", "---", "***",
    "<b>bold</b>", "<i>", "</para>", "<para>", "<br/>", "<script>alert(1)</script>", "<font color=red>x</font>",
    "<a href='javascript:alert(1)'>x</a>", "&amp;", "&lt;b&gt;", "&#169;", "&nbsp;", "&",
    "{{ 7*7 }}", "{{7*7}}", "{% raw %}", "{% endraw %}", "{# c #}", "${7*7}", "#{7*7}", "{{ config }}",
    "{{ ''.__class__.__mro__ }}", "{% for x in range(9) %}x{% endfor %}",
    "[link](javascript:alert(1))", "[x](http://example.com)", "![img](file:///etc/passwd)", "<http://x.example>",
    "\\*escaped\\*", "| a | b |", "```", "~~~", "[^1]", "\\", "%s%n", "%(x)s", "{0}", "\\u0000",
]
MARKUP_CHARS = "*_`#<>&{}[]()!|~\\%$^=+-"


def _text(**kw) -> st.SearchStrategy[str]:
    return st.text(**kw)


ANY_TEXT = st.one_of(
    _text(max_size=30),
    st.lists(st.sampled_from(INTERESTING), max_size=8).map("".join),
    st.lists(st.one_of(_text(max_size=6), st.sampled_from(INTERESTING), st.sampled_from(MARKUP)), max_size=6)
    .map("".join),
    _text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF) | st.just(" "), max_size=20),
)
LONG_LENGTHS = (200, 1000, 1949, 1999, 2000, 2001, 3999, 4000, 4001, 10_000, 100_000, 600_000)


@st.composite
def long_text(draw) -> str:
    unit = draw(st.one_of(st.sampled_from(["word ", "x", "Supercalifragilistic", "مرحبا ", "😀", "a\u0301"]),
                          _text(min_size=1, max_size=4)))
    n = draw(st.sampled_from(LONG_LENGTHS))
    return (unit * (n // len(unit) + 1))[:n]


STRINGS = st.one_of(ANY_TEXT, ANY_TEXT, ANY_TEXT, long_text(), st.sampled_from(MARKUP))
# Text a careful user might type: any letters, marks, digits, punctuation, symbols and spaces, no control
# characters. More of it passes the schema, so the layout and the fonts meet it.
CLEAN_TEXT = st.one_of(
    st.text(st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), min_size=1, max_size=40),
    st.lists(st.one_of(st.sampled_from([w for w in INTERESTING if w not in CONTROL and len(w) > 1]),
                       st.sampled_from(MARKUP), st.sampled_from(["Ana", "session", "55-0100", " ", ", ", "."])),
             min_size=1, max_size=6).map("".join),
    long_text(),
)

# What a YAML double-quoted scalar cannot hold as it is: quotes, backslashes, and anything outside YAML 1.1's
# "printable" set, and every line break (tabs too), so the scalar stays on one line and reads back the same.
_ESCAPE = re.compile('["\\\\]|[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]')


def _escape(m: re.Match) -> str:
    ch = m.group()
    if ch in '"\\':
        return "\\" + ch
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def double_quoted(text: str, raw: bool) -> str:
    """``text`` as a YAML double-quoted scalar: escapes for what YAML cannot hold, or (raw) for nothing
    but quotes, backslashes and line breaks, so that control characters reach the reader as they are."""
    if raw:
        return '"' + re.sub('["\\\\\n]', lambda m: "\\n" if m.group() == "\n" else "\\" + m.group(), text) + '"'
    return '"' + _ESCAPE.sub(_escape, text) + '"'


def single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@st.composite
def yaml_string(draw) -> str:
    text = draw(STRINGS)
    style = draw(st.sampled_from(["double", "double", "double", "raw", "single", "plain"]))
    if style == "double":
        return double_quoted(text, raw=False)
    if style == "raw":
        return double_quoted(text, raw=True)
    if style == "single":
        return single_quoted(text)
    return text                              # plain: may well not be valid YAML, and that is fine


@st.composite
def yaml_number(draw) -> str:
    kind = draw(st.sampled_from(["int", "int", "huge", "float", "special"]))
    if kind == "int":
        return str(draw(st.integers(min_value=-(10**20), max_value=10**20)))
    if kind == "huge":
        digits = draw(st.sampled_from([19, 20, 300, 4299, 4300, 4301, 5000, 20_000]))
        return draw(st.sampled_from(["", "-"])) + "9" * digits
    if kind == "float":
        return repr(draw(st.floats(allow_nan=True, allow_infinity=True)))
    return draw(st.sampled_from([".nan", ".NaN", ".inf", "-.inf", "+.Inf", "1e400", "-1e400", "1e-400", "0x1F",
                                 "0o777", "017", "0b101", "1_000", "190:20:30", "+12", "-0", "0.0", "1.5e+3",
                                 "12.", ".5", "1,000", "$140", "140.999", "-140", "0.001"]))


@st.composite
def yaml_date(draw) -> str:
    y = draw(st.sampled_from([0, 1, 1899, 1970, 2000, 2024, 2026, 2027, 9999]) | st.integers(0, 9999))
    m = draw(st.integers(0, 13))
    d = draw(st.integers(0, 32))
    text = f"{y:04d}-{m:02d}-{d:02d}" if draw(st.booleans()) else f"{y:04d}-{m}-{d}"
    if draw(st.integers(0, 3)) == 0:
        h, mi, s = draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 61))
        tz = draw(st.sampled_from(["", "Z", "+01:00", "-25:00", " +5"]))
        text += f"T{h:02d}:{mi:02d}:{s:02d}{tz}"
    return text


SPECIALS = st.sampled_from(["~", "null", "Null", "NULL", "", "true", "false", "True", "yes", "no", "on", "off",
                            "y", "n", "Y", "N", "-", "?", ":", "'", '"', "|", ">", "#", "#comment", "%", "@", "`",
                            "!", "&", "*", "[", "]", "{", "}", ",", "- -", ": :"])
TAGGED = st.sampled_from([
    "!!binary aGVsbG8=", "!!binary !!!!", "!!python/object:os.system x", "!!python/name:os.system ''",
    "!!python/object/apply:os.system [echo]", "!custom x", "!!set {a: null}", "!!omap [{a: 1}]", "!!pairs [{a: 1}]",
    "!!timestamp 2026-13-01", "!!timestamp x", "!!int 12x", "!!int 99", "!!float abc", "!!float 1.5", "!!str 5",
    "!!null x", "!!bool maybe", "!!bool yes", "!!map {a: 1}", "!!seq [1]", "!!str", "!<tag:yaml.org,2002:str> x",
    "!<tag:example.com,2000:x> y", "&a x", "&a [1, 2]", "*a", "*nothing", "&a", "!!merge x", "!!value x",
    "!!yaml x", "!!python/tuple [1, 2]", "!!python/bytes aGk=", "!!python/complex 1+2j",
])


def _flow_scalar() -> st.SearchStrategy[str]:
    """A value that may sit inside [ ] or { }."""
    return st.one_of(
        STRINGS.map(lambda t: double_quoted(t, raw=False)), yaml_number(), yaml_date(),
        st.sampled_from(["~", "null", "true", "no", "x", "a b", "''", '""']))


def _flow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    keys = st.one_of(st.sampled_from(["a", "name", "fee", "use", "phone", "x y", "1", "~", "true", '"k"']),
                     STRINGS.map(lambda t: double_quoted(t, raw=False)))
    return st.one_of(
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(keys, children), max_size=4).map(
            lambda kvs: "{" + ", ".join(f"{k}: {v}" for k, v in kvs) + "}"),
    )


FLOW = st.recursive(_flow_scalar(), _flow, max_leaves=8)


@st.composite
def yaml_block(draw) -> tuple[str, list[str]]:
    """A block scalar: ('|' or '>' with a chomping mark, its lines)."""
    head = draw(st.sampled_from(["|", ">", "|-", ">+", "|2", ">-"]))
    lines = draw(st.lists(STRINGS.map(lambda t: t.replace("\n", " ")), min_size=0, max_size=4))
    return head, lines


# Built once: Hypothesis checks a strategy the first time it draws from it, which costs more than the draw.
YAML_STRING, YAML_NUMBER, YAML_DATE = yaml_string(), yaml_number(), yaml_date()
YAML_VALUE = st.one_of(YAML_STRING, YAML_STRING, YAML_NUMBER, YAML_DATE, SPECIALS, FLOW, TAGGED, yaml_block())
"""Any YAML value, as the text that follows ``key:`` (or a block scalar, as a tuple)."""

_LIKE = {
    bool: st.sampled_from(["true", "false", "yes", "no", "True"]),
    int: st.one_of(st.integers(-3, 400).map(str), YAML_NUMBER),
    float: YAML_NUMBER,
    dt.date: YAML_DATE,
    list: FLOW,
    dict: _flow(_flow_scalar()),
}
# A text value: new text, new text after the old value's start, or any YAML string at all.
_TEXT_LIKE = st.one_of(CLEAN_TEXT.map(lambda t: ("new", double_quoted(t, raw=False))),
                       CLEAN_TEXT.map(lambda t: ("after", t)),
                       YAML_STRING.map(lambda t: ("new", t)),
                       STRINGS.map(lambda t: ("after", t)))


@st.composite
def value_like(draw, original: Any) -> Any:
    """A value of the same kind as ``original``, so the schema more often accepts it and rendering is reached."""
    if isinstance(original, str):
        how, text = draw(_TEXT_LIKE)
        return text if how == "new" else double_quoted(original[:20] + " " + text, raw=False)
    for kind, strategy in _LIKE.items():
        if isinstance(original, kind):
            return draw(strategy)
    return draw(YAML_VALUE)


# ---------------------------------------------------------------------------------------------------------------
# Mutations of a profile's text.

SLOT = "__FUZZ_SLOT_{}__"
KEY_SLOT = "__FUZZ_KEY_{}__"


def key_paths(data: Any, path: tuple = ()) -> list[tuple]:
    """Every key path below ``data`` (mapping keys and list indices), in a fixed shuffled order.

    Hypothesis leans towards the first choice of a list; shuffled, that is not always the first key.
    """
    return sorted(_key_paths(data, path), key=lambda p: hashlib.sha256(repr(p).encode()).digest())


def _key_paths(data: Any, path: tuple = ()) -> list[tuple]:
    found = []
    if isinstance(data, dict):
        for k, v in data.items():
            found.append(path + (k,))
            found.extend(_key_paths(v, path + (k,)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found.append(path + (i,))
            found.extend(_key_paths(v, path + (i,)))
    return found


def mappings(data: Any, path: tuple = ()) -> list[tuple]:
    """Every path at which a mapping sits (the root is ``()``)."""
    found = [path] if isinstance(data, dict) else []
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        items = ()
    for k, v in items:
        found.extend(mappings(v, path + (k,)))
    return found


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _typo(key: str, draw) -> str:
    if len(key) < 2:
        return key + "x"
    i = draw(st.integers(0, len(key) - 2))
    how = draw(st.sampled_from(["swap", "drop", "double", "upper", "dash"]))
    if how == "swap":
        return key[:i] + key[i + 1] + key[i] + key[i + 2:]
    if how == "drop":
        return key[:i] + key[i + 1:]
    if how == "double":
        return key[:i] + key[i] + key[i:]
    if how == "upper":
        return key.upper()
    return key.replace("_", "-") if "_" in key else key + "_"


RAW_KEYS = st.sampled_from(['"quoted key"', "<<", "? [a, b]", "[a, b]", "{a: 1}", "123", "true", "~", "''",
                            "'x'", "&anchor k", "*alias", "!!str k", "!!binary aGk=", "k#", "-k", "k k", "ключ",
                            "مفتاح", "😀", "__class__", "a\tb", "x" * 300])


class Mutated:
    """One mutated profile file: which file (``practice`` or ``clinician``), how it was changed, its new bytes.

    Its repr, which Hypothesis prints for a failing case, is the steps and a diff against ``before`` (the
    file as YAML writes it back before the change, so the diff shows the change alone).
    """

    def __init__(self, file: str, steps: list[str], before: str, data: bytes):
        self.file, self.steps, self.before, self.data = file, steps, before, data

    def __repr__(self) -> str:
        text = self.data.decode("utf-8", "backslashreplace")
        diff = difflib.unified_diff(self.before.splitlines(), text.splitlines(), "before", "after", n=1,
                                    lineterm="")
        shown = "\n".join(_clip(line, 300) for line in list(diff)[2:62])
        return f"Mutated({self.file}: {'; '.join(self.steps)})\n{shown}"


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(data: Any) -> str:
    """YAML text for ``data``, block style, unicode as is, one value per line."""
    return yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=10**9)


def load(text: str) -> Any:
    """The data of a YAML text (a copy: callers change it)."""
    return copy.deepcopy(_load(text))


@functools.lru_cache(maxsize=64)
def _load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)


@functools.lru_cache(maxsize=64)
def redumped(text: str) -> str:
    """The text as ``dump`` writes it back: what a structural mutation's diff is taken against."""
    return dump(_load(text))


def _render_value(value: Any, column: int) -> str:
    if isinstance(value, tuple):              # a block scalar
        head, lines = value
        pad = " " * (column + 2)
        return head + "".join("\n" + pad + line for line in lines)
    return value


@st.composite
def mutated_text(draw, original: str, file: str) -> Mutated:
    """Apply one to three mutations to a profile's YAML text."""
    data = load(original)
    steps: list[str] = []
    slots: dict[str, Any] = {}
    keys: dict[str, str] = {}
    text_ops = []
    n = draw(st.sampled_from([1, 1, 1, 1, 2, 2, 3]))
    structural = False
    for _ in range(n):
        # Values of the same kind as before come first: the schema accepts more of them, so rendering is reached.
        kind = draw(st.sampled_from(["same-type", "same-type", "same-type", "same-type", "replace", "replace",
                                     "delete", "unknown-key", "duplicate-key", "corrupt", "truncate"]))
        if kind in ("replace", "same-type", "delete", "unknown-key"):
            structural = True
            paths = [p for p in key_paths(data) if not any(isinstance(x, str) and x.startswith("__FUZZ_") for x in p)]
            if kind == "unknown-key" or not paths:
                where = draw(st.sampled_from(mappings(data)))
                target = _get(data, where)
                slot = SLOT.format(len(slots))
                slots[slot] = draw(YAML_VALUE)
                if draw(st.booleans()) and target:
                    sibling = draw(st.sampled_from(sorted(str(k) for k in target)))
                    name = _typo(sibling, draw)
                    raw = name
                else:
                    raw = draw(st.one_of(RAW_KEYS, st.from_regex(r"[a-z_]{1,12}", fullmatch=True)))
                key = KEY_SLOT.format(len(keys))
                keys[key] = raw
                target[key] = slot
                steps.append(f"add key {raw!r} at {_dotted(where)}")
                continue
            if kind == "same-type":           # a scalar: a whole mapping of random keys is only ever refused
                paths = [p for p in paths if not isinstance(_get(data, p), (dict, list))] or paths
            path = draw(st.sampled_from(paths))
            parent = _get(data, path[:-1])
            if kind == "delete":
                del parent[path[-1]]
                steps.append(f"delete {_dotted(path)}")
                continue
            original_value = parent[path[-1]]
            slot = SLOT.format(len(slots))
            slots[slot] = draw(value_like(original_value) if kind == "same-type" else YAML_VALUE)
            parent[path[-1]] = slot
            steps.append(f"{kind} {_dotted(path)}")
        else:
            text_ops.append(kind)
    before = original
    if structural:
        before = redumped(original)
        text = dump(data)
        for key, raw in keys.items():
            text = text.replace(key, raw, 1)
        lines = text.split("\n")
        for i, line in enumerate(lines):
            for slot, value in slots.items():
                if slot in line:
                    column = line.index(slot)
                    line = line.replace(slot, _render_value(value, column))
                    slots[slot] = None
            lines[i] = line
        text = "\n".join(lines)
    else:
        text = original
    for kind in text_ops:
        text, step = duplicate_key(text, draw) if kind == "duplicate-key" else draw(corrupt(text, kind))
        steps.append(step)
    encoding = draw(st.sampled_from(["utf-8"] * 40 + ["utf-8-sig", "latin-1", "utf-16", "garbage"]))
    if encoding == "garbage":
        raw_bytes = text.encode("utf-8", "surrogatepass")
        at = draw(st.integers(0, len(raw_bytes)))
        blob = draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xfe\xff"]))
        raw_bytes = raw_bytes[:at] + blob + raw_bytes[at:]
        steps.append(f"bytes {blob!r} at {at}")
    else:
        raw_bytes = text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")
        if encoding != "utf-8":
            steps.append(f"encoded as {encoding}")
    return Mutated(file, steps, before, raw_bytes)


@st.composite
def corrupt(draw, text: str, kind: str) -> tuple[str, str]:
    """Damage the text itself: what a clumsy edit, a bad paste or a cut-off copy does."""
    if kind == "truncate":
        at = draw(st.integers(0, len(text)))
        return text[:at], f"truncate at {at}"
    lines = text.split("\n")
    how = draw(st.sampled_from(["insert", "delete", "tab", "indent", "quote", "swap-lines", "copy-line",
                                "join-lines"]))
    if how == "insert":
        at = draw(st.integers(0, len(text)))
        piece = draw(st.one_of(st.sampled_from([" ", "\t", ":", ": ", "-", "- ", '"', "'", "{", "}", "[", "]", "#",
                                                "&", "*", "!", "|", ">", "%", "@", "`", "\n", "\x00", "\ufeff",
                                                "\r", "\x0b", "\\", "---\n", "...\n", "? "]),
                               STRINGS.map(lambda t: t[:50])))
        return text[:at] + piece + text[at:], f"insert {piece!r} at {at}"
    if how == "delete":
        at = draw(st.integers(0, len(text)))
        size = draw(st.integers(1, 40))
        return text[:at] + text[at + size:], f"delete {size} chars at {at}"
    i = draw(st.integers(0, max(0, len(lines) - 1)))
    if how == "tab":
        lines[i] = "\t" + lines[i].lstrip(" ") if draw(st.booleans()) else lines[i].replace("  ", "\t", 1)
        return "\n".join(lines), f"tab on line {i + 1}"
    if how == "indent":
        shift = draw(st.sampled_from([-3, -2, -1, 1, 2, 3]))
        lines[i] = (" " * shift + lines[i]) if shift > 0 else lines[i][-shift:] if lines[i][:-shift].strip() == "" \
            else lines[i]
        return "\n".join(lines), f"indent {shift:+d} on line {i + 1}"
    if how == "quote":
        quote = draw(st.sampled_from(['"', "'", '"\\', "'''"]))
        line = lines[i]
        cut = line.find(": ")
        lines[i] = line[:cut + 2] + quote + line[cut + 2:] if cut >= 0 else line + quote
        return "\n".join(lines), f"unbalanced {quote!r} on line {i + 1}"
    j = draw(st.integers(0, max(0, len(lines) - 1)))
    if how == "swap-lines":
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines), f"swap lines {i + 1} and {j + 1}"
    if how == "copy-line":
        lines.insert(j, lines[i])
        return "\n".join(lines), f"copy line {i + 1} before line {j + 1}"
    if i + 1 < len(lines):
        lines[i:i + 2] = [lines[i] + " " + lines[i + 1].lstrip()]
    return "\n".join(lines), f"join lines {i + 1} and {i + 2}"


_DUPLICATE_VALUE = st.one_of(YAML_STRING, YAML_NUMBER, SPECIALS, FLOW)


def duplicate_key(text: str, draw) -> tuple[str, str]:
    """Write some key a second time, just before its first appearance, with another value."""
    candidates = [i for i, line in enumerate(text.split("\n"))
                  if re.match(r"^( *)([A-Za-z_][\w-]*):( |$)", line)]
    if not candidates:
        return text, "no key to duplicate"
    lines = text.split("\n")
    i = draw(st.sampled_from(candidates))
    m = re.match(r"^( *)([A-Za-z_][\w-]*):", lines[i])
    value = draw(_DUPLICATE_VALUE)
    lines.insert(i, f"{m.group(1)}{m.group(2)}: {value}")
    return "\n".join(lines), f"duplicate key {m.group(2)!r} on line {i + 1}"


def base_texts(base: tuple[str, str]) -> dict[str, str]:
    folder, clinician = base
    return {"practice": (PROFILES / folder / "practice.yaml").read_text(encoding="utf-8"),
            "clinician": (PROFILES / folder / "clinicians" / clinician).read_text(encoding="utf-8")}


def edited(base: tuple[str, str], file: str, old: str, new: str) -> tuple[tuple[str, str], Mutated]:
    """An example profile with one edit to one file's text: a case written out, for ``@example``."""
    original = base_texts(base)[file]
    assert old in original, old
    return base, Mutated(file, [f"{old!r} -> {new!r}"], original,
                         original.replace(old, new, 1).encode("utf-8", "surrogatepass"))


@st.composite
def profile_case(draw, bases=BASES) -> tuple[tuple[str, str], Mutated]:
    """An example profile, and one of its two files mutated."""
    base = draw(st.sampled_from(bases))
    file = draw(st.sampled_from(["clinician", "practice"]))
    return base, draw(mutated_text(base_texts(base)[file], file))


def _dotted(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"


# ---------------------------------------------------------------------------------------------------------------
# A workspace: the example profile copied into a temporary folder, one file swapped for the mutated one.


# In memory where the machine has it: every output is fsync'ed, which on a disk costs more than rendering.
_SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


class Workspace:
    """A temporary practice folder, removed on exit."""

    def __init__(self, base: tuple[str, str], mutated: Mutated | None = None):
        self.base = base
        self.mutated = mutated

    def __enter__(self) -> "Workspace":
        folder, clinician = self.base
        self.root = Path(tempfile.mkdtemp(prefix="fuzz-", dir=_SCRATCH))
        self.practice_dir = self.root / "practice"
        (self.practice_dir / "clinicians").mkdir(parents=True)
        src = PROFILES / folder
        for extra in src.iterdir():
            if extra.is_file() and extra.suffix not in (".yaml", ".csv"):
                shutil.copy(extra, self.practice_dir / extra.name)         # the logo
        shutil.copy(src / "practice.yaml", self.practice_dir / "practice.yaml")
        self.clinician = self.practice_dir / "clinicians" / clinician
        shutil.copy(src / "clinicians" / clinician, self.clinician)
        if self.mutated is not None:
            target = self.clinician if self.mutated.file == "clinician" else self.practice_dir / "practice.yaml"
            target.write_bytes(self.mutated.data)
        self.out = self.root / "out"
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Running the CLI in this process, and the contract.

_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")


def run(args: list[Any], case: Any = None):
    """Invoke the CLI in this process; an exception that escapes it is a crash (re-raised, or logged)."""
    from click.testing import CliRunner

    from consentgen.cli import main

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")            # what a user's terminal would show
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crashed(result.exception.with_traceback(result.exc_info[2]), case)
        return None
    shown = [w for w in caught if not issubclass(w.category, _HIDDEN_WARNINGS)]
    if shown:
        w = shown[0]
        where = f"{w.category.__name__} at {Path(w.filename).name}:{w.lineno}"
        fail(WarningShown, f"{where}: {_clip(str(w.message), 300)}", case, result, signature=f"WarningShown: {where}")
    return result


# Warnings Python hides from users unless asked; any other is printed on their terminal.
_HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def lines_of(text: str) -> list[str]:
    """Lines as a terminal shows them: every line break character counts."""
    parts = _LINE_BREAKS.split(text)
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def names_a_place(line: str, place: str | None) -> bool:
    """Whether an error line names where the problem is: a file under ``place`` (the case's folder:
    its profiles, roster, output), a template (``x.md:line``), or a client's name by client id (or
    ``--client-name``), which is all a message may say of it."""
    return (place is None or place in line or re.search(r"\.md(:\d+)?: ", line) is not None
            or re.match(r"^(error: |failed: )?(client [\w-]+|--client-name)\b", line) is not None)


def expect_one_line_refusal(result, case: Any, prefix: str = "error: ", place: str | None = None) -> bool:
    """Exit 2 and exactly one line on stderr, naming a file (under ``place``) or a template; True when
    that held."""
    lines = lines_of(result.stderr)
    if "Traceback" in result.output:
        fail(NotOneLine, "a traceback in the output", case, result)
        return False
    if lines and lines[0].startswith("Usage: ") and lines[-1].startswith("Error: Invalid value for '--"):
        return True                # click's own refusal of an option's value, as for every other option
    if len(lines) != 1 or not lines[0].strip() or not lines[0].startswith(prefix) or result.stdout.strip():
        fail(NotOneLine, f"a refusal of {len(lines)} lines on stderr (and {len(result.stdout)} chars on stdout)",
             case, result)
        return False
    if _CONTROL.search(result.stderr):
        fail(ControlCharInError, "a raw control character in the error", case, result)
        return False
    if not names_a_place(lines[0], place):
        fail(NoPlace, "a refusal that names no file, line or key", case, result)
        return False
    if "while rendering" in lines[0]:
        note("while-rendering", lines[0], case)
    return True


def open_outputs(paths: list[Path], case: Any, result) -> None:
    """Every file reopens: a PDF in pikepdf with at least one page, a DOCX in python-docx."""
    import docx
    import pikepdf

    for path in paths:
        try:
            if path.suffix == ".pdf":
                with pikepdf.open(path) as pdf:
                    assert len(pdf.pages) >= 1, "no pages"
            elif path.suffix == ".docx":
                document = docx.Document(str(path))
                assert document.paragraphs or document.tables, "no paragraphs"
        except Exception as exc:  # noqa: BLE001 - any failure to reopen is the finding
            fail(BadOutput, f"{path.name} does not reopen: {type(exc).__name__}: {exc}", case, result)


def expect_render(result, out: Path, case: Any, formats=("pdf", "docx")) -> bool:
    """``render``: exit 0 with files that reopen, or exit 2 in one line with nothing written.

    Returns True when the render succeeded.
    """
    if result is None:
        return False
    event(f"render exit {result.exit_code}")
    if result.exit_code == 0:
        written = [Path(line) for line in result.stdout.splitlines() if line.strip()]
        if not written or not all(p.is_file() for p in written):
            fail(BadOutput, "exit 0 but the files it printed are not all there", case, result)
            return False
        if {p.suffix.lstrip(".") for p in written} != set(formats):
            fail(BadOutput, f"exit 0 but not every format was written: {[p.name for p in written]}", case, result)
        open_outputs(written, case, result)
        return True
    if result.exit_code != 2:
        fail(UnexpectedExit, f"render exited {result.exit_code}", case, result)
        return False
    if expect_one_line_refusal(result, case, place=str(out.parent)) and out.exists() and any(out.rglob("*")):
        fail(HalfWritten, f"a refused render left {sorted(p.name for p in out.rglob('*'))[:5]}", case, result)
    return False


def expect_check(result, case: Any) -> None:
    """``check``: exit 0, 1 or 2; every line it prints on stderr names a file (or is a fix); a summary last."""
    if result is None:
        return
    if result.exit_code not in (0, 1, 2):
        fail(UnexpectedExit, f"check exited {result.exit_code}", case, result)
        return
    if "Traceback" in result.output:
        fail(NotOneLine, "a traceback in check's output", case, result)
        return
    out_lines = lines_of(result.stdout)
    if not out_lines or not re.match(r"^\d+ errors?, \d+ warnings? in 1 profile", out_lines[-1]):
        fail(NotOneLine, "check's last line is not its summary", case, result)
        return
    for line in lines_of(result.stderr):
        if not (line.startswith("    fix: ") or re.match(r"^[^\s:]+(:\d+)?: ", line)):
            fail(NotOneLine, f"a line of check's output that names no file (an error without a place, or the "
                             f"rest of a line broken in two): {line[:80]!r}", case, result)
            return
    if _CONTROL.search(result.stderr):
        fail(ControlCharInError, "a raw control character in check's output", case, result)
    if result.exit_code == 2 and "invalid" not in out_lines[-1]:
        fail(UnexpectedExit, "check exited 2 but says no profile is invalid", case, result)


def expect_build(result, out: Path, case: Any, names: tuple[str, ...] = ()) -> None:
    """``build``: exit 0 or 1 with a manifest whose files reopen and one ``failed:`` line per failure,
    or exit 2 in one line; no client name in any message, file name, manifest or state."""
    if result is None:
        return
    event(f"build exit {result.exit_code}")
    if result.exit_code == 2:
        expect_one_line_refusal(result, case, place=str(out.parent))
    elif result.exit_code in (0, 1):
        lines = lines_of(result.stderr)
        failures = [ln for ln in lines if ln.startswith("failed: ")]
        if len(failures) != len(lines):
            fail(NotOneLine, "a line of build's errors is not a 'failed:' line", case, result)
        if (result.exit_code == 1) != bool(failures):
            fail(UnexpectedExit, f"build exited {result.exit_code} with {len(failures)} failures", case, result)
        if any("internal error" in ln for ln in failures):
            fail(InternalError, "build hid a traceback behind 'internal error'", case, result)
        elif not all(names_a_place(ln, str(out.parent)) for ln in failures):
            fail(NoPlace, "a failure that names no file, line or key", case, result)
        if _CONTROL.search(result.stderr):
            fail(ControlCharInError, "a raw control character in build's output", case, result)
        manifest_path = out / "manifest.json"
        if not manifest_path.is_file():
            fail(BadOutput, "build finished without a manifest", case, result)
        else:
            try:
                files = [out / r["path"] for r in json.loads(manifest_path.read_text(encoding="utf-8"))["outputs"]]
            except Exception as exc:  # noqa: BLE001
                fail(BadOutput, f"manifest.json does not read: {type(exc).__name__}: {exc}", case, result)
                files = []
            on_disk = {p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"
                       and not any(part.startswith(".") for part in p.relative_to(out).parts)}
            if set(files) != on_disk:
                fail(BadOutput, f"the manifest lists {len(files)} files, {len(on_disk)} are on disk", case, result)
            open_outputs([p for p in files if p.is_file()], case, result)
            verified = run(["verify", out], case)
            if verified is not None and verified.exit_code != 0:
                fail(BadOutput, f"verify fails after the build: {verified.output[-300:]}", case, result)
    else:
        fail(UnexpectedExit, f"build exited {result.exit_code}", case, result)
    if names:
        expect_no_name(result, names, case, out)


def name_parts(name: str) -> list[str]:
    return [name, *[p for p in name.split() if len(p) >= 4]]


def expect_no_name(result, names: tuple[str, ...], case: Any, out: Path | None = None) -> None:
    """No client's name (nor any long part of it) in the output, nor under ``out`` outside the documents."""
    if result is None:
        return
    for name in names:
        for part in name_parts(name):
            if part in result.output:
                fail(NameLeaked, f"the client name part {part!r} is in the command's output", case, result)
                return
    if out is None or not out.exists():
        return
    for path in out.rglob("*"):
        rel = path.relative_to(out).as_posix()
        for name in names:
            slugged = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            if any(p.lower() in rel.lower() for p in name_parts(name)) or slugged in rel:
                fail(NameLeaked, f"a file name holds a client's name: {rel}", case, result)
                return
        if path.is_file() and path.suffix.lower() not in (".pdf", ".docx"):
            data = path.read_bytes()
            for name in names:
                if any(p.encode() in data for p in name_parts(name)):
                    fail(NameLeaked, f"{rel} holds a client's name", case, result)
                    return


# ---------------------------------------------------------------------------------------------------------------
# Fictional client names, and rosters.

_SYLLABLES = ("ka", "zor", "vel", "qui", "mbr", "ley", "dra", "thu", "wen", "oss", "pil", "yar", "fen", "xo",
              "bri", "lun", "dov", "ger", "ith", "sal")


@st.composite
def fictional_name(draw) -> str:
    """A made-up name no document, path or message holds by chance: 'Zorvelqui Thuwenoss'."""
    def word() -> str:
        return "".join(draw(st.lists(st.sampled_from(_SYLLABLES), min_size=3, max_size=4))).capitalize()

    name = f"{word()} {word()}"
    style = draw(st.sampled_from(["plain", "plain", "plain", "accent", "hyphen", "apostrophe"]))
    if style == "accent":
        name = name.replace("a", "á", 1)
    elif style == "hyphen":
        name += f"-{word()}"
    elif style == "apostrophe":
        name = f"{word()} O'{word()}"
    return name


ROSTER_HEADER = ["client_id", "clinician", "client_name", "date", "language", "second_signer"]


def roster_text(rows: list[list[str]], header: list[str] | None = ROSTER_HEADER, newline: str = "\n") -> str:
    out = io.StringIO()
    import csv

    writer = csv.writer(out, lineterminator=newline)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


ROSTER_CELLS = st.one_of(
    ANY_TEXT, st.sampled_from(["", " ", "ana-nunez", "Ana Nunez", "noor-haddad", "nobody", "2026-02-30",
                               "2026-13-01", "26-01-05", "9999-12-31", "0001-01-01", "en", "fr", "EN", "guardian",
                               "partner", "none", "Guardian", "c-1", "c 1", "../../etc", "con", "aux", "x" * 65,
                               "\x00", "\x0b", "=cmd|' /C calc'!A0", '"', '""', "\ufeff"]),
    long_text().map(lambda t: t[:5000]))


@st.composite
def roster_case(draw, clinician_slug: str, names: list[str]) -> tuple[bytes, list[str]]:
    """A roster for one clinician's practice, well formed or not: ``(bytes, what was done)``."""
    rows = []
    for i, name in enumerate(names):
        rows.append([f"c-{1001 + i}", clinician_slug, name, draw(st.sampled_from(["", "2026-02-02"])), "en", ""])
    header: list[str] | None = list(ROSTER_HEADER)
    steps = []
    newline = "\n"
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["cell", "cell", "shift", "extra-cell", "drop-header", "header-typo",
                                    "drop-column", "dup-id", "blank-line", "crlf", "quote", "bom", "bytes",
                                    "swap-name-clinician"]))
        filled = [i for i, row in enumerate(rows) if row]
        if not filled:
            break
        r = draw(st.sampled_from(filled))
        if how == "cell":
            c = draw(st.integers(0, len(rows[r]) - 1))
            rows[r][c] = draw(ROSTER_CELLS)
            steps.append(f"row {r + 1} column {c + 1} replaced")
        elif how == "shift":
            c = draw(st.integers(0, len(rows[r]) - 1))
            del rows[r][c]
            steps.append(f"row {r + 1} column {c + 1} dropped (columns shift left)")
        elif how == "extra-cell":
            rows[r].insert(draw(st.integers(0, len(rows[r]))), draw(ROSTER_CELLS))
            steps.append(f"row {r + 1} has an extra cell")
        elif how == "drop-header":
            header = None
            steps.append("no header row")
        elif how == "header-typo" and header:
            c = draw(st.integers(0, len(header) - 1))
            header[c] = _typo(header[c], draw)
            steps.append(f"header {c + 1} misspelt")
        elif how == "drop-column" and header:
            c = draw(st.integers(0, len(header) - 1))
            del header[c]
            for row in rows:
                if c < len(row):
                    del row[c]
            steps.append(f"column {c + 1} removed")
        elif how == "dup-id":
            rows.append(list(rows[r]))
            steps.append(f"row {r + 1} twice")
        elif how == "blank-line":
            rows.insert(r, [])
            steps.append("a blank line")
        elif how == "crlf":
            newline = "\r\n"
            steps.append("CRLF line ends")
        elif how == "swap-name-clinician" and len(rows[r]) > 2:
            rows[r][1], rows[r][2] = rows[r][2], rows[r][1]
            steps.append(f"row {r + 1}: name and clinician swapped")
        elif how in ("quote", "bom", "bytes"):
            steps.append(how)
    text = roster_text(rows, header, newline)
    if "quote" in steps:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + '"' + text[at:]
        steps[steps.index("quote")] = f"a stray quote at {at}"
    data = text.encode("utf-8", "surrogatepass")
    if "bom" in steps:
        data = b"\xef\xbb\xbf" + data
    if "bytes" in steps:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\x00", b"\xc3", b"\xe9"])) + data[at:]
        steps[steps.index("bytes")] = f"a stray byte at {at}"
    return data, steps


# ---------------------------------------------------------------------------------------------------------------
# Cataloguing a run's findings: python -m tests.fuzzing LOG.jsonl


def summarize(log: Path) -> str:
    """Group a log's entries by signature: count, the smallest case, and the traceback's place."""
    groups: dict[str, list[dict]] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        groups.setdefault(entry["signature"], []).append(entry)
    out = []
    for sig, entries in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        smallest = min(entries, key=lambda e: len(e.get("case", "")))
        tests = sorted({e.get("test", "") for e in entries})
        out.append(f"## {sig}\n{len(entries)} times, in {', '.join(tests)}\n")
        out.append(f"message: {smallest.get('message', '')}\n")
        if smallest.get("stderr"):
            out.append(f"stderr: {_clip(smallest['stderr'], 400)}\n")
        if smallest.get("traceback"):
            out.append("```\n" + smallest["traceback"][-1500:] + "\n```\n")
        out.append("case:\n```\n" + _clip(smallest.get("case", ""), 1500) + "\n```\n")
    return "\n".join(out)


if __name__ == "__main__":
    import sys

    print(summarize(Path(sys.argv[1])))

"""Safe YAML reading that remembers where every key came from.

PyYAML's ``compose`` keeps each node's line; ``load`` throws it away. We
compose, refuse anything hostile (aliases, which make "billion laughs" bombs,
unknown tags, huge or deeply nested input), build plain Python data ourselves,
and record ``(file, line)`` for every key path so schema errors can point at
the exact line of a profile.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

from . import textfile
from .errors import ProfileError, Where, display_path
from .model_base import describe_character

MAX_BYTES = 512 * 1024
MAX_NODES = 20_000
MAX_DEPTH = 40
MAX_KEY = 100            # characters in a key
MAX_NUMBER = 50          # characters in a number: more is text that lost its quotes (and int() has limits)

# libyaml's parser when PyYAML has it (it nearly always does): the same events and
# nodes, with line marks, several times faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_SCALAR_TAGS = tuple(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp"))
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
# A number as people write one. YAML 1.1 also reads 0123 as octal (83), 1:30 as base 60 (90),
# 0x1F and 1_000 as numbers: in a license number or office hours that is silent damage, so
# such a value stays the text it was (a field that wants a number then says so).
_DECIMAL = re.compile(r"[-+]?(\d+|\d*\.\d+)([eE][-+]?\d+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
# Characters YAML refuses to read, and U+0085, which it would quietly read as a line break
# (in text mis-decoded from Windows it was an ellipsis).
_RAW_REFUSED = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

KeyPath = tuple[Any, ...]
Positions = dict[KeyPath, Where]


_BOOL_TAG = "tag:yaml.org,2002:bool"


class _Reader:
    def __init__(self, file: str):
        self.file = file
        self.positions: Positions = {}
        self.nodes = 0
        self.constructor = yaml.SafeLoader("")

    def where(self, node: yaml.Node, key: str | None = None) -> Where:
        return Where(self.file, node.start_mark.line + 1, key)

    def fail(self, message: str, node: yaml.Node, path: KeyPath = ()) -> ProfileError:
        return ProfileError(message, self.where(node, dotted(path) or None))

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(f"file too large: more than {MAX_NODES} values", node, path)
        if len(path) > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} levels deep", node, path)
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_TAGS:
            raise self.fail(f"unsupported value: tag '{_short_tag(node.tag)}' is not allowed", node, path)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, child in enumerate(node.value):
                self.positions[path + (i,)] = self.where(child)
                items.append(self.build(child, path + (i,)))
            return items
        return self.scalar(node, path)

    def scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        """One plain value; whatever goes wrong becomes a ProfileError at its line and key."""
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(f"unsupported value: tag '{_short_tag(node.tag)}' is not allowed", node, path)
        if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER:
            raise self.fail(f"a number of more than {MAX_NUMBER} characters; if it is text, put it in quotes",
                            node, path)
        if node.tag in _NUMBER_TAGS and self.implicit(node) and (
                not _DECIMAL.fullmatch(node.value) or re.fullmatch(r"[-+]?0\d+", node.value)):
            return node.value          # 0123, 1:30, 0x1F, 1_000 stay as typed
        if node.tag == _BOOL_TAG and self.implicit(node) and node.value.lower() not in ("true", "false"):
            return node.value          # yes, no, on, off stay as typed: a yes/no key reads them, text keeps them
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception as exc:  # noqa: BLE001 - PyYAML's constructors raise ValueError, OverflowError, ...
            raise self.fail(_construct_problem(node, exc), node, path) from None

    def implicit(self, node: yaml.ScalarNode) -> bool:
        """Whether YAML gave the value its type from how it looks (not from a tag like !!int)."""
        return not node.style and self.constructor.resolve(yaml.ScalarNode, node.value, (True, False)) == node.tag

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail("YAML merge keys (<<) are not allowed in profiles", key_node, path)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                raise self.fail("a key must be plain text", key_node, path)
            key = str(key_node.value)
            odd = next((c for c in key if not (c.isprintable() or c == " ")), None)
            if odd is not None:        # the key is not shown: it would break the line
                raise self.fail(f"a key must be plain text; this one contains U+{ord(odd):04X}", key_node, path)
            if len(key) > MAX_KEY:
                raise self.fail(f"a key must be plain text of at most {MAX_KEY} characters", key_node, path)
            if key in out:
                raise self.fail("this key appears twice", key_node, path + (key,))
            self.positions[path + (key,)] = self.where(key_node)
            out[key] = self.build(value_node, path + (key,))
        return out


def _first_line(exc: Exception) -> str:
    lines = str(getattr(exc, "problem", None) or exc).strip().splitlines() or [type(exc).__name__]
    return lines[0][:200]


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


_NOT_A = {"int": "not a whole number", "float": "not a number", "bool": "not true or false",
          "null": "not an empty value", "timestamp": "not a date", "str": "not text"}
_DATE_HINT = "; use YYYY-MM-DD, or quotes if it is text"


def _construct_problem(node: yaml.ScalarNode, exc: Exception) -> str:
    """What is wrong with a value PyYAML recognised but could not build (2026-02-30, say).

    Only datetime's reasons are repeated ('day is out of range for month'): others, such as
    int()'s, quote the value, and a profile's text is never repeated.
    """
    kind = node.tag.removeprefix("tag:yaml.org,2002:")
    if kind == "timestamp":
        if isinstance(exc, ValueError) and ("range" in str(exc) or "must be in" in str(exc)):
            return f"not a real date ({_first_line(exc)}){_DATE_HINT}"
        return f"not a date{_DATE_HINT}"
    return _NOT_A.get(kind, "not a value a profile can hold")


def dotted(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_NODE_START = (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _node_events(text: str):
    """Yield ``(event, key path)`` for every key and value, reading the parser's events only.

    Linear, and nothing is built or expanded, so it is safe to run on any input
    before composing it.
    """
    stack: list[list] = []  # one frame per open collection: [is_mapping, key or index, expecting_key]
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, _COLLECTION_END):
            stack.pop()
            if stack and stack[-1][0]:
                stack[-1][2] = True
            continue
        if not isinstance(event, _NODE_START):
            continue
        top = stack[-1] if stack else None
        if top and top[0] and top[2] and isinstance(event, yaml.ScalarEvent):
            top[1], top[2] = event.value, False
            yield event, tuple(frame[1] for frame in stack if frame[1] is not None)
            continue
        if top and not top[0]:
            top[1] = 0 if top[1] is None else top[1] + 1
        yield event, tuple(frame[1] for frame in stack if frame[1] is not None)
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append([isinstance(event, yaml.MappingStartEvent), None, True])
        elif top and top[0]:
            top[2] = True


def _refuse_hostile(text: str, shown: str) -> None:
    """Refuse aliases ("billion laughs" bombs; profiles never need them), deep nesting and
    too many values, before anything is built."""
    count = 0
    for event, path in _node_events(text):
        count += 1
        if isinstance(event, yaml.AliasEvent):
            raise ProfileError(
                "YAML aliases (*name) are not allowed in profiles; write the value out",
                Where(shown, event.start_mark.line + 1, dotted(_plain(path)) or None),
            )
        if len(path) > MAX_DEPTH or count > 2 * MAX_NODES:
            problem = f"nested more than {MAX_DEPTH} levels deep" if len(path) > MAX_DEPTH else \
                f"file too large: more than {MAX_NODES} values"
            raise ProfileError(problem, Where(shown, event.start_mark.line + 1, dotted(_plain(path[:MAX_DEPTH])) or None))


def _plain(path: KeyPath) -> KeyPath:
    """``path`` up to its first part that is no plain key (a broken file can make a value look like one)."""
    for i, part in enumerate(path):
        if isinstance(part, str) and (len(part) > MAX_KEY or not part.isprintable()):
            return path[:i]
    return path


def _key_at(text: str, line: int) -> KeyPath:
    """The key path of the value on ``line`` (0-based), or () when none can be found."""
    try:
        for event, path in _node_events(text):
            if isinstance(event, yaml.ScalarEvent) and event.start_mark.line <= line <= event.end_mark.line:
                return _plain(path)
            if event.start_mark.line > line:
                break
    except (yaml.YAMLError, RecursionError):
        pass
    return ()


def _refuse_characters(text: str, shown: str) -> str:
    """Word's line and page breaks become spaces; any other character YAML cannot read is
    refused here, with its line and key, instead of as a bare 'unacceptable character'."""
    text = text.replace("\x0b", " ").replace("\x0c", " ")
    m = _RAW_REFUSED.search(text)
    if m:
        line = text.count("\n", 0, m.start())
        key = _key_at(_RAW_REFUSED.sub(" ", text), line)
        raise ProfileError(describe_character(m.group()), Where(shown, line + 1, dotted(key) or None))
    return text


def _decode(raw: bytes, shown: str) -> str:
    """UTF-8 text with universal line ends, or a ProfileError naming the line of the first bad byte."""
    try:
        text = textfile.decode(raw)
    except textfile.Unreadable as exc:
        raise ProfileError(exc.message, Where(shown, exc.line)) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_yaml(path: Path) -> tuple[dict, Positions]:
    """Read one YAML mapping safely; return the data and each key path's place.

    A file read lately and unchanged since (same size and modification time)
    is not parsed again: a practice build reads practice.yaml and the state
    packs once, not once per clinician. Only the last few dozen files are
    kept, so a build's memory does not grow with its clinicians. Callers
    must not modify what is returned.
    """
    try:
        stat = path.stat()
    except OSError:
        return _read_yaml(path)
    return _read_cached(str(path), display_path(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)      # practice.yaml, the packs, and the clinicians just read
def _read_cached(path: str, shown: str, mtime_ns: int, size: int) -> tuple[dict, Positions]:
    return _read_yaml(Path(path))


def _read_bytes(path: Path, shown: str) -> bytes:
    """The file's bytes, read no further than the size limit."""
    try:
        return textfile.read_bytes(path, MAX_BYTES, "a profile file",
                                   f"file is larger than {MAX_BYTES // 1024} KiB; is it really a profile?")
    except textfile.Unreadable as exc:
        raise ProfileError(exc.message, Where(shown)) from None


def _read_yaml(path: Path) -> tuple[dict, Positions]:
    shown = display_path(path)
    text = _refuse_characters(_decode(_read_bytes(path, shown), shown), shown)
    try:
        _refuse_hostile(text, shown)
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        if exc.problem == "but found another document":
            raise ProfileError("a profile is one YAML document; a second one ('---') starts here",
                               Where(shown, line)) from None
        key = ""
        start = exc.context_mark
        if start is not None and "scalar" in (exc.context or ""):   # a quoted or block value: its key is known
            key = dotted(_key_at(text, start.line))
            if "end of stream" in str(exc.problem):                  # a quote never closed: where it opens
                line = start.line + 1
        raise ProfileError(f"invalid YAML: {_first_line(exc)}", Where(shown, line, key or None)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        raise ProfileError(f"invalid YAML: {exc.reason}", Where(shown, line)) from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"invalid YAML: {_first_line(exc)}", Where(shown)) from None
    except RecursionError:
        raise ProfileError("invalid YAML: nested too deeply", Where(shown)) from None
    if root is None:
        raise ProfileError("file is empty", Where(shown, 1))
    if not isinstance(root, yaml.MappingNode):
        raise ProfileError("a profile must be a mapping of keys to values", Where(shown, root.start_mark.line + 1))
    reader = _Reader(shown)
    data = reader.build(root, ())
    return data, reader.positions


def deep_merge(base: dict, over: dict, base_pos: Positions, over_pos: Positions, path: KeyPath = ()) -> dict:
    """Layer ``over`` on ``base``: mappings merge key by key, anything else replaces.

    ``base_pos`` is updated in place so every merged key keeps the place of the
    layer its value came from: the places under a replaced key are those of
    ``over``. They are moved in one pass over each layer's places at the end
    (moving them key by key took a third of a second for 50 profiles).
    """
    replaced: set[KeyPath] = set()
    merged = _merge(base, over, base_pos, over_pos, path, replaced)
    if replaced:
        lengths = sorted({len(sub) for sub in replaced})

        def under(place: KeyPath) -> bool:
            return any(place[:n] in replaced for n in lengths if n <= len(place))

        for place in [p for p in base_pos if under(p)]:
            del base_pos[place]
        base_pos.update({p: w for p, w in over_pos.items() if under(p)})
    return merged


def _merge(base: dict, over: dict, base_pos: Positions, over_pos: Positions, path: KeyPath,
           replaced: set[KeyPath]) -> dict:
    merged = dict(base)
    for key, value in over.items():
        sub = path + (key,)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, base_pos, over_pos, sub, replaced)
            base_pos[sub] = over_pos[sub]
        else:
            merged[key] = value
            replaced.add(sub)       # none of these is under another: a replaced key is not merged into
    return merged

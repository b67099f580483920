"""Safe YAML reading that remembers where every key came from.

PyYAML's ``compose`` keeps each node's line; ``load`` throws it away. We
compose, refuse anything hostile (aliases, which make "billion laughs" bombs,
unknown tags, huge or deeply nested input), build plain Python data ourselves,
and record ``(file, line)`` for every key path so schema errors can point at
the exact line of a profile.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from .errors import ProfileError, Where, display_path

MAX_BYTES = 512 * 1024
MAX_NODES = 20_000
MAX_DEPTH = 40

# libyaml's parser when PyYAML has it (it nearly always does): the same events and
# nodes, with line marks, several times faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")

KeyPath = tuple[Any, ...]
Positions = dict[KeyPath, Where]


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
            raise self.fail(f"unsupported value: tag '{node.tag}' is not allowed", node, path)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, child in enumerate(node.value):
                self.positions[path + (i,)] = self.where(child)
                items.append(self.build(child, path + (i,)))
            return items
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(f"unsupported value: {_first_line(exc)}", node, path) from None

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail("YAML merge keys (<<) are not allowed in profiles", key_node, path)
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail("a key must be plain text", key_node, path)
            key = str(key_node.value)
            if key in out:
                raise self.fail("this key appears twice", key_node, path + (key,))
            self.positions[path + (key,)] = self.where(key_node)
            out[key] = self.build(value_node, path + (key,))
        return out


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "problem", None) or exc).strip().splitlines()[0]


def dotted(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_NODE_START = (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _refuse_aliases(text: str, shown: str) -> None:
    """Aliases make "billion laughs" bombs; profiles never need them.

    Walks the parser's events (linear, nothing is expanded), keeping the key
    path so the error names the key as well as the line.
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
            continue
        if top and not top[0]:
            top[1] = 0 if top[1] is None else top[1] + 1
        if isinstance(event, yaml.AliasEvent):
            path = tuple(frame[1] for frame in stack if frame[1] is not None)
            raise ProfileError(
                "YAML aliases (*name) are not allowed in profiles; write the value out",
                Where(shown, event.start_mark.line + 1, dotted(path) or None),
            )
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append([isinstance(event, yaml.MappingStartEvent), None, True])
        elif top and top[0]:
            top[2] = True


def read_yaml(path: Path) -> tuple[dict, Positions]:
    """Read one YAML mapping safely; return the data and each key path's place.

    A file read before and unchanged since (same size and modification time)
    is not parsed again: a practice build reads practice.yaml once, not once
    per clinician. Callers must not modify what is returned.
    """
    try:
        stat = path.stat()
    except OSError:
        return _read_yaml(path)
    return _read_cached(str(path), display_path(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _read_cached(path: str, shown: str, mtime_ns: int, size: int) -> tuple[dict, Positions]:
    return _read_yaml(Path(path))


def _read_yaml(path: Path) -> tuple[dict, Positions]:
    shown = display_path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ProfileError(f"file is larger than {MAX_BYTES // 1024} KiB; is it really a profile?", Where(shown))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError("no such file", Where(shown)) from None
    except IsADirectoryError:
        raise ProfileError("is a folder, not a profile file", Where(shown)) from None
    except UnicodeDecodeError as exc:
        raise ProfileError(f"not UTF-8 text (byte {exc.start})", Where(shown)) from None
    except OSError as exc:
        raise ProfileError(f"cannot read: {exc.strerror}", Where(shown)) from None
    try:
        _refuse_aliases(text, shown)
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ProfileError(f"invalid YAML: {_first_line(exc)}", Where(shown, line)) from None
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
    layer its value came from.
    """
    merged = dict(base)
    for key, value in over.items():
        sub = path + (key,)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value, base_pos, over_pos, sub)
            base_pos[sub] = over_pos[sub]
        else:
            merged[key] = value
            for p in [p for p in base_pos if p[: len(sub)] == sub]:
                del base_pos[p]
            base_pos.update({p: w for p, w in over_pos.items() if p[: len(sub)] == sub})
    return merged

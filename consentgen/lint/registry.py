"""The rule registry: every check is a small function registered with an id,
a severity, a one-line summary and a fix hint.

A rule reads the validated profile and the packet's rendered documents (the
IR), never output bytes, and yields ``Hit``s; the registry turns each into a
``Finding`` that knows its file and line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal

from ..document import Document
from ..errors import Where, display_path
from ..jurisdictions import Jurisdiction
from ..models import Profile
from ..profiles import LoadedProfile

Severity = Literal["error", "warning", "info"]    # info: shown, never counted, never fails a check


@dataclass(frozen=True)
class Hit:
    """What a rule found: the profile key it is about (or a document place), and what is wrong."""

    message: str
    key: str | None = None                  # dotted profile key, e.g. "policies.contact.channels.text"
    where: Where | None = None              # a place in a document, when the problem is in rendered text
    severity: Severity | None = None        # only when a rule has a milder or stronger case


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    file: str
    line: int | None
    key: str | None
    hint: str
    silenced: str | None = None             # the reason, when the profile silences this rule

    def location(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place}: {self.key}" if self.key else place


@dataclass
class Context:
    """Everything a rule may read."""

    loaded: LoadedProfile
    documents: dict[str, Document]          # the packet's documents, by name, in packet order
    law: Jurisdiction | None = None         # the jurisdiction pack, narrowed to the license type

    @property
    def profile(self) -> Profile:
        return self.loaded.profile

    def where(self, key: str | None) -> Where:
        """The file and line of ``key`` in the profile (its nearest written parent)."""
        source = Where(display_path(self.loaded.source), 1)
        if not key:
            return source
        parts = tuple(key.split("."))
        for end in range(len(parts), 0, -1):
            if parts[:end] in self.loaded.positions:
                return self.loaded.positions[parts[:end]]
        return source


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    hint: str
    check: Callable[[Context], Iterable[Hit]] = field(repr=False)


RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity, summary: str, hint: str):
    """Register a rule: ``@rule("L01", "error", "summary", "how to fix")``."""

    def register(check: Callable[[Context], Iterable[Hit]]):
        if id in RULES:
            raise ValueError(f"rule {id} is registered twice")
        RULES[id] = Rule(id, severity, summary, hint, check)
        return check

    return register


def findings(ctx: Context, rules: Iterable[Rule]) -> list[Finding]:
    """Run ``rules`` and place each hit."""
    out = []
    for r in rules:
        for hit in r.check(ctx):
            where = hit.where or ctx.where(hit.key)
            out.append(Finding(r.id, hit.severity or r.severity, hit.message, where.file, where.line, hit.key, r.hint))
    return out

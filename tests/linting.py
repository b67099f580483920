"""Helpers shared by the lint tests: a user template, one rule's findings, a line, a finding's place."""
from __future__ import annotations

import textwrap
from pathlib import Path

from consentgen.lint import RULES, context_for
from consentgen.lint.registry import findings
from consentgen.profiles import load_profile


def template(folder: Path, name: str, text: str) -> Path:
    """A user template with no Jinja, so its lines are the rendered Markdown's lines."""
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.md").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def run(path: Path, rule_id: str, templates: tuple[Path, ...] = ()):
    """The findings of one rule for the profile at ``path``."""
    return findings(context_for(load_profile(path), templates), [RULES[rule_id]])


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def place(f) -> tuple:
    return f.rule, f.severity, f.file, f.line, f.key

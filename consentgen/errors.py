"""Every error a user can see, each knowing where it happened.

Independent of click: the CLI turns a ConsentgenError into one line and an
exit code. Messages never include render context (it can hold a client's
name); they name files, lines and keys only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Where:
    """A place in a user's file: a profile or a template."""

    file: str
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}" if self.line else self.file
        return f"{text}: {self.key}" if self.key else text


class ConsentgenError(Exception):
    """Base for every error shown to users (exit code 2 unless said otherwise)."""

    exit_code = 2

    def __init__(self, message: str, where: Where | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ProfileError(ConsentgenError):
    """A profile file is missing, malformed, hostile or fails validation.

    ``errors`` holds every problem found (each already a one-line string),
    so ``check`` can list them all while ``render`` shows the first.
    """

    def __init__(self, message: str, where: Where | None = None, errors: tuple[str, ...] = ()):
        super().__init__(message, where)
        self.errors = errors or (str(self),)


class TemplateError(ConsentgenError):
    """A template is missing, fails to compile, or fails to render."""


class DocumentError(ConsentgenError):
    """Rendered Markdown uses something the document model cannot hold."""


class BackendError(ConsentgenError):
    """An output format could not be produced (for example, missing glyphs)."""


def display_path(path: Path | str) -> str:
    """A path as a user typed it or relative to the working directory."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)

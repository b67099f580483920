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


class WriteError(ConsentgenError):
    """A file could not be written into the output folder (a full disk, no permission)."""

    def __init__(self, message: str, errno: int | None = None):
        super().__init__(message)
        self.errno = errno


DEBUG_ENV = "CONSENTGEN_DEBUG"
REPORT_TO = "the consentgen developers"


def debugging() -> bool:
    """CONSENTGEN_DEBUG=1: show the traceback of an internal error (it may hold client data)."""
    import os

    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def internal_error(where: str, exc: BaseException) -> str:
    """One line for a bug of ours: where it happened and where to report it, never the exception's text.

    The exception's message can quote any value, a client's name included, so
    only its type is shown; CONSENTGEN_DEBUG=1 shows the whole traceback.
    """
    return (f"{where}: internal error ({type(exc).__name__}); re-run with {DEBUG_ENV}=1 for the traceback "
            f"and report it to {REPORT_TO}")

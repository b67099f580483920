"""Where the built-in templates and example profiles live.

In an installed wheel they sit inside the package (``consentgen/templates``,
``consentgen/profiles``, placed there by the build); in a source checkout they
are the repository's top-level ``templates/`` and ``profiles/``.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder of built-in data ``name`` ('templates' or 'profiles')."""
    installed = _PACKAGE / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name

"""consentgen: clear, signed-off boundaries and consent handouts for therapy clients.

The public API is small; everything else is internal::

    from consentgen import Job, load_profile, render
    render("profiles/example-practice/clinicians/ana-nunez.yaml", "out/", Job(formats=("pdf", "docx")))
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Job", "load_profile", "render", "__version__"]


def __getattr__(name: str):
    # Lazy, so importing the package (and `consentgen --help`) stays fast.
    if name in ("Job", "render"):
        from . import api

        return getattr(api, name)
    if name == "load_profile":
        from .profiles import load_profile

        return load_profile
    raise AttributeError(name)

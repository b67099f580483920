"""consentgen: clear, signed-off boundaries and consent handouts for therapy clients.

The public API is small; everything else is internal::

    from consentgen import Job, load_profile, render, render_packet
    render("profiles/example-practice/clinicians/ana-nunez.yaml", "out/", Job(formats=("pdf", "docx")))
    files = render_packet("profiles/example-practice/clinicians/ana-nunez.yaml", client_name="Jo Doe",
                          client_id="c-1001", combined=True)   # {"informed-consent.pdf": b"%PDF...", ...}
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Job", "load_profile", "render", "render_packet", "__version__"]


def __getattr__(name: str):
    # Lazy, so importing the package (and `consentgen --help`) stays fast.
    if name in ("Job", "render", "render_packet"):
        from . import api

        return getattr(api, name)
    if name == "load_profile":
        from .profiles import load_profile

        return load_profile
    raise AttributeError(name)

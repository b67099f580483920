"""The page around an HTML handout: head, inline style, skip link, header with the logo, footer.

Also the few words the HTML adds to a handout (``WORDS``), and the one escape
every text goes through.
"""
from __future__ import annotations

import base64
import functools
import io
import re
from html import escape
from pathlib import Path

from ..errors import BackendError, display_path
from . import Meta
from .html_style import Palette, style_sheet

#: The few words the HTML adds to a handout; everything else comes from its templates.
WORDS = {"en": {
    "skip": "Skip to the handout",
    "contents": "Contents",
    "on_paper": "To fill in on the printed copy",
    "on_paper_cell": "On the printed copy",
    "table": "Table",
}}

LOGO_HEIGHT = 160            # pixels: a larger logo is scaled down, still sharp at the header's 2.4em on
LOGO_WIDTH = 640             # a high-density screen
_ACCENT = re.compile(r"^#[0-9A-Fa-f]{6}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def words_for(language: str) -> dict[str, str]:
    return WORDS.get(language.split("-")[0].lower(), WORDS["en"])


def text(value: str) -> str:
    """``value`` as HTML text: markup characters escaped, a line break kept."""
    return escape(value, quote=True).replace("\n", "<br>\n")


@functools.lru_cache(maxsize=8)
def _logo_data(path: Path, mtime_ns: int, size: int) -> tuple[str, int, int]:
    """The logo as a data: URI with its pixel size; a large one scaled down, always to the same bytes."""
    from PIL import Image

    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        kind, (w, h) = image.format, image.size
        scale = min(1.0, LOGO_HEIGHT / h, LOGO_WIDTH / w)
        if scale < 1:                        # every handout carries it: only the pixels the header shows
            w, h = max(1, round(w * scale)), max(1, round(h * scale))
            buffer = io.BytesIO()
            if kind == "JPEG":
                image.convert("RGB").resize((w, h)).save(buffer, "JPEG", quality=85)
            else:
                image.convert("RGBA").resize((w, h)).save(buffer, "PNG", optimize=True)
            data = buffer.getvalue()
    mime = {"PNG": "image/png", "JPEG": "image/jpeg"}.get(kind or "")
    if mime is None:
        raise ValueError(f"a {kind} image")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", w, h


def _logo(meta: Meta) -> str:
    if meta.logo is None:
        return ""
    path = Path(meta.logo)
    try:
        stat = path.stat()
        uri, w, h = _logo_data(path, stat.st_mtime_ns, stat.st_size)
    except Exception as exc:                 # unreadable, or not an image Pillow knows
        raise BackendError(f"cannot use logo {display_path(path)} ({type(exc).__name__})") from None
    return f'<img src="{uri}" alt="{text(meta.logo_text)}" width="{w}" height="{h}">'


def check(meta: Meta) -> None:
    if not _ACCENT.match(meta.accent or ""):
        raise BackendError(f"accent colour must look like #2F5D62, not {meta.accent!r}")
    if not _LANGUAGE.match(meta.language or ""):
        raise BackendError(f"language must be a tag such as en-US, not {meta.language!r}")


def page(meta: Meta, title: str, body: list[str]) -> bytes:
    """The whole HTML file: ``body`` inside ``<main>``."""
    words = words_for(meta.language)
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{text(meta.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{text(title)}</title>",
        f'<meta name="author" content="{text(meta.author)}">',
        f"<style>\n{style_sheet(Palette.of(meta.accent), meta.large_print)}</style>",
        "</head>",
        "<body>",
        f'<a class="skip" href="#main">{text(words["skip"])}</a>',
        f'<header><div class="bar">{_logo(meta)}<p>{text(meta.practice)}</p></div></header>',
        '<main id="main" tabindex="-1">',
    ]
    foot = ["</main>", '<footer><div class="end">', f"<p>{text(meta.author)}, {text(meta.practice)}</p>"]
    if meta.version:
        foot.append(f"<p>{text(meta.version)}</p>")
    foot += ["</div></footer>", "</body>", "</html>", ""]
    return "\n".join(head + body + foot).encode("utf-8")



"""``consentgen check --a11y OUT``: the machine-checkable accessibility points of built files.

PDFs are read back for PDF/UA-1 (``a11y_pdf``); HTML pages for the WCAG 2.1
points a program can decide from the page alone: a language, a title, a
viewport for phones, a skip link that lands, one main region, headings that
never skip a level, alt text on every image, header cells with a scope, and
no script or outside request. Each failure is one line naming the file (as
it lies under OUT) and, in a PDF, the page.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from .a11y_pdf import pdf_problems

STATE = ".consentgen"        # the build's own bookkeeping, never a client's file
MAX_BYTES = 200 * 1024 * 1024


def check_folder(out: Path) -> tuple[int, list[str]]:
    """(files checked, one line per failure) for every PDF and HTML file under ``out``."""
    lines: list[str] = []
    files = sorted(p for p in out.rglob("*") if p.suffix.lower() in (".pdf", ".html") and p.is_file()
                   and STATE not in p.relative_to(out).parts and not p.is_symlink())
    for path in files:
        rel = path.relative_to(out).as_posix()
        try:
            if path.stat().st_size > MAX_BYTES:
                lines.append(f"{rel}: too large to check")
                continue
            data = path.read_bytes()
        except OSError as exc:
            lines.append(f"{rel}: cannot be read ({exc.strerror or type(exc).__name__})")
            continue
        found = pdf_problems(data) if path.suffix.lower() == ".pdf" else html_problems(data)
        lines.extend(f"{rel}: {problem}" for problem in found)
    return len(files), lines


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.title, self.in_title = "", False
        self.viewport = False
        self.ids: set[str] = set()
        self.first_link: str | None = None
        self.mains = 0
        self.levels: list[int] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"] or "")
        if tag == "html":
            self.lang = (a.get("lang") or "").strip()
        elif tag == "title":
            self.in_title = True
        elif tag == "meta" and (a.get("name") or "").lower() == "viewport":
            self.viewport = "width=device-width" in (a.get("content") or "")
        elif tag == "a" and self.first_link is None:
            self.first_link = a.get("href") or ""
        elif tag == "main":
            self.mains += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))
        elif tag == "img" and not (a.get("alt") or "").strip() and a.get("role") != "presentation":
            self.problems.append("an image has no alt text")
        elif tag == "th" and not a.get("scope"):
            self.problems.append("a table header cell has no scope")
        elif tag in ("script", "iframe", "object", "embed"):
            self.problems.append(f"holds a <{tag}>: a handout page runs nothing")
        for key in ("src", "srcset"):
            if a.get(key) and not (a[key] or "").startswith("data:"):
                self.problems.append(f"<{tag}> loads {key} from outside the page")
        if tag == "link" and a.get("href"):
            self.problems.append("<link> loads a file from outside the page")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data


def html_problems(data: bytes) -> list[str]:
    """WCAG 2.1 points a program can decide from one page; an empty list when none fail."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ["not UTF-8 text"]
    page = _Page()
    page.feed(text)
    page.close()
    problems = list(dict.fromkeys(page.problems))
    if not page.lang:
        problems.append("no language on <html lang>")
    if not page.title.strip():
        problems.append("no <title>")
    if not page.viewport:
        problems.append("no viewport for phones (<meta name=viewport content='width=device-width'>)")
    if page.mains != 1:
        problems.append(f"{page.mains} <main> regions; a page has one")
    link = page.first_link or ""
    if not (link.startswith("#") and link[1:] in page.ids):
        problems.append("the first link is not a skip link to the page's content")
    level = 0
    for n in page.levels:
        if n > level + 1:
            problems.append(f"heading level skipped: h{n} after {'no heading' if not level else f'h{level}'}")
        level = n
    if not page.levels:
        problems.append("no headings")
    return problems

"""PDF page layout, read back as a client sees it.

Each test renders Markdown with filler of many heights before the block under
test, so that the block meets the foot of a page in every way it can, then reads
the pages back with ``pdftotext -layout`` (body lines only: the header and footer
lines are dropped) and the form fields with pypdf.

Paragraph text is made of tagged words (``clear7 expectations7 ...``), so each
printed line says which paragraph or list item it belongs to.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections import Counter, defaultdict

import pypdf
import pytest

from consentgen.backends import Meta
from consentgen.backends.pdf import render, render_with_pages
from consentgen.document import parse

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")

PRACTICE, VERSION = "Layout Practice", "Layout edition"
WORDS = "clear expectations protect clients and therapists alike session after session".split()
TAG = re.compile(r"\b[a-z]+(\d+)\b")


def meta() -> Meta:
    return Meta(title="Layout", author="A. Tester, LPC", practice=PRACTICE, version=VERSION)


def pdf(markdown: str) -> bytes:
    return render(parse(markdown, "layout"), meta())


def text(tag: int, words: int) -> str:
    """``words`` words, each ending in ``tag``: every line it prints on says where it came from."""
    return " ".join(f"{WORDS[k % len(WORDS)]}{tag}" for k in range(words))


def filler(a: int, b: int) -> str:
    """Filler of a chosen height: ``b`` one-line paragraphs, then one of ``a`` lines (hard breaks)."""
    short = [f"Filler line {'x' * (k % 7)}." for k in range(b)]
    return "\n\n".join([*short, "\\\n".join(f"Filler break {'y' * k}." for k in range(a))])


def offsets(first: int, last: int) -> list[tuple[int, int]]:
    """Filler sizes whose heights step by 9 pt or less over the range ``b`` spans (25.5 pt a step)."""
    return [(a, b) for b in range(first, last + 1) for a in range(1, 4)]


# From about 120 pt above the foot of page 1 to 40 pt past it.
OFFSETS = offsets(21, 28)


def pages(data: bytes) -> list[list[str]]:
    """Each page's body lines, stripped; the header (first line) and footer (last line) are dropped."""
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    result = []
    for page in out.stdout.decode().split("\f")[:-1]:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[0].startswith(PRACTICE) and lines[-1].startswith(VERSION), lines
        result.append(lines[1:-1])
    return result


def widgets(data: bytes) -> dict[str, tuple[int, str, list[float]]]:
    """Each form field's widget by name: (page number from 1, field type, rectangle)."""
    found = {}
    for number, page in enumerate(pypdf.PdfReader(io.BytesIO(data)).pages, start=1):
        for annot in page.get("/Annots", []):
            annot = annot.get_object()
            if annot.get("/Subtype") == "/Widget":
                found[str(annot["/T"])] = (number, str(annot["/FT"]), [float(v) for v in annot["/Rect"]])
    return found


def tags(line: str) -> set[int]:
    return {int(t) for t in TAG.findall(line)}


def lone_lines(data: bytes) -> list[str]:
    """Lines left alone by a page break: a paragraph or list item with one line on a page it shares."""
    lines_on = defaultdict(Counter)            # tag -> page -> lines
    for number, lines in enumerate(pages(data), start=1):
        for line in lines:
            for tag in tags(line):
                lines_on[tag][number] += 1
    return [f"paragraph {tag}: lines per page {dict(per_page)}"
            for tag, per_page in lines_on.items() if len(per_page) > 1 and min(per_page.values()) < 2]


# -- headings -----------------------------------------------------------------

HEADINGS = {"Heading Next", "Heading Sub"}
AFTER_HEADING = {
    "paragraph": f"{text(1, 60)}",
    "list": f"- {text(1, 30)}\n- {text(2, 12)}\n- {text(3, 20)}",
    "ordered list": f"1. {text(1, 8)}\n2. {text(2, 30)}\n3. {text(3, 20)}",
    "table": f"| Channel | Use |\n|---|---|\n| Phone{1} | {text(1, 14)} |\n| Email{2} | {text(2, 6)} |",
    "callout": f"> **In an emergency{1}**\n>\n> {text(2, 24)}",
    "heading and paragraph": f"### Heading Sub\n\n{text(1, 40)}",
    "heading and list": f"### Heading Sub\n\n- {text(1, 20)}\n- {text(2, 20)}",
    "fields": "```field\nsignature sig Client signature\ndate sig-date Date\n```",
}


def heading_document(a: int, b: int, after: str) -> str:
    rest = "\n\n".join(text(10 + k, 35) for k in range(2))
    return f"# Layout\n\n{filler(a, b)}\n\n## Heading Next\n\n{after}\n\n{rest}\n"


@pytest.mark.parametrize("kind", list(AFTER_HEADING))
def test_no_page_ends_with_a_heading(kind):
    problems = []
    for a, b in OFFSETS:
        data, anchors = render_with_pages(parse(heading_document(a, b, AFTER_HEADING[kind]), "layout"), meta())
        texts = pages(data)
        for number, lines in enumerate(texts, start=1):
            if lines and lines[-1] in HEADINGS:
                problems.append(f"offset {a, b}: page {number} ends with {lines[-1]!r}")
        drawn = next(n for n, lines in enumerate(texts, start=1) if "Heading Next" in lines)
        if anchors["heading-next"] != drawn:
            problems.append(f"offset {a, b}: heading drawn on page {drawn}, recorded as {anchors['heading-next']}")
    assert not problems, "\n".join(problems)


def test_a_heading_moved_by_keep_with_next_records_the_page_it_is_drawn_on():
    moved = 0
    for a, b in OFFSETS:
        data, anchors = render_with_pages(parse(heading_document(a, b, AFTER_HEADING["list"]), "layout"), meta())
        texts = pages(data)
        drawn = next(n for n, lines in enumerate(texts, start=1) if "Heading Next" in lines)
        assert anchors["heading-next"] == drawn, (a, b)
        moved += drawn == 2 and texts[0][-1] != "Heading Next"
    assert moved >= 3           # the offsets do push the heading over


# -- widows and orphans ---------------------------------------------------------

def flowing_document(a: int, b: int) -> str:
    """Some five pages of paragraphs, bullet and numbered list items of 2 to 9 lines."""
    sizes = iter(range(1, 1000))
    def paragraphs(*words: int) -> list[str]:
        return [text(next(sizes), n) for n in words]
    def items(marker: str, *words: int) -> str:
        return "\n".join(f"{marker.format(n)} {text(next(sizes), w)}" for n, w in enumerate(words, start=1))
    return "\n\n".join([
        "# Layout", filler(a, b), *paragraphs(47, 20, 75, 33, 60), items("-", 35, 14, 48, 30, 60, 26),
        *paragraphs(28, 90, 40, 55), items("{}.", 40, 22, 52, 31), *paragraphs(47, 20, 75, 33, 60, 36, 85),
    ]) + "\n"


def test_no_paragraph_or_list_item_leaves_one_line_alone_at_a_page_break():
    problems = []
    for a, b in offsets(17, 19):
        problems += [f"offset {a, b}: {p}" for p in lone_lines(pdf(flowing_document(a, b)))]
    assert not problems, "\n".join(problems)


# -- forms keep their words -----------------------------------------------------

SIGN_FIELDS = "```field\nsignature client-signature Client signature\ntext client-name Printed name\ndate client-date Date\n```"
LEAD_INS = {
    # The words just before a form are on the form's page, at least two lines of them.
    "heading and paragraph": f"## Heading Sign\n\n{text(90, 22)}\n\n{SIGN_FIELDS}",
    "paragraph, then one line": f"{text(80, 40)}\n\n{text(90, 5)}.\n\n{SIGN_FIELDS}",
    "two paragraphs": f"{text(80, 60)}\n\n{text(90, 30)}\n\n{SIGN_FIELDS}",
    "checkbox": f"{text(90, 24)}\n\n```field\ncheckbox agree I agree.\n```\n\n{SIGN_FIELDS}",
}


@pytest.mark.parametrize("kind", list(LEAD_INS))
def test_a_form_never_shares_a_page_with_only_one_line_of_text(kind):
    problems = []
    for a, b in offsets(13, 19):
        data = pdf(f"# Layout\n\n{filler(a, b)}\n\n{LEAD_INS[kind]}\n")
        found = widgets(data)
        page = found["client-signature"][0]
        lines = pages(data)[page - 1]
        text_lines = [line for line in lines if tags(line)]
        if len(text_lines) < 2 or not any(90 in tags(line) for line in text_lines):
            problems.append(f"offset {a, b}: page {page} holds the form and {text_lines}")
        if len({found[n][0] for n in ("client-signature", "client-name", "client-date")}) != 1:
            problems.append(f"offset {a, b}: one signer's fields on two pages")
    assert not problems, "\n".join(problems)


def test_a_signer_block_never_splits_across_pages():
    two_signers = ("```field\nsignature a-sig Client signature\ntext a-name Printed name\ndate a-date Date\n"
                   "signature b-sig Therapist signature\ntext b-name Printed name\ndate b-date Date\n```")
    for a, b in OFFSETS:
        data = pdf(f"# Layout\n\n{filler(a, b)}\n\n- {text(1, 12)}\n- {text(2, 12)}\n\n{two_signers}\n")
        found = widgets(data)
        for signer in "ab":
            assert len({found[f"{signer}-{n}"][0] for n in ("sig", "name", "date")}) == 1, (a, b, signer)


# -- form fields in tables ------------------------------------------------------

DOCUMENTS = ["Informed Consent for Therapy", "Our Relationship", "Fees and Cancellations",
             "Contact Between Sessions", "Social Media and Online", "Telehealth Consent"]


def signature_page(a: int, b: int, rows: list[str]) -> str:
    table = "\n".join(f"| {title} | `field initials initials-{n} Initials: {title}` |" for n, title in enumerate(rows))
    return (f"# Layout\n\n{filler(a, b)}\n\nPut your initials by each paper.\n\n"
            f"| Document | Your initials |\n|---|---|\n{table}\n\n{text(900, 30)}\n")


def word_boxes(data: bytes) -> list[list[tuple[str, float, float]]]:
    """Each page's words with their vertical extent in PDF points from the bottom (yMin, yMax)."""
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    result = []
    for page in re.findall(r"<page width=\"[\d.]+\" height=\"([\d.]+)\">(.*?)</page>", out, re.S):
        height = float(page[0])
        result.append([(w, height - float(y1), height - float(y0)) for y0, y1, w in
                       re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</word>',
                                  page[1])])
    return result


def test_a_field_in_a_table_is_a_fillable_widget_in_its_row():
    data = pdf(signature_page(1, 3, DOCUMENTS))
    reader = pypdf.PdfReader(io.BytesIO(data))
    fields = reader.get_fields()
    boxes = word_boxes(data)
    found = widgets(data)
    for n, title in enumerate(DOCUMENTS):
        name = f"initials-{n}"
        page, kind, (x0, y0, x1, y1) = found[name]
        assert kind == "/Tx" and fields[name]["/TU"] == f"Initials: {title}"
        assert x1 - x0 == pytest.approx(72) and y1 - y0 == pytest.approx(22)
        # Beside the first word of its row's document title, and right of it.
        first = title.split()[0]
        row = [(low, high) for word, low, high in boxes[page - 1] if word == first]
        assert any(low < y1 and high > y0 for low, high in row), (title, row, (y0, y1))
        assert x0 > 72 + 150
    assert "Initials:" not in " ".join(" ".join(lines) for lines in pages(data))   # labels are tooltips only


def test_a_table_with_fields_repeats_its_header_and_never_splits_a_row():
    rows = [f"{DOCUMENTS[k % len(DOCUMENTS)]} {text(k + 1, 9 + k % 3 * 8)}" for k in range(26)]
    for a, b in [(1, 3), (2, 5), (3, 8), (1, 12)]:
        data = pdf(signature_page(a, b, rows))
        texts = pages(data)
        found = widgets(data)
        table_pages = {found[f"initials-{n}"][0] for n in range(len(rows))}
        assert len(table_pages) >= 2
        for page in table_pages:
            assert any(line.startswith("Document") and "Your initials" in line for line in texts[page - 1]), page
        for n in range(len(rows)):
            on = {p for p, lines in enumerate(texts, start=1) for line in lines if n + 1 in tags(line)}
            assert on == {found[f"initials-{n}"][0]}, (a, b, n, on)


def test_layout_output_is_byte_identical():
    markdown = signature_page(2, 5, DOCUMENTS) + "\n" + heading_document(2, 20, AFTER_HEADING["list"])
    markdown = markdown.replace("# Layout", "## Layout again", 1).replace("## Layout again", "# Layout", 1)
    assert pdf(markdown) == pdf(markdown)


def test_a_long_practice_name_leaves_the_header_room_for_the_title():
    # 113 characters: allowed by the schema, wider than the header line on a letter page.
    long_name = "The Riverside Community Counseling, Family Therapy and Wellness Collaborative of the Greater Lakes Region, PLLC"
    data = render(parse("# Fees\n\nSome text.\n", "layout"),
                  Meta(title="Fees and Cancellations", author="A. Tester, LPC", practice=long_name, version=VERSION))
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    width = float(page.mediabox.width)
    header: list[tuple[float, str]] = []

    def visit(chunk, cm, tm, font, size):
        if chunk.strip() and tm[5] > float(page.mediabox.height) - 60:
            header.append((tm[4], chunk))

    page.extract_text(visitor_text=visit)
    line = " ".join(chunk for _, chunk in sorted(header))
    assert "Fees and Cancellations" in line or "Fees and Cancel…" in line, line
    assert "…" in line and long_name not in line
    assert all(0 <= x < width for x, _ in header)

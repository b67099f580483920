"""Tagged PDF (PDF/UA-1) from the reportlab backend.

Every example document, alone and combined into the packet, passes the
``pdfua`` package's machine-checkable PDF/UA-1 subset with no finding and no
rule left unevaluated, and our own read-back (``a11y_pdf``: ParentTree both
ways, untagged content, fonts); poppler says it is tagged. The structure tree
is then walked: its text, in order, is the document model's text; the running
header and footer are outside it; every field has its label; heading levels
never skip. Tagging changes no pixel.

To keep the suite within CI's five minutes, each example is checked in one of
the four sizes (US letter, A4, and each in large print), taking turns, so each
size is read for a quarter of the examples; ``CONSENTGEN_ALL_VARIANTS=1``
checks every example in all four.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Name

from consentgen.a11y_pdf import pdf_problems
from consentgen.api import load_profile
from consentgen.backends.pdf import render
from consentgen.combine import combine
from consentgen.compose import Job, compose, laid_out, meta_for
from consentgen.document import Callout, Document, Field, List, iter_blocks, text_units

from .conftest import ROOT

CLINICIANS = sorted((ROOT / "profiles").glob("example-*/clinicians/*.yaml"))
VARIANTS = [("letter", False), ("a4", False), ("letter", True), ("a4", True)]
ALL_VARIANTS = os.environ.get("CONSENTGEN_ALL_VARIANTS") == "1"
POPPLER = shutil.which("pdfinfo") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="needs pdfinfo and pdftoppm (poppler-utils)")


def _id(path: Path) -> str:
    return path.stem


@cache
def packet(path: Path, page_size: str = "letter", large: bool = False) -> tuple[dict[str, tuple[bytes, Document]], bytes]:
    """A clinician's packet: each document's PDF with the document as drawn, and the combined PDF."""
    loaded = load_profile(path)
    job = Job(page_size=page_size, large_print=large)
    docs = compose(loaded, job)
    parts = laid_out(docs, lambda d: meta_for(loaded, d, job))
    name = loaded.profile.clinician.name
    combined = combine([(n, d.title, parts[n][0]) for n, d in docs.items()], title=f"Client packet: {name}",
                       author=name, language=meta_for(loaded, next(iter(docs.values())), job).language)
    return parts, combined


def pdfua_failures(data: bytes, tmp_path: Path) -> list[str]:
    """Findings and unevaluated rules of the pdfua package's PDF/UA-1 checks."""
    from pdfua import validate

    path = tmp_path / "check.pdf"
    path.write_bytes(data)
    report = validate(str(path))
    return ([f"{f.rule_id}: {f.message} ({f.location.describe()})" for f in report.findings]
            + [f"{o.rule_id} not evaluated: {o.skipped_reason}" for o in report.skipped])


def variants(clinician: Path) -> list[tuple[str, bool]]:
    """One of the four sizes, by the example's place (all four when asked)."""
    return VARIANTS if ALL_VARIANTS else [VARIANTS[CLINICIANS.index(clinician) % len(VARIANTS)]]


@pytest.mark.parametrize("clinician", CLINICIANS, ids=_id)
def test_every_example_document_is_tagged_pdf_ua_alone_and_combined(clinician, tmp_path):
    for page_size, large in variants(clinician):
        parts, combined = packet(clinician, page_size, large)
        everything = [*((n, data, doc) for n, (data, doc) in parts.items()), ("packet", combined, None)]
        for name, data, doc in everything:
            where = f"{clinician.stem} {page_size}{' large print' if large else ''} {name}"
            assert pdfua_failures(data, tmp_path) == [], where
            assert [str(p) for p in pdf_problems(data)] == [], where
            assert_headings_and_fields(data, doc, where)
            if POPPLER:         # poppler's own reading of the file (without it, the tests below say so)
                assert pdfinfo_tagged(data), where
        if POPPLER:
            assert_reads_in_order(parts, combined)


def pdfinfo_tagged(data: bytes) -> bool:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return bool(re.search(r"^Tagged:\s+yes$", info, re.M))


@needs_poppler
def test_pdfinfo_says_tagged():
    parts, combined = packet(CLINICIANS[0], "a4", True)
    assert all(pdfinfo_tagged(data) for data in [*(d for d, _ in parts.values()), combined])


# -- walking the structure tree ---------------------------------------------------

def struct_text(data: bytes) -> list[tuple[str, str]]:
    """(role, text) for each piece of text in the structure tree, in order, as poppler reads it."""
    out = subprocess.run(["pdfinfo", "-struct-text", "-"], input=data, capture_output=True, check=True)
    found, roles = [], []
    for line in out.stdout.decode("utf-8").splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        text = line.strip()
        if text.startswith('"'):
            found.append((roles[depth - 1] if depth - 1 < len(roles) else "?", text[1:-1]))
        elif text and not text.startswith("/"):
            roles[depth:] = [text.split()[0].rstrip(":")]
    return found


def printed_text(blocks) -> list[str]:
    """The document model's reading text (``text_units``) with the labels printed under form fields."""
    out: list[str] = []
    for b in iter_blocks(blocks):           # a callout or list comes before the blocks inside it
        if isinstance(b, Field):
            out.append(b.label)
        elif isinstance(b, Callout):
            out += [b.title] if b.title else []
        elif not isinstance(b, List):
            out += text_units((b,))
    return out


def squash(text: str) -> str:
    """Text without white space: poppler joins a paragraph's lines with none."""
    return re.sub(r"\s+", "", text)


def assert_reads_in_order(parts: dict[str, tuple[bytes, Document]], combined: bytes) -> None:
    """The packet's structure tree, read back by poppler, is each document's text in order.

    The combined packet holds each document's own tree as a part, so one reading checks them all.
    """
    read = [text for role, text in struct_text(combined) if role != "Lbl"]   # bullets and numbers aside
    assert squash("".join(read)) == squash("".join("".join(printed_text(doc.blocks)) for _, doc in parts.values()))
    # The running header and footer are artifacts: the page numbers never reach the tree.
    assert not any(re.search(r"Page \d+ of \d+", text) for text in read)


@needs_poppler
def test_the_structure_tree_reads_as_the_document_in_order():
    assert_reads_in_order(*packet(CLINICIANS[0], "a4", True))


def _elements(pdf: pikepdf.Pdf):
    """Each structure element in reading order."""
    def walk(elem):
        yield elem
        kids = elem.get(Name.K)
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and Name.S in kid:
                yield from walk(kid)
    yield from walk(pdf.Root.StructTreeRoot.K[0])


def assert_headings_and_fields(data: bytes, doc: Document | None, where: str) -> None:
    """Headings start at H1 and never skip a level; each widget is in its own Form element, its spoken
    name the label of a field of the document."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        elements = list(_elements(pdf))
        levels = [int(str(e.S)[2]) for e in elements if re.fullmatch(r"/H\d", str(e.S))]
        assert levels and levels[0] == 1, where
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), (where, levels)
        widgets = [a for page in pdf.pages for a in page.obj.get(Name.Annots, [])
                   if a.get(Name.Subtype) == Name.Widget]
        forms = [e for e in elements if e.S == Name.Form]
        assert len(forms) == len(widgets), where
        labels = sorted(str(w.TU) for w in widgets)
        if doc is not None:
            assert labels == sorted(f.label for f in doc.fields), where
        assert all(label.strip() for label in labels), where
        assert {f.K.Obj.objgen for f in forms} == {w.objgen for w in widgets}, where


def test_the_header_and_footer_are_artifacts():
    parts, _ = packet(CLINICIANS[0])
    data, _ = next(iter(parts.values()))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            stack, painted = [], []
            for ins in pikepdf.parse_content_stream(page):
                op = str(ins.operator)
                if op in ("BDC", "BMC"):
                    stack.append(str(ins.operands[0]))
                elif op == "EMC":
                    stack.pop()
                elif op == "Do" and str(ins.operands[0]).startswith("/FormXob"):
                    painted.append(stack[-1] if stack else None)
            # The frame (header, rule, version) and the page number, each inside an artifact.
            assert painted and set(painted) == {"/Artifact"}


@needs_poppler
def test_tagging_changes_no_pixel(tmp_path):
    loaded = load_profile(CLINICIANS[0])
    job = Job()
    parts, _ = packet(CLINICIANS[0])
    for name, (data, doc) in parts.items():
        plain = render(doc, meta_for(loaded, doc, job), tagged=False)
        assert plain != data and b"StructTreeRoot" not in plain
        pictures = []
        for label, pdf in (("tagged", data), ("plain", plain)):
            (tmp_path / f"{label}.pdf").write_bytes(pdf)
            subprocess.run(["pdftoppm", "-png", "-r", "40", tmp_path / f"{label}.pdf", tmp_path / label], check=True)
            pictures.append([p.read_bytes() for p in sorted(tmp_path.glob(f"{label}-*.png"))])
            for p in tmp_path.glob(f"{label}-*.png"):
                p.unlink()
        assert pictures[0] == pictures[1], name


def _font_sizes(data: bytes) -> dict[float, int]:
    """How often each text size is set across the pages (Tf operators)."""
    sizes: dict[float, int] = {}
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for ins in pikepdf.parse_content_stream(page):
                if str(ins.operator) == "Tf":
                    size = round(float(ins.operands[1]), 1)
                    sizes[size] = sizes.get(size, 0) + 1
    return sizes


def test_large_print_sets_body_text_at_16_points():
    for large, body in ((False, 11.0), (True, 16.0)):
        parts, _ = packet(CLINICIANS[0], "letter", large)
        data, _ = parts["informed-consent"]
        sizes = _font_sizes(data)
        assert max(sizes, key=sizes.get) == body
        assert min(sizes) >= (12.0 if large else 9.0)     # nothing smaller than the header and footer


# -- the read-back catches what it should ------------------------------------------

def _edited(data: bytes, edit) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        edit(pdf)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def test_the_read_back_names_each_failure_with_its_page(tmp_path):
    loaded = load_profile(CLINICIANS[0])
    parts, _ = packet(CLINICIANS[0])
    data, doc = parts["acknowledgement"]
    plain = render(doc, meta_for(loaded, doc, Job()), tagged=False)
    assert "no structure tree (the PDF is not tagged)" in map(str, pdf_problems(plain))
    assert pdfua_failures(plain, tmp_path)          # the pdfua package agrees

    def skip_a_level(pdf):
        next(e for e in _elements(pdf) if e.S == Name.H2).S = Name.H4

    def drop_a_label(pdf):
        next(a for a in pdf.pages[0].obj.Annots if a.Subtype == Name.Widget).TU = pikepdf.String("")

    def untag(pdf):
        del pdf.Root.MarkInfo
        del pdf.Root.Lang

    assert "heading level skipped: H4 after H1" in map(str, pdf_problems(_edited(data, skip_a_level)))
    assert "page 1: a form field has no spoken name (/TU)" in map(str, pdf_problems(_edited(data, drop_a_label)))
    assert {"not marked as tagged PDF (/MarkInfo /Marked true)", "no document language (/Lang)"} <= set(
        map(str, pdf_problems(_edited(data, untag))))
    assert pdf_problems(b"not a pdf") and str(pdf_problems(b"not a pdf")[0]) == "not a readable PDF"


@needs_poppler
def test_a_table_over_many_pages_has_its_header_once_in_the_tree():
    """The header row drawn again at the top of each later page is decoration, however many pages."""
    from consentgen.backends import Meta
    from consentgen.document import Heading, Run, Table

    rows = tuple(((Run(f"Row {i}"),), (Run(f"value {i}"),)) for i in range(160))
    doc = Document("long", "A long table", (Heading(1, (Run("A long table"),), 1),
                                            Table(((Run("Name"),), (Run("Value"),)), rows, 2)), "en", ())
    data = render(doc, Meta(title=doc.title, author="A. Author", practice="A Practice"))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) >= 3
    read = [text for _, text in struct_text(data)]
    assert read.count("Name") == 1 and read.count("Value") == 1
    assert squash("".join(read)) == squash("".join(printed_text(doc.blocks)))
    assert pdf_problems(data) == []

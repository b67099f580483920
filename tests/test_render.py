"""End to end: every example clinician's handouts, as a client receives them."""
from __future__ import annotations

import datetime as dt
import re

import pikepdf
import pytest
import textstat

from consentgen.api import Job, build_document, render
from consentgen.document import Heading, plain_text
from consentgen.profiles import load_profile

from .conftest import BUILT_IN_DOCS, CLINICIANS, EXAMPLE, MINIMAL
from .readback import docx_text, pdf_text, text_of

DATE = dt.date(2026, 1, 5)
ALL = Job(docs=BUILT_IN_DOCS, formats=("pdf", "docx"), effective=DATE)

# Facts from each example profile that its handouts must state, by document.
FACTS = {
    "ana-nunez": {
        "breaks": ["Jordan Lee, LPC", "555-0142", "at least 3 weeks ahead", "reach me by email",
                   "but I will not read your messages until I am back"],
        "contact": ["Within 1 business day", "Within 2 business days", "Monday to Friday, 9 am to 5 pm"],
        "ending-therapy": ["at least 2 sessions before our last meeting", "welcome to come back"],
        "relationship": ["under $20", "Colorado State Board of Marriage and Family Therapist Examiners"],
    },
    "samuel-okafor": {
        "breaks": ["Priya Raman, LPC", "555-0143", "at least 2 weeks ahead", "reply within 2 business days"],
        "contact": ["Within 4 hours", "What a check-in is", "Monday to Thursday, 10 am to 6 pm"],
        "ending-therapy": ["at least 3 sessions before our last meeting", "60 days"],
        "relationship": ["supervision of Helen Marsh, PhD, LPC", "555-0150"],
    },
    "wren-kowalski": {
        "breaks": ["Tomás Herrera, LCSW", "555-0144", "at least 4 weeks ahead", "I will not read calls or messages"],
        "contact": ["Client portal", "Within 2 business days", "is encrypted and secure",
                    "I do not use phone calls, text messages, email, video calls or social media"],
        "ending-therapy": ["at least 1 session before our last meeting", "I will not stay in touch"],
        "relationship": ["Please do not bring me gifts", "Colorado State Board of Social Work Examiners"],
    },
}
# Facts that belong to one clinician only: they must not leak into another's handouts.
OWN = {
    "ana-nunez": ["Jordan Lee", "Ana Núñez", "MFT"],
    "samuel-okafor": ["Priya Raman", "Helen Marsh", "Samuel Okafor", "4 hours"],
    "wren-kowalski": ["Tomás Herrera", "Wren Kowalski", "Client portal"],
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every built-in document, both formats, for every example clinician."""
    out = tmp_path_factory.mktemp("out")
    paths = {}
    for profile in CLINICIANS:
        for path in render(profile, out / profile.stem, ALL):
            paths[(profile.stem, _doc_of(path), path.suffix[1:])] = path
    return paths


def _doc_of(path) -> str:
    return next(d for d in sorted(BUILT_IN_DOCS, key=len, reverse=True) if path.stem.endswith(d))


def test_every_document_in_both_formats(rendered):
    assert len(rendered) == len(CLINICIANS) * len(BUILT_IN_DOCS) * 2
    assert {p.name for p in rendered.values() if "ana-nunez" in str(p.parent)} >= {
        "ana-nunez-our-relationship.pdf", "ana-nunez-breaks.docx"}


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
@pytest.mark.parametrize("clinician", sorted(FACTS))
def test_documents_state_this_clinicians_facts_and_no_one_elses(rendered, clinician, fmt):
    for doc, facts in FACTS[clinician].items():
        text = text_of(rendered[(clinician, doc, fmt)])
        for fact in facts:
            assert fact in text, f"{clinician}/{doc}.{fmt} lacks {fact!r}"
    combined = text_of(rendered[(clinician, "our-relationship", fmt)])
    for fact in [f for facts in FACTS[clinician].values() for f in facts]:
        assert fact in combined, f"{clinician}/our-relationship.{fmt} lacks {fact!r}"
    for other, owned in OWN.items():
        if other != clinician:
            for doc in BUILT_IN_DOCS:
                text = text_of(rendered[(clinician, doc, fmt)])
                for fact in owned:
                    assert fact not in text, f"{clinician}/{doc}.{fmt} shows {other}'s {fact!r}"


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_every_handout_states_the_fixed_protections(rendered, fmt):
    for clinician in FACTS:
        text = text_of(rendered[(clinician, "our-relationship", fmt)])
        assert "It is never sexual" in text and "during therapy or after it ends" in text
        assert "You can stop therapy whenever you want" in text
        assert "988" in text and "911" in text


def test_rendering_twice_is_byte_identical(rendered, tmp_path):
    profile = EXAMPLE / "clinicians" / "samuel-okafor.yaml"
    again = render(profile, tmp_path, ALL)
    assert again
    for path in again:
        assert path.read_bytes() == rendered[("samuel-okafor", _doc_of(path), path.suffix[1:])].read_bytes(), path.name


@pytest.mark.parametrize("value", ["Dr. *Kim*", "snake_case_name", "# hash", "<b>bold</b>", "[x](y)", "{{ 7*7 }}"])
def test_profile_values_print_literally_in_both_formats(write, tmp_path, value):
    profile = write("p.yaml", MINIMAL.replace("Robin Test", f"'{value}'"))
    pdf, docx = render(profile, tmp_path / "out", Job(docs=("breaks",), formats=("pdf", "docx"), effective=DATE))
    for text in (pdf_text(pdf), docx_text(docx)):
        assert value in text
        assert "49" not in text


@pytest.mark.parametrize("clinician", CLINICIANS, ids=lambda p: p.stem)
def test_handouts_read_at_grade_8_or_lower(clinician):
    loaded = load_profile(clinician)
    for name in BUILT_IN_DOCS:
        text = plain_text(build_document(loaded, name, ALL))
        grade = textstat.flesch_kincaid_grade(text)
        assert grade <= 8, f"{clinician.stem}/{name}: Flesch-Kincaid grade {grade:.1f}"
        words_per_sentence = textstat.lexicon_count(text) / textstat.sentence_count(text)
        assert words_per_sentence <= 20, f"{clinician.stem}/{name}: {words_per_sentence:.1f} words a sentence"


def _outline_titles(pdf: pikepdf.Pdf) -> list[str]:
    with pdf.open_outline() as outline:
        titles = []

        def walk(items):
            for item in items:
                titles.append(str(item.title))
                walk(item.children)

        walk(outline.root)
        return titles


@pytest.mark.parametrize("clinician", sorted(FACTS))
def test_pdfs_open_cleanly_with_metadata_bookmarks_and_fields(rendered, clinician):
    loaded = load_profile(EXAMPLE / "clinicians" / f"{clinician}.yaml")
    for name in BUILT_IN_DOCS:
        doc = build_document(loaded, name, ALL)
        with pikepdf.open(rendered[(clinician, name, "pdf")]) as pdf:
            problems = pdf.check_pdf_syntax()
            assert problems == [], f"{clinician}/{name}: {problems}"
            assert str(pdf.docinfo["/Title"]) == doc.title
            assert loaded.profile.clinician.name in str(pdf.docinfo["/Author"])
            assert str(pdf.Root.Lang) == "en-US"
            headings = [b.text for b in doc.blocks if isinstance(b, Heading) and b.level <= 3]
            assert _outline_titles(pdf) == headings
            fields = {str(f.T): f for f in pdf.Root.AcroForm.Fields}
            assert set(fields) == {f.name for f in doc.fields} == {
                f"{name}-initials", "client-signature", "client-signature-date"}
            assert all(f.FT == pikepdf.Name.Tx for f in fields.values())


def test_pdf_footer_counts_pages(rendered):
    text = pdf_text(rendered[("ana-nunez", "our-relationship", "pdf")])
    total = int(re.search(r"Page 1 of (\d+)", text).group(1))
    assert total >= 2 and f"Page {total} of {total}" in text

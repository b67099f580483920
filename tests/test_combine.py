"""Combining rendered PDFs into one packet: pages, bookmarks, labels, fields, metadata, bytes."""
from __future__ import annotations

import datetime
import io
import time
import warnings

import pikepdf
import pypdf
import pytest

from consentgen.api import Job, build_document, meta_for
from consentgen.backends import get_backend
from consentgen.combine import combine
from consentgen.errors import BackendError
from consentgen.profiles import load_profile

from .conftest import EXAMPLE

DOCS = ("our-relationship", "contact", "self-disclosure", "breaks")
TITLE, AUTHOR, LANGUAGE = "Consent Packet", "Ana Núñez, MA, LMFT", "en-US"


@pytest.fixture(scope="module")
def parts() -> list[tuple[str, str, bytes]]:
    loaded = load_profile(EXAMPLE / "clinicians" / "ana-nunez.yaml")
    job = Job(effective=datetime.date(2026, 1, 5))
    out = []
    for name in DOCS:
        doc = build_document(loaded, name, job)
        out.append((name, doc.title, get_backend("pdf")(doc, meta_for(loaded, doc, job))))
    return out


@pytest.fixture(scope="module")
def combined(parts) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # e.g. pikepdf's PageCopyWarning about unreachable widgets
        return combine(parts, title=TITLE, author=AUTHOR, language=LANGUAGE)


@pytest.fixture(scope="module")
def pdf(combined):
    with pikepdf.open(io.BytesIO(combined)) as p:
        yield p


def _open(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def _tree(p: pikepdf.Pdf, items) -> list[tuple[str, int, list]]:
    """(title, page index, children) for outline items."""
    index = {page.objgen: i for i, page in enumerate(p.pages)}
    return [(it.title, index[it.destination[0].objgen], _tree(p, it.children)) for it in items]


def _outline(p: pikepdf.Pdf) -> list[tuple[str, int, list]]:
    with p.open_outline() as outline:
        return _tree(p, outline.root)


def _shift(tree, by: int):
    return [(title, page + by, _shift(kids, by)) for title, page, kids in tree]


def _counts(parts) -> list[int]:
    counts = []
    for _, _, data in parts:
        with _open(data) as p:
            counts.append(len(p.pages))
    return counts


def _starts(parts) -> list[int]:
    counts = _counts(parts)
    return [sum(counts[:i]) for i in range(len(counts))]


def _field_names(p: pikepdf.Pdf) -> list[str]:
    names = []

    def walk(field, prefix):
        name = f"{prefix}.{field.T}" if prefix else str(field.T)
        kids = field.get("/Kids")
        if kids is None:
            names.append(name)
        for kid in kids or ():
            walk(kid, name)

    for field in p.Root.AcroForm.Fields:
        walk(field, "")
    return names


def test_pages_in_order_with_each_part_text(parts, combined):
    expected = []
    for _, _, data in parts:
        expected += [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    got = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(combined)).pages]
    assert len(got) == len(expected) == sum(_counts(parts))
    assert got == expected
    # Each part's own footer numbering survives: "Page 1 of 2" on contact's first page.
    contact = _starts(parts)[DOCS.index("contact")]
    assert "Page 1 of 2" in got[contact] and "Contact Between Sessions" in got[contact]


def test_one_bookmark_per_part_holding_its_own(parts, pdf):
    tree = _outline(pdf)
    assert [t for t, _, _ in tree] == [title for _, title, _ in parts]
    for (title, page, kids), (_, _, data), start in zip(tree, parts, _starts(parts)):
        assert page == start                               # the part's first page
        with _open(data) as part:
            (own_title, own_page, own_kids), = _outline(part)   # the backend's single title item
        assert own_title == title and own_page == 0
        assert kids and kids == _shift(own_kids, start)     # titles, nesting and pages kept
    assert pdf.Root.PageMode == "/UseOutlines"
    # /Count on the outline root: every item is open, so all are visible.
    assert int(pdf.Root.Outlines.Count) == sum(1 + _count(k) for k in tree)


def _count(node) -> int:
    return sum(1 + _count(k) for k in node[2])


def test_part_title_unlike_its_heading_nests_the_whole_outline(parts):
    name, title, data = parts[1]
    with _open(combine([(name, "Reaching Me", data)], title=TITLE, author=AUTHOR, language=LANGUAGE)) as out:
        (top, page, kids), = _outline(out)
    with _open(data) as part:
        own = _outline(part)
    assert (top, page) == ("Reaching Me", 0)
    assert [k[0] for k in kids] == [title]
    assert kids == own


def test_page_labels_per_part(parts, combined):
    expected = []
    for (name, _, _), count in zip(parts, _counts(parts)):
        expected += [f"{name}-{i}" for i in range(1, count + 1)]
    assert pypdf.PdfReader(io.BytesIO(combined)).page_labels == expected


def test_fields_unique_prefixed_and_fillable(parts, pdf, combined):
    names = _field_names(pdf)
    per_part = {}
    for name, _, data in parts:
        with _open(data) as part:
            per_part[name] = [str(f.T) for f in part.Root.AcroForm.Fields]
    assert len(names) == len(set(names)) == sum(map(len, per_part.values()))
    assert names == [f"{name}.{old}" for name, olds in per_part.items() for old in olds]
    assert "contact.client-signature" in names and "breaks.breaks-initials" in names

    form = pdf.Root.AcroForm
    assert "/Helv" in form.DR.Font and str(form.DA).startswith("/Helv")
    pages = {page.objgen: i for i, page in enumerate(pdf.pages)}
    starts = _starts(parts) + [len(pdf.pages)]
    for n, parent in enumerate(form.Fields):
        for widget in parent.Kids:
            assert widget.Subtype == "/Widget" and "/N" in widget.AP   # drawn without NeedAppearances
            assert widget.Parent.objgen == parent.objgen
            i = pages[widget.P.objgen]
            assert starts[n] <= i < starts[n + 1]
            assert any(a.objgen == widget.objgen for a in pdf.pages[i].Annots)

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(combined))
    page = starts[DOCS.index("contact") + 1] - 1
    writer.update_page_form_field_values(writer.pages[page], {"contact.client-signature": "Jo"},
                                         auto_regenerate=False)
    buf = io.BytesIO()
    writer.write(buf)
    values = {k: v.get("/V") for k, v in pypdf.PdfReader(buf).get_fields().items()}
    assert values["contact.client-signature"] == "Jo"
    assert values["breaks.client-signature"] in ("", None)


def test_metadata_and_syntax(pdf):
    info = pdf.trailer.Info
    assert {k: str(v) for k, v in info.items()} == {"/Title": TITLE, "/Author": AUTHOR, "/Creator": "consentgen"}
    xmp = pdf.Root.Metadata.read_bytes().decode()    # the PDF/UA identifier and the title, but no timestamps
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp and TITLE in xmp and "Date" not in xmp
    assert pdf.Root.Lang == LANGUAGE
    assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
    assert pdf.check_pdf_syntax() == []


def test_same_parts_same_bytes(parts, combined):
    # qpdf seeds a non-deterministic /ID with the clock in whole seconds: cross a second boundary.
    time.sleep(1.05)
    assert combine(parts, title=TITLE, author=AUTHOR, language=LANGUAGE) == combined
    assert combine(parts, title="Other", author=AUTHOR, language=LANGUAGE) != combined


@pytest.mark.parametrize("broken", [
    b"",
    b"Client: Jo Secret, diagnosis withheld",
    "truncated",
    "no-xref",
])
def test_unreadable_part_is_a_backend_error(parts, broken):
    data = parts[1][2]
    if broken == "truncated":
        broken = data[: len(data) // 2]
    elif broken == "no-xref":
        broken = data[: data.rfind(b"xref")]   # qpdf could rebuild this; a packet must not
    bad = [parts[0], ("contact", "Contact", broken)]
    with pytest.raises(BackendError) as err:
        combine(bad, title=TITLE, author=AUTHOR, language=LANGUAGE)
    message = str(err.value)
    assert message.startswith("contact: ") and "\n" not in message
    assert "Jo Secret" not in message and "Ana" not in message


@pytest.mark.parametrize("names, says", [
    (("contact", "contact"), "given twice"),
    (("con.tact",), "cannot name a form field"),
    ((), "nothing to combine"),
])
def test_bad_part_names(parts, names, says):
    data = parts[1][2]
    with pytest.raises(BackendError, match=says):
        combine([(n, "T", data) for n in names], title=TITLE, author=AUTHOR, language=LANGUAGE)


def test_part_without_outline_or_form(parts):
    blank = pikepdf.Pdf.new()
    blank.add_blank_page()
    buf = io.BytesIO()
    blank.save(buf)
    data = combine([("cover", "Cover", buf.getvalue()), parts[2]], title=TITLE, author=AUTHOR, language=LANGUAGE)
    with _open(data) as p:
        tree = _outline(p)
        assert tree[0] == ("Cover", 0, [])
        assert tree[1][:2] == (parts[2][1], 1)
        assert [str(f.T) for f in p.Root.AcroForm.Fields] == [parts[2][0]]   # no empty 'cover' parent
        assert p.check_pdf_syntax() == []

"""The PDF backend: text, fonts, metadata, outline, form fields, pages, determinism."""
from __future__ import annotations

import hashlib
import io

import pikepdf
import pypdf
import pytest

from consentgen.backends import Meta, fonts
from consentgen.backends.pdf import render
from consentgen.document import parse
from consentgen.errors import BackendError

from .conftest import digest_in_another_process

HANDOUT = """\
# Our Working Relationship

*Effective January 5, 2026 — Ana Núñez, LMFT*

Please read this & bring questions. Typed literally: <b>not bold</b>, 5 < 6 > 4, \\*stars\\*.
See [our policies](https://example.org/p?a=1&b="2").

## Contact between sessions

- Text for **scheduling** only.
- Email within *two* business days.
  - Never for emergencies.

| Channel | Use | Reply |
|---|---|---|
| Phone | Scheduling & brief questions | 1 business day |
| Email | Scheduling only | 2 business days |

> **In an emergency**
>
> Call or text 988, or call 911.

### Breaks

4. Fourth step.
5. Fifth step.

Another list:

1. Starts again.

```pagebreak
```

## Acknowledgement

By signing below, you confirm you have read this handout.

```field
checkbox ack_read I have read this handout.
signature client_signature Client signature
date client_date Date
initials client_initials Client initials
```
"""


def meta(**changes) -> Meta:
    values = dict(title="Our Working Relationship", author="Ana Núñez, LMFT",
                  practice="Harbor Street Counseling", subject="Client handout",
                  version="Effective January 5, 2026", language="en-US")
    values.update(changes)
    return Meta(**values)


def pdf_for(markdown: str, **changes) -> bytes:
    return render(parse(markdown, "t"), meta(**changes))


@pytest.fixture(scope="module")
def handout() -> bytes:
    return pdf_for(HANDOUT)


def page_texts(data: bytes) -> list[str]:
    """Each page's text with runs of whitespace (line ends too) as one space."""
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_text_round_trips_with_literal_markup_characters(handout):
    text = " ".join(page_texts(handout))
    assert "Ana Núñez" in text
    assert "read this & bring questions" in text
    assert "<b>not bold</b>, 5 < 6 > 4, *stars*" in text
    assert "Scheduling & brief questions" in text
    assert "In an emergency" in text


def test_link_href_is_escaped(handout):
    with pikepdf.open(io.BytesIO(handout)) as pdf:
        uris = [str(a.A.URI) for page in pdf.pages for a in page.get("/Annots", []) if "/A" in a]
    assert uris == ['https://example.org/p?a=1&b=%222%22']


def test_two_renders_are_byte_identical(handout):
    assert pdf_for(HANDOUT) == handout


SAMPLE, META = HANDOUT, meta()      # for digest_in_another_process


def test_same_bytes_in_another_process():
    """What the PDF backend keeps per process (fonts, subsets of them cut and compressed, the logo)
    never shows: after other documents, with other characters in other orders, a PDF is the one a
    fresh interpreter makes."""
    pdf_for("# Ça va?\n\nŞ ß ő Ж and *ü* **é**, then plain text.")
    pdf_for("# Plain\n\nPlain text, **bold**, *italic*, ***both***.")
    data = pdf_for(SAMPLE)
    assert digest_in_another_process("pdf", "test_pdf_backend") == hashlib.sha256(data).hexdigest()


def test_metadata(handout):
    with pikepdf.open(io.BytesIO(handout)) as pdf:
        info = pdf.docinfo
        assert str(info.Title) == "Our Working Relationship"
        assert str(info.Author) == "Ana Núñez, LMFT"
        assert str(info.Subject) == "Client handout"
        assert str(info.Creator) == "consentgen"
        assert str(pdf.Root.Lang) == "en-US"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert pdf.Root.PageMode == "/UseOutlines"


def test_outline_has_one_open_entry_per_heading_nested_by_level(handout):
    with pikepdf.open(io.BytesIO(handout)) as pdf, pdf.open_outline() as outline:
        def walk(items):
            return [(item.title, walk(item.children)) for item in items]
        tree = walk(outline.root)
        assert pdf.Root.Outlines.Count > 0          # positive: shown open
    assert tree == [("Our Working Relationship", [
        ("Contact between sessions", [("Breaks", [])]),
        ("Acknowledgement", []),
    ])]


def test_form_fields_have_names_types_and_tooltips(handout):
    with pikepdf.open(io.BytesIO(handout)) as pdf:
        fields = {str(f.T): (str(f.FT), str(f.TU)) for f in pdf.Root.AcroForm.Fields}
    assert fields == {
        "ack_read": ("/Btn", "I have read this handout."),
        "client_signature": ("/Tx", "Client signature"),
        "client_date": ("/Tx", "Date"),
        "client_initials": ("/Tx", "Client initials"),
    }


def test_signature_field_is_wide_and_initials_narrow(handout):
    with pikepdf.open(io.BytesIO(handout)) as pdf:
        widths = {str(f.T): float(f.Rect[2]) - float(f.Rect[0]) for f in pdf.Root.AcroForm.Fields}
    assert widths["client_signature"] == pytest.approx(3.5 * 72)
    assert widths["client_initials"] == pytest.approx(72)
    assert widths["client_date"] > widths["client_initials"]


def test_header_footer_and_page_x_of_y(handout):
    texts = page_texts(handout)
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
        assert "Harbor Street Counseling" in text
        assert "Effective January 5, 2026" in text


def test_page_break_and_list_numbering(handout):
    texts = page_texts(handout)
    assert "Acknowledgement" not in texts[0] and "Acknowledgement" in texts[-1]
    assert "4. Fourth step. 5. Fifth step. Another list: 1. Starts again." in texts[0]


@pytest.mark.parametrize("size, width, height", [("letter", 612, 792), ("a4", 595.28, 841.89)])
def test_page_size(size, width, height):
    data = pdf_for("# Title\n\nText.\n", page_size=size)
    box = [float(v) for v in pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox]
    assert box[2:] == pytest.approx([width, height], abs=0.01)


def test_bad_page_size_and_accent_are_user_errors():
    with pytest.raises(BackendError, match="page size"):
        pdf_for("# Title\n", page_size="legal")
    with pytest.raises(BackendError, match="accent"):
        pdf_for("# Title\n", accent="teal")


def test_characters_vera_lacks_use_an_installed_fallback_font():
    if fonts.fallback_face("ő") is None or fonts.fallback_face("Ж") is None:
        pytest.skip("no installed TrueType font has 'ő' and 'Ж'")
    data = pdf_for("# Erdős Pál\n\nЖанна Смирнова and **Erdős**.\n", practice="Łódź Ő Counseling")
    text = page_texts(data)[0]
    assert "Erdős Pál" in text and "Жанна Смирнова" in text and "Łódź Ő Counseling" in text
    with pikepdf.open(io.BytesIO(data)) as pdf:
        names = {str(f.BaseFont) for f in pdf.pages[0].Resources.Font.values()}
    assert any("Vera" in n for n in names) and any("Vera" not in n for n in names)


def test_remembered_widths_are_the_widths_reportlab_computes(monkeypatch):
    from reportlab.pdfbase.pdfmetrics import getFont
    from reportlab.pdfbase.ttfonts import TTFont

    font = getFont(fonts.REGULAR)
    assert isinstance(font, fonts.Font)
    monkeypatch.setattr(font, "_widths", {})
    monkeypatch.setattr(fonts.Font, "WIDTHS", 3)         # fills and empties the cache on the way
    words = ["relationship", "Núñez", "W", "relationship", "ﻻ", "", "two words", "Núñez"]
    for size in (11, 10.5, 11):
        for word in words:
            assert font.stringWidth(word, size) == TTFont.stringWidth(font, word, size)
        assert font.stringWidth("Núñez".encode("utf-8"), size) == TTFont.stringWidth(font, "Núñez", size)
    assert len(font._widths) <= 3


def test_missing_glyphs_name_the_scripts_and_packages_never_the_characters(monkeypatch):
    # The text may be a client's name (issue 10, F10): the message says what to install, not what it read.
    monkeypatch.setattr(fonts, "FONT_DIRS", [])
    with pytest.raises(BackendError) as caught:
        pdf_for("# Title\n\nName: 漢字 Ж\n")
    message = str(caught.value)
    assert message == ("t: some text has characters no installed font covers (Chinese characters, Cyrillic); "
                       "install fonts-wqy-microhei and fonts-noto-core (Debian)")
    assert not any(c in message for c in "漢字Ж")


def test_logo_is_drawn_from_a_local_file(tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (47, 93, 98)).save(logo)
    data = pdf_for("# Title\n\nText.\n", logo=logo)
    def images(resources) -> list:
        """Image XObjects in ``resources``, including those inside form XObjects (the page frame)."""
        found = []
        for x in resources.get("/XObject", {}).values():
            if x.get("/Subtype") == "/Image":
                found.append(x)
            elif x.get("/Subtype") == "/Form" and "/Resources" in x:
                found.extend(images(x.Resources))
        return found

    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert images(pdf.pages[0].Resources)
    with pytest.raises(BackendError, match="cannot read logo"):
        pdf_for("# Title\n", logo=tmp_path / "missing.png")


def test_a_logo_read_once_is_read_again_when_its_file_changes(tmp_path):
    from PIL import Image

    logo, other = tmp_path / "logo.png", tmp_path / "other.png"
    Image.new("RGB", (120, 40), (47, 93, 98)).save(logo)
    first = pdf_for("# Title\n\nText.\n", logo=logo)
    assert pdf_for("# Title\n\nText.\n", logo=logo) == first
    Image.new("RGBA", (90, 60), (200, 30, 30, 128)).save(logo)
    Image.new("RGBA", (90, 60), (200, 30, 30, 128)).save(other)
    changed = pdf_for("# Title\n\nText.\n", logo=logo)
    assert changed != first
    assert changed == pdf_for("# Title\n\nText.\n", logo=other)


def test_titled_callout_and_an_outline_that_skips_a_level():
    from consentgen.document import Callout, Document, Heading, Paragraph, Run

    blocks = (
        Heading(1, (Run("Title"),), 1),
        Heading(3, (Run("Deep & low"),), 2),
        Callout("In an emergency", (Paragraph((Run("Call "), Run("988", bold=True)), 4),), 3),
    )
    data = render(Document("t", "Title", blocks), meta(title="Title"))
    assert "In an emergency Call 988" in page_texts(data)[0]
    with pikepdf.open(io.BytesIO(data)) as pdf, pdf.open_outline() as outline:
        assert [(i.title, [c.title for c in i.children]) for i in outline.root] == [("Title", ["Deep & low"])]


def test_a_heading_stays_with_its_text_without_leaving_half_a_page_empty():
    words = "Clear expectations protect clients and therapists alike, session after session. "
    filler = "\n\n".join(words * 4 for _ in range(5))      # most of page 1
    data = pdf_for(f"# Title\n\n{filler}\n\n## Next section\n\n{words * 25}\n")
    texts = page_texts(data)
    assert "Next section Clear expectations" in texts[0]     # starts on page 1, with its text


@pytest.mark.parametrize("lines", range(18, 27))
def test_a_heading_never_ends_a_page(lines):
    filler = "\n\n".join(f"Line {n}." for n in range(lines))
    texts = page_texts(pdf_for(f"# Title\n\n{filler}\n\n## Next section\n\n{'Text goes on. ' * 200}\n"))
    assert not texts[0].endswith("Next section")


@pytest.mark.parametrize("markdown, heading", [
    ("# Title\n\n## Last words\n", "Last words"),
    ("# Title\n\n## Before a break\n\n---\n\nAfter.\n", "Before a break"),
    ("# Title\n\n## One\n\n### Two\n", "Two"),
])
def test_a_heading_with_nothing_to_keep_it_company_still_renders(markdown, heading):
    # Kept with nothing (the end, a page break), a heading once formed its group again and again, forever.
    assert heading in " ".join(page_texts(pdf_for(markdown)))

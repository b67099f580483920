"""Issue 10: text that round-trips in the PDF, and long values that lay out.

F12: names in Latin with diacritics, Vietnamese, Arabic, Hebrew, emoji and (where a
font for it is installed) Chinese come back out of the PDF as typed, read by two PDF
readers (poppler's pdftotext, as in Evince and Okular, and pypdf). Arabic and Hebrew
read right to left inside an English sentence, Arabic letters joined. A character no
installed font has is refused naming the field it came from (a client by id, a
profile value by file:line: key), never the characters.

F13 (layout): a table row or a callout taller than a page splits across pages
instead of failing with "a block is too large to fit on one page".
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata

import pikepdf
import pypdf
import pytest

from consentgen.backends import Meta, fonts
from consentgen.backends.pdf import render
from consentgen.document import parse
from consentgen.errors import BackendError

from .conftest import ROOT

SOLO = ROOT / "profiles" / "example-solo"
PROFILE = SOLO / "clinicians" / "noor-haddad.yaml"
META = Meta(title="Handout", author="Robin Test, LPC", practice="Test Practice")

# Invisible direction marks a reader may add round right-to-left text.
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def readable(text: str) -> str:
    """Text as a reader's search compares it: compatibility forms folded (NFKC: a joined
    Arabic letter or ligature is its letters), no direction marks, no white space.

    Readers differ on where the space goes at a change of direction, so spaces do not count;
    the letters, and their order, do.
    """
    return re.sub(r"\s+", "", _BIDI_MARKS.sub("", unicodedata.normalize("NFKC", text)))


def pdftotext(path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (Debian: poppler-utils) is not installed")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pypdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def line_with(text: str, marker: str) -> str:
    found = [line for line in text.splitlines() if marker in line]
    assert found, f"no line with {marker!r} in the extracted text"
    return found[0]


def render_for(cli, tmp_path, name: str, profile=PROFILE):
    out = tmp_path / "out.pdf"
    result = cli("render", profile, "--doc", "informed-consent", "--client-name", name, "-o", out)
    assert result.exit_code == 0, result.output
    return out


def needs_font(text: str) -> None:
    """Skip, saying why, unless some installed font has every character of ``text``."""
    try:
        fonts.require([text])
    except BackendError as exc:
        print("skipped:", exc)
        pytest.skip(str(exc))


NAMES = {
    "latin": "Ana Núñez Zoë Łódź",
    "vietnamese": "Nguyễn Thị Minh Khai",
    "arabic": "ليلى حداد",
    "hebrew": "נועה לוי",
    "emoji": "Sam 😀 Lee",
    "math-letter": "Sam 𝐀 Lee",
}


@pytest.mark.parametrize("script", sorted(NAMES))
def test_a_client_name_reads_back_as_typed(cli, tmp_path, script):
    """F12: "Prepared for NAME", an English sentence, reads back with the name as typed."""
    name = NAMES[script]
    needs_font(name)
    pdf = render_for(cli, tmp_path, name)
    expected = readable(f"Prepared for {name}")
    for reader in (pdftotext, pypdf_text):
        line = line_with(reader(pdf), "Prepared for")
        assert readable(line).endswith(expected), (reader.__name__, line)


@pytest.mark.parametrize("name", ["王小明", "さくら 山田", "김민준"])
def test_a_cjk_name_reads_back_when_a_cjk_font_is_installed(cli, tmp_path, name):
    """F12: with a TrueType CJK font installed (Debian: fonts-wqy-microhei, a TrueType
    collection, .ttc), a Chinese, Japanese or Korean name is drawn and reads back;
    without one, the test skips and says why."""
    needs_font(name)
    pdf = render_for(cli, tmp_path, name)
    for reader in (pdftotext, pypdf_text):
        assert readable(line_with(reader(pdf), "Prepared for")).endswith(readable(f"Prepared for {name}"))


def test_beyond_the_bmp_the_tounicode_map_uses_surrogate_pairs(cli, tmp_path):
    """F12: 😀 (U+1F600) used to read back as 'ὠ' (U+1F60): its ToUnicode entry had five hex digits."""
    needs_font("😀")
    text = pypdf_text(render_for(cli, tmp_path, "Sam 😀 Lee"))
    assert "😀" in text and "ὠ" not in text


def test_arabic_is_joined_and_read_right_to_left_in_an_english_sentence(cli, tmp_path, write):
    """F12: the practice's name, Arabic then English, in the header and in a sentence.

    Read back in logical order (a right-to-left run drawn left to right would read
    backwards), and drawn with joined letters: lam and alef make their compulsory
    ligature (U+FEFB/U+FEFC), which unjoined text never shows.
    """
    needs_font("لا سلام")
    folder = shutil.copytree(SOLO, tmp_path / "solo")
    practice = folder / "practice.yaml"
    practice.write_text(practice.read_text().replace("name: Quiet Pines Counseling", 'name: "لا سلام Hope Center"'))
    pdf = render_for(cli, tmp_path, "Ana Núñez", folder / "clinicians" / "noor-haddad.yaml")
    expected = readable("لا سلام Hope Center")
    for reader in (pdftotext, pypdf_text):
        text = reader(pdf)
        assert expected in readable(line_with(text, "Hope Center")), reader.__name__
        assert "\ufefb" in text or "\ufefc" in text       # the lam-alef ligature: the letters were joined
        assert "ﻡﻼﺳ" not in unicodedata.normalize("NFC", text)


def test_each_line_is_drawn_in_the_order_the_unicode_bidi_algorithm_gives():
    """F12: the order drawn is UAX #9's, as python-bidi's Rust implementation (the unicode-bidi
    crate) computes it for a left-to-right paragraph, on mixed text with numbers and brackets.
    That implementation leaves mirroring to the renderer: brackets compare by position here,
    and are checked to face the right way on their own.
    """
    import random

    from bidi import get_display
    from bidi.mirror import MIRRORED

    from consentgen.backends import rtl

    def drawn(text):
        return "".join(piece for _, piece in rtl.visual([(None, text)]))

    def positions(text):
        return "".join("|" if c in MIRRORED else c for c in text)

    pick = random.Random(10)
    alphabet = [*"ab ()[]12.,-+$%:/!", *"אבגד", *"ابتث", "٣"]
    for _ in range(500):
        text = "".join(pick.choice(alphabet) for _ in range(pick.randint(1, 30)))
        assert positions(drawn(text)) == positions(get_display(text, base_dir="L")), text
    # A Hebrew phrase with brackets, at the end of an English sentence: drawn left to right,
    # the phrase's last word comes first, and its brackets face outwards.
    assert drawn("for נועה (לוי)") == "for (יול) העונ"


# -- refusals name the field, never the characters ------------------------------

HANGUL = "김민준"


@pytest.fixture
def no_fallback_fonts(monkeypatch):
    """Only reportlab's Vera: no installed font is searched."""
    monkeypatch.setattr(fonts, "FONT_DIRS", [])


def test_a_client_name_no_font_covers_is_refused_naming_the_option(cli, tmp_path, no_fallback_fonts):
    """F10: the message names --client-name and the script, not the name's characters."""
    result = cli("render", PROFILE, "--doc", "informed-consent", "--client-name", HANGUL, "-o", tmp_path / "o.pdf")
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.endswith("--client-name: has characters no installed font covers (Hangul); "
                            "install fonts-wqy-microhei (Debian)"), message
    assert len(message.splitlines()) == 1 and not any(c in message for c in HANGUL)
    assert not (tmp_path / "o.pdf").exists()


def test_a_roster_client_no_font_covers_fails_alone_naming_the_client_id(cli, tmp_path, no_fallback_fonts):
    """F10: in a build, that client's packet fails naming its client id; the others build."""
    practice = shutil.copytree(SOLO, tmp_path / "practice")
    roster = tmp_path / "roster.csv"
    roster.write_text(f"client_id,clinician,client_name\nc-1001,noor-haddad,{HANGUL}\nc-1002,noor-haddad,Ana Núñez\n",
                      encoding="utf-8")
    result = cli("build", practice, "-o", tmp_path / "dist", "--roster", roster, "--format", "pdf", "--jobs", "1")
    assert result.exit_code == 1, result.output
    failures = [line for line in result.output.splitlines() if "no installed font" in line]
    assert len(failures) == 1 and "client c-1001: name: has characters no installed font covers (Hangul)" in failures[0]
    assert not any(c in result.output for c in HANGUL)
    assert any((tmp_path / "dist").rglob("c-1002/*.pdf"))


def test_a_profile_value_no_font_covers_is_refused_at_its_line(cli, tmp_path, no_fallback_fonts):
    """F10: a profile value is named as file:line: key."""
    folder = shutil.copytree(SOLO, tmp_path / "solo")
    clinician = folder / "clinicians" / "noor-haddad.yaml"
    lines = clinician.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("  name: Noor Haddad"))
    clinician.write_text(clinician.read_text().replace("name: Noor Haddad", f"name: Noor {HANGUL}"))
    result = cli("render", clinician, "--doc", "informed-consent", "-o", tmp_path / "o.pdf")
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert re.search(rf"noor-haddad\.yaml:{line}: clinician\.name: has characters no installed font covers "
                     r"\(Hangul\); install fonts-wqy-microhei \(Debian\)$", message), message
    assert not any(c in message for c in HANGUL)


def test_the_backend_names_the_document_and_the_script_never_the_characters(no_fallback_fonts):
    """The last resort, for text no profile field holds (a template's own words)."""
    with pytest.raises(BackendError) as caught:
        render(parse("# Title\n\nName: 漢字 Ж\n", "notes"), META)
    message = str(caught.value)
    assert message == ("notes: some text has characters no installed font covers (Chinese characters, Cyrillic); "
                       "install fonts-wqy-microhei and fonts-noto-core (Debian)")


# -- F13: long values lay out ---------------------------------------------------

def words(tag: str, count: int) -> str:
    """``count`` distinct words: every one must come back, in order."""
    return " ".join(f"{tag}{i:04d}" for i in range(count))


def assert_all_there(data: bytes, *texts: str) -> None:
    with pikepdf.open(io.BytesIO(data)) as pdf:      # reopens: the file is whole
        assert len(pdf.pages) >= 2
    found = re.findall(r"[a-z]+\d{4}", pypdf_text(io.BytesIO(data)))
    for text in texts:
        expected = text.split()
        got = [w for w in found if w[:-4] == expected[0][:-4]]
        assert got == expected, f"{len(got)} of {len(expected)} words of {expected[0][:-4]!r} came back in order"


LONG_BLOCKS = {
    # the crisis box: a callout whose one list is taller than a page
    "crisis box": lambda: "# Handout\n\n> **In a crisis, do not wait for me**\n>\n" + "".join(
        f"> - **{words(t, 300)}**: call 555-0171.\n" for t in ("alpha", "beta", "gamma")),
    # a callout holding one very long paragraph
    "notice box": lambda: "# Handout\n\n> **A notice your state requires**\n>\n> " + words("notice", 900) + "\n",
    # the fee table: a service name that takes more than a page in its column
    "fee table": lambda: "# Handout\n\n| Service | Fee |\n|---|---|\n"
                         f"| {words('service', 700)} | $120 |\n| {words('other', 700)} | $60 |\n",
    # the signature table: a long part title beside its initials field
    "signature table": lambda: "# Handout\n\n| Part of the packet | Your initials |\n|---|---|\n"
                               f"| {words('part', 700)} | `field initials initials-one Initials` |\n"
                               "| Fees | `field initials initials-two Initials` |\n",
    # the contact table: five narrow columns
    "contact table": lambda: "# Handout\n\n| Way | Number | For | Reply | Cost |\n|---|---|---|---|---|\n"
                             f"| Text | 555-0100 | {words('use', 400)} | {words('reply', 400)} | None |\n",
    # key points: a heading longer than a page
    "heading": lambda: f"# Handout\n\n## {words('heading', 500)}\n\nText after it.\n",
}


@pytest.mark.parametrize("block", sorted(LONG_BLOCKS))
def test_a_block_taller_than_a_page_splits_across_pages(block):
    """F13: it used to fail with "a block is too large to fit on one page"."""
    markdown = LONG_BLOCKS[block]()
    data = render(parse(markdown, "long"), META)
    texts = [m.strip() for m in re.findall(r"((?:[a-z]+\d{4} ?){2,})", markdown)]
    assert_all_there(data, *texts)
    if block == "signature table":
        with pikepdf.open(io.BytesIO(data)) as pdf:
            assert sorted(str(f.T) for f in pdf.Root.AcroForm.Fields) == ["initials-one", "initials-two"]


def test_a_long_crisis_box_in_a_profile_renders_over_two_pages(cli, tmp_path):
    """F13 through the CLI: many crisis lines with long (valid) names fill the crisis box past a page."""
    import yaml

    folder = shutil.copytree(SOLO, tmp_path / "solo")
    practice = folder / "practice.yaml"
    data = yaml.safe_load(practice.read_text())
    name = "Upper Arkansas Valley Regional Crisis and Support Line for Everyone in Chaffee County"
    data["emergency"]["crisis_lines"] = [{"name": f"{name} {i}", "number": f"555-01{i:02d}", "how": "call or text"}
                                         for i in range(25)]
    practice.write_text(yaml.safe_dump(data, allow_unicode=True))
    out = tmp_path / "out.pdf"
    result = cli("render", folder / "clinicians" / "noor-haddad.yaml", "--doc", "our-relationship", "-o", out)
    assert result.exit_code == 0, result.output
    text = readable(pypdf_text(out))
    assert all(readable(f"{name} {i}: call or text 555-01{i:02d}.") in text for i in range(25))


def test_long_text_renders_the_same_bytes_twice():
    markdown = LONG_BLOCKS["fee table"]() + "\n" + "ليلى حداد and נועה לוי (50) in one sentence.\n"
    doc = parse(markdown, "long")
    assert render(doc, META) == render(doc, META)

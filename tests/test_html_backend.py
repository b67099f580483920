"""The HTML backend, read back as a browser's parser and a careful reader would.

What a real browser and axe-core make of the pages is test_html_browser.py;
these tests need nothing but the standard library's HTML parser.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from consentgen import contrast
from consentgen.api import Job, compose, load_profile, meta_for
from consentgen.backends import FORMATS, Meta
from consentgen.backends.html import render, render_packet
from consentgen.backends.html_page import WORDS
from consentgen.compose import resolved, section_words
from consentgen.compose import packet_html
from consentgen.document import parse
from consentgen.errors import BackendError

from .conftest import EXAMPLE, ROOT, digest_in_another_process

SAMPLE = """\
# Our Working Relationship

Written by Ana Núñez. Fees & payments, a literal \\<b>bold\\</b> and a \\<script>alert(1)\\</script>.
See [our FAQ](https://example.org/faq?a=1&b=2) for **more** *detail*, or [write](mailto:office@example.org).

## Contact

- Text for scheduling only.
  - Not for emergencies.
- Email within two days.

Some words between the lists.

3. Third step.
4. Fourth step.

> **In an emergency**
>
> Call 988.

#### Response times

| Channel | Reply within | Address |
|---|---|---|
| Text | 1 business day | 555-0100 |
| Email | 2 business days | office@harborstreet.example |

```pagebreak
```

## Signatures

```field
checkbox agree I have read this handout
signature client_signature Client signature
date client_date Date
```

| Who signs | Signature | Date |
|---|---|---|
| Client | `field signature sig_client Client signature` | `field date date_client Date` |
"""
META = Meta(title="Our Working Relationship", author="Ana Núñez, LMFT",
            practice="Harbor Street Counseling", version="Effective January 5, 2026")
PROFILES = sorted(ROOT.glob("profiles/example-*/clinicians/*.yaml"))
ANA = EXAMPLE / "clinicians" / "ana-nunez.yaml"


class Page(HTMLParser):
    """An HTML page as a list of elements: (tag, attributes, text inside), in document order."""

    VOID = {"meta", "img", "br", "wbr", "link", "input", "hr"}

    def __init__(self, data: bytes):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, list[str]]] = []
        self.open: list[tuple[str, dict, list[str]]] = []
        self.source = data.decode("utf-8")
        self.feed(self.source)

    def handle_starttag(self, tag, attrs):
        element = (tag, dict(attrs), [])
        self.elements.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element[2].append(data)

    def all(self, tag: str) -> list[tuple[dict, str]]:
        return [(attrs, "".join(text)) for t, attrs, text in self.elements if t == tag]

    def text(self, tag: str) -> list[str]:
        return [" ".join(text.split()) for _, text in self.all(tag)]

    def headings(self) -> list[tuple[int, str, str]]:
        return [(int(t[1]), a.get("id", ""), "".join(x)) for t, a, x in self.elements if re.fullmatch(r"h[1-6]", t)]

    def ids(self) -> set[str]:
        return {a["id"] for _, a, _ in self.elements if "id" in a}


@pytest.fixture(scope="module")
def data() -> bytes:
    return render(parse(SAMPLE, "t"), META)


@pytest.fixture(scope="module")
def page(data) -> Page:
    return Page(data)


@pytest.fixture(scope="module")
def packets() -> dict[Path, bytes]:
    """Every example profile's packet page."""
    out = {}
    for path in PROFILES:
        loaded = load_profile(path)
        job = Job()
        out[path] = packet_html(loaded, job, compose(loaded, job))
    return out


def test_text_is_escaped_never_markup(page):
    assert page.all("script") == [] and page.all("b") == []
    body = page.source.split("<main", 1)[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "Fees &amp; payments" in body
    assert page.text("p")[1].startswith(
        "Written by Ana Núñez. Fees & payments, a literal <b>bold</b> and a <script>alert(1)</script>. See our FAQ")


def test_markup_in_profile_values_prints_literally(write, cli, tmp_path):
    profile = write("p.yaml", """\
        schema: 1
        practice:
          name: "<script>alert('x')</script> & Co"
          phone: "555-0100"
          branding: {logo_alt: "<img src=x onerror=alert(1)>"}
        clinician:
          name: "Robin <b>Test</b> & Sons"
          credentials: LPC
        packet: [our-relationship]
        """)
    result = cli("render", profile, "--format", "html", "--doc", "our-relationship", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    [written] = (tmp_path / "out").iterdir()
    html = Page(written.read_bytes())
    assert html.all("script") == [] and html.all("b") == []
    assert html.text("p")[0] == "<script>alert('x')</script> & Co"                # the header
    assert "Robin <b>Test</b> & Sons" in " ".join(html.text("footer"))
    assert "&lt;script&gt;alert(&#x27;x&#x27;) &lt;/script&gt;" not in html.source   # escaped once, not twice
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in html.source


def test_lang_title_and_a_skip_link_to_main(page):
    assert page.all("html")[0][0]["lang"] == "en-US"
    assert page.text("title") == ["Our Working Relationship – Harbor Street Counseling"]
    links = page.all("a")
    assert links[0][0]["href"] == "#main" and links[0][1] == WORDS["en"]["skip"]
    assert [a["id"] for a, _ in page.all("main")] == ["main"]
    viewport = [a for a, _ in page.all("meta") if a.get("name") == "viewport"]
    assert viewport and "maximum-scale" not in viewport[0]["content"] and "user-scalable" not in viewport[0]["content"]


def test_a_heading_never_skips_a_level(page):
    """The template's #### after a ## (inside a callout's h3) is an h3: a screen reader's outline has no holes."""
    assert [(level, text) for level, _, text in page.headings()] == [
        (1, "Our Working Relationship"), (2, "Contact"), (3, "In an emergency"), (3, "Response times"),
        (2, "Signatures")]


def _levels_ok(headings) -> bool:
    levels = [level for level, _, _ in headings]
    return levels[0] == 1 and all(b <= a + 1 for a, b in zip(levels, levels[1:]))


def test_no_example_page_skips_a_heading_level_and_ids_are_unique(packets):
    for path, data in packets.items():
        page = Page(data)
        assert _levels_ok(page.headings()), (path, page.headings())
        assert len([level for level, _, _ in page.headings() if level == 1]) == 1
        ids = [a["id"] for _, a, _ in page.elements if "id" in a]
        assert len(ids) == len(set(ids)), path
    loaded = load_profile(ANA)
    for name, doc in resolved(compose(loaded, Job())).items():
        assert _levels_ok(Page(render(doc, meta_for(loaded, doc, Job()))).headings()), name


def test_lists_are_lists_and_a_numbered_one_keeps_its_start(page):
    assert [a for a, _ in page.all("ol")] == [{"start": "3"}]
    assert page.text("li")[:3] == ["Text for scheduling only. Not for emergencies.", "Not for emergencies.",
                                   "Email within two days."]
    assert len(page.all("ul")) >= 2            # the nested list is its own ul


def test_tables_have_column_and_row_headers_in_a_labelled_scroll_region(page):
    regions = [a for a, _ in page.all("div") if a.get("role") == "region"]
    assert regions and all(a["tabindex"] == "0" and a.get("aria-labelledby") in page.ids() for a in regions)
    headers = page.all("th")
    assert [a["scope"] for a, _ in headers[:5]] == ["col", "col", "col", "row", "row"]
    assert page.text("th")[:3] == ["Channel", "Reply within", "Address"]


def test_a_wide_table_names_each_cell_for_the_narrow_layout_hidden_from_screen_readers(page):
    [stacked] = [a for a, _ in page.all("table") if a.get("class") == "stack"]
    labels = [a for a, _ in page.all("span") if a.get("class") == "cell-label"]
    assert len(labels) == 4 and all(a["aria-hidden"] == "true" for a in labels)


def test_a_long_address_in_a_table_may_break_only_at_its_punctuation(page):
    assert "office@<wbr>harborstreet<wbr>.example" in page.source


def test_a_callout_is_a_section_with_its_title_as_heading(page):
    assert '<section class="callout">\n<h3 id="in-an-emergency">In an emergency</h3>\n<p>Call 988.</p>' in page.source


def test_form_fields_are_a_note_about_the_printed_copy_not_inputs(page):
    assert page.all("input") == [] and page.all("form") == [] and page.all("select") == []
    notes = [" ".join(t.split()) for a, t in page.all("div") if a.get("class") == "paper"]
    on_paper = WORDS["en"]["on_paper"]
    assert notes == [f"{on_paper}: I have read this handout Client signature Date",
                     f"{on_paper}: Signature, Date."]
    assert page.text("th")[-2:] == ["Who signs", "Client"]     # the table keeps the column to read


def test_links_keep_their_address_and_only_safe_schemes_become_links():
    doc = parse("# T\n\n[a](https://example.org/?a=1&b=2) [b](tel:5550100) [c](ftp://example.org/x)\n", "t")
    page = Page(render(doc, META))
    assert [a["href"] for a, _ in page.all("a")][1:] == ["https://example.org/?a=1&b=2", "tel:5550100"]
    assert page.text("p")[1] == "a b c"


def test_nothing_runs_and_nothing_is_fetched(packets):
    """No script, no style sheet, font or frame from elsewhere; every image is inline."""
    for path, data in packets.items():
        page = Page(data)
        tags = {t for t, _, _ in page.elements}
        assert not tags & {"script", "link", "iframe", "object", "embed", "frame", "base", "form"}, path
        for tag, attrs, _ in page.elements:
            assert not any(k.startswith("on") for k in attrs), (path, tag, attrs)
            assert attrs.get("src", "data:image/").startswith("data:image/"), (path, tag)
            assert attrs.get("href", "#").startswith(("#", "https:", "http:", "mailto:", "tel:")), (path, attrs)
        style = "".join(page.text("style"))
        assert "url(" not in style and "@import" not in style and "@font-face" not in style


def _variables(data: bytes) -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):(#[0-9A-Fa-f]{6})", Page(data).source))


@pytest.mark.parametrize("accent", ["#2F5D62", "#8A5A2B", "#FFD700", "#88CCEE", "#FFFFFF", "#767676", "#000000"])
def test_every_text_colour_has_4_5_to_1_on_its_background(accent):
    """The style sheet's colours as a reader meets them: body text, header and footer text, and the accent
    in headings, links and the focus ring, on white, in a callout and in a table header."""
    data = render(parse(SAMPLE, "t"), replace(META, accent=accent))
    colours = _variables(data)
    assert colours["accent"] == accent
    for text in ("ink", "muted", "accent-text"):
        for background in ("paper", "tint", "head"):
            assert contrast.ratio(colours[text], colours[background]) >= 4.5, (text, background, colours)
    assert contrast.ratio(colours["rule"], colours["paper"]) >= 3       # borders of a table or a note
    style = "".join(Page(data).text("style"))
    assert "h1,h2,h3,h4,h5,h6{color:var(--accent-text)" in style and "a{color:var(--accent-text)" in style


def test_a_light_accent_is_darkened_for_text_keeping_its_hue():
    colours = _variables(render(parse(SAMPLE, "t"), replace(META, accent="#88CCEE")))
    r, g, b = contrast.parse(colours["accent-text"])
    assert b > g > r                                # still a light blue's order of channels: blue, not grey


def test_focus_is_visible(page):
    style = "".join(page.text("style"))
    assert re.search(r"a:focus[^{]*\{outline:3px solid var\(--accent-text\)", style)
    assert ".skip:focus{top:.5rem}" in style


@pytest.mark.parametrize("large, points", [(False, 12.75), (True, 16)])
def test_large_print_body_text_is_16_points(large, points):
    style = "".join(Page(render(parse(SAMPLE, "t"), replace(META, large_print=large))).text("style"))
    rem = float(re.search(r"body\{[^}]*font-size:([\d.]+)rem", style).group(1))
    assert rem * 16 * 0.75 == pytest.approx(points, abs=0.01)     # a browser's default 16 px = 12 pt
    printed = re.search(r"@media print\{[^@]*body\{font-size:([\d.]+)pt", style).group(1)
    assert float(printed) == (16 if large else 11.5)


def test_same_input_same_bytes(data):
    assert render(parse(SAMPLE, "t"), META) == data


def test_same_bytes_in_another_process(data):
    assert digest_in_another_process("html", "test_html_backend") == hashlib.sha256(data).hexdigest()


def _png(width: int, height: int, noise: bool = False) -> bytes:
    from PIL import Image

    image = (Image.effect_noise((width, height), 80).convert("RGB") if noise
             else Image.new("RGB", (width, height), "teal"))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_the_logo_is_inline_with_its_spoken_text(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png(40, 20))
    page = Page(render(parse(SAMPLE, "t"), replace(META, logo=logo, logo_alt="A wave")))
    [(attrs, _)] = page.all("img")
    assert attrs["alt"] == "A wave" and (attrs["width"], attrs["height"]) == ("40", "20")
    assert base64.b64decode(attrs["src"].split(",", 1)[1]) == logo.read_bytes()
    assert Page(render(parse(SAMPLE, "t"), replace(META, logo=logo))).all("img")[0][0]["alt"] \
        == "Harbor Street Counseling logo"


def test_a_large_logo_is_scaled_down_the_same_way_every_time(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png(1200, 800, noise=True))
    first = render(parse(SAMPLE, "t"), replace(META, logo=logo))
    [(attrs, _)] = Page(first).all("img")
    assert (attrs["width"], attrs["height"]) == ("240", "160")
    assert len(first) < len(logo.read_bytes()) / 4
    from consentgen.backends import html_page

    html_page._logo_data.cache_clear()
    assert render(parse(SAMPLE, "t"), replace(META, logo=logo)) == first


@pytest.mark.parametrize("change, message", [
    ({"accent": "teal"}, "accent"),
    ({"language": "en US\" onload=\"x"}, "language"),
    ({"logo": Path("/nonexistent/logo.png")}, "logo"),
])
def test_bad_meta_is_a_backend_error(change, message):
    with pytest.raises(BackendError, match=message):
        render(parse(SAMPLE, "t"), replace(META, **change))


# -- packets, cross-references and the command line ------------------------------------------

def test_in_a_packet_page_every_cross_reference_is_a_link_to_its_heading(packets):
    page = Page(packets[ANA])
    ids = page.ids()
    links = [(a["href"], t) for a, t in page.all("a") if a["href"].startswith("#")]
    assert len(links) > 10 and all(href[1:] in ids for href, _ in links)
    by_id = {a["id"]: " ".join("".join(x).split()) for _, a, x in page.elements if "id" in a}
    words = "Our Relationship: What to Expect, “Contact between sessions”"
    relationship = [href for href, text in links if text == words]
    assert relationship and by_id[relationship[0][1:]] == "Contact between sessions"
    assert page.text("nav")[0].startswith(WORDS["en"]["contents"] + " Key Points Informed Consent for Therapy")


def test_a_single_document_names_its_cross_references_in_words():
    loaded = load_profile(ANA)
    docs = resolved(compose(loaded, Job()))
    page = Page(render(docs["key-points"], meta_for(loaded, docs["key-points"], Job())))
    assert [a["href"] for a, _ in page.all("a")] == ["#main"]
    words = "(Our Relationship: What to Expect, “Our relationship”)"
    assert any(words in p for p in page.text("p") + page.text("li"))


def test_a_packet_page_has_one_title_and_each_document_below_it():
    loaded = load_profile(ANA)
    docs = compose(loaded, Job())
    meta = replace(meta_for(loaded, next(iter(docs.values())), Job()), title="Client packet: Ana Núñez")
    page = Page(render_packet(list(docs.values()), meta, section_words(docs)))
    assert page.text("title") == ["Client packet: Ana Núñez"]
    top = [t for level, _, t in page.headings() if level <= 2]
    assert top[:3] == ["Client packet: Ana Núñez", "Contents", "Key Points"]
    assert len(page.all("article")) == len(docs)


def test_the_cli_offers_every_backend_and_builds_pdf_and_docx_by_default():
    from consentgen import cli

    assert cli.FORMATS == FORMATS and "html" in FORMATS
    assert cli.BUILD_FORMATS == ("pdf", "docx")


def test_render_writes_one_html_file_per_document(cli, tmp_path):
    result = cli("render", ANA, "--format", "html", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names and all(n.startswith("ana-nunez-") and n.endswith(".html") for n in names)
    one = cli("render", ANA, "--doc", "contact", "--format", "html", "-o", tmp_path / "contact.html")
    assert one.exit_code == 0 and (tmp_path / "contact.html").read_bytes().startswith(b"<!DOCTYPE html>")


def test_build_with_html_and_combined_writes_packet_html_into_the_manifest(cli, tmp_path):
    out = tmp_path / "out"
    first = cli("build", EXAMPLE, "-o", out, "--format", "html", "--combined", "-q")
    assert first.exit_code == 0, first.output
    records = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    packet = [r for r in records if r["path"] == "ana-nunez/packet.html"]
    assert packet and packet[0]["format"] == "html" and packet[0]["document"] == "packet" and packet[0]["pages"] is None
    assert hashlib.sha256((out / "ana-nunez" / "packet.html").read_bytes()).hexdigest() == packet[0]["sha256"]
    assert {r["format"] for r in records} == {"html", "pdf"}      # the combined PDF, beside the page
    assert cli("verify", out).exit_code == 0
    again = cli("build", EXAMPLE, "-o", out, "--format", "html", "--combined", "-q")
    assert again.stdout.startswith("nothing to do")
    large = cli("build", EXAMPLE, "-o", out, "--format", "html", "--combined", "--large-print", "-q")
    assert large.stdout.startswith("built 3 packets")


def test_a_damaged_logo_is_one_line_without_a_traceback(write, cli, tmp_path):
    (tmp_path / "logo.png").write_bytes(b"not an image")
    profile = write("p.yaml", """\
        schema: 1
        practice:
          name: Test Practice
          phone: "555-0100"
          branding: {logo: logo.png}
        clinician:
          name: Robin Test
        """)
    result = cli("render", profile, "--format", "html", "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "practice.branding.logo: the image is not a PNG or JPEG image" in result.stderr

"""The packet as a client reads it: every example clinician's combined PDF,
read back as text, answers the client's questions with that profile's own
values, says each thing once, signs once, and lays out cleanly."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pypdf import PdfReader

from consentgen.build import BuildOptions, build
from consentgen.compose import Job, compose
from consentgen.document import Callout, Heading
from consentgen.options import Settings
from consentgen.profiles import load_profile
from consentgen.views import break_plan, channel_views, fee_plan

from .conftest import ROOT, shared_build
from .readback import body_lines, squash

PRACTICES = sorted(p for p in (ROOT / "profiles").glob("example-*") if p.is_dir())
CLINICIANS = sorted((ROOT / "profiles").glob("example-*/clinicians/*.yaml"))
CRISIS_TITLE = "In a crisis, do not wait for me"


class _Packets:
    """Clinician file -> its packet folder; each example practice is built (PDF, combined) the first
    time one of its clinicians is asked for, once for the whole test run, whichever worker asks."""

    def __init__(self, tmp_path_factory):
        self.factory = tmp_path_factory

    def __getitem__(self, clinician: str) -> Path:
        practice = Path(clinician).parent.parent
        root = shared_build(self.factory, f"packets-{practice.name}", lambda folder: self._build(practice, folder))
        return root / Path(clinician).stem

    @staticmethod
    def _build(practice: Path, folder: Path) -> None:
        report = build(practice, folder, BuildOptions(settings=Settings(formats=("pdf",), combined=True), jobs=1))
        assert not report.failures, report.failures


@pytest.fixture(scope="module")
def packets(tmp_path_factory) -> _Packets:
    return _Packets(tmp_path_factory)


@dataclass(frozen=True)
class Page:
    document: str
    number: int          # within its document, as its footer prints it
    last: bool           # the document's last page
    lines: tuple[str, ...]   # body text lines, header and footer left out


@cache
def pages_of(folder: Path) -> tuple[Page, ...]:
    """The combined packet's pages, each with its document (from the page labels) and body lines.

    Read once per packet (the files never change once built): a dozen tests read each one."""
    reader = PdfReader(io.BytesIO((folder / "packet.pdf").read_bytes()))
    labels = reader.page_labels
    found = []
    for i, page in enumerate(reader.pages):
        doc, _, number = labels[i].rpartition("-")
        found.append((doc, int(number), body_lines(page.extract_text() or "")))
    out = []
    for i, (doc, number, lines) in enumerate(found):
        last = i + 1 == len(found) or found[i + 1][0] != doc
        out.append(Page(doc, number, last, tuple(lines)))
    return tuple(out)


def packet_text(folder: Path) -> str:
    return squash(" ".join(" ".join(p.lines) for p in pages_of(folder)))


# -- every client question, answered with the profile's own value ---------------------------------

def _answers(path: Path) -> dict[str, str]:
    """What the packet must say for this clinician: question -> the profile's value, as printed."""
    profile = load_profile(path).profile
    b, fp = break_plan(profile), fee_plan(profile)
    channels = {c.key: c for c in channel_views(profile)}
    found = {"988": "988", "911": "911", "never romantic or sexual": "never"}
    cover = b.coverage or b.service
    assert cover is not None, f"{path.name}: an example must name who covers a break"
    found["coverage name"] = cover.name
    if cover.phone:
        found["coverage phone"] = cover.phone
    found["reply after a break"] = b.answer_after_return or ""
    found["no-show fee"] = fp.missed_fee or "no fee"
    found["session fee"] = fp.session.fee if fp.session else ""
    found["inactivity days"] = profile.policies.termination.inactive_after or ""
    call = channels.get("phone") or next(iter(channels.values()), None)
    if call is not None:
        found["cost of contact"] = call.cost
    if "text" in channels:
        found["number that takes texts"] = channels["text"].address or ""
    if profile.policies.therapy.sees_minors and profile.policies.therapy.minors_from_age:
        found["youngest age seen"] = f"from the age of {profile.policies.therapy.minors_from_age}"
    if b.leaving_notice:
        found["notice if I leave"] = b.leaving_notice
    return {q: v for q, v in found.items() if v}


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_the_packet_answers_every_client_question_with_the_profiles_own_value(path, packets):
    text = packet_text(packets[str(path)])
    missing = {q: v for q, v in _answers(path).items() if v not in text}
    assert not missing, f"{path.stem}'s packet never says: {missing}"


def test_there_are_at_least_twelve_example_clinicians_and_one_sees_clients_by_video_only():
    assert len(CLINICIANS) >= 12
    assert any(load_profile(p).profile.policies.telehealth.in_person is False for p in CLINICIANS)


# -- one packet, read once ---------------------------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(])")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_each_sentence_of_eight_words_or_more_appears_once(path, packets):
    seen: dict[str, int] = {}
    for s in sentences(packet_text(packets[str(path)])):
        if len(s.split()) >= 8:
            seen[s] = seen.get(s, 0) + 1
    assert {s: n for s, n in seen.items() if n > 1} == {}


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_the_crisis_box_is_printed_once_and_the_key_points_open_the_packet(path, packets):
    docs = compose(load_profile(path), Job())
    boxes = [b for d in docs.values() for b in d.blocks if isinstance(b, Callout) and b.title == CRISIS_TITLE]
    assert len(boxes) == 1
    assert list(docs)[0] == "key-points" and list(docs)[-1] == "acknowledgement"
    assert packet_text(packets[str(path)]).count(CRISIS_TITLE) == 1


def _signers(path: Path) -> set[str]:
    profile = load_profile(path).profile
    signers = {"client"}
    second = profile.policies.signers.second_signer
    if second == "guardian" and profile.policies.therapy.sees_minors:
        signers.add("guardian")
    if second == "partner":
        signers.add("partner")
    if profile.policies.signers.therapist_signs:
        signers.add("therapist")
    return signers


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_one_signature_field_per_signer_and_all_on_the_signature_page(path, packets):
    reader = PdfReader(io.BytesIO((packets[str(path)] / "packet.pdf").read_bytes()))
    names = [name for name in reader.get_fields() or {} if name.endswith("signature")]
    assert sorted(names) == sorted(f"acknowledgement.{s}-signature" for s in _signers(path))


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_no_thin_pages_and_no_heading_at_the_foot_of_a_page(path, packets):
    headings = {b.text for d in compose(load_profile(path), Job()).values() for b in d.blocks
                if isinstance(b, Heading)}
    for page in pages_of(packets[str(path)]):
        where = f"{page.document} page {page.number}"
        if not page.last:
            assert len(page.lines) >= 5, f"{where} holds only {list(page.lines)}"
            assert page.lines and page.lines[-1] not in headings, f"{where} ends with the heading {page.lines[-1]!r}"


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_the_key_points_fit_one_page_and_cite_the_right_pages(path, packets):
    pages = pages_of(packets[str(path)])
    assert [p.number for p in pages if p.document == "key-points"] == [1]
    text = " ".join(pages[0].lines)
    by_doc: dict[str, list[Page]] = {}
    for p in pages:
        by_doc.setdefault(p.document, []).append(p)
    docs = compose(load_profile(path), Job())
    titles = {d.title: name for name, d in docs.items()}
    cited = re.findall(r"\(([^()]+?), page (\d+)\)", squash(text))
    assert cited, "the key points say where the details are"
    for title, page in cited:
        assert title in titles, f"the key points cite {title!r}, which is not in the packet"
        assert int(page) <= len(by_doc[titles[title]])


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_the_packet_names_no_document_it_does_not_hold(path):
    docs = compose(load_profile(path), Job())
    held = {d.title for d in docs.values()}
    from consentgen.templating import list_documents

    others = {t.name for t in list_documents()} - set(docs)
    text = " ".join(b.text for d in docs.values() for b in d.blocks if hasattr(b, "text"))
    for name in others:
        doc_title = compose(load_profile(path), Job(docs=(name,)))[name].title
        if doc_title not in held:
            assert f"“{doc_title}”" not in text and f'"{doc_title}"' not in text


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_a_packet_is_shorter_than_the_documents_read_one_by_one(path):
    """Inside a packet nothing repeats; on its own each document keeps its crisis box and signature."""
    loaded = load_profile(path)
    packet = compose(loaded, Job())
    alone = {name: compose(loaded, Job(docs=(name,)))[name] for name in packet if name != "key-points"}

    def crisis(blocks):
        return sum(1 for b in blocks if isinstance(b, Callout) and b.title == CRISIS_TITLE)

    assert sum(crisis(d.blocks) for d in packet.values()) == 1
    standalone_boxes = [n for n, d in alone.items() if crisis(d.blocks)]
    assert len(standalone_boxes) >= 2, "documents on their own keep their own crisis box"
    for name, doc in alone.items():
        if name != "acknowledgement":
            assert doc.fields, f"{name} on its own signs for itself"
            assert not [f for f in packet[name].fields if f.kind == "signature"], f"{name} in a packet signs nowhere"


# -- citations stay with the practice ------------------------------------------------------------------

_CITATION = re.compile(r"\bSource:|\b(?:APA|ACA|NASW|AAMFT) \d|\b\d+ (?:CFR|TAC)\b|\bB&P \d")


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_no_citation_reaches_client_text(path, packets):
    """Ethics-code and statute citations stay in template comments; clients read plain words."""
    assert _CITATION.findall(packet_text(packets[str(path)])) == []


def test_the_sources_appendix_is_for_the_practice_and_never_in_the_packet(cli, tmp_path):
    practice = ROOT / "profiles" / "example-tx"
    out = tmp_path / "out"
    result = cli("build", practice, "-o", out, "--format", "pdf", "--combined", "--sources", "-q")
    assert result.exit_code == 0, result.output
    folder = out / "elena-vasquez"
    appendix = squash(" ".join((p.extract_text() or "") for p in PdfReader(folder / "sources.pdf").pages))
    # The pack's sources and statements, and the codes each document's templates cite, under its title.
    for cited in ("22 TAC 884.31", "Statement 'custody-order': 22 TAC 681.35(c)", "Informed Consent for Therapy",
                  "APA 4.01-4.02", "45 CFR 149.610", "read at https://texreg.sos.state.tx.us"):
        assert cited in appendix, cited
    assert "Sources for the Practice" not in packet_text(folder)
    fields = PdfReader(folder / "packet.pdf").get_fields() or {}
    assert not [name for name in fields if "sources" in name]
    assert not (out / "elena-vasquez" / "sources.docx").exists()   # --format pdf: no DOCX of it either
    again = cli("build", practice, "-o", out, "--format", "pdf", "--combined", "-q")
    assert again.stdout.startswith("built 3 packets"), "turning --sources off rebuilds, and drops the appendix"
    assert not (folder / "sources.pdf").exists()


def test_the_readme_reports_the_pages_each_example_packet_has_now(packets):
    """The README's before-and-after table stays true of the packets the examples build."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reported = {m.group(1).split(" (")[0]: int(m.group(2))
                for m in re.finditer(r"^\| ([^|*]+?) \| [^|]* \| (?:\d+|–) \| (\d+) \|", readme, re.M)}
    built = {load_profile(path).profile.clinician.name: len(PdfReader(packets[str(path)] / "packet.pdf").pages)
             for path in CLINICIANS}
    assert reported == built


# -- the law each pack adds reaches the client (issue 9, findings 1-8), both ways -----------------------

def _text_of(packets, practice: str, clinician: str) -> str:
    return packet_text(packets[str(ROOT / "profiles" / practice / "clinicians" / f"{clinician}.yaml")])


def test_law_texas_allows_telling_staff_and_does_not_require_warning_the_person(packets):
    texas = _text_of(packets, "example-tx", "darnell-brooks")
    assert "allows me to tell medical, mental health or law-enforcement staff" in texas
    assert "The law does not require me to warn the person at risk" in texas
    assert "warning that person" not in texas
    assert "warning that person" in _text_of(packets, "example-practice", "ana-nunez")     # Colorado: mandatory


def test_law_washington_protects_people_not_named(packets):
    assert "even for someone you have not named" in _text_of(packets, "example-wa", "priyanka-desai")
    assert "not named" not in _text_of(packets, "example-practice", "ana-nunez")


@pytest.mark.parametrize("practice, clinician, rule", [
    ("example-practice", "ana-nunez", "7 years after the later of our last session or their 18th birthday"),
    ("example-tx", "elena-vasquez", "7 years after therapy ends, or 5 years past age 18 if that is longer"),
    ("example-ca", "aisha-rahman", "for at least 7 years after they turn 18"),
])
def test_law_the_minors_records_rule_of_the_license_appears_where_minors_are_seen(packets, practice, clinician,
                                                                                rule):
    assert rule in _text_of(packets, practice, clinician)


def test_law_no_minors_records_rule_where_no_minors_are_seen(packets):
    for practice, clinician in (("example-wa", "priyanka-desai"), ("example-practice", "samuel-okafor")):
        assert "For a client who was under 18" not in _text_of(packets, practice, clinician)


@pytest.mark.parametrize("practice, clinician, said", [
    ("example-practice", "ana-nunez", "They must seek it freely and need it"),                   # CO 12-245-203.5
    ("example-ca", "aisha-rahman", "They must be mature enough to take part in it well"),        # CA 124260
    ("example-tx", "elena-vasquez", "a young person of any age may agree to some counseling"),   # TX Fam. 32.004
    ("example-wa", "marisol-ortega-reyes", "13 or older may start therapy on their own"),        # WA 71.34.530
])
def test_law_a_young_persons_own_consent_follows_the_state(packets, practice, clinician, said):
    assert said in _text_of(packets, practice, clinician)
    assert said not in _text_of(packets, "example-wa", "priyanka-desai")        # sees no minors


def test_law_required_disclosures_reach_the_client(packets):
    ana = _text_of(packets, "example-practice", "ana-nunez")                    # CO 12-245-216(1)(a)-(b)
    assert "My education: MA in Marriage and Family Therapy" in ana and "My training and experience:" in ana
    assert "1200 Harbor Street, Suite 4, Denver" in ana
    priyanka = _text_of(packets, "example-wa", "priyanka-desai")                # WAC 246-809-710
    for said in ("the right to choose a therapist and a kind of treatment", "I do not ask you to pay ahead",
                 "I will refund it within", "you confirm that you received a copy of this information",
                 "Complaint Intake, P.O. Box 47857"):
        assert said in priyanka, said
    elena = _text_of(packets, "example-tx", "elena-vasquez")                    # 22 TAC 681.35(a)(6)
    assert "4410 Medical Parkway" in elena and "board-approved supervisor since 2012" in elena


def test_law_a_texas_lmft_is_told_never_and_check_holds_a_note_to_it(write):
    base = ("schema: 1\npractice: {name: Juniper Lane Counseling (fictional), jurisdiction: US-TX}\n"
            "clinician:\n  name: Rowan Ellery\n  license: {type: %s, number: T-1, state: TX}\n"
            "policies:\n  relationship:\n    note: A romantic relationship is possible 6 years after therapy ends.\n")
    from consentgen.lint import check_profile

    lmft = [f for f in check_profile(load_profile(write("lmft.yaml", base % "LMFT"))) if f.rule == "L07"]
    lpc = [f for f in check_profile(load_profile(write("lpc.yaml", base % "LPC"))) if f.rule == "L07"]
    assert lmft and "No sexual contact with a client or a former client, ever" in lmft[0].message
    assert lpc and "5 years" in lpc[0].message and "ever" not in lpc[0].message.split("Texas law:")[1]


@pytest.mark.parametrize("path", CLINICIANS, ids=lambda p: p.stem)
def test_law_every_us_fees_document_has_the_good_faith_estimate_notice(path, packets):
    """Uninsured clients, and insured ones not using their plan, are entitled to it (45 CFR 149.610)."""
    fees = packets[str(path)] / "fees-and-cancellations.pdf"
    if fees.exists():
        assert "Your right to a Good Faith Estimate" in squash(" ".join(p.extract_text() or ""
                                                                          for p in PdfReader(fees).pages))

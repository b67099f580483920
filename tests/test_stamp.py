"""Render once, stamp many: a roster client's stamped packet equals the packet rendered for them alone.

The build renders each roster group's packet once and stamps each client's
name and id into it (consentgen/stamp.py). A client must not be able to tell:
the text a reader extracts, the form fields, the metadata and the page count
are those of a full render (``consentgen.render_packet``), page for page.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest

from consentgen import render_packet

ROOT = Path(__file__).resolve().parent.parent
PRACTICE = ROOT / "profiles" / "example-practice"
DATE = dt.date(2026, 3, 2)
LONG = "Maximiliana Bartholomew-Featherstonehaugh de la Cruz y Villanueva-Wolfeschlegel"
CLIENTS = [      # (id, clinician, name): fictional people; ana-nunez gets the interesting names
    ("c-101", "ana-nunez", "Quinn Avery"),
    ("c-102", "ana-nunez", "Zoë Ng-Ruíz Müller"),            # diacritics: stamped
    ("c-103", "ana-nunez", "Dana O'Brien & <Co>"),            # markup characters: stamped, escaped
    ("c-104", "ana-nunez", LONG),                             # wraps its line: drawn in full
    ("c-105", "ana-nunez", "Łukasz Wróbel"),                  # Ł is not Latin-1: drawn in full
    ("c-201", "wren-kowalski", "Mei Hollander"),
    ("c-202", "wren-kowalski", "Ari Bell"),
]
FALLBACK = {"c-104", "c-105"}
FORMATS = ("pdf", "docx", "html")


def _roster(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["client_id", "clinician", "client_name", "date"])
        w.writerows([cid, who, name, DATE.isoformat()] for cid, who, name in CLIENTS)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from click.testing import CliRunner

    from consentgen.cli import main

    tmp = tmp_path_factory.mktemp("stamp")
    roster = _roster(tmp / "roster.csv")
    out = tmp / "out"
    args = ["build", str(PRACTICE), "-o", str(out), "--roster", str(roster), "--combined", "--jobs", "2", "-q",
            *[a for fmt in FORMATS for a in ("--format", fmt)]]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out, result.stdout


def _fields(pdf: pikepdf.Pdf) -> list:
    form = pdf.Root.get("/AcroForm")
    if form is None:
        return []
    return [(str(f.get("/T")), str(f.get("/TU")), str(f.get("/FT")), str(f.get("/V", "")),
             [round(float(x), 2) for x in f.get("/Rect", [])]) for f in form.Fields]


def _pdf_view(data: bytes) -> dict:
    """What a client's reader shows: text page by page, fields, metadata."""
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    with pikepdf.open(io.BytesIO(data)) as pdf:
        info = {str(k): str(v) for k, v in pdf.docinfo.items()}
        xmp = str(pdf.Root.Metadata.read_bytes()) if "/Metadata" in pdf.Root else ""
        return {"text": text.decode(), "pages": len(pdf.pages), "fields": _fields(pdf), "info": info, "xmp": xmp,
                "lang": str(pdf.Root.get("/Lang"))}


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
@pytest.mark.parametrize("client", CLIENTS, ids=[c[0] for c in CLIENTS])
def test_a_stamped_packet_equals_the_packet_rendered_for_that_client_alone(built, client):
    out, _ = built
    cid, clinician, name = client
    full = render_packet(PRACTICE / "clinicians" / f"{clinician}.yaml", effective=DATE, formats=FORMATS,
                         combined=True, client_name=name, client_id=cid)
    folder = out / clinician / cid
    assert sorted(p.name for p in folder.iterdir()) == sorted(full)
    for file, want in full.items():
        got = (folder / file).read_bytes()
        if file.endswith(".pdf"):
            assert _pdf_view(got) == _pdf_view(want), file
        elif file.endswith(".docx"):
            with zipfile.ZipFile(io.BytesIO(got)) as a, zipfile.ZipFile(io.BytesIO(want)) as b:
                assert a.namelist() == b.namelist()
                for part in b.namelist():
                    assert a.read(part) == b.read(part), f"{file}: {part}"
        else:
            assert got == want, file
    if cid not in FALLBACK and clinician == "ana-nunez":
        key_points = (folder / "key-points.pdf").read_bytes()
        assert f"Prepared for {name}" in _pdf_view(key_points)["text"]


def test_the_build_says_how_many_were_stamped_and_how_many_drawn_in_full(built):
    _, stdout = built
    stamped = len(CLIENTS) - len(FALLBACK)
    assert (f"stamped {stamped} of {len(CLIENTS)} client packets from one render per group; "
            f"{len(FALLBACK)} drawn in full") in stdout


def test_stamped_packets_are_the_same_bytes_on_every_build(built, tmp_path, cli):
    out, _ = built
    again = tmp_path / "again"
    result = cli("build", PRACTICE, "-o", again, "--roster", _roster(tmp_path / "roster.csv"), "--combined",
                 "--jobs", "1", "-q", *[a for fmt in FORMATS for a in ("--format", fmt)])
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file() and ".consentgen" not in p.parts)
    assert files == sorted(p.relative_to(again) for p in again.rglob("*")
                           if p.is_file() and ".consentgen" not in p.parts)
    for rel in files:
        assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_a_value_stamps_only_where_it_fits():
    from consentgen.backends import pdf_stamp

    slot = pdf_stamp.Slot("name", 11.0, pdf_stamp.width("Quinn Avery", 11.0) + 1)
    plan = pdf_stamp.Plan(b"", (), b"/F9+0", 0, (), (slot,))
    assert pdf_stamp.stamp(plan, {"name": "Quinn Avery Longer"}) is None          # would wrap
    assert pdf_stamp.stamp(plan, {"name": "Łukasz"}) is None                       # not in the stamp font
    assert pdf_stamp.stamp(plan, {"id": "c-1"}) is None                            # no value for the slot
    moved = pdf_stamp.Plan(b"", (), b"/F9+0", 0, (), (pdf_stamp.Slot("name", 11.0, None),))
    assert pdf_stamp.stamp(moved, {"name": "Jo"}) is None                          # text follows it on the line


def test_a_combined_packet_without_pdf_documents_is_drawn_in_full(cli, tmp_path):
    """--combined with only DOCX: the packet PDF's parts are drawn for it alone, so nothing is stamped into it."""
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,clinician,client_name,date\nc-1,wren-kowalski,Mei Hollander,2026-03-02\n"
                      "c-2,wren-kowalski,Ari Bell,2026-03-02\n", encoding="utf-8")
    out = tmp_path / "out"
    result = cli("build", PRACTICE, "-o", out, "--roster", roster, "--format", "docx", "--combined", "--jobs", "1")
    assert result.exit_code == 0, result.output
    for cid, name in (("c-1", "Mei Hollander"), ("c-2", "Ari Bell")):
        assert (out / "wren-kowalski" / cid / "packet.pdf").is_file()
        text = subprocess.run(["pdftotext", str(out / "wren-kowalski" / cid / "packet.pdf"), "-"],
                              capture_output=True, text=True).stdout
        assert f"Prepared for {name}" in " ".join(text.split())

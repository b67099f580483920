"""Practice builds as a practice manager runs them: packets, roster, failures, manifest, incremental."""
from __future__ import annotations

import json
import shutil

import pikepdf
import pytest

from consentgen import manifest
from consentgen.output import sha256_file

from .conftest import EXAMPLE
from .readback import pdf_text

CLIENTS = {"c-1001": ("ana-nunez", "Quinn Avery"), "c-1002": ("samuel-okafor", "Rafael Lindqvist"),
           "c-1003": ("wren-kowalski", "Mei Hollander")}


BOUNDARY_PACKET = "packet: [our-relationship, contact, breaks, ending-therapy]"
PER_PACKET = 6      # those four, opened by the key points and closed by the signature page


@pytest.fixture
def practice(tmp_path):
    """A copy of the example practice that a test may edit, with the four boundary
    handouts as its packet (small and quick; the build behaviour is what is tested)."""
    copy = shutil.copytree(EXAMPLE, tmp_path / "practice")
    for layer in [copy / "practice.yaml", *(copy / "clinicians").glob("*.yaml")]:
        lines = [BOUNDARY_PACKET if line.startswith("packet:") else line for line in layer.read_text().splitlines()]
        layer.write_text("\n".join(lines) + "\n")
    return copy


def test_the_example_practices_build_their_whole_intake_packets(cli, tmp_path):
    for example in sorted(EXAMPLE.parent.glob("example-*")):
        out = tmp_path / example.name
        result = cli("build", example, "-o", out, "--format", "pdf", "-q", "--jobs", "2")
        assert result.exit_code == 0, result.output
        documents = {r.document for r in manifest.load(out)}
        assert {"informed-consent", "our-relationship", "fees-and-cancellations", "acknowledgement"} <= documents


def records(out):
    return {r.path: r for r in manifest.load(out)}


def outline_titles(path):
    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        return [str(item.title) for item in outline.root]


def test_build_renders_each_clinicians_packet_in_order(cli, practice, tmp_path):
    (practice / "clinicians" / "wren-kowalski.yaml").write_text(
        (practice / "clinicians" / "wren-kowalski.yaml").read_text() + "packet: [ending-therapy, contact]\n")
    out = tmp_path / "dist"
    result = cli("build", practice, "-o", out, "--format", "pdf", "--combined", "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("built 3 packets (19 files), skipped 0 unchanged, failed 0")
    found = records(out)
    assert sorted(p for p in found if p.startswith("wren-kowalski/")) == [
        "wren-kowalski/acknowledgement.pdf", "wren-kowalski/contact.pdf", "wren-kowalski/ending-therapy.pdf",
        "wren-kowalski/key-points.pdf", "wren-kowalski/packet.pdf"]
    # The practice's packet order, and the clinician's own override, decide the combined PDF's order,
    # between the key points and the signature page.
    assert outline_titles(out / "ana-nunez" / "packet.pdf") == [
        "Key Points", "Our Relationship: What to Expect", "Contact Between Sessions", "Breaks and Time Away",
        "How Therapy Ends", "Signatures"]
    assert outline_titles(out / "wren-kowalski" / "packet.pdf") == [
        "Key Points", "How Therapy Ends", "Contact Between Sessions", "Signatures"]
    parts = [found[f"ana-nunez/{d}.pdf"].pages
             for d in ("key-points", "our-relationship", "contact", "breaks", "ending-therapy", "acknowledgement")]
    assert found["ana-nunez/packet.pdf"].pages == sum(parts) == len(pikepdf.open(out / "ana-nunez" / "packet.pdf").pages)


def test_manifest_records_hashes_inputs_and_is_deterministic(cli, practice, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli("build", practice, "-o", one, "--jobs", "1", "-q").exit_code == 0
    assert cli("build", practice, "-o", two, "--jobs", "2", "-q").exit_code == 0
    assert (one / "manifest.json").read_bytes() == (two / "manifest.json").read_bytes()
    record = records(one)["samuel-okafor/contact.docx"]
    assert record.format == "docx" and record.document == "contact" and record.clinician == "samuel-okafor"
    assert record.client_id is None and record.effective_date == "2026-01-05" and record.pages is None
    assert record.sha256 == sha256_file(one / record.path) and record.size == (one / record.path).stat().st_size
    assert set(record.inputs) >= {"profile:practice.yaml", "profile:clinicians/samuel-okafor.yaml",
                                  "template:contact.md", "template:sections/contact.md", "logo:logo.png"}
    assert records(one)["samuel-okafor/contact.pdf"].pages >= 1


def test_roster_builds_personal_packets_and_keeps_names_private(cli, practice, tmp_path):
    roster = practice / "new-clients.csv"
    out = tmp_path / "dist"
    result = cli("build", practice, "-o", out, "--roster", roster, "--format", "pdf", "--format", "docx", "--combined")
    assert result.exit_code == 0, result.output
    for client_id, (clinician, name) in CLIENTS.items():
        folder = out / clinician / client_id
        assert name in pdf_text(folder / "key-points.pdf")       # a packet names its client once, up front
        assert name in pdf_text(folder / "packet.pdf")
        others = [n for c, (_, n) in CLIENTS.items() if c != client_id]
        assert not any(n in pdf_text(folder / "packet.pdf") for n in others)
    everything_but_documents = [result.stdout, result.stderr, (out / "manifest.json").read_text()]
    everything_but_documents += [str(p.relative_to(out)) for p in out.rglob("*")]
    everything_but_documents += [p.read_bytes().decode("latin-1") for p in (out / ".consentgen").rglob("*") if p.is_file()]
    for _, name in CLIENTS.values():
        for part in (name, name.split()[0], name.split()[1]):
            assert not any(part in text for text in everything_but_documents), part
    assert records(out)["ana-nunez/c-1001/contact.pdf"].client_id == "c-1001"
    assert records(out)["ana-nunez/c-1001/contact.pdf"].effective_date == "2026-02-02"


def test_bad_roster_rows_fail_alone_with_their_line(cli, practice, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,clinician,client_name\n"
                      "c-1,ana-nunez,Ida Okonkwo\n"
                      ",ana-nunez,Jon Missing\n"
                      "c-1,samuel-okafor,Kit Twice\n"
                      "c-2,nobody,Lou Unknown\n"
                      "../../etc,ana-nunez,Mo Escape\n"
                      "c-3,wren-kowalski,Ned Fine\n")
    out = tmp_path / "dist"
    result = cli("build", practice, "-o", out, "--roster", roster, "--format", "pdf")
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("failed:")] == [
        f"failed: {roster}:3: client_id: missing; row skipped",
        f"failed: {roster}:4: client_id: 'c-1' is used twice (first on line 2); row skipped",
        f"failed: {roster}:5: clinician: no clinician with that id in this practice "
        "(known: ana-nunez, samuel-okafor, wren-kowalski); row skipped",
        f"failed: {roster}:6: client_id: use letters, digits, '-' and '_' only (up to 64); row skipped",
    ]
    assert "[2/2] built" in result.stderr
    assert (out / "ana-nunez" / "c-1" / "contact.pdf").is_file() and (out / "wren-kowalski" / "c-3" / "contact.pdf").is_file()
    assert not any(n in result.output for n in ("Ida", "Jon", "Kit", "Lou", "Mo ", "Ned"))
    assert sorted({r.client_id for r in manifest.load(out)}) == ["c-1", "c-3"]


def test_bad_clinician_file_fails_alone_with_file_and_line(cli, practice, tmp_path):
    bad = practice / "clinicians" / "samuel-okafor.yaml"
    bad.write_text(bad.read_text().replace("notice: 2 weeks", "notice: soon"))
    out = tmp_path / "dist"
    result = cli("build", practice, "-o", out, "--format", "pdf", "--jobs", "2")
    assert result.exit_code == 1
    (line,) = [l for l in result.stderr.splitlines() if l.startswith("failed:")]
    assert line.startswith(f"failed: {bad}:") and "policies.breaks.notice" in line
    assert "built 2 packets" in result.stdout and "failed 1" in result.stdout
    assert (out / "ana-nunez" / "contact.pdf").is_file() and not (out / "samuel-okafor").exists()


def test_fail_fast_stops_at_the_first_failure(cli, practice, tmp_path):
    bad = practice / "clinicians" / "ana-nunez.yaml"
    bad.write_text(bad.read_text() + "oops: 1\n")
    result = cli("build", practice, "-o", tmp_path / "dist", "--format", "pdf", "--jobs", "1", "--fail-fast")
    assert result.exit_code == 1
    assert "built 0 packets" in result.stdout


def test_usage_errors_exit_2(cli, practice, tmp_path):
    result = cli("build", tmp_path / "nope", "-o", tmp_path / "dist")
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and "no such practice" in result.stderr
    roster = tmp_path / "r.csv"
    roster.write_text("id,clinician\nc-1,ana-nunez\n")
    result = cli("build", practice, "-o", tmp_path / "dist", "--roster", roster)
    assert result.exit_code == 2 and (f"{roster}:1: the first line must be the header (client_id, clinician, "
                                      "client_name, date, language, second_signer): column 1 is not one of them"
                                      ) in result.stderr


def test_incremental_rebuilds_only_what_changed(cli, practice, tmp_path):
    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, "--format", "pdf", "-q").exit_code == 0
    manifest_bytes = (out / "manifest.json").read_bytes()
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.pdf")}

    again = cli("build", practice, "-o", out, "--format", "pdf", "-q")
    assert again.exit_code == 0 and again.stdout.startswith("nothing to do: all 3 packets unchanged")
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.pdf")} == mtimes
    assert (out / "manifest.json").read_bytes() == manifest_bytes

    wren = practice / "clinicians" / "wren-kowalski.yaml"
    wren.write_text(wren.read_text().replace("notice: 4 weeks", "notice: 5 weeks"))
    edited = cli("build", practice, "-o", out, "--format", "pdf", "-q")
    assert edited.stdout.startswith(f"built 1 packet ({PER_PACKET} files), skipped 2 unchanged")
    changed = {p for p in out.rglob("*.pdf") if p.stat().st_mtime_ns != mtimes[p]}
    assert changed == set((out / "wren-kowalski").glob("*.pdf"))
    assert "at least 5 weeks ahead" in pdf_text(out / "wren-kowalski" / "breaks.pdf")

    forced = cli("build", practice, "-o", out, "--format", "pdf", "-q", "--force")
    assert forced.stdout.startswith(f"built 3 packets ({3 * PER_PACKET} files), skipped 0 unchanged")


def test_editing_a_shared_template_rebuilds_everyone_using_it(cli, practice, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "breaks.md").write_text("# Breaks\n\nVersion one.\n")
    out = tmp_path / "dist"
    args = ("build", practice, "-o", out, "--format", "pdf", "-q", "--templates", mine)
    assert cli(*args).exit_code == 0
    (mine / "breaks.md").write_text("# Breaks\n\nVersion two.\n")
    assert cli(*args).stdout.startswith("built 3 packets")
    assert "Version two." in pdf_text(out / "ana-nunez" / "breaks.pdf")


def test_a_packet_may_name_a_document_from_the_practices_own_templates(cli, practice, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "parking.md").write_text("# Parking\n\nPark behind the building.\n")
    layer = practice / "practice.yaml"
    layer.write_text(layer.read_text().replace(BOUNDARY_PACKET, "packet: [contact, parking]"))
    for clinician in (practice / "clinicians").glob("*.yaml"):
        clinician.write_text(clinician.read_text().replace(BOUNDARY_PACKET + "\n", ""))
    out = tmp_path / "dist"
    result = cli("build", practice, "-o", out, "--format", "pdf", "-q", "--templates", mine)
    assert result.exit_code == 0, result.output
    assert "Park behind the building." in pdf_text(out / "ana-nunez" / "parking.pdf")
    refused = cli("build", practice, "-o", tmp_path / "plain", "--format", "pdf", "-q")
    assert refused.exit_code == 1 and "packet[1]: no such document" in refused.output


def test_verify_catches_a_changed_byte_and_a_missing_file(cli, practice, tmp_path):
    out = tmp_path / "dist"
    cli("build", practice, "-o", out, "--format", "docx", "-q")
    ok = cli("verify", out)
    assert ok.exit_code == 0 and ok.stdout.strip() == f"{3 * PER_PACKET} files match the manifest"
    target = out / "ana-nunez" / "contact.docx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    (out / "wren-kowalski" / "breaks.docx").unlink()
    bad = cli("verify", out)
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == ["changed: ana-nunez/contact.docx", "missing: wren-kowalski/breaks.docx"]
    assert cli("verify", tmp_path).exit_code == 2


def test_hostile_clinician_names_stay_inside_out(cli, practice, tmp_path):
    shutil.copy(practice / "clinicians" / "ana-nunez.yaml", practice / "clinicians" / "..%2F..%2Fevil.yaml")
    (practice / "clinicians" / "slash.yaml").write_text(
        "clinician:\n  name: ../../etc/passwd\n  credentials: /root\n")
    out = tmp_path / "deep" / "dist"
    result = cli("build", practice, "-o", out, "--format", "pdf", "-q")
    assert result.exit_code == 0, result.output
    produced = [p.resolve() for p in tmp_path.rglob("*.pdf")]
    assert produced and all(p.is_relative_to(out.resolve()) for p in produced)
    assert (out / "2f-2fevil").is_dir() and (out / "slash" / "contact.pdf").is_file()
    assert "../../etc/passwd" in pdf_text(out / "slash" / "key-points.pdf")


def test_a_template_failure_stays_with_its_packet(cli, practice, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "contact.md").write_text("# Contact\n\nSupervisor: {{ clinician.supervisor.name }}\n")
    out = tmp_path / "dist"
    result = cli("build", practice, "-o", out, "--format", "pdf", "--jobs", "2", "--templates", mine)
    assert result.exit_code == 1
    failures = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert failures == [f"failed: {mine / 'contact.md'}:3: undefined: 'None' has no attribute 'name'"] * 2
    assert "Supervisor: Helen Marsh" in pdf_text(out / "samuel-okafor" / "contact.pdf")
    assert not (out / "ana-nunez").exists()
    fast = cli("build", practice, "-o", tmp_path / "fast", "--format", "pdf", "--jobs", "1", "--templates", mine,
               "--fail-fast")
    assert fast.exit_code == 1 and "built 0 packets" in fast.stdout


def _is_complete(path) -> bool:
    import zipfile

    if path.suffix == ".pdf":
        try:
            with pikepdf.open(path) as pdf:
                return len(pdf.pages) > 0 and path.read_bytes().rstrip().endswith(b"%%EOF")
        except pikepdf.PdfError:
            return False
    if path.suffix == ".docx":
        try:
            with zipfile.ZipFile(path) as z:
                return z.testzip() is None and "word/document.xml" in z.namelist()
        except zipfile.BadZipFile:
            return False
    return path.name == "manifest.json" and json.loads(path.read_text()) is not None


def test_a_killed_build_leaves_no_partial_file_and_the_next_build_completes(cli, practice, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    template = (practice / "clinicians" / "ana-nunez.yaml").read_text()
    for i in range(16):
        (practice / "clinicians" / f"extra-{i:02d}.yaml").write_text(template.replace("Ana Núñez", f"Extra Person {i}"))
    out = tmp_path / "dist"
    command = [sys.executable, "-m", "consentgen", "build", str(practice), "-o", str(out), "--jobs", "1", "-q",
               "--format", "pdf"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None and len(list(out.rglob("*.pdf"))) < 20:
        time.sleep(0.005)
    assert child.poll() is None, "the build finished before it could be interrupted"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    visible = [p for p in out.rglob("*") if p.is_file() and ".consentgen" not in p.relative_to(out).parts]
    assert visible, "nothing was written before the kill"
    assert [p for p in visible if not _is_complete(p)] == []

    result = cli("build", practice, "-o", out, "-q", "--format", "pdf")
    assert result.exit_code == 0, result.output
    assert not (out / ".consentgen" / "tmp").exists()
    assert cli("verify", out).stdout.strip() == f"{19 * PER_PACKET} files match the manifest"

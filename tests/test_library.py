"""The library's face for platforms that embed consentgen: ``consentgen.render_packet`` gives the
bytes ``build`` writes, in memory, as a pure function of its inputs."""
from __future__ import annotations

import datetime as dt

import pytest

import consentgen
from consentgen.build import BuildOptions, build
from consentgen.errors import ConsentgenError
from consentgen.options import Settings

from .conftest import MINIMAL, ROOT

PRACTICE = ROOT / "profiles" / "example-practice"
ANA = PRACTICE / "clinicians" / "ana-nunez.yaml"


def test_render_packet_gives_the_bytes_build_writes_for_a_clinician_and_a_client(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,clinician,client_name,date\nc-2001,ana-nunez,Zoë Brandt,2026-03-02\n",
                      encoding="utf-8")
    settings = Settings(formats=("pdf", "html"), combined=True)
    for out, rows in ((tmp_path / "clinicians", None), (tmp_path / "clients", roster)):
        report = build(PRACTICE, out, BuildOptions(settings=settings, jobs=1), roster=rows)
        assert not report.failures, report.failures
    on_disk = {p.name: p.read_bytes() for p in (tmp_path / "clinicians" / "ana-nunez").iterdir()}
    assert consentgen.render_packet(ANA, formats=("pdf", "html"), combined=True) == on_disk
    client = {p.name: p.read_bytes() for p in (tmp_path / "clients" / "ana-nunez" / "c-2001").iterdir()}
    assert consentgen.render_packet(ANA, formats=("pdf", "html"), combined=True, client_name="Zoë Brandt",
                                    client_id="c-2001", effective=dt.date(2026, 3, 2)) == client
    assert "packet.pdf" in client and "informed-consent.html" in client


def test_render_packet_is_pure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = consentgen.render_packet(ANA, client_name="Jo Doe", client_id="c-1")
    assert list(tmp_path.iterdir()) == []                       # nothing written
    assert consentgen.render_packet(ANA, client_name="Jo Doe", client_id="c-1") == first
    assert set(first) == {f"{name}.pdf" for name in consentgen.api.documents_for(consentgen.load_profile(ANA),
                                                                                 consentgen.Job())}


def test_render_packet_asks_for_a_date_rather_than_read_the_clock(write):
    profile = write("jo.yaml", MINIMAL)
    with pytest.raises(ConsentgenError) as caught:
        consentgen.render_packet(profile)
    assert str(caught.value).startswith(f"{profile}") and "effective_date" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert consentgen.render_packet(profile, effective=dt.date(2026, 1, 5))
    with pytest.raises(ConsentgenError, match="formats must be some of pdf, docx, html"):
        consentgen.render_packet(profile, effective=dt.date(2026, 1, 5), formats=("odt",))

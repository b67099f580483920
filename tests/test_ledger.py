"""A roster build keeps what it built on disk (ledger.py) and writes the manifest and state record by
record: the files must be exactly those the whole-list formatting gave, in Python's sort order."""
from __future__ import annotations

import json

from consentgen import manifest, state
from consentgen.ledger import Ledger
from consentgen.manifest import Record
from consentgen.state import Entry

SHARED = {"profile:clinicians/ana-nunez.yaml": "a" * 64, "template:contact.md": "b" * 64}
PATHS = ["ana/c-1/contact.pdf", "ana-b/x.pdf", "ana/contact.pdf", "zoë/a.pdf", "ana/c-1/b.docx", "Z/upper.pdf"]


def _record(path: str, i: int) -> Record:
    return Record(path=path, format=path.rsplit(".", 1)[1], document="contact", clinician=path.split("/")[0],
                  client_id=f"c-{i}" if i % 2 else None, sha256=f"{i:064x}", size=1000 + i,
                  pages=i if path.endswith(".pdf") else None, effective_date="2026-03-02",
                  inputs=SHARED if i % 3 else {"logo:logo.png": "c" * 64, "profile:é.yaml": "d" * 64})


def _whole(records) -> bytes:
    outputs = [manifest.as_json(r) for r in sorted(records, key=lambda r: r.path)]
    return (json.dumps({"manifest": manifest.FORMAT, "outputs": outputs}, indent=2, sort_keys=True,
                       ensure_ascii=False) + "\n").encode("utf-8")


def test_the_manifest_written_record_by_record_is_the_whole_list_formatted_at_once():
    records = [_record(p, i) for i, p in enumerate(PATHS)]
    assert manifest.dumps(records) == _whole(records)
    assert manifest.dumps([]) == _whole([])
    first = sorted(records, key=lambda r: r.path)[0]
    assert json.loads(manifest.dumps(records))["outputs"][0]["inputs"] == first.inputs


def test_the_state_written_entry_by_entry_is_the_whole_dict_formatted_at_once():
    for entries in ({}, {"a": Entry("f" * 64, ("a/x.pdf",))},
                    {"b/c-1": Entry("0" * 64, ("b/c-1/x.pdf", "b/c-1/y.pdf")), "a": Entry("1" * 64, ()),
                     "é": Entry("2" * 64, ("é/x",))}):
        assert b"".join(state.chunks(sorted(entries.items()))) == state.state_bytes(entries)


def test_the_ledger_gives_back_every_record_and_entry_in_sort_order(tmp_path):
    ledger = Ledger(tmp_path / "tmp")
    records = [_record(p, i) for i, p in enumerate(PATHS)]
    by_packet: dict[str, list[Record]] = {}
    for r in records:
        by_packet.setdefault(r.packet, []).append(r)
    for i, (key, recs) in enumerate(reversed(list(by_packet.items()))):
        ledger.add(key, recs, Entry(f"{i:064x}", tuple(sorted(r.path for r in recs))))
    back = list(ledger.records())
    assert back == sorted(records, key=lambda r: r.path)
    assert [r.inputs for r in back] == [r.inputs for r in sorted(records, key=lambda r: r.path)]
    assert [k for k, _ in ledger.entries()] == sorted(by_packet)
    assert manifest.dumps(back) == _whole(records)
    path = ledger.path
    ledger.close()
    assert not path.exists()

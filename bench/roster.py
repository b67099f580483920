"""Section [8] of the benchmark: personalized packets for a long roster (issue 12).

A platform gives each new client a packet of 5 PDF documents with their name on it. The
roster is generated: fictional names made of first and last names in turn, a few with
diacritics and one in a thousand long enough to wrap its line (so the stamping falls back to
a full render for it, as it must), spread over the 50 clinicians, all starting on one day
(a platform's batch for the day). Three figures:

- the rate of the stamped build (``build --roster --format pdf --jobs 2``) against the
  per-client full render it replaces: the same build where every client has a date of
  their own, so no two share a render (each is a group of one);
- how often stamping fell back to a full render, from the build's own summary line;
- peak RSS of the roster build at two roster sizes (``--jobs 1``, read by a fresh wrapper).
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

FIRST = ("Quinn", "Avery", "Jordan", "Zoë", "Mateo", "Ingrid", "Kai", "Renée", "Tomás", "Noor", "Ellis", "Björn")
LAST = ("Hollander", "Lindqvist", "Okonkwo", "Marchetti", "Núñez", "Fairweather", "Castellanos", "Brandt",
        "Abernathy-Lowe", "Sørensen", "Kowalczyk", "Delacroix")
LONG = "Maximiliana Bartholomew-Featherstonehaugh de la Cruz y Villanueva"
DAY = dt.date(2026, 3, 2)

_STAMPED = re.compile(r"stamped (\d+) of (\d+) client packets.*?; (\d+) drawn in full")


def make_roster(path: Path, clients: int, clinicians: int, one_day: bool = True) -> Path:
    """A roster CSV of ``clients`` fictional clients over clinician-01..NN."""
    width = max(2, len(str(clinicians)))
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["client_id", "clinician", "client_name", "date"])
        for i in range(clients):
            name = LONG if i % 1000 == 999 else f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"
            day = DAY if one_day else DAY + dt.timedelta(days=i)
            w.writerow([f"c-{i + 1:05d}", f"clinician-{str(i % clinicians + 1).zfill(width)}", name, day.isoformat()])
    return path


def stamped_counts(stdout: str) -> tuple[int, int, int] | None:
    """(stamped, client packets, drawn in full) from a roster build's summary, or None."""
    m = _STAMPED.search(stdout)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None

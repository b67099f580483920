"""What a build has built so far, kept on disk until the manifest and the state are written.

A roster build settles tens of thousands of packets; holding each one's
records (5 files: 50,000 records) and state entry in memory made the build
grow by about 3 KB a packet. The ledger is an SQLite file in OUT's staging
folder (``.consentgen/tmp``), written without syncing (it is rebuilt from
nothing if the build stops: the journal, not the ledger, is what recovery
reads) and read back in order: records by path, for the manifest, and state
entries by packet, for ``state.json``. SQLite compares text as UTF-8 bytes,
which is the order Python's sort gives, so the files come out the same.
"""
from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

from .manifest import Record, as_json
from .state import Entry


class Ledger:
    """Records and state entries of the packets a build has built, on disk, in order."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"ledger-{secrets.token_hex(4)}.sqlite"
        self.db = sqlite3.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-256", "temp_store=FILE"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(
            "CREATE TABLE inputs (id INTEGER PRIMARY KEY, data TEXT NOT NULL);"
            "CREATE TABLE records (path TEXT PRIMARY KEY, data TEXT NOT NULL, inputs INTEGER NOT NULL);"
            "CREATE TABLE state (packet TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, files TEXT NOT NULL);"
            "BEGIN;")
        self._inputs: dict[str, int] = {}        # an inputs dict as JSON -> its row (a few distinct ones)

    def add(self, key: str, records: list[Record], entry: Entry) -> None:
        rows = []
        for r in records:
            data = as_json(r)
            inputs = json.dumps(data.pop("inputs"), sort_keys=True, ensure_ascii=False)
            if inputs not in self._inputs:
                self._inputs[inputs] = self.db.execute("INSERT INTO inputs (data) VALUES (?)", (inputs,)).lastrowid
            rows.append((r.path, json.dumps(data, ensure_ascii=False), self._inputs[inputs]))
        self.db.executemany("INSERT INTO records VALUES (?, ?, ?)", rows)
        self.db.execute("INSERT INTO state VALUES (?, ?, ?)", (key, entry.fingerprint, json.dumps(entry.files)))

    def records(self) -> Iterator[Record]:
        """Every record, by path."""
        inputs = {row: json.loads(data) for data, row in self._inputs.items()}    # one dict per distinct set
        for data, row in self.db.execute("SELECT data, inputs FROM records ORDER BY path"):
            yield Record(**json.loads(data), inputs=inputs[row])

    def entries(self) -> Iterator[tuple[str, Entry]]:
        """Every state entry, by packet."""
        for key, fingerprint, files in self.db.execute("SELECT packet, fingerprint, files FROM state ORDER BY packet"):
            yield key, Entry(fingerprint, tuple(json.loads(files)))

    def close(self) -> None:
        with suppress(sqlite3.Error):
            self.db.close()
        with suppress(OSError):
            self.path.unlink()

"""Rules about contact between sessions, emergencies and breaks (CONTENT.md section 2)."""
from __future__ import annotations

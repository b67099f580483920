"""Rules about the relationship, ending therapy and self-disclosure (CONTENT.md section 2)."""
from __future__ import annotations

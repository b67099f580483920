"""Showing check results: grouped text for people, JSON for machines.

The JSON schema is ``consentgen/lint/check-schema.json`` (stable; its
``format`` field changes only when a field's meaning does).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from .registry import Finding

FORMAT = "consentgen-check/1"


@dataclass
class ProfileResult:
    path: str
    invalid: list[str] = field(default_factory=list)     # schema errors: file:line: key: message
    findings: list[Finding] = field(default_factory=list)
    readability: list[dict] = field(default_factory=list)


def counts(results: list[ProfileResult], strict: bool) -> dict[str, int]:
    active = [f for r in results for f in r.findings if f.silenced is None and f.severity != "info"]
    errors = sum(f.severity == "error" or strict for f in active)
    return {"profiles": len(results), "invalid": sum(bool(r.invalid) for r in results), "errors": errors,
            "warnings": len(active) - errors, "silenced": sum(f.silenced is not None for r in results for f in r.findings),
            "info": sum(f.severity == "info" for r in results for f in r.findings)}


def exit_code(results: list[ProfileResult], strict: bool) -> int:
    c = counts(results, strict)
    return 2 if c["invalid"] else 1 if c["errors"] else 0


def as_json(results: list[ProfileResult], strict: bool) -> str:
    body = {
        "format": FORMAT,
        "strict": strict,
        "profiles": [{"path": r.path, "valid": not r.invalid, "invalid": r.invalid,
                      "findings": [asdict(f) for f in r.findings], "readability": r.readability}
                     for r in results],
        "summary": counts(results, strict),
    }
    return json.dumps(body, indent=2, ensure_ascii=False)


def as_text(results: list[ProfileResult], strict: bool) -> list[tuple[str, bool]]:
    """Lines to print, each with whether it goes to stderr; grouped by file, errors first."""
    lines: list[tuple[str, bool]] = []
    for r in results:
        for line in r.invalid:
            lines.append((line, True))
        active = [f for f in r.findings if f.silenced is None]
        if not r.invalid and not [f for f in active if f.severity != "info"]:
            lines.append((f"{r.path}: ok", False))
        for f in active:
            if f.severity == "info":           # facts to know, not problems: one line each, no fix
                lines.append((f"{f.location()}: info {f.rule}: {f.message}", False))
        active = [f for f in active if f.severity != "info"]
        if r.invalid or not active:
            continue
        by_file: dict[str, list[Finding]] = {}
        for f in active:
            by_file.setdefault(f.file, []).append(f)
        for file, group in by_file.items():
            for f in sorted(group, key=lambda f: (f.severity != "error" and not strict, f.line or 0, f.rule)):
                severity = "error" if strict else f.severity
                # A place in a rendered document belongs to this profile's packet: say whose.
                place = f"{r.path}: {f.location()}" if "(rendered" in f.file else f.location()
                lines.append((f"{place}: {severity} {f.rule}: {f.message}", True))
                lines.append((f"    fix: {f.hint}", True))
    c = counts(results, strict)
    summary = (f"{c['errors']} error{'s' * (c['errors'] != 1)}, {c['warnings']} warning{'s' * (c['warnings'] != 1)}"
               f" in {c['profiles']} profile{'s' * (c['profiles'] != 1)}")
    if c["silenced"]:
        summary += f" ({c['silenced']} silenced with a reason)"
    if c["invalid"]:
        summary += f"; {c['invalid']} invalid"
    lines.append((summary, False))
    return lines

"""The policy linter behind ``consentgen check``.

``check_profile`` renders the profile's packet (as a client gets it: key
points first, one signature page) to the document model, runs
every registered rule (``rules_*.py``, one function per rule), and applies the
profile's silencing (``lint: {ignore: {L09: "reason"}}``). A rule silenced
without a reason, or an unknown rule id, is itself an error (L00).
"""
from __future__ import annotations

from pathlib import Path

from ..compose import Job, compose, resolved
from ..jurisdictions import resolve
from ..profiles import LoadedProfile
from . import rules_access, rules_consistency, rules_contact, rules_packet, rules_relationship
from .registry import RULES, Context, Finding, Hit, Rule, findings, rule

RULE_MODULES = (rules_contact, rules_relationship, rules_packet, rules_consistency,   # importing them registers their rules
                rules_access)

__all__ = ["RULES", "Context", "Finding", "Hit", "Rule", "check_context", "check_profile", "context_for", "rule"]


def context_for(loaded: LoadedProfile, template_dirs: tuple[Path, ...] = (),
                template_seconds: float | None = None) -> Context:
    job = Job(template_dirs=template_dirs, template_seconds=template_seconds)
    docs = resolved(compose(loaded, job))   # the packet, as one document
    return Context(loaded, docs, resolve(loaded.profile))


def check_profile(loaded: LoadedProfile, template_dirs: tuple[Path, ...] = ()) -> list[Finding]:
    """Every finding for one profile, silenced ones marked; errors first, then by line."""
    return check_context(context_for(loaded, template_dirs))


def check_context(ctx: Context) -> list[Finding]:
    """``check_profile`` for a packet already rendered (the readability report reads it too)."""
    ignore = ctx.profile.lint.ignore
    found = findings(ctx, RULES.values())
    out = []
    for f in found:
        reason = ignore.get(f.rule)
        out.append(Finding(**{**f.__dict__, "silenced": reason}) if reason else f)
    for rule_id, reason in ignore.items():
        where = ctx.where(f"lint.ignore.{rule_id}")
        if rule_id not in RULES:
            out.append(Finding("L00", "error", f"'{rule_id}' is not a rule (see 'consentgen rules')",
                               where.file, where.line, f"lint.ignore.{rule_id}", "Remove it, or fix the id."))
        elif not (reason or "").strip():
            out.append(Finding("L00", "error", f"{rule_id} is silenced without a reason", where.file, where.line,
                               f"lint.ignore.{rule_id}", "Say why, e.g. L09: \"our board allows this\"."))
    return sorted(out, key=lambda f: (f.silenced is not None, f.severity != "error", f.file, f.line or 0, f.rule))

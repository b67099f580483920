"""Rules about the packet as a whole: jurisdiction, fees, consistency and readability."""
from __future__ import annotations

from ..jurisdictions import missing_required
from .registry import Context, Hit, rule


@rule("L11", "error", "A field the jurisdiction requires is empty",
      "Fill in the field the message names; the rule cited says why the state requires it.")
def required_jurisdiction_fields(ctx: Context):
    if ctx.pack is None:
        return
    for req in missing_required(ctx.profile):
        yield Hit(f"required in {ctx.pack.name} by {req.rule}", key=req.key)

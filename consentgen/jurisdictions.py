"""Jurisdiction packs: what a state's law adds to the ethics-code baseline, by license type.

A pack (``consentgen/packs/US-XX.yaml``, schema in ``pack_model.py``) holds the
facts of one state's law, each with its source, and a part per profession.
``resolve`` picks the part for ``clinician.license.type``; a type the pack
does not know gets the strictest rule of the state's professions, and
``check`` says so. Templates see the result as ``jurisdiction`` and ask it
for the statements of a section; ``check`` reads its requirements (L11) and
lists the unverified facts a profile relies on.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import ConsentgenError, Where, display_path
from .models import Profile
from .pack_model import (ONE_PER_SECTION, PROFESSION_WORDS, Board, Pack, RecordsFact, Requirement, Source,
                         Statement, YearsFact)
from .yamlsafe import read_yaml

PACKS = Path(__file__).resolve().parent / "packs"


def available() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in PACKS.glob("*.yaml")))


@functools.cache
def load_pack(code: str) -> Pack | None:
    """The pack for ``code`` (e.g. 'US-CO'), or None when there is none (the baseline applies)."""
    path = PACKS / f"{code}.yaml"
    return read_pack(path) if path.is_file() else None


def read_pack(path: Path) -> Pack:
    """Read and validate a pack file; a bad one is refused with file:line: key: message."""
    from .profiles import describe

    data, positions = read_yaml(path)
    data = _named_sources(data, positions, path)
    try:
        return Pack.model_validate(data)
    except ValidationError as exc:
        lines = describe(exc, positions, (path,), root=Pack)
        raise ConsentgenError(f"jurisdiction pack {lines[0]}") from None


def _named_sources(data: Any, positions, path: Path) -> Any:
    """The pack with each ``source: ID`` replaced by the source of that id in the ``sources:`` table."""
    table = data.get("sources", {}) if isinstance(data, dict) else {}
    table = table if isinstance(table, dict) else {}

    def walk(node: Any, at: tuple) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "source" and isinstance(value, str) and at[:1] != ("sources",):
                    if value not in table:
                        where = positions.get((*at, key)) or Where(display_path(path))
                        raise ConsentgenError(f"jurisdiction pack {where}: {'.'.join(map(str, (*at, key)))}: "
                                              f"no source named '{value}' in 'sources'")
                    value = table[value]
                out[key] = walk(value, (*at, key))
            return out
        if isinstance(node, list):
            return [walk(v, (*at, i)) for i, v in enumerate(node)]
        return node

    return walk(data, ())


# -- one profile's view of its pack ----------------------------------------------

@dataclass(frozen=True)
class Fact:
    """One fact a profile relies on, for ``check`` and ``consentgen packs``."""

    label: str
    value: str
    source: Source


@dataclass
class Jurisdiction:
    """What templates see as ``jurisdiction``: the state's rules for this clinician's license."""

    code: str | None
    name: str | None = None
    pack: bool = False
    profession: str | None = None        # the pack's part for this license type, None if unknown or no pack
    license_type: str | None = None
    unknown_type: bool = False           # the pack knows other types: the strictest rule applies
    duty_to_warn: str | None = None
    minor_consent_age: int | None = None
    gift_cap: int | None = None
    both_sign: bool = False
    post_termination: YearsFact | None = None
    records: RecordsFact | None = None
    board: Board | None = None
    statements: tuple[Statement, ...] = ()
    required: tuple[Requirement, ...] = ()
    triggers: tuple[dict, ...] = ()
    facts: tuple[Fact, ...] = ()
    texts: dict[str, str] = field(default_factory=dict)     # statement id -> text (profile keys looked up)

    def statements_for(self, section: str) -> list[dict[str, Any]]:
        """The statements that print in ``section``, in pack order: {id, text, verbatim}."""
        found = [{"id": s.id, "text": self.texts[s.id], "verbatim": s.verbatim}
                 for s in self.statements if s.section == section and s.id in self.texts]
        return found[:1] if section in ONE_PER_SECTION else found

    @property
    def profession_words(self) -> str | None:
        return PROFESSION_WORDS.get(self.profession or "")


def _applies(when: str, profile: Profile) -> bool:
    clinician, pol = profile.clinician, profile.policies
    return {"always": True, "sees-minors": pol.therapy.sees_minors, "supervised": clinician.status != "licensed",
            "video": pol.telehealth.offered, "uses-ai": pol.ai.use != "none"}[when]


def _strictest_years(facts: list[YearsFact]) -> YearsFact | None:
    """Never beats any number of years; more years beat fewer."""
    facts = [f for f in facts if f is not None]
    if not facts:
        return None
    never = [f for f in facts if f.years is None]
    return never[0] if never else max(facts, key=lambda f: f.years)


def _strictest_records(facts: list[RecordsFact]) -> RecordsFact | None:
    facts = [f for f in facts if f is not None]
    if not facts:
        return None
    return max(facts, key=lambda f: (f.adult_years, f.minor_years_after_18 or 0))


def _lowest_cap(values: list) -> Any:
    caps = [v for v in values if v is not None and v.value is not None]
    return min(caps, key=lambda v: v.value) if caps else None


def profession_of(pack: Pack, license_type: str | None) -> str | None:
    if not license_type:
        return None
    wanted = license_type.casefold()
    return next((name for name, part in pack.professions.items() if wanted in (t.casefold() for t in part.types)),
                None)


def _narrow(pack: Pack, license_type: str | None):
    """The pack for one license type: (profession, its parts, post-termination, records, gift cap, board).

    A type the pack does not know gets every profession's part and the strictest
    of their rules; it has no board of its own.
    """
    profession = profession_of(pack, license_type)
    parts = [pack.professions[profession]] if profession else list(pack.professions.values())
    post = (parts[0].post_termination if profession else _strictest_years([p.post_termination for p in parts])) \
        or pack.post_termination
    records = (parts[0].records if profession else _strictest_records([p.records for p in parts])) or pack.records
    cap = _lowest_cap([p.gift_cap for p in parts]) or pack.gift_cap
    board = parts[0].board if profession else None
    return profession, parts, post, records, cap, board


def resolve(profile: Profile) -> Jurisdiction:
    """The profile's pack, narrowed to its license type (or the strictest of all types when unknown)."""
    code = profile.practice.jurisdiction
    pack = load_pack(code) if code else None
    if pack is None:
        return Jurisdiction(code)
    license_type = profile.clinician.license.type if profile.clinician.license else None
    profession, parts, post, records, cap, board = _narrow(pack, license_type)
    seen: set[str] = set()
    statements, required = [], []
    for s in (*pack.statements, *(s for p in parts for s in p.statements)):
        if s.id not in seen and _applies(s.when, profile):
            seen.add(s.id)
            statements.append(s)
    for r in (*pack.required, *(r for p in parts for r in p.required)):
        if _applies(r.when, profile) and all(r.key != q.key for q in required):
            required.append(r)
    texts = {s.id: (_lookup(profile, s.profile_key) if s.profile_key else s.text) for s in statements}
    texts = {k: v for k, v in texts.items() if v}
    facts = _facts(pack, post, records, cap, board, statements, required)
    return Jurisdiction(
        code=pack.code, name=pack.name, pack=True, profession=profession, license_type=license_type,
        unknown_type=bool(pack.professions) and profession is None,
        duty_to_warn=pack.duty_to_warn.value,
        minor_consent_age=pack.minor_consent_age.value if pack.minor_consent_age else None,
        gift_cap=cap.value if cap else None, both_sign=bool(pack.both_sign and pack.both_sign.value),
        post_termination=post, records=records, board=board.value if board else None,
        statements=tuple(statements), required=tuple(required),
        triggers=tuple(t.model_dump() for t in pack.triggers), facts=tuple(facts), texts=texts)


def _facts(pack: Pack, post, records, cap, board, statements, required) -> tuple[Fact, ...]:
    """Every fact in force, with its source: the pack's base facts, then the profession's, then each statement
    and requirement."""
    facts = [Fact("delivery", pack.delivery.value, pack.delivery.source),
             Fact("duty to warn or protect", pack.duty_to_warn.value, pack.duty_to_warn.source)]
    if pack.minor_consent_age:
        facts.append(Fact("age a minor may consent alone", str(pack.minor_consent_age.value),
                          pack.minor_consent_age.source))
    if pack.both_sign:
        facts.append(Fact("both sign", "yes" if pack.both_sign.value else "no", pack.both_sign.source))
    if post:
        facts.append(Fact("after therapy ends", post.text, post.source))
    if records:
        facts.append(Fact("records", f"{records.adult_years} years; minors: {records.minor}", records.source))
    if cap:
        facts.append(Fact("gift cap", f"${cap.value}", cap.source))
    if board:
        b = board.value
        facts.append(Fact("board", "; ".join(x for x in (b.name, b.address, b.phone, b.website) if x), board.source))
    facts += [Fact(f"statement '{s.id}'", s.text or f"(the profile's {s.profile_key}, word for word)", s.source)
              for s in statements]
    facts += [Fact(f"requires {r.key}", r.when, r.source) for r in required]
    return tuple(facts)


def pack_facts(pack: Pack, license_type: str | None) -> tuple[str | None, tuple[Fact, ...]]:
    """For ``consentgen packs``: the profession a license type selects, and every fact of it (all statements
    and requirements, whatever a profile's settings)."""
    profession, parts, post, records, cap, board = _narrow(pack, license_type)
    statements = [*pack.statements, *(s for p in parts for s in p.statements)]
    required = [*pack.required, *(r for p in parts for r in p.required)]
    return profession, _facts(pack, post, records, cap, board, statements, required)


def context_for(profile: Profile) -> Jurisdiction:
    """What templates see as ``jurisdiction``."""
    return resolve(profile)


def _lookup(profile: Profile, key: str) -> Any:
    value: Any = profile
    for part in key.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def unknown_code(profile: Profile) -> str | None:
    """A note when the profile names a jurisdiction that has no pack (a typo, or a state not covered yet)."""
    code = profile.practice.jurisdiction
    if code and load_pack(code) is None:
        return f"no jurisdiction pack for '{code}' (packs: {', '.join(available())}); the ethics-code baseline applies"
    return None


def missing_required(profile: Profile) -> list[Requirement]:
    """The requirements of the profile's pack (for its license type) that the profile leaves empty.

    The board's contact details count as given when the pack holds them for the license type.
    """
    law = resolve(profile)
    return [req for req in law.required if _lookup(profile, req.key) in (None, "", ())
            and not (law.board is not None and req.key.startswith("clinician.board"))]


def pack_where(code: str) -> Where:
    return Where(display_path(PACKS / f"{code}.yaml"))

"""The render context: what templates see, built once per document.

``make_context`` gives the profile as plain data, the effective date, the
client, the jurisdiction, the view-models of ``views.py`` and ``packet``, a
``PacketView`` that knows which documents are handed over together. A packet
is read as one document: each shared block (the crisis box, the questions
block, the fee table...) is printed by one document of it, its *home*, and the
others point there; cross-references name only documents of the packet.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from . import labels, views
from .models import Profile

KEY_POINTS = "key-points"
SIGNATURES = "acknowledgement"

#: Shared blocks and the documents that may print them, best home first. In a
#: packet the first of these that the packet holds prints the block; a
#: document on its own prints every block it has.
HOMES: dict[str, tuple[str, ...]] = {
    "crisis": ("our-relationship", "contact", "informed-consent", "breaks", "ending-therapy",
               "telehealth-consent", "social-media-and-online"),
    "questions": ("informed-consent", "our-relationship", "relationship", "contact", "breaks", "ending-therapy",
                  "self-disclosure", "fees-and-cancellations", "social-media-and-online", "telehealth-consent",
                  "privacy-notice-acknowledgement"),
    "fee-table": ("fees-and-cancellations", "informed-consent"),
    "friend-requests": ("social-media-and-online", "our-relationship", "relationship"),
    "supervision": ("informed-consent", "our-relationship", "relationship"),
    "complaints": ("informed-consent",),
    "records": ("informed-consent", "privacy-notice-acknowledgement"),
}

#: Where the details of each key point are, best first: (document, heading anchor or None).
DETAILS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "relationship": (("our-relationship", "our-relationship"), ("relationship", None)),
    "contact": (("our-relationship", "contact-between-sessions"), ("contact", None)),
    "crisis": (("our-relationship", "contact-between-sessions"), ("contact", None), ("informed-consent", None)),
    "breaks": (("our-relationship", "breaks-and-time-away"), ("breaks", None)),
    "ending": (("our-relationship", "how-therapy-ends"), ("ending-therapy", None)),
    "fees": (("fees-and-cancellations", None), ("informed-consent", "fees")),
    "cancelling": (("fees-and-cancellations", "cancelling-or-missing-a-session"), ("informed-consent", "fees")),
    "gifts": (("our-relationship", "outside-our-sessions"), ("relationship", "outside-our-sessions")),
    "privacy": (("informed-consent", "privacy-and-its-limits"),),
    "video": (("telehealth-consent", None),),
    "joint-work": (("informed-consent", "couples-and-family-work"),),
    "online": (("social-media-and-online", None),),
}


def _link(title: str, name: str, anchor: str | None) -> Markup:
    from .templating import md_escape

    target = f"ref:{name}" + (f"#{anchor}" if anchor else "")
    return Markup(f"[{md_escape(title)}]({target})")


@dataclass(frozen=True)
class PacketView:
    """The documents handed over together, as templates see them."""

    document: str                               # the one being rendered
    docs: tuple[str, ...]                       # in order; one name for a document on its own
    titles: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def single(self) -> bool:
        """True for a document rendered on its own: it keeps every block and signs for itself."""
        return len(self.docs) <= 1

    def has(self, name: str) -> bool:
        return name in self.docs

    def home(self, block: str) -> str | None:
        """The document of this packet that prints ``block``, or None when every document prints its own."""
        if self.single:
            return self.document
        return next((d for d in HOMES.get(block, ()) if d in self.docs), None)

    def here(self, block: str) -> bool:
        """Whether this document prints the shared ``block``."""
        home = self.home(block)
        return home is None or home == self.document

    def ref(self, name: str, anchor: str | None = None) -> Markup:
        """A cross-reference to a document of the packet; empty when it is not in the packet."""
        if name not in self.docs or name == self.document:
            return Markup("")
        return _link(self.titles.get(name, name), name, anchor)

    def ref_to(self, block: str) -> Markup:
        """A cross-reference to the home of a shared block (empty when it is here or nowhere)."""
        home = self.home(block)
        return self.ref(home) if home else Markup("")

    def details(self, topic: str) -> Markup:
        """A cross-reference to where the packet explains ``topic`` in full (for the key points)."""
        for name, anchor in DETAILS.get(topic, ()):
            if name in self.docs:
                return self.ref(name, anchor)
        return Markup("")

    @property
    def parts(self) -> tuple[str, ...]:
        """The documents a client initials: all but the key points and the signature page."""
        return tuple(d for d in self.docs if d not in (KEY_POINTS, SIGNATURES))

    def title(self, name: str) -> str:
        return self.titles.get(name, name)


def single(document: str) -> PacketView:
    return PacketView(document, (document,))


def make_context(profile: Profile, *, effective: dt.date, client: dict | None = None, document: str = "",
                 packet: PacketView | None = None) -> dict[str, Any]:
    """The values templates see: the profile as plain data, the date, the client, the jurisdiction, the views."""
    from .jurisdictions import context_for

    data = profile.model_dump(mode="python")
    data.pop("schema_version", None)
    license_state = profile.clinician.license.state if profile.clinician.license else None
    data.update(
        language=profile.language,
        effective_date=effective, client=client, document=document, jurisdiction=context_for(profile),
        packet=packet or single(document),
        packet_list=tuple(d for d in (profile.packet or ()) if d not in (KEY_POINTS, SIGNATURES, document)),
        contact=views.contact_plan(profile),
        fees_plan=views.fee_plan(profile), break_plan=views.break_plan(profile),
        ending=views.ending_plan(profile), joint=views.joint_work(profile), setting=views.setting(profile),
        services_seen=views.services_text(profile),
        license_state=labels.state_name(license_state) if license_state else None,
    )
    return data

"""Every label the handouts print for a setting, defined once.

Templates and view-models read these tables; nothing else spells out a
channel's name, a service or a state.
"""
from __future__ import annotations

CHANNELS: tuple[str, ...] = ("phone", "text", "email", "portal", "video", "social_media")

#: How a channel is named: as a table label, in running text, and at the start of a sentence.
CHANNEL_LABEL = {"phone": "Phone", "text": "Text message", "email": "Email", "portal": "Client portal",
                 "video": "Video call", "social_media": "Social media message"}
CHANNEL_PLAIN = {"phone": "phone calls", "text": "text messages", "email": "email", "portal": "the client portal",
                 "video": "video calls", "social_media": "social media"}
CHANNEL_BY = {"phone": "by phone", "text": "by text message", "email": "by email", "portal": "through the client portal",
              "video": "by video call", "social_media": "on social media"}
#: What one contact on a channel is called, for a charge "per call" or "per message".
CHANNEL_UNIT = {"phone": "call", "text": "message", "email": "email", "portal": "message", "video": "call",
                "social_media": "message"}

#: What a client does to use a channel, before its number or address: "call 555-0100".
CHANNEL_VERB = {"phone": "call", "text": "text", "email": "email", "portal": "message me through the client portal"}

CHANNEL_USE = {"scheduling": "Scheduling and practical questions",
               "check-ins": "Scheduling, and short check-ins"}

SERVICE_PLAIN = {"individual": "individual clients", "couples": "couples", "family": "families", "group": "groups"}
#: Words in a fee row's name that say which service it is for.
SERVICE_WORDS = {"individual": ("individual",), "couples": ("couple", "couples"),
                 "family": ("family", "families"), "group": ("group",)}

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "the District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming",
}


def state_name(code: str) -> str:
    """'CO', 'US-CO' or 'Colorado' -> 'Colorado'; anything else as written."""
    key = code.strip().upper().removeprefix("US-")
    return US_STATES.get(key, code.strip())

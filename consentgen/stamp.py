"""Render once, stamp many: a roster group's packet is rendered once, and each client's copy stamped."""
from __future__ import annotations

from collections.abc import Iterator

from .packet import Packet, Settings, packet_files, records_for


def render_group(packets: tuple[Packet, ...], settings: Settings, inputs: dict) -> Iterator:
    for packet in packets:
        files = packet_files(packet, settings)
        yield files, records_for(packet, files, inputs)

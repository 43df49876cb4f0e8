"""Who an object belongs to, as the access policy needs to know it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    """The member an object is about and the channel (and outlet or store) that created it.

    `outlet_code` is where it is collected, for orders picked up at a post office.
    Any of them may be unknown (None) for objects written before they were recorded;
    the policy then grants nothing that depends on it.
    """

    member_id: int | None = None
    channel: str | None = None
    institution_code: str | None = None
    outlet_code: str | None = None

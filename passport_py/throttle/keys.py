"""Which buckets an attempt counts in: the account name as one function spells it for lookup
and throttling alike, and the client's address grouped the way attackers rotate it."""

from __future__ import annotations

import ipaddress
import unicodedata

__all__ = ["UNKNOWN_CLIENT", "client_bucket", "normalize_account"]

UNKNOWN_CLIENT = "unknown"
"""The one bucket of every request whose client address is unknown or unreadable."""


def normalize_account(name: str) -> str:
    """`name` as one account: NFKC, then case-folded, then stripped of surrounding spaces.

    `Alice`, `ALICE`, ` alice ` and the fullwidth spelling are one account. Use it where users
    are looked up too, so the throttle counts exactly the accounts the lookup finds.
    """
    return unicodedata.normalize("NFKC", name).casefold().strip()


def client_bucket(ip: str | None) -> str:
    """The bucket of a client address: an IPv4 address as it is, an IPv6 address by its /64
    (one subscriber usually holds a whole /64), anything else `UNKNOWN_CLIENT`."""
    if not ip:
        return UNKNOWN_CLIENT
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return UNKNOWN_CLIENT
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)

"""Deciding whether a redirect target that came from a request is safe to follow."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

__all__ = ["is_safe_redirect", "safe_redirect"]

_MAX_LENGTH = 2048


def is_safe_redirect(target: object) -> bool:
    """True when `target` is a same-site relative path a browser cannot turn into another host.

    Only printable-ASCII paths starting with a single `/` are accepted: no scheme, no host, no
    backslash, no whitespace or control characters, no dot segments, nothing that decodes into
    `//`. Everything else (absolute URLs included) is refused: the caller falls back to its
    default.
    """
    if not isinstance(target, str) or not target or len(target) > _MAX_LENGTH:
        return False
    if not target.isascii() or not target.isprintable() or " " in target or "\\" in target:
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    # Decode the way a router or a second redirect would, then require the same properties.
    decoded = unquote(unquote(target))
    if decoded.startswith(("//", "/\\")) or "\\" in decoded:
        return False
    if not decoded.isprintable() or any(c in decoded for c in "\t\r\n\x00"):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return False
    segments = unquote(parts.path).split("/")
    return not any(segment in (".", "..") for segment in segments)


def safe_redirect(target: object, default: str = "/") -> str:
    """`target` when `is_safe_redirect(target)`, else `default`."""
    return target if isinstance(target, str) and is_safe_redirect(target) else default

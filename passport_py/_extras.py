"""The install command an ImportError names when an optional dependency is missing."""

from __future__ import annotations


def install_hint(extra: str) -> str:
    """How to install the `extra`, both from the package index and from a clone."""
    return (
        f'pip install "passport-py[{extra}]" '
        f'(in a clone of the repository: pip install ".[{extra}]")'
    )

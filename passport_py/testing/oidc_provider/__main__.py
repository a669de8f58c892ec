"""Run the development OpenID provider as a process until SIGTERM or SIGINT.

    python -m passport_py.testing.oidc_provider --port 9000 --client-id app \\
        --client-secret s3cret --redirect-uri http://127.0.0.1:8000/cb [--ask]

Prints the issuer URL on one line once it serves. Users are alice and bob.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from passport_py.testing.oidc_provider._models import AUTH_METHODS, AuthMethod, ProviderClient
from passport_py.testing.oidc_provider._provider import OIDCProvider


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m passport_py.testing.oidc_provider",
        description="A development OpenID Connect provider (for tests and demos only).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (the default): an unused port")
    parser.add_argument("--client-id", default="app")
    parser.add_argument("--client-secret", default=None, help="omit for a public client")
    parser.add_argument("--redirect-uri", action="append", required=True, help="repeat for several")
    parser.add_argument(
        "--token-endpoint-auth-method",
        choices=AUTH_METHODS,
        default=None,
        help="default: client_secret_basic with a secret, none without",
    )
    parser.add_argument("--ask", action="store_true", help="show the consent page")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until a signal; returns the exit status."""
    args = _parser().parse_args(argv)
    method: AuthMethod = args.token_endpoint_auth_method or (
        "client_secret_basic" if args.client_secret else "none"
    )
    try:
        client = ProviderClient(
            client_id=args.client_id,
            client_secret=args.client_secret,
            redirect_uris=args.redirect_uri,
            token_endpoint_auth_method=method,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    provider = OIDCProvider(
        clients=[client], auto_approve=not args.ask, host=args.host, port=args.port
    )
    with provider:
        print(provider.issuer, flush=True)
        # Event.wait with a timeout, so the signal handler runs promptly on every platform.
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

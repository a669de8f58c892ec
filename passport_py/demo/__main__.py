"""Run the demo on http://127.0.0.1:8000 (`DEMO_HOST`, `DEMO_PORT`), with the development
OpenID provider on another loopback port (any free one).

Sessions are kept in memory, or in Redis when `REDIS_URL` is set; `DEMO_SECRET` (32 bytes or
more) fixes the key that signs the session cookie, so cookies survive a restart and several
processes accept each other's.
"""

from __future__ import annotations

import importlib.util
import sys

from passport_py._extras import install_hint

# Checked before the demo's imports, so that an install without the extra prints the fix
# rather than a traceback.
if _missing := [
    name
    for name in (
        "starlette",
        "python_multipart",
        "uvicorn",
        "flask",
        "authlib",
        "jwt",
        "httpx2",
        "fastapi",
        "fastapi_offline",
        "pwdlib",
        "pyotp",
        "segno",
        "webauthn",
    )
    if importlib.util.find_spec(name) is None
]:
    sys.exit(
        f"The demo cannot import {', '.join(_missing)}; install its extra: {install_hint('demo')}"
    )

import os

from passport_py.demo.app import DEMO_USERS, build_app, describe_store, session_store
from passport_py.demo.dev_login import PROVIDER_USERS, callback_bases, start_dev_provider


def main() -> None:
    """Start the development provider, print the demo users and serve the demo app with
    uvicorn (the provider stops with it)."""
    import uvicorn

    from passport_py.demo.listen import demo_port, listen

    host = os.environ.get("DEMO_HOST", "127.0.0.1")
    port = demo_port(os.environ.get("DEMO_PORT", "8000"))
    # Bound before anything starts, so a busy port ends the demo with one line and no
    # provider left running; uvicorn then serves on this very socket.
    listener = listen(host, port)
    print(
        f"passport_py demo on http://{host}:{port}/  (users, stored as Argon2id hashes):",
        flush=True,
    )
    for name, password in DEMO_USERS.items():
        print(f"  {name} / {password}", flush=True)
    print(f"Its JSON API's docs (Swagger UI): http://{host}:{port}/api/docs", flush=True)
    store = session_store()
    print(describe_store(store), flush=True)
    provider, dev = start_dev_provider(callback_bases(host, port))
    names = ", ".join(account.username for account in PROVIDER_USERS)
    print(f"Development OpenID provider on {dev.issuer}/  (its users: {names})", flush=True)
    bases = callback_bases(host, port)
    app = build_app(store=store, dev=dev, origins=bases)
    passkeys_at = next((b for b in bases if "localhost" in b), bases[0])
    print(f"Passkeys work at {passkeys_at}/ (browsers refuse them on an IP address)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
    try:
        server.run(sockets=[listener])
    finally:
        listener.close()
        provider.stop()


if __name__ == "__main__":
    main()

"""Run the demo on http://127.0.0.1:8000."""

from __future__ import annotations

import os

from passport_py.demo.app import DEMO_USERS, build_app


def main() -> None:
    """Print the demo users and serve the demo app with uvicorn."""
    import uvicorn

    host = os.environ.get("DEMO_HOST", "127.0.0.1")
    port = int(os.environ.get("DEMO_PORT", "8000"))
    print(
        f"passport_py demo on http://{host}:{port}/  (users, stored as scrypt hashes):", flush=True
    )
    for name, password in DEMO_USERS.items():
        print(f"  {name} / {password}", flush=True)
    uvicorn.run(build_app(), host=host, port=port, log_level="info")


if __name__ == "__main__":
    main()

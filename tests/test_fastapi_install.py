"""Importing the FastAPI adapter without FastAPI names the extra that installs it."""

from __future__ import annotations

import subprocess
import sys

BLOCK_FASTAPI = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == 'fastapi' or name.startswith('fastapi.'):
            raise ModuleNotFoundError(f'No module named {name!r}', name=name)
sys.meta_path.insert(0, Block())
try:
    import passport_py.adapters.fastapi
except ImportError as exc:
    print(exc)
"""


def test_the_adapter_without_fastapi_names_the_fastapi_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_FASTAPI], capture_output=True, text=True, check=False
    )
    assert 'pip install "passport-py[fastapi]"' in result.stdout, result.stderr

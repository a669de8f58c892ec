"""Speed comparisons for passport_py: `python -m benchmarks` (or `make bench`).

Everything runs in-process: the ASGI apps are called directly with prebuilt scope dicts, so
the figures measure the framework code, not a network stack or a test client.
"""

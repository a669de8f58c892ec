"""The demo application: `python -m passport_py.demo` (or `make demo`)."""

"""Framework adapters: `passport_py.adapters.starlette` (and, later, flask and django)."""

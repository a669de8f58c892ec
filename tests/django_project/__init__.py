"""The Django project of the test run; importing it configures Django (once per process).

`settings` is the only settings module; `passports.current` is the passport it names;
`urls` serves the behaviour app and the admin; `testapp` the adapter tests' views.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import django

_previous = os.environ.get("DJANGO_SETTINGS_MODULE")
os.environ["DJANGO_SETTINGS_MODULE"] = "django_project.settings"
django.setup()
# The settings are loaded now; don't hand the variable to subprocesses the tests start.
if _previous is None:
    del os.environ["DJANGO_SETTINGS_MODULE"]
else:
    os.environ["DJANGO_SETTINGS_MODULE"] = _previous

_migrated = False


@contextmanager
def database() -> Iterator[None]:
    """The test database, migrated on first use; everything written inside is rolled back."""
    global _migrated
    from django.core.management import call_command
    from django.db import transaction

    if not _migrated:
        call_command("migrate", verbosity=0, interactive=False)
        _migrated = True
    with transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)

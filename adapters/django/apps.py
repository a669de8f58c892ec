"""The Django app `"passport_py.adapters.django"`: no models, only the system checks."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["PassportAppConfig"]


class PassportAppConfig(AppConfig):  # type: ignore[misc]
    """Add `"passport_py.adapters.django"` to `INSTALLED_APPS` so `manage.py check` (and
    `runserver` before it serves) reports passport_py's misconfigurations."""

    name = "passport_py.adapters.django"
    label = "passport_py"
    verbose_name = "passport_py"

    def ready(self) -> None:
        from passport_py.adapters.django.checks import register

        register()

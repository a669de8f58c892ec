"""The one Django settings module of the test run (Django is configured once per process).

It serves the Django adapter tests (`tests/test_django_*.py`), the Django behaviour app
(`tests/behaviour/django_app.py`) and the Django examples of the docs. Tests change what they
need with `django.test.override_settings`.
"""

from __future__ import annotations

SECRET_KEY = "tests-only-django-secret-key-6d1f0b9c2e8a4f37"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
USE_TZ = True
ROOT_URLCONF = "django_project.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "passport_py.adapters.django",  # the system checks (manage.py check)
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "passport_py.adapters.django.PassportMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

#: Tests point `django_project.passports.current` at the passport of the app they build.
PASSPORT_AUTHENTICATOR = "django_project.passports.current"
LOGIN_URL = "/login"

# Sessions in the local-memory cache: no database needed, and real session keys to cycle.
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# One in-memory database shared by every thread of the process (async views run theirs in a
# worker thread); migrated on first use by `django_project.database()`.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "file:passport_py_tests?mode=memory&cache=shared",
    }
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

"""The OAuth test app in each framework (the routes are in `oauth_apps.common`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from oauth_fixtures import token_requests

from oauth_apps.common import App, Browser, Directory, Framework, Kind, identity_key, make_passport
from passport_py.testing.oidc_provider import OIDCProvider


@contextmanager
def serving(framework: Framework, passport: Any, directory: Directory) -> Iterator[App]:
    """The app of `framework` over `passport` (Django: its URLconf is active meanwhile)."""
    if framework == "starlette":
        from oauth_apps.starlette_app import StarletteApp

        yield StarletteApp(passport, directory)
    elif framework == "flask":
        from oauth_apps.flask_app import FlaskApp

        yield FlaskApp(passport, directory)
    else:
        from oauth_apps.django_app import django_app

        with django_app(passport, directory) as app:
            yield app


@dataclass
class Site:
    """One test's app: its framework, strategy kind, provider and directory of users."""

    app: App
    kind: Kind
    provider: OIDCProvider
    directory: Directory

    def browser(self) -> Browser:
        return self.app.browser()

    def key(self, sub: str) -> tuple[str, str]:
        """The `Profile.key` of the provider user `sub` in this site's strategies."""
        return identity_key(self.kind, self.provider, sub)

    def token_requests(self) -> int:
        """How many token requests the provider has received so far."""
        return token_requests(self.provider)


@contextmanager
def site(framework: Framework, kind: Kind, provider: OIDCProvider) -> Iterator[Site]:
    """A fresh app (new users, new links, new passport) of `framework` with `kind` strategies."""
    directory = Directory()
    passport = make_passport(kind, provider, directory)
    with serving(framework, passport, directory) as app:
        yield Site(app, kind, provider, directory)

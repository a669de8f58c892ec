"""MicrosoftStrategy: the tenant's issuer rules and the profile, against the bundled provider.

The bundled provider plays one Entra tenant: `authority=` points the preset at it, so the
issuer the preset expects is `<provider>/<tenant id>/v2.0`, and the provider's faults make its
discovery document and ID tokens name that issuer (and carry `tid` and `oid`), as Microsoft's
do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from oauth_fixtures import make_honest
from oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    callback_url_for,
    dance,
    make_app,
    make_client,
    make_passport,
    oauth_transport,
    provider,
)
from provider_emulators import profile_json

from passport_py.errors import ConfigurationError
from passport_py.strategies.providers.microsoft import (
    CONSUMERS_TENANT_ID,
    MICROSOFT_AUTHORITY,
    MicrosoftStrategy,
)
from passport_py.testing.oidc_provider import REMOVE

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
OID = "00000000-0000-0000-66f3-3332eca7ea81"


@pytest.fixture(scope="module")
def idp() -> Iterator[Any]:
    server = provider(redirect_uris=[callback_url_for("microsoft")])
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def tenant_idp(idp: Any) -> None:
    """The bundled provider as the Entra tenant `TENANT` (see the module docstring)."""
    make_honest(idp)
    play_tenant(idp, TENANT)


def tenant_issuer(idp: Any, tenant: str) -> str:
    return f"{idp.issuer}/{tenant}/v2.0"


def play_tenant(idp: Any, tenant: str, **claims: Any) -> None:
    issuer = tenant_issuer(idp, tenant)
    # Entra neither advertises nor sends RFC 9207's iss parameter.
    idp.faults.discovery = {
        "issuer": issuer,
        "authorization_response_iss_parameter_supported": REMOVE,
    }
    idp.faults.authorization_iss = REMOVE
    idp.faults.id_token_claims = {"iss": issuer, "tid": tenant, "oid": OID, **claims}


def verify(tokens: Any, profile: Any) -> dict[str, Any]:
    return {**profile_json(profile), "key": list(profile.key)}


def microsoft(idp: Any, tenant: str = TENANT, **options: Any) -> MicrosoftStrategy:
    options.setdefault("transport", oauth_transport())
    return MicrosoftStrategy(
        verify,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        tenant=tenant,
        authority=idp.issuer,
        discovery_url=f"{idp.issuer}/.well-known/openid-configuration",
        callback_url="/auth/microsoft/callback",
        **options,
    )


def login(idp: Any, strategy: MicrosoftStrategy) -> httpx.Response:
    app = make_app(make_passport(strategy), success_redirect=None)
    return dance(make_client(app), "/auth/microsoft", idp)


# -- configuration ---------------------------------------------------------------------------


def test_name_is_microsoft_and_the_issuer_names_the_tenant() -> None:
    strategy = MicrosoftStrategy(verify, client_id="id", client_secret="s", tenant=TENANT)
    assert strategy.name == "microsoft"
    assert strategy.issuer == f"https://login.microsoftonline.com/{TENANT}/v2.0"
    assert strategy.discovery_url == (
        f"https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"
    )


def test_consumers_is_the_personal_accounts_tenant() -> None:
    strategy = MicrosoftStrategy(verify, client_id="id", client_secret="s", tenant="consumers")
    assert strategy.issuer == f"{MICROSOFT_AUTHORITY}/{CONSUMERS_TENANT_ID}/v2.0"


def test_a_national_cloud_is_an_authority() -> None:
    strategy = MicrosoftStrategy(
        verify,
        client_id="id",
        client_secret="s",
        tenant=TENANT.upper(),
        authority="https://login.microsoftonline.us/",
    )
    assert strategy.issuer == f"https://login.microsoftonline.us/{TENANT}/v2.0"


def test_issuer_is_refused_in_favour_of_authority() -> None:
    with pytest.raises(ConfigurationError, match="authority="):
        MicrosoftStrategy(
            verify, client_id="id", client_secret="s", tenant=TENANT, issuer=MICROSOFT_AUTHORITY
        )


@pytest.mark.parametrize("tenant", ["contoso.onmicrosoft.com", "", "not-a-guid"])
def test_a_tenant_that_is_not_an_id_is_refused(tenant: str) -> None:
    with pytest.raises(ConfigurationError, match="tenant"):
        MicrosoftStrategy(verify, client_id="id", client_secret="s", tenant=tenant)


@pytest.mark.parametrize("tenant", ["common", "organizations"])
def test_multi_tenant_endpoints_are_refused_for_now(tenant: str) -> None:
    with pytest.raises(ConfigurationError, match="multi-tenant"):
        MicrosoftStrategy(verify, client_id="id", client_secret="s", tenant=tenant)


# -- whole logins ----------------------------------------------------------------------------


def test_a_login_gives_oid_as_id_and_the_tenant_as_issuer(idp: Any) -> None:
    response = login(idp, microsoft(idp))
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["provider"] == "microsoft"
    assert user["id"] == OID
    assert user["issuer"] == tenant_issuer(idp, TENANT)
    assert user["key"] == [tenant_issuer(idp, TENANT), OID]
    assert user["username"] == "alice"
    assert user["raw"]["sub"] == "248289761001"


def test_the_email_is_never_marked_verified(idp: Any) -> None:
    play_tenant(idp, TENANT, email_verified=True)
    user = login(idp, microsoft(idp)).json()["user"]
    assert user["emails"] == [["alice@example.test", None, False]]


def test_an_id_token_from_another_tenant_is_refused_with_403(idp: Any) -> None:
    idp.faults.id_token_claims = {
        "iss": tenant_issuer(idp, OTHER_TENANT),
        "tid": OTHER_TENANT,
        "oid": OID,
    }
    client = make_client(make_app(make_passport(microsoft(idp))))
    assert dance(client, "/auth/microsoft", idp).status_code == 403
    assert client.get("/me").json() == {"user": None}


def test_discovery_naming_another_tenant_is_a_502(idp: Any) -> None:
    play_tenant(idp, OTHER_TENANT)
    app = make_app(make_passport(microsoft(idp)))
    assert make_client(app).get("/auth/microsoft").status_code == 502


def test_an_id_token_without_oid_is_a_502(idp: Any) -> None:
    play_tenant(idp, TENANT, oid=REMOVE)
    assert login(idp, microsoft(idp)).status_code == 502

"""MicrosoftStrategy: the tenant's issuer rules and the profile, against the bundled provider.

The bundled provider plays Entra: `authority=` points the preset at it, so the issuer the
preset expects is `<provider>/<tenant id>/v2.0`, and the provider's faults make its discovery
document and ID tokens name that issuer (and carry `tid` and `oid`), as Microsoft's do. For the
multi-tenant endpoints ("common", "organizations") the discovery document names the template
`<provider>/{tenantid}/v2.0` instead, and each ID token the issuer of its own `tid`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from oauth_fixtures import token_requests
from oauth_helpers import (
    CLIENT_ID,
    callback_url_for,
    client_for,
    dance,
    make_app,
    make_client,
    make_passport,
    preset_options,
    provider,
)
from oauth_helpers import login_with as login
from oidc_helpers import messages
from provider_emulators import profile_json

from passport_py.errors import ConfigurationError
from passport_py.strategies.oidc import MISSING_ISS, WRONG_ISS, IdTokenRejected, Messages
from passport_py.strategies.providers.microsoft import (
    CONSUMERS_TENANT_ID,
    MICROSOFT_AUTHORITY,
    PERSONAL_ACCOUNTS_REFUSED,
    TENANT_NOT_ALLOWED,
    MicrosoftStrategy,
)
from passport_py.testing.oidc_provider import REMOVE

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
OID = "00000000-0000-0000-66f3-3332eca7ea81"

#: The `oid` of every user verify was called for, in this test.
verified: list[str] = []


@pytest.fixture(scope="module")
def idp() -> Iterator[Any]:
    server = provider(redirect_uris=[callback_url_for("microsoft")])
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def tenant_idp(honest_idp: Any) -> None:
    """The bundled provider as the Entra tenant `TENANT` (see the module docstring)."""
    play_tenant(honest_idp, TENANT)
    verified.clear()


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


def template_issuer(idp: Any) -> str:
    return f"{idp.issuer}/{{tenantid}}/v2.0"


def play_multi_tenant(idp: Any, tenant: str, **claims: Any) -> None:
    """The provider as Entra's multi-tenant endpoint, signing in a user of `tenant`."""
    play_tenant(idp, tenant, **claims)
    idp.faults.discovery["issuer"] = template_issuer(idp)


def verify(tokens: Any, profile: Any) -> dict[str, Any]:
    verified.append(profile.id)
    return {**profile_json(profile), "key": list(profile.key)}


def microsoft(idp: Any, tenant: str = TENANT, **options: Any) -> MicrosoftStrategy:
    entra = {
        "tenant": tenant,
        "authority": idp.issuer,
        "discovery_url": f"{idp.issuer}/.well-known/openid-configuration",
    }
    options = preset_options("/auth/microsoft/callback", **entra, **options)
    return MicrosoftStrategy(verify, **options)


def refused(idp: Any, strategy: MicrosoftStrategy, message: str, *, token_requested: int) -> None:
    """A whole login ends in a 403 with `message`, verify never ran, nobody is logged in."""
    client = client_for(strategy, success_redirect=None)
    response = dance(client, "/auth/microsoft", idp)
    assert response.status_code == 403, response.text
    assert messages(client) == [message]
    assert client.get("/me").json() == {"user": None}
    assert verified == []
    assert token_requests(idp) == token_requested


def validate(strategy: MicrosoftStrategy, idp: Any, **claims: Any) -> dict[str, Any]:
    """`strategy`'s validation of an ID token the multi-tenant provider signed with `claims`
    (over a valid Entra-like set)."""
    play_multi_tenant(idp, TENANT)
    now = int(time.time())
    base = {
        "iss": tenant_issuer(idp, TENANT),
        "sub": "248289761001",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": "n-0S6_WzA2Mj",
        "tid": TENANT,
        "oid": OID,
    }
    token = idp.issue_id_token({k: v for k, v in {**base, **claims}.items() if v is not REMOVE})
    return asyncio.run(strategy.validate_id_token(token, nonce=base["nonce"]))


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


@pytest.mark.parametrize(
    "tenant", ["contoso.onmicrosoft.com", "", "not-a-guid", "Common", "{tenantid}"]
)
def test_a_tenant_that_is_not_an_id_is_refused(tenant: str) -> None:
    with pytest.raises(ConfigurationError, match="tenant"):
        MicrosoftStrategy(verify, client_id="id", client_secret="s", tenant=tenant)


@pytest.mark.parametrize("tenant", ["common", "organizations"])
def test_multi_tenant_issuer_is_the_template_and_discovery_is_under_the_alias(
    tenant: str,
) -> None:
    strategy = MicrosoftStrategy(verify, client_id="id", client_secret="s", tenant=tenant)
    assert strategy.issuer == "https://login.microsoftonline.com/{tenantid}/v2.0"
    assert strategy.metadata_issuer() == strategy.issuer
    assert strategy.discovery_url == (
        f"https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
    )


def test_a_single_tenant_expects_its_own_issuer_whatever_the_claims() -> None:
    strategy = MicrosoftStrategy(verify, client_id="id", client_secret="s", tenant=TENANT)
    assert strategy.metadata_issuer() == strategy.issuer
    assert strategy.expected_issuer({"tid": OTHER_TENANT}) == strategy.issuer


@pytest.mark.parametrize(
    ("tenant", "allowed", "match"),
    [
        (TENANT, [TENANT], "allowed_tenants= is for"),
        ("consumers", [CONSUMERS_TENANT_ID], "allowed_tenants= is for"),
        ("common", TENANT, "not one string"),
        ("common", [], "empty"),
        ("common", ["contoso.onmicrosoft.com"], "not a directory"),
        ("common", [TENANT, None], "not a directory"),
        ("organizations", ["consumers"], "personal accounts"),
    ],
)
def test_allowed_tenants_that_cannot_work_are_refused(
    tenant: str, allowed: Any, match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        MicrosoftStrategy(
            verify, client_id="id", client_secret="s", tenant=tenant, allowed_tenants=allowed
        )


def test_allowed_tenants_are_normalised_ids() -> None:
    strategy = MicrosoftStrategy(
        verify,
        client_id="id",
        client_secret="s",
        tenant="common",
        allowed_tenants=(t for t in [TENANT.upper(), "consumers"]),
    )
    assert strategy.allowed_tenants == frozenset({TENANT, CONSUMERS_TENANT_ID})


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


def test_a_single_tenant_refuses_a_discovery_document_naming_the_template(idp: Any) -> None:
    idp.faults.discovery["issuer"] = template_issuer(idp)
    response = make_client(make_app(make_passport(microsoft(idp)))).get("/auth/microsoft")
    assert response.status_code == 502
    assert "location" not in response.headers


# -- multi-tenant logins ---------------------------------------------------------------------


@pytest.mark.parametrize("tenant", ["common", "organizations"])
def test_a_multi_tenant_login_names_the_users_own_tenant(idp: Any, tenant: str) -> None:
    play_multi_tenant(idp, TENANT)
    response = login(idp, microsoft(idp, tenant))
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["id"] == OID
    assert user["issuer"] == tenant_issuer(idp, TENANT)
    assert user["key"] == [tenant_issuer(idp, TENANT), OID]
    assert user["emails"] == [["alice@example.test", None, False]]


def test_the_same_user_has_the_same_key_through_a_single_tenant_app(idp: Any) -> None:
    play_multi_tenant(idp, TENANT)
    multi = login(idp, microsoft(idp, "common")).json()["user"]
    play_tenant(idp, TENANT)
    single = login(idp, microsoft(idp, TENANT)).json()["user"]
    assert multi["key"] == single["key"]


def test_the_same_oid_in_two_tenants_is_two_users(idp: Any) -> None:
    play_multi_tenant(idp, TENANT)
    first = login(idp, microsoft(idp, "common")).json()["user"]
    play_multi_tenant(idp, OTHER_TENANT)
    second = login(idp, microsoft(idp, "common")).json()["user"]
    assert first["id"] == second["id"] == OID
    assert first["key"] != second["key"]


def test_common_signs_in_personal_accounts(idp: Any) -> None:
    play_multi_tenant(idp, CONSUMERS_TENANT_ID)
    response = login(idp, microsoft(idp, "common"))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["issuer"] == tenant_issuer(idp, CONSUMERS_TENANT_ID)


def test_organizations_refuses_personal_accounts(idp: Any) -> None:
    play_multi_tenant(idp, CONSUMERS_TENANT_ID)
    refused(idp, microsoft(idp, "organizations"), PERSONAL_ACCOUNTS_REFUSED, token_requested=1)


def test_a_tid_that_is_not_a_tenant_id_is_refused_with_403(idp: Any) -> None:
    # The issuer the token names is built from that tid, as a forger would.
    play_multi_tenant(idp, "contoso.onmicrosoft.com")
    refused(idp, microsoft(idp, "common"), Messages.invalid("tid"), token_requested=1)


def test_an_iss_that_is_not_the_tids_issuer_is_refused_with_403(idp: Any) -> None:
    play_multi_tenant(idp, TENANT, iss=tenant_issuer(idp, OTHER_TENANT))
    refused(idp, microsoft(idp, "common"), Messages.ISSUER, token_requested=1)


@pytest.mark.parametrize(
    ("tid", "message"),
    [
        (REMOVE, Messages.missing("tid")),
        (None, Messages.missing("tid")),
        ("", Messages.invalid("tid")),
        (42, Messages.invalid("tid")),
        ([TENANT], Messages.invalid("tid")),
        ("{tenantid}", Messages.invalid("tid")),  # would make the template itself the issuer
        (TENANT.upper(), Messages.invalid("tid")),  # Entra's tenant ids are lowercase
        (f"{TENANT}/v2.0/../{OTHER_TENANT}", Messages.invalid("tid")),
        ("contoso.onmicrosoft.com", Messages.invalid("tid")),
    ],
)
def test_an_id_token_whose_tid_is_not_a_tenant_id_is_rejected(
    idp: Any, tid: Any, message: str
) -> None:
    strategy = microsoft(idp, "common")
    issuer = f"{idp.issuer}/{tid}/v2.0" if isinstance(tid, str) else tenant_issuer(idp, TENANT)
    with pytest.raises(IdTokenRejected) as refusal:
        validate(strategy, idp, tid=tid, iss=issuer)
    assert refusal.value.message == message


@pytest.mark.parametrize(
    "iss",
    [
        "{authority}/{{tenantid}}/v2.0",
        "{authority}/{other}/v2.0",
        "{authority}/{tenant}/v2.0/",
        "{authority}/{tenant}",
        "{authority}/common/v2.0",
        "https://login.example.test/{tenant}/v2.0",
    ],
)
def test_an_id_token_whose_iss_is_not_its_tids_issuer_is_rejected(idp: Any, iss: str) -> None:
    strategy = microsoft(idp, "common")
    issuer = iss.format(authority=idp.issuer, tenant=TENANT, other=OTHER_TENANT)
    with pytest.raises(IdTokenRejected) as refusal:
        validate(strategy, idp, iss=issuer)
    assert refusal.value.message == Messages.ISSUER


def test_an_id_token_of_the_tids_issuer_is_valid(idp: Any) -> None:
    claims = validate(
        microsoft(idp, "common"), idp, tid=OTHER_TENANT, iss=tenant_issuer(idp, OTHER_TENANT)
    )
    assert claims["tid"] == OTHER_TENANT


def test_allowed_tenants_accept_a_listed_tenant(idp: Any) -> None:
    play_multi_tenant(idp, TENANT)
    strategy = microsoft(idp, "organizations", allowed_tenants=[OTHER_TENANT, TENANT])
    response = login(idp, strategy)
    assert response.status_code == 200, response.text
    assert verified == [OID]


def test_allowed_tenants_refuse_another_tenant_before_verify(idp: Any) -> None:
    play_multi_tenant(idp, OTHER_TENANT)
    strategy = microsoft(idp, "common", allowed_tenants=[TENANT])
    refused(idp, strategy, TENANT_NOT_ALLOWED, token_requested=1)


def test_allowed_tenants_can_name_personal_accounts(idp: Any) -> None:
    play_multi_tenant(idp, CONSUMERS_TENANT_ID)
    strategy = microsoft(idp, "common", allowed_tenants=[TENANT, "consumers"])
    assert login(idp, strategy).status_code == 200


@pytest.mark.parametrize(
    "issuer",
    ["{authority}/{tenant}/v2.0", "{authority}/common/v2.0", "{authority}/{{TenantId}}/v2.0"],
)
def test_multi_tenant_discovery_must_name_the_template(idp: Any, issuer: str) -> None:
    play_multi_tenant(idp, TENANT)
    idp.faults.discovery["issuer"] = issuer.format(authority=idp.issuer, tenant=TENANT)
    response = make_client(make_app(make_passport(microsoft(idp, "common")))).get("/auth/microsoft")
    assert response.status_code == 502
    assert "location" not in response.headers


# -- multi-tenant and RFC 9207's iss parameter -----------------------------------------------


def advertise_iss(idp: Any, iss: str) -> None:
    """The provider advertises RFC 9207 and sends `iss` (Entra does neither today)."""
    idp.faults.discovery["authorization_response_iss_parameter_supported"] = True
    idp.faults.authorization_iss = iss


def test_multi_tenant_an_iss_parameter_naming_the_users_tenant_is_accepted(idp: Any) -> None:
    play_multi_tenant(idp, TENANT)
    advertise_iss(idp, tenant_issuer(idp, TENANT))
    assert login(idp, microsoft(idp, "common")).status_code == 200


@pytest.mark.parametrize(
    "iss",
    [
        "{authority}/{{tenantid}}/v2.0",
        "{authority}/common/v2.0",
        "{authority}/{upper}/v2.0",
        "{authority}/{tenant}/v2.0/",
        "{authority}/{tenant}/{tenant}/v2.0",
        "{authority}//v2.0",
        "https://login.example.test/{tenant}/v2.0",
        "",
    ],
)
def test_multi_tenant_an_iss_parameter_of_another_shape_is_refused_before_the_token_request(
    idp: Any, iss: str
) -> None:
    play_multi_tenant(idp, TENANT)
    advertise_iss(idp, iss.format(authority=idp.issuer, tenant=TENANT, upper=TENANT.upper()))
    refused(idp, microsoft(idp, "common"), WRONG_ISS, token_requested=0)


def test_multi_tenant_an_iss_parameter_from_a_refused_tenant_is_refused_before_the_token_request(
    idp: Any,
) -> None:
    play_multi_tenant(idp, CONSUMERS_TENANT_ID)
    advertise_iss(idp, tenant_issuer(idp, CONSUMERS_TENANT_ID))
    refused(idp, microsoft(idp, "organizations"), PERSONAL_ACCOUNTS_REFUSED, token_requested=0)


def test_multi_tenant_a_missing_iss_parameter_is_refused_when_advertised(idp: Any) -> None:
    play_multi_tenant(idp, TENANT)
    advertise_iss(idp, REMOVE)
    refused(idp, microsoft(idp, "common"), MISSING_ISS, token_requested=0)

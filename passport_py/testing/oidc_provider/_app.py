"""The provider's Flask app: discovery, JWKS, authorization (with its pages), token, userinfo."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import flask
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    OAuth2Error,
)

from passport_py.testing.oidc_provider._models import AUTH_METHODS, REMOVE, merge
from passport_py.testing.oidc_provider._pages import consent_page, form_post_page
from passport_py.testing.oidc_provider._server import (
    RESPONSE_MODES,
    Context,
    ProviderServer,
)

__all__ = ["create_app"]

CLAIMS = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash",
    "name", "preferred_username", "email", "email_verified", "picture",
)  # fmt: skip


def create_app(ctx: Context) -> flask.Flask:
    """A Flask app serving the provider described by `ctx`."""
    app = flask.Flask(__name__)
    server = ProviderServer(app, ctx)

    @app.before_request
    def injected_response() -> flask.Response | None:
        delay = ctx.faults.delays.get(flask.request.path, 0.0)
        if delay > 0:
            ctx.stopping.wait(delay)
        answer = ctx.faults.responses.get(flask.request.path)
        if answer is None:
            return None
        status, content_type, body = answer
        return flask.Response(body, status=status, content_type=content_type)

    @app.get("/.well-known/openid-configuration")
    def discovery() -> flask.Response:
        return flask.jsonify(merge(_metadata(ctx), ctx.faults.discovery))

    @app.get("/jwks")
    def jwks() -> flask.Response:
        return flask.jsonify(ctx.keys.jwks())

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> flask.Response:
        return _finish(ctx, _authorize(ctx, server))

    @app.post("/token")
    def token() -> flask.Response:
        # The real answer first: the code is consumed even when a fault replaces the answer.
        response: flask.Response = server.create_token_response()
        if ctx.faults.token_delay > 0:
            ctx.stopping.wait(ctx.faults.token_delay)
        if (fault := ctx.faults.token_response) is not None:
            status, content_type, body = fault
            return flask.Response(body, status=status, content_type=content_type)
        return response

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo() -> flask.Response:
        response: flask.Response = server.create_endpoint_response("userinfo")
        return response

    return app


def _metadata(ctx: Context) -> dict[str, Any]:
    issuer = ctx.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": list(ctx.scopes),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS),
        "authorization_response_iss_parameter_supported": True,
    }


def _authorize(ctx: Context, server: ProviderServer) -> flask.Response:
    """Authlib validates the request; the user is picked by login_hint or on the page."""
    request = flask.request
    approved = request.method == "GET" or request.form.get("decision") == "approve"
    try:
        if request.method == "POST":
            user = ctx.store.user_named(request.form.get("username", ""))
        elif ctx.auto_approve:
            user = ctx.store.find_user(request.args.get("login_hint"))
        else:
            grant = server.get_consent_grant(end_user=None)
            return _consent(ctx, grant)
        grant = server.get_consent_grant(end_user=user)
        if approved and user is None:
            # A description of our own: Authlib's default says the owner denied.
            raise AccessDeniedError(
                description="No user at this provider matches the login_hint or username.",
                redirect_uri=grant.redirect_uri,
                state=request.values.get("state"),
            )
    except OAuth2Error as error:
        response: flask.Response = server.handle_error_response(None, error)
        return response
    # Deny: no user granted, and Authlib answers access_denied.
    return server.create_authorization_response(  # type: ignore[no-any-return]
        grant=grant, grant_user=user if approved else None
    )


def _consent(ctx: Context, grant: Any) -> flask.Response:
    """The page asking which user logs in, and whether they approve."""
    request = flask.request
    page = consent_page(
        action=f"/authorize?{urlsplit(request.url).query}",
        client_id=grant.client.client_id,
        scope=grant.request.scope or "",
        users=ctx.store.users,
        selected=ctx.store.find_user(request.args.get("login_hint") or None),
    )
    return flask.Response(page, content_type="text/html; charset=utf-8")


def _finish(ctx: Context, response: flask.Response) -> flask.Response:
    """Add RFC 9207's `iss` to a redirect to the client; render it as form_post if asked."""
    location = response.headers.get("Location")
    if response.status_code != 302 or not location:
        return response
    iss = ctx.faults.authorization_iss
    extra: list[tuple[str, str]] = []
    if iss is not REMOVE:
        extra.append(("iss", ctx.issuer if iss is None else str(iss)))
    location = add_params_to_uri(location, extra)
    values = flask.request.values
    target = _redirect_target(ctx, values.get("client_id"), values.get("redirect_uri"))
    if values.get("response_mode") == "form_post" and target and location.startswith(target):
        # Authlib appended the response parameters after the redirect URI's own query.
        own = len(parse_qsl(urlsplit(target).query, keep_blank_values=True))
        fields = parse_qsl(urlsplit(location).query, keep_blank_values=True)[own:]
        page = form_post_page(target, fields)
        return flask.Response(page, content_type="text/html; charset=utf-8")
    response.headers["Location"] = location
    return response


def _redirect_target(ctx: Context, client_id: str | None, redirect_uri: str | None) -> str | None:
    if redirect_uri:
        return redirect_uri
    client = ctx.store.clients.get(client_id or "")
    return client.get_default_redirect_uri() if client else None

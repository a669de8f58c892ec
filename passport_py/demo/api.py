"""The demo's JSON API: a FastAPI app mounted at `/api` inside the demo, sharing its passport
(the bearer token and API key strategies), users and sessions.

Its Swagger UI (`/api/docs`) and schema (`/api/openapi.json`) are served by the demo itself:
the Swagger UI files come from the `fastapi-offline` package, so the page loads nothing from
outside the demo.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from passport_py.adapters.fastapi import authenticate

__all__ = ["ITEMS", "READ", "WRITE", "DemoUser", "Item", "Me", "build_api"]

READ = "items:read"
"""The scope that lets a token read the catalogue (every demo token has it)."""

WRITE = "items:write"
"""The scope that lets a token remove items (alice's token has it, bob's does not)."""

ITEMS = {1: "Compass", 2: "Map", 3: "Lantern"}
"""The catalogue every demo process starts with (item id -> name)."""

#: Where the API serves Swagger UI's files (below its mount point).
ASSETS = "/docs-assets"

DESCRIPTION = (
    "The demo's JSON API. Log in to the demo and copy the API token from "
    "[your account page](/), "
    "then press **Authorize** and paste it as the bearer token or as the API key "
    "(`X-API-Key`): both name the same user. Every token may read items; only alice's may "
    "remove them."
)


class DemoUser(Protocol):
    """What the API reads of a demo user."""

    @property
    def id(self) -> int:
        """The user's number."""
        ...

    @property
    def username(self) -> str:
        """The user's login name."""
        ...


# The token from the account page, sent as a bearer token or as an API key (X-API-Key). At
# module level: with postponed annotations FastAPI resolves `Annotated[...]` in the module's
# namespace, where a name local to build_api would not be found.
token = authenticate(["bearer", "apikey"], session=False)
TokenUser = Annotated[DemoUser, Depends(token)]


class Me(BaseModel):
    """Who the token belongs to."""

    id: int
    username: str


class Item(BaseModel):
    """An item of the demo's catalogue."""

    id: int
    name: str


def build_api() -> FastAPI:
    """The API app, to mount at `/api` in an app whose middleware runs the demo's passport
    (with its "bearer" and "apikey" strategies)."""
    catalogue = dict(ITEMS)
    api = FastAPI(
        title="passport_py demo API",
        description=DESCRIPTION,
        version="1.0",
        # Swagger UI's own routes below serve the files from this package, not from a CDN.
        docs_url=None,
        redoc_url=None,
        # The validator badge would send the schema's address to an outside service.
        swagger_ui_parameters={"validatorUrl": None},
    )
    api.mount(ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")

    @api.get("/me", summary="Who the token belongs to", tags=["account"])
    async def me(user: TokenUser) -> Me:
        return Me(id=user.id, username=user.username)

    @api.get(
        "/items/{item_id}",
        summary=f"Read an item (scope {READ})",
        tags=["items"],
        dependencies=[Security(token, scopes=[READ])],
    )
    async def read_item(item_id: int) -> Item:
        if item_id not in catalogue:
            raise HTTPException(404, f"There is no item {item_id}.")
        return Item(id=item_id, name=catalogue[item_id])

    @api.delete(
        "/items/{item_id}",
        status_code=204,
        summary=f"Remove an item (scope {WRITE})",
        tags=["items"],
        dependencies=[Security(token, scopes=[WRITE])],
    )
    async def remove_item(item_id: int) -> None:
        if catalogue.pop(item_id, None) is None:
            raise HTTPException(404, f"There is no item {item_id}.")

    @api.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        # Mounted at /api, every address the page loads starts with the mount's root path.
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{api.title} · Swagger UI",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters=api.swagger_ui_parameters,
        )

    @api.get("/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    return api

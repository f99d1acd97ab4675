"""``POST /v1/auth/access_token`` and ``GET /v1/organization`` (feature flags)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local_stack.catalog.catalog import Catalog
from local_stack.catalog.errors import PortApiError, invalid_request, ok
from local_stack.catalog.routing import api_route, read_object


async def access_token(request: Request, catalog: Catalog) -> Response:
    body = await read_object(request, catalog)
    client_id, client_secret = body.get("clientId"), body.get("clientSecret")
    if not isinstance(client_id, str) or not isinstance(client_secret, str):
        raise invalid_request("body must have string clientId and clientSecret")
    settings = catalog.settings
    expected = (settings.client_id, settings.client_secret)
    accepted = (
        bool(client_id and client_secret)
        if expected == (None, None)
        else (client_id, client_secret) == expected
    )
    if not accepted:
        raise PortApiError(401, "invalid_credentials", "Invalid clientId or clientSecret")
    return ok(
        {
            "accessToken": catalog.tokens.issue(client_id),
            "expiresIn": settings.token_ttl_seconds,
            "tokenType": "Bearer",
        }
    )


async def organization(request: Request, catalog: Catalog) -> Response:
    return ok(
        {
            "organization": {
                "id": "org_local",
                "name": "Local catalog",
                "featureFlags": list(catalog.settings.feature_flags),
                "isBlocked": False,
            }
        }
    )


ROUTES: list[Route] = [
    api_route("/v1/auth/access_token", access_token, ["POST"], auth=False, fault="auth"),
    api_route("/v1/organization", organization, ["GET"]),
]

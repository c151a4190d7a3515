"""`digitaldock api` (the public API's document and Postman collection) and `digitaldock
webhooks send` (sellers' due webhook deliveries, which the running edge also sends itself)."""

from __future__ import annotations

import json

import click

from checkout.cli.common import make_edge
from checkout.cli.common import settings as load_settings
from checkout.integrations import webhooks as outgoing
from checkout.web import postman
from checkout.web.api import document


@click.group()
def api() -> None:
    """The public API's OpenAPI document and Postman collection (docs/api.md)."""


def _server(server: str | None) -> str:
    return server or load_settings().CHECKOUT_URL


@api.command("openapi")
@click.option("--server", help="The edge's public URL (default: CHECKOUT_URL).")
def openapi_cmd(server: str | None) -> None:
    """Print the OpenAPI 3.1 document (the same as GET /api/openapi.json)."""
    click.echo(json.dumps(document(_server(server)), indent=2, sort_keys=True))


@api.command("postman")
@click.option("--server", help="The edge's public URL, the collection's baseUrl (default: CHECKOUT_URL).")
def postman_cmd(server: str | None) -> None:
    """Print a Postman collection (v2.1) of the API, made from its OpenAPI document."""
    click.echo(json.dumps(postman.collection(document(_server(server))), indent=2))


@click.group()
def webhooks() -> None:
    """Sellers' outgoing webhooks."""


@webhooks.command("send")
def webhooks_send() -> None:
    """Send the webhook deliveries that are due now, once (the edge does this itself while running)."""
    click.echo(json.dumps(outgoing.process_due(make_edge(), limit=1000)))


COMMANDS = [api, webhooks]

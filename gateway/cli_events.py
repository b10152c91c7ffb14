"""``mrg webhooks``: subscribe endpoints to gateway events and read their delivery log.

Works on the gateway's store directly (like ``mrg audit verify``), so it needs the same config
(or ``MRG_DATABASE_URL``) as the server; the running server's worker does the delivering.
Bad input exits 2 with one line; ``--json`` gives machine-readable output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.cli_common import actor as _actor
from gateway.cli_common import fail as _fail

app = typer.Typer(no_args_is_help=True, help="Webhook subscriptions and their delivery log.")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="mrg.yaml (default: ./mrg.yaml, else embedded)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


@contextmanager
def _store(config: Path | None) -> Iterator[Any]:
    """The configured store; any configuration or input error becomes one line and exit code 2."""
    from gateway.config import ConfigError, load_config
    from gateway.store import Store
    from mapping.errors import RegistryError

    try:
        store = Store(load_config(config).resolved_database_url())
    except ConfigError as exc:
        _fail(str(exc))
    try:
        yield store
    except RegistryError as exc:
        _fail(str(exc), 1 if exc.retryable else 2)
    finally:
        store.close()


def _table(columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for i, column in enumerate(columns):
        table.add_column(column, no_wrap=i == 0)  # ids are copied into other commands: keep them whole
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    Console().print(table)


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="http(s) URL to POST events to")],
    event_type: Annotated[list[str] | None, typer.Option("--type", "-t", help="event type or glob, repeatable (default: all)")] = None,
    registry: Annotated[str, typer.Option("--registry", "-r", help="registry name glob")] = "*",
    model: Annotated[str, typer.Option("--model", "-m", help="model name glob")] = "*",
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe URL; prints the signing secret once (it cannot be shown again)."""
    from pydantic import ValidationError

    from gateway.events import subscriptions
    from gateway.events.schema import WebhookCreate

    try:
        body = WebhookCreate(url=url, event_types=event_type or [], registry=registry, model=model, description=description)
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"webhooks add: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    with _store(config) as store:
        created = subscriptions.create(store, body, actor=_actor())
    if as_json:
        typer.echo(created.model_dump_json(indent=2))
        return
    typer.echo(f"webhook {created.id} -> {created.url}")
    typer.echo(f"secret (shown once, store it with the receiver): {created.secret}")


@app.command("ls")
def ls(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Subscriptions with their filters (secrets are never shown)."""
    from gateway.events import subscriptions

    with _store(config) as store:
        items = subscriptions.list_all(store)
    if as_json:
        typer.echo(json.dumps([w.model_dump(mode="json") for w in items], indent=2))
        return
    _table(["id", "url", "types", "registry", "model", "created by"],
           [[w.id, w.url, ", ".join(w.event_types) or "*", w.registry, w.model, w.created_by] for w in items])


@app.command("rotate-secret")
def rotate_secret(
    webhook_id: str,
    overlap: Annotated[int, typer.Option("--overlap-s", help="seconds the old secret keeps signing too (0: none)")] = 86400,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A new signing secret, printed once; deliveries carry both signatures during the overlap."""
    from gateway.events import subscriptions

    with _store(config) as store:
        rotated = subscriptions.rotate_secret(store, webhook_id, actor=_actor(), overlap_s=overlap)
    if as_json:
        typer.echo(rotated.model_dump_json(indent=2))
        return
    until = rotated.signing_overlap_until
    typer.echo(f"webhook {rotated.id}: new secret" + (f"; the old one signs too until {until.isoformat()}" if until else ""))
    typer.echo(f"secret (shown once, store it with the receiver): {rotated.secret}")


@app.command("rm")
def rm(webhook_id: str, config: ConfigOpt = None) -> None:
    """Delete a subscription; its pending deliveries are dropped."""
    from gateway.events import subscriptions

    with _store(config) as store:
        subscriptions.remove(store, webhook_id, actor=_actor())
    typer.echo(f"webhook {webhook_id} deleted", err=True)


@app.command("deliveries")
def deliveries(
    webhook_id: str,
    state: Annotated[str | None, typer.Option("--state", help="pending | succeeded | dead")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The delivery log, newest first: attempts, last status code, latency and error."""
    from gateway.events import subscriptions

    with _store(config) as store:
        items = subscriptions.deliveries(store, webhook_id, state=state, limit=limit)
    if as_json:
        typer.echo(json.dumps([d.model_dump(mode="json") for d in items], indent=2))
        return
    rows = []
    for d in items:
        last = d.log[-1] if d.log else None
        latency = f"{last.latency_ms:.0f} ms" if last and last.latency_ms is not None else "-"
        rows.append([d.id, d.event_type, d.state, f"{d.attempts}/{d.max_attempts}", str(d.last_status or "-"), latency,
                     (d.last_error or "")[:60]])
    _table(["delivery", "event", "state", "attempts", "status", "latency", "error"], rows)


@app.command("test")
def test(webhook_id: str, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Send a signed mrg.webhook.ping now; exit 1 unless the receiver answers 2xx."""
    import httpx

    from gateway.events import DeliverySettings, subscriptions

    settings = DeliverySettings.from_env()
    with _store(config) as store, httpx.Client(follow_redirects=False) as client:
        result = subscriptions.ping(store, webhook_id, client, settings, actor=_actor())
    attempt = result.log[-1]
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        outcome = f"HTTP {attempt.status_code}" if attempt.status_code else attempt.error
        typer.echo(f"ping {result.id}: {result.state} ({outcome}, {attempt.latency_ms or 0:.0f} ms)")
    if result.state != "succeeded":
        raise typer.Exit(1)


@app.command("retry")
def retry(webhook_id: str, delivery_id: str, config: ConfigOpt = None) -> None:
    """Queue a dead delivery again (same webhook-id and body); the server's worker sends it."""
    from gateway.events import DeliverySettings, subscriptions

    with _store(config) as store:
        subscriptions.retry(store, webhook_id, delivery_id, DeliverySettings.from_env().max_attempts)
    typer.echo(f"delivery {delivery_id} queued again", err=True)

"""``mrg`` governance commands: request-approval, approve, reject, promote, rollback, history, keys.

They act in-process on the configured registries and store, as the local operator
(``cli:<user>``) holding the config: the same service, audit and history as the API, with
four-eyes applying between operators. Merged into ``mrg`` at the top level (registered in
``FEATURE_COMMANDS`` with an empty name). Bad input exits 2 with one line; ``--json`` everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.cli_common import actor as _actor
from gateway.cli_common import fail as _fail

app = typer.Typer(no_args_is_help=True, help="Approvals, promotion, rollback, history and API keys.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys stored (hashed) in the gateway's store.")
app.add_typer(keys_app, name="keys")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="mrg.yaml (default: ./mrg.yaml, else embedded)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
CommentOpt = Annotated[str | None, typer.Option("--comment", "-m", help="why (kept with the decision)")]
AliasOpt = Annotated[str | None, typer.Option("--alias", "-a", help="alias to move (e.g. prod)")]
StageOpt = Annotated[str | None, typer.Option("--stage", "-s", help="stage: DEVELOPMENT, STAGING, PRODUCTION, ARCHIVED")]


@contextmanager
def _governance(config: Path | None) -> Iterator[Any]:
    """The configured gateway's governance service; config and input errors exit 2 in one line."""
    from gateway.config import ConfigError, load_config
    from gateway.core import Gateway
    from gateway.governance.service import governance_for, release
    from mapping.errors import RegistryError

    try:
        gateway = Gateway(load_config(config))
    except ConfigError as exc:
        _fail(str(exc))
    try:
        yield governance_for(gateway)
    except RegistryError as exc:
        _fail(str(exc), 1 if exc.retryable else 2)
    finally:
        release(gateway)
        gateway.close()


def _operator() -> Any:
    from gateway.governance.roles import Grant, Principal

    return Principal(name=_actor(), grants=(Grant(role="admin"),), via="cli")


def _emit(data: Any, as_json: bool, line: str) -> None:
    typer.echo(json.dumps(data, indent=2, default=str) if as_json else line)


def _dump(obj: Any) -> Any:
    return obj.model_dump(mode="json") if hasattr(obj, "model_dump") else obj


def _pointer(alias: str | None, stage: str | None) -> tuple[str | None, Any]:
    from mapping.schema import Stage

    if (alias is None) == (stage is None):
        _fail("name exactly one of --alias or --stage")
    if stage is None:
        return alias, None
    try:
        return None, Stage(stage.upper())
    except ValueError:
        _fail(f"--stage: {stage!r} is not one of {', '.join(s.value for s in Stage)}")


# -- approvals -----------------------------------------------------------------------------------------
@app.command("request-approval")
def request_approval(registry: str, model: str, version: str, comment: CommentOpt = None,
                     config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Ask for a version's approval under its policy; prints the request id to approve."""
    with _governance(config) as gov:
        item = gov.approvals.request(_operator(), registry, model, version, comment)
    _emit(_dump(item), as_json, f"approval request {item.id}: {item.uri} PENDING "
                                f"({item.required_approvals} x {item.required_role} needed)")


def _decide(target: list[str], decision: str, comment: str | None, config: Path | None, as_json: bool) -> None:
    from gateway.governance.approvals import Decision
    from mapping.schema import ApprovalStatus

    if len(target) not in (1, 3):
        _fail(f"{decision.lower()}: give a request id, or <registry> <model> <version> of an open request")
    with _governance(config) as gov:
        if len(target) == 1:
            request_id = target[0]
        else:
            open_ = gov.approvals.list(registry=target[0], model=target[1], version=target[2],
                                       status=ApprovalStatus.PENDING, limit=1)
            if not open_:
                _fail(f"{target[0]}/{target[1]} version {target[2]} has no open approval request")
            request_id = open_[0].id
        item = gov.approvals.vote(_operator(), request_id, Decision(decision), comment)
    votes = sum(1 for v in item.votes if v.decision == "APPROVE")
    _emit(_dump(item), as_json, f"approval request {item.id}: {item.uri} {item.status.value} "
                                f"({votes}/{item.required_approvals} approvals)")


@app.command()
def approve(target: Annotated[list[str], typer.Argument(help="<request id> | <registry> <model> <version>")],
            comment: CommentOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Approve an open request (four-eyes: not one you requested)."""
    _decide(target, "APPROVE", comment, config, as_json)


@app.command()
def reject(target: Annotated[list[str], typer.Argument(help="<request id> | <registry> <model> <version>")],
           comment: CommentOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Reject an open request with a comment."""
    _decide(target, "REJECT", comment, config, as_json)


# -- promote, rollback, history -----------------------------------------------------------------------------
@app.command()
def promote(registry: str, model: str, version: str, alias: AliasOpt = None, stage: StageOpt = None,
            keep_previous: Annotated[bool, typer.Option("--keep-previous", help="stage: do not archive the previous holders")] = False,
            config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Move an alias or stage to a version; the previous holder is remembered for rollback."""
    alias_name, stage_value = _pointer(alias, stage)
    with _governance(config) as gov:
        if alias_name is not None:
            move = gov.promotions.promote_alias(_actor(), registry, model, alias_name, version)
        else:
            move = gov.promotions.promote_stage(_actor(), registry, model, stage_value, version,
                                                archive_previous=not keep_previous)
    _emit(_dump(move), as_json, f"{registry}/{model}: {move.kind} {move.name} -> {move.version}"
                                f" (was {', '.join(move.previous) or 'nobody'})")


@app.command()
def rollback(registry: str, model: str, alias: AliasOpt = None, stage: StageOpt = None,
             config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Give an alias or stage back to the version that held it before the last move."""
    alias_name, stage_value = _pointer(alias, stage)
    with _governance(config) as gov:
        if alias_name is not None:
            move = gov.promotions.rollback_alias(_actor(), registry, model, alias_name)
        else:
            move = gov.promotions.rollback_stage(_actor(), registry, model, stage_value)
    _emit(_dump(move), as_json, f"{registry}/{model}: {move.kind} {move.name} -> {move.version}"
                                f" (rolled back from {', '.join(move.previous) or 'nobody'})")


@app.command()
def history(registry: str, model: Annotated[str | None, typer.Argument()] = None, alias: AliasOpt = None,
            stage: StageOpt = None,
            at: Annotated[datetime | None, typer.Option("--at", help="which version held it at this time (UTC)")] = None,
            config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Who moved which alias or stage when; with --alias/--stage, the timeline of that pointer."""
    from datetime import UTC

    from gateway.governance.history import ALIAS, STAGE, timeline

    pointer = None
    if alias is not None or stage is not None:
        if model is None:
            _fail("history: --alias/--stage need a model")
        alias_name, stage_value = _pointer(alias, stage)
        pointer = (ALIAS, alias_name) if alias_name is not None else (STAGE, stage_value.value)
    with _governance(config) as gov:
        gov.gateway.handle(registry)
        entries = gov.history.entries(registry, model, limit=10**9)
    if pointer is None:
        data: Any = [_dump(e) for e in entries]
        lines = [f"{e.at.isoformat(timespec='seconds')} {e.actor} {e.action}: {e.model} {e.kind} {e.name} "
                 f"{e.previous or '-'} -> {e.version or '-'}" for e in entries]
    else:
        tenures = timeline(entries, *pointer)
        when = (at if at.tzinfo else at.replace(tzinfo=UTC)) if at else None
        if when is not None:
            tenures = [t for t in tenures if t.held_at(when)]
        data = [_dump(t) for t in tenures]
        lines = [f"{t.version}: {t.since.isoformat(timespec='seconds')} .. "
                 f"{t.until.isoformat(timespec='seconds') if t.until else 'now'} (set by {t.set_by}, {t.set_action})"
                 for t in tenures]
    _emit(data, as_json, "\n".join(lines) or "no moves recorded")


# -- keys ------------------------------------------------------------------------------------------------------
@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Option("--name", help="who or what uses the key")],
                role: Annotated[str, typer.Option("--role", help="viewer | editor | approver | admin")],
                registry: Annotated[str, typer.Option("--registry", help="registry glob")] = "*",
                model: Annotated[str, typer.Option("--model", help="model glob")] = "*",
                config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Create a key; it is printed once (on stdout) and only its hash is stored."""
    with _governance(config) as gov:
        stored, clear = gov.keys.create(name=name, role=role, registry=registry, model=model, created_by=_actor())
        gov.gateway.store.record(actor=_actor(), action="key.create", target=f"key:{stored.id}", after=stored.public())
    if as_json:
        typer.echo(json.dumps({**stored.public(), "key": clear}, indent=2))
        return
    typer.echo(f"key {stored.id} for {name} ({role} on {registry}/{model}); shown once, store it now:", err=True)
    typer.echo(clear)


@keys_app.command("ls")
def keys_ls(include_revoked: Annotated[bool, typer.Option("--all", help="include revoked keys")] = False,
            config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Stored keys (never the keys themselves)."""
    with _governance(config) as gov:
        keys = [k.public() for k in gov.keys.list(include_revoked)]
    lines = [f"{k['id']}  {k['name']}  {k['role']} on {k['registry']}/{k['model']}  created {k['created_at']}"
             + (f"  revoked {k['revoked_at']}" if k["revoked_at"] else "") for k in keys]
    _emit(keys, as_json, "\n".join(lines) or "no keys")


@keys_app.command("revoke")
def keys_revoke(key_id: str, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Revoke a key: refused from the next request on."""
    with _governance(config) as gov:
        stored = gov.keys.revoke(key_id, revoked_by=_actor())
        gov.gateway.store.record(actor=_actor(), action="key.revoke", target=f"key:{stored.id}", after=stored.public())
    _emit(stored.public(), as_json, f"key {stored.id} ({stored.name}) revoked")

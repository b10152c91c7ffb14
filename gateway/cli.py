"""``mrg``: serve the gateway, start the sandbox, and read registries from the terminal.

Bad input exits with code 2 and one readable line; a registry that cannot be reached exits
with 1. ``--json`` prints machine-readable output on every listing command. Heavy imports
(FastAPI, uvicorn, cloud SDKs) happen inside the commands that need them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from gateway.cli_common import actor as _actor
from gateway.config import ConfigError, GatewayConfig, load_config

app = typer.Typer(add_completion=False, no_args_is_help=True, help="model-registry-gateway: one API over every model registry.")
models_app = typer.Typer(no_args_is_help=True, help="Models across registries.")
versions_app = typer.Typer(no_args_is_help=True, help="Versions of one model.")
audit_app = typer.Typer(no_args_is_help=True, help="The audit log.")
migrate_app = typer.Typer(no_args_is_help=True, help="Copy models between registries: plan, run, resume, verify.")
app.add_typer(models_app, name="models")
app.add_typer(versions_app, name="versions")
app.add_typer(audit_app, name="audit")
app.add_typer(migrate_app, name="migrate")
# Feature command groups added by later rooms: ("module", "typer attribute", "command name").
FEATURE_COMMANDS: tuple[tuple[str, str, str], ...] = (("gateway.cli_events", "app", "webhooks"), ("gateway.cli_catalog", "app", "lineage"), ("gateway.cli_governance", "app", ""), ("gateway.cli_pilot", "pilot_app", "pilot"))

T = TypeVar("T")
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="mrg.yaml (default: ./mrg.yaml, else embedded)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"mrg: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    from mapping.errors import RegistryError

    try:
        yield
    except ConfigError as exc:
        fail(str(exc))
    except RegistryError as exc:
        fail(str(exc), 1 if exc.retryable else 2)


def _config(path: Path | None) -> GatewayConfig:
    with handled():
        return load_config(path)
    raise AssertionError("unreachable")


def _gateway(path: Path | None) -> Any:
    from gateway.core import Gateway

    return Gateway(_config(path))


def _emit(data: Any, as_json: bool, table: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        table()


def _dump(obj: Any) -> Any:
    return obj.model_dump(mode="json", exclude={"native"}) if hasattr(obj, "model_dump") else obj


# -- serve and sandbox ---------------------------------------------------------------------------
@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="bind address (default from config: 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default from config: 8080)")] = None,
    sandbox: Annotated[bool, typer.Option("--sandbox", help="also start every backend locally and serve them")] = False,
    sandbox_dir: Annotated[Path, typer.Option(help="where the sandbox keeps its data")] = Path("mrg-sandbox"),
    seed: Annotated[bool, typer.Option("--seed", help="with --sandbox: add a demo model to every registry")] = False,
) -> None:
    """Run the REST API (OpenAPI at /docs). With no config: a local MLflow registry under ./mrg-data."""
    running = None
    if sandbox:
        _exit_on_sigterm()
        running = _start_sandbox(sandbox_dir, seed)
        config = running.config_path
    try:
        cfg = _config(config)
        cfg.server.host = host or cfg.server.host
        cfg.server.port = port if port is not None else cfg.server.port
        if cfg.auth.anonymous_role and cfg.server.host not in LOOPBACK:
            fail(f"serve: anonymous access ({cfg.auth.anonymous_role}) is only allowed on loopback; "
                 f"set auth.anonymous_role: null and use API keys to bind {cfg.server.host}")
        _run_server(cfg)
    finally:
        if running is not None:
            running.stop()


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so ``finally`` blocks stop what we started.

    uvicorn restores the previous handler after its graceful shutdown and re-raises the
    signal; with the default handler the process would die before stopping the sandbox.
    """
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _run_server(cfg: GatewayConfig) -> None:
    """Bind first (``--port 0`` picks a free port), say where, then serve on that socket."""
    import socket

    import uvicorn

    from gateway.api import create_app

    family = socket.AF_INET6 if ":" in cfg.server.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((cfg.server.host, cfg.server.port))
    except OSError as exc:
        fail(f"serve: cannot listen on {cfg.server.host}:{cfg.server.port} ({exc.strerror})", 1)
    sock.listen(2048)  # connections queue from now on, so the address below is good at once
    port = sock.getsockname()[1]
    app = create_app(cfg)
    typer.echo(f"mrg: serving {', '.join(cfg.registries) or 'no registries'} on http://{cfg.server.host}:{port}"
               f" (docs at /docs)", err=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", http="gateway.api.nodelay:NoDelayH11Protocol"))
    server.run(sockets=[sock])


def _start_sandbox(root: Path, seed: bool = False) -> Any:
    from rich.console import Console

    from gateway.sandbox.launch import start_sandbox

    console = Console(stderr=True)
    with console.status("starting the sandbox") as status:
        sandbox = start_sandbox(root, progress=lambda msg: status.update(msg))
        os.environ.update(sandbox.env)  # the sandbox's credentials reach the adapters by reference
        if seed:
            from gateway.core import Gateway
            from gateway.sandbox.seed import seed as seed_registries

            status.update("seeding demo models")
            gw = Gateway(load_config(sandbox.config_path))
            try:
                for registry, outcome in seed_registries(gw).items():
                    console.print(f"sandbox: {registry}: {outcome}")
            finally:
                gw.close()
    console.print(f"sandbox: {', '.join(sandbox.registries)} ready; config {sandbox.config_path}, "
                  f"SDK settings in {sandbox.root / 'sandbox.env'}")
    for name, why in sandbox.skipped.items():
        console.print(f"sandbox: {name} skipped ({why})")
    return sandbox


@app.command("sandbox")
def sandbox_cmd(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="where the sandbox keeps its data")] = Path("mrg-sandbox"),
    seed: Annotated[bool, typer.Option("--seed", help="add a demo model to every registry")] = False,
) -> None:
    """Start every backend on this machine and wait (Ctrl-C stops everything)."""
    import signal
    import threading

    running = _start_sandbox(data_dir, seed)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
        typer.echo("sandbox: stopped", err=True)


# -- reading -------------------------------------------------------------------------------------
@app.command()
def registries(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Configured registries with their kind, health and main capabilities."""
    gw = _gateway(config)
    rows = []
    with handled():
        for name in gw.registry_names():
            adapter = gw.adapter(name)
            caps = adapter.capabilities()
            rows.append({"name": name, "kind": adapter.kind.value, "health": adapter.health().model_dump(),
                         "capabilities": caps.model_dump(mode="json")})

    def table() -> None:
        from rich.console import Console
        from rich.table import Table

        t = Table("registry", "kind", "healthy", "aliases", "approval", "stage", "assignable ids")
        for r in rows:
            c = r["capabilities"]
            _row(t, r["name"], r["kind"], "yes" if r["health"]["ok"] else f"no: {r['health']['message']}",
                      _place(c["aliases"], c["aliases_native"]), _place(True, c["approval_native"]),
                      _place(True, c["stage_native"]), "yes" if c["version_id_assignable"] else "no")
        Console().print(t)

    _emit(rows, as_json, table)


def _place(supported: bool, native: bool) -> str:
    return "native" if native else ("envelope" if supported else "no")


@models_app.command("ls")
def models_ls(
    config: ConfigOpt = None,
    registry: Annotated[list[str] | None, typer.Option("--registry", "-r", help="limit to these registries")] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="free text")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Models of every configured registry (a registry that fails is reported, not fatal)."""
    from mapping.schema import ModelQuery

    gw = _gateway(config)
    with handled():
        result = gw.search_models(ModelQuery(text=query), registry)
    data = {"items": [_dump(m) for m in result.items], "partial": result.partial, "errors": result.errors}

    def table() -> None:
        from rich.console import Console
        from rich.table import Table

        t = Table("registry", "model", "latest", "aliases", "description")
        for m in result.items:
            _row(t, m.registry, m.name, m.latest_version or "-",
                      ", ".join(f"{a}→{v}" for a, v in sorted(m.aliases.items())), (m.description or "")[:60])
        console = Console()
        console.print(t)
        for err in result.errors:
            console.print(f"{err['registry']}: {err['kind']}: {err['message']}", style="yellow", markup=False)

    _emit(data, as_json, table)
    if result.errors and not result.items:
        raise typer.Exit(1)


@models_app.command("show")
def models_show(registry: str, name: str, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """One model with its tags and aliases."""
    gw = _gateway(config)
    with handled():
        model = gw.call(registry, lambda a: a.get_model(name))
    _emit(_dump(model), as_json, lambda: _print_fields(_dump(model)))


@versions_app.command("ls")
def versions_ls(registry: str, model: str, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Versions of a model in creation order."""
    gw = _gateway(config)
    with handled():
        items = gw.call(registry, lambda a: list(a.iter_versions(model)))

    def table() -> None:
        from rich.console import Console
        from rich.table import Table

        t = Table("version", "stage", "approval", "aliases", "created", "description")
        for v in items:
            _row(t, v.version, v.stage.value, v.approval.status.value, ", ".join(v.aliases),
                      v.created_at.isoformat(timespec="seconds") if v.created_at else "-", (v.description or "")[:50])
        Console().print(t)

    _emit([_dump(v) for v in items], as_json, table)


@versions_app.command("show")
def versions_show(registry: str, model: str, version: str, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """One version with every common field."""
    gw = _gateway(config)
    with handled():
        item = gw.call(registry, lambda a: a.get_version(model, version))
    _emit(_dump(item), as_json, lambda: _print_fields(_dump(item)))


def _print_fields(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table("field", "value", show_header=False)
    for key, value in data.items():
        _row(t, key, value if isinstance(value, str) else json.dumps(value, default=str))
    Console().print(t)


@audit_app.command("verify")
def audit_verify(config: ConfigOpt = None) -> None:
    """Check the hash chain of the audit log; exit 1 if any row was edited or deleted."""
    gw = _gateway(config)
    problems = gw.store.verify_audit()
    for problem in problems:
        typer.echo(f"audit: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"audit: {len(gw.store.audit_events(limit=10**9))} events, chain intact")


# -- migration -------------------------------------------------------------------------------------
FromOpt = Annotated[str, typer.Option("--from", help="<registry>, or <registry>/<model glob>")]
ToOpt = Annotated[str, typer.Option("--to", help="target registry")]
VersionsOpt = Annotated[str, typer.Option("--versions", help="all | latest | approved | 3-7 | 1,4,9")]
RenameOpt = Annotated[str | None, typer.Option("--rename", help="target name pattern: {name} {owner} {basename} {flat}")]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, max=64, help="parallel transfers")]


@migrate_app.command("plan")
def migrate_plan(source: FromOpt, target: ToOpt, versions: VersionsOpt = "all", rename: RenameOpt = None,
                 config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Show what a migration would copy and where each field would land. Writes nothing."""
    from gateway.migration.runner import Migrator

    gw = _gateway(config)
    with handled():
        plan = Migrator(gw).plan(source, target, versions=versions, rename=rename)

    def table() -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        t = Table("source model", "target model", "versions", "target ids")
        for m in plan.models:
            ids = ", ".join(v.target_version or "assigned" for v in m.versions[:8]) + (" …" if len(m.versions) > 8 else "")
            _row(t, m.source, m.target, ", ".join(v.source_version for v in m.versions[:12]), ids)
        console.print(t)
        f = Table("field", f"source ({plan.source_kind})", f"target ({plan.target_kind})", "note")
        for fp in plan.fields:
            _row(f, fp.field, fp.source.value, fp.target.value, fp.note or "")
        console.print(f)
        for w in plan.warnings:
            console.print(w, style="yellow", markup=False)
        console.print(f"{plan.version_count} versions in {len(plan.models)} models; nothing written")

    _emit(plan.model_dump(mode="json"), as_json, table)


@migrate_app.command("run")
def migrate_run(source: FromOpt, target: ToOpt, versions: VersionsOpt = "all", rename: RenameOpt = None,
                workers: WorkersOpt = 4,
                preserve_numbers: Annotated[bool, typer.Option(help="MLflow targets: pad gaps so numbers match")] = False,
                job_id: Annotated[str | None, typer.Option("--job-id", help="name the job (default: generated)")] = None,
                config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Plan, journal and run a migration; exit 1 if any version is missing on the target."""
    from gateway.migration.runner import Migrator

    gw = _gateway(config)
    with handled():
        migrator = Migrator(gw, workers=workers)
        plan = migrator.plan(source, target, versions=versions, rename=rename)
        job = migrator.create_job(plan, actor=_actor(), job_id=job_id, preserve_numbers=preserve_numbers)
    typer.echo(f"migration {job}: {plan.version_count} versions", err=True)
    _run_job(gw, job, workers, as_json)


@migrate_app.command("resume")
def migrate_resume(job_id: str, workers: WorkersOpt = 4, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Continue a job that stopped or was killed; nothing already copied is copied again."""
    _run_job(_gateway(config), job_id, workers, as_json)


def _run_job(gw: Any, job_id: str, workers: int, as_json: bool) -> None:
    from gateway.migration.runner import Migrator

    with handled():
        if as_json:
            migrator = Migrator(gw, workers=workers, on_event=lambda e: typer.echo(json.dumps(e)) if e["event"] not in ("bytes", "bytes_total") else None)
            report = migrator.run(job_id)
            typer.echo(json.dumps({"event": "report", **report}))
        else:
            report = _run_with_progress(gw, job_id, workers)
            _print_report(report)
    if report["state"] != "succeeded":
        raise typer.Exit(1)


def _run_with_progress(gw: Any, job_id: str, workers: int) -> dict[str, Any]:
    """Two bars, versions and bytes (with throughput and ETA), on stderr."""
    import threading

    from rich.console import Console
    from rich.filesize import decimal
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from gateway.migration.journal import CREATED, Journal
    from gateway.migration.runner import Migrator

    items = Journal(gw.store).items(job_id)
    lock = threading.Lock()
    totals = {"bytes": 0, "done": 0}
    columns = (TextColumn("{task.description:>8}"), BarColumn(), TextColumn("{task.fields[detail]}"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        done = sum(1 for i in items if i.state == CREATED)
        versions = progress.add_task("versions", total=len(items), completed=done, detail=f"{done}/{len(items)}")
        data = progress.add_task("bytes", total=0, detail="")

        def on_event(event: dict[str, Any]) -> None:
            with lock:
                kind = event["event"]
                if kind == "item" and event["state"] in ("created", "exists", "failed"):
                    progress.advance(versions)
                    task = progress.tasks[versions]
                    progress.update(versions, detail=f"{task.completed:.0f}/{task.total:.0f}")
                elif kind == "bytes_total":
                    totals["bytes"] += event["n"]
                elif kind == "bytes":
                    totals["done"] += event["n"]
                    speed = progress.tasks[data].speed or 0
                    progress.update(data, total=max(totals["bytes"], totals["done"]), completed=totals["done"],
                                    detail=f"{decimal(totals['done'])}/{decimal(totals['bytes'])} {decimal(int(speed))}/s")

        return Migrator(gw, workers=workers, on_event=on_event).run(job_id)


def _print_report(report: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console(stderr=True)
    console.print(f"migration {report['job_id']}: {report['state']} — {report['created']}/{report['items']} versions, "
                  f"{report['bytes']} bytes", markup=False)
    for failure in report["failures"]:
        console.print(f"{failure['source']}: {failure['error']}", style="red", markup=False)
    for warning in report["warnings"]:
        console.print(warning, style="yellow", markup=False)


@migrate_app.command("verify")
def migrate_verify(job_id: str, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Re-read source and target; compare every carried field and every file checksum."""
    from gateway.migration.verify import verify_job

    gw = _gateway(config)
    with handled():
        report = verify_job(gw, job_id)

    def table() -> None:
        from rich.console import Console
        from rich.table import Column, Table

        t = Table(*(Column(name, overflow="fold") for name in ("source", "target", "result")))
        for line in report["lines"]:
            _row(t, line["source"], line["target"] or "-", "ok" if not line["problems"] else "; ".join(line["problems"]))
        Console().print(t)
        Console().print(f"{report['items'] - report['failed']}/{report['items']} verified")

    _emit(report, as_json, table)
    if not report["ok"]:
        raise typer.Exit(1)


@migrate_app.command("status")
def migrate_status(job_id: str, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Where a job stands: items per state and bytes copied."""
    from gateway.migration.journal import Journal

    gw = _gateway(config)
    with handled():
        journal = Journal(gw.store)
        job = journal.job(job_id)
        data = {"job_id": job.id, "state": job.state, "source": job.source, "target": job.target,
                "items": journal.counts(job_id), "bytes": journal.bytes_copied(job_id)}
    _emit(data, as_json, lambda: typer.echo(json.dumps(data)))


def _row(table: Any, *cells: object) -> None:
    """Cells as plain text: names, descriptions and error messages are data, not rich markup."""
    from rich.text import Text

    table.add_row(*(Text(str(cell)) for cell in cells))


def _add_feature_commands() -> None:
    import importlib

    for module, attribute, name in FEATURE_COMMANDS:
        app.add_typer(getattr(importlib.import_module(module), attribute), name=name)


_add_feature_commands()


def main() -> None:
    # MLflow logs schema set-up at INFO on stderr; a CLI's stderr is for its own one-line errors.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

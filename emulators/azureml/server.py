"""Process lifecycle: TLS material, Azurite, the HTTPS server, the one-line announcement, shutdown.

The announcement is everything a user's own ``MLClient`` needs (cloud name and metadata, ids, CA
bundle, blob endpoint), printed once the server accepts requests, so launchers never race it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn

from emulators.azureml import azurite, context, tls
from emulators.azureml.app import create_app
from emulators.azureml.blobstore import BlobStore
from emulators.azureml.context import EmulatorContext
from emulators.azureml.store import Store

log = logging.getLogger("emulators.azureml")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.azureml", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="HTTPS port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (an IP address)")
    parser.add_argument("--data-dir", type=Path, help="persist state, blobs and the test CA here")
    parser.add_argument("--subscription", default=context.DEFAULT_SUBSCRIPTION)
    parser.add_argument("--resource-group", default=context.DEFAULT_RESOURCE_GROUP)
    parser.add_argument("--workspace", default=context.DEFAULT_WORKSPACE)
    parser.add_argument("--registry", default=context.DEFAULT_REGISTRY)
    parser.add_argument("--location", default="eastus")
    parser.add_argument("--wire-log", type=Path, help="append every request as a JSON line to this file")
    return parser.parse_args(argv)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this on Linux. Without it, TLS responses written in two segments
    # meet the client's delayed ACK (Nagle): every request took ~44 ms instead of ~2 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _announcement(
    ctx: EmulatorContext, args: argparse.Namespace, data_dir: Path | None, azurite_pid: int
) -> dict[str, Any]:
    return {
        "emulator": "azureml",
        "endpoint": ctx.endpoint,
        "cloud": ctx.cloud_name(),
        "cloud_metadata": ctx.cloud_metadata(),
        "subscription_id": args.subscription,
        "resource_group": args.resource_group,
        "workspace_name": args.workspace,
        "registry_name": args.registry,
        "tenant_id": context.TENANT_ID,
        "location": args.location,
        "ca_bundle": str(ctx.ca_bundle),
        "ca_cert": str(ctx.ca_cert),
        "blob_endpoint": ctx.blobs.public_endpoint,
        "blob_endpoint_ip": f"https://{ctx.blobs.host}:{ctx.blobs.port}/{ctx.blobs.account}",
        "storage_account": ctx.blobs.account,
        # Names under .localhost must resolve to loopback in the caller's process (RFC 6761);
        # emulators.azureml.client.enable_localhost_resolution() does that in-process.
        "resolve_localhost_subdomains": True,
        "wire_log": str(ctx.wire_log) if ctx.wire_log else None,
        "data_dir": str(data_dir) if data_dir else None,
        "pid": os.getpid(),
        "azurite_pid": azurite_pid,
    }


async def _serve(server: uvicorn.Server, sock: socket.socket, announce: dict[str, Any]) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("the HTTPS server stopped before it started")
        await asyncio.sleep(0.02)
    sys.stdout.write(json.dumps(announce) + "\n")
    sys.stdout.flush()
    await task


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # uvicorn re-raises the signal it captured once it has shut down; a no-op handler turns that
    # into a normal return so Azurite is stopped and temporary files are removed below.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)

    data_dir: Path | None = args.data_dir.resolve() if args.data_dir else None
    work = data_dir or Path(tempfile.mkdtemp(prefix="mrg-azureml-"))
    work.mkdir(parents=True, exist_ok=True)
    blob_service: azurite.AzuriteProcess | None = None
    try:
        material = tls.ensure_tls(work / "tls", ip_hosts=(args.host,) if args.host[0].isdigit() else ())
        blob_service = azurite.start(
            location=work / "azurite", in_memory=data_dir is None, cert=material.server_cert,
            key=material.server_key, host=args.host if args.host != "0.0.0.0" else "127.0.0.1",
        )
        sock = _bind(args.host, args.port)
        port = sock.getsockname()[1]
        blobs = BlobStore(
            account=azurite.ACCOUNT_NAME, key=azurite.ACCOUNT_KEY, port=blob_service.port,
            ca_bundle=material.bundle, host=blob_service.host,
        )
        ctx = EmulatorContext(
            endpoint=f"https://{args.host}:{port}", location=args.location,
            store=Store(data_dir / "state.json" if data_dir else None), blobs=blobs,
            ca_bundle=material.bundle, ca_cert=material.ca_cert, wire_log=args.wire_log,
            extras={"tenant_id": context.TENANT_ID, "subscription": args.subscription,
                    "resource_group": args.resource_group},
        )
        config = uvicorn.Config(
            create_app(ctx), ssl_certfile=str(material.server_cert), ssl_keyfile=str(material.server_key),
            log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1,
        )
        asyncio.run(_serve(uvicorn.Server(config), sock, _announcement(ctx, args, data_dir, blob_service.process.pid)))
    except azurite.AzuriteError as exc:
        log.error("cannot start Azurite: %s", exc)
        return 2
    finally:
        if blob_service is not None:
            blob_service.stop()
        if data_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0

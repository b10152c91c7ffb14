"""Process entry: serve Vertex REST + GCS, announce once on stdout, stop on SIGTERM/SIGINT.

The one JSON line on stdout is the contract with emulators.launcher and `mrg sandbox`;
everything else goes to stderr so that line is never interleaved with logs.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

DEFAULT_PROJECT = "mrg-sandbox"
DEFAULT_LOCATION = "us-central1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m emulators.vertex",
        description="Vertex AI Model Registry emulator",
    )
    ap.add_argument("--port", type=int, required=True, help="0 picks a free port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="persist state (and GCS objects) here",
    )
    ap.add_argument(
        "--project",
        default=DEFAULT_PROJECT,
        help="project announced for SDK configuration",
    )
    ap.add_argument(
        "--location",
        default=DEFAULT_LOCATION,
        help="region announced for SDK configuration",
    )
    ap.add_argument("--lro-polls", type=int, default=0, help="report LROs as running for N polls")
    ap.add_argument("--no-gcs", action="store_true", help="do not start the GCS emulator")
    ap.add_argument("--log-level", default="WARNING")
    return ap.parse_args(argv)


def announcement(args: argparse.Namespace, endpoint: str, gcs_endpoint: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "emulator": "vertex",
        "endpoint": endpoint,
        "project": args.project,
        "location": args.location,
        "api_transport": "rest",
        "api_versions": ["v1", "v1beta1", "ui"],
    }
    if gcs_endpoint:
        info["gcs_endpoint"] = gcs_endpoint
        info["env"] = {"STORAGE_EMULATOR_HOST": gcs_endpoint}
    if args.data_dir is not None:
        info["data_dir"] = str(args.data_dir.resolve())
    return info


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(name)s %(message)s",
    )
    import uvicorn

    from .gcs import GcsEmulator
    from .rest import create_app
    from .state import EmulatorState

    state = EmulatorState(data_dir=args.data_dir, lro_polls=args.lro_polls)
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on accepted sockets whose proto says TCP;
    # without it every keep-alive response waits ~40 ms for Nagle and a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    gcs = None if args.no_gcs else GcsEmulator(args.host, args.data_dir)
    gcs_endpoint = gcs.start() if gcs else None

    config = uvicorn.Config(
        create_app(state),
        log_level=args.log_level.lower(),
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)

    def announce_when_ready() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.01)
        sys.stdout.write(json.dumps(announcement(args, f"http://{args.host}:{port}", gcs_endpoint)) + "\n")
        sys.stdout.flush()

    threading.Thread(target=announce_when_ready, daemon=True).start()
    # uvicorn handles SIGTERM/SIGINT gracefully, then re-raises the signal to the handler that
    # was installed before it: ours only asks for an exit, so shutdown finishes with code 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: setattr(server, "should_exit", True))
    try:
        server.run(sockets=[sock])
    finally:
        state.save()
        if gcs:
            gcs.stop()
    return 0

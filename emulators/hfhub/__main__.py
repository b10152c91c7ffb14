"""``python -m emulators.hfhub --port N [--host 127.0.0.1] [--data-dir DIR]``.

Prints one JSON line (endpoint, token, user) on stdout once it serves requests; logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from types import FrameType

import uvicorn

from .app import HubApp
from .context import Hub, Settings
from .store import Store


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    text = text.strip().lower().removesuffix("ib").removesuffix("b")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after shutting down, which would skip our cleanup (closing the
    store, removing a temporary data dir) and exit with -15; treat it as a normal stop instead."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m emulators.hfhub", description=__doc__)
    p.add_argument("--port", type=int, required=True, help="0 picks a free port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--data-dir", help="persistent state; a temporary directory (deleted on exit) if omitted")
    p.add_argument("--user", default="mrg-user", help="default user (owner of the announced token)")
    p.add_argument("--token", help="token for the default user (random and persisted if omitted)")
    p.add_argument("--extra-user", action="append", default=[], metavar="NAME",
                   help="another user; its token is announced under 'users'")
    p.add_argument("--org", action="append", default=[], help="an organization the default user belongs to")
    p.add_argument("--page-size", type=int, default=100, help="items per page for list endpoints")
    p.add_argument("--lfs-threshold", type=_size, default=_size("10MiB"))
    p.add_argument("--multipart-threshold", type=_size, default=_size("100MiB"))
    p.add_argument("--multipart-chunk-size", type=_size, default=_size("64MiB"))
    p.add_argument("--cdn-host", help="host:port LFS downloads redirect to (default: the other loopback name)")
    p.add_argument("--log-level", default="warning")
    return p.parse_args(argv)


async def _serve(args: argparse.Namespace, hub: Hub, users: dict[str, str]) -> None:
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(HubApp(hub), log_level=args.log_level, access_log=False, lifespan="on")
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            return
        await asyncio.sleep(0.02)
    host = f"[{args.host}]" if ":" in args.host else args.host
    announcement = {
        "emulator": "hfhub",
        "endpoint": f"http://{host}:{port}",
        "token": users[args.user],
        "user": args.user,
        "users": users,
        "orgs": args.org,
        "data_dir": str(hub.store.data_dir),
        "env": {"HF_ENDPOINT": f"http://{host}:{port}", "HF_HUB_DISABLE_XET": "1"},
    }
    sys.stdout.write(json.dumps(announcement) + "\n")
    sys.stdout.flush()
    await task


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    temp = None
    if args.data_dir:
        data_dir = Path(args.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.mkdtemp(prefix="hfhub-")
        data_dir = Path(temp)
    store = Store(data_dir)
    try:
        users = {args.user: store.ensure_user(args.user, args.token)}
        for name in args.extra_user:
            users[name] = store.ensure_user(name)
        for org in args.org:
            store.add_org_member(org, args.user)
        settings = Settings(
            page_size=args.page_size,
            commits_page_size=min(50, args.page_size),
            tree_page_size=max(args.page_size, 1),
            lfs_threshold=args.lfs_threshold,
            multipart_threshold=args.multipart_threshold,
            multipart_chunk_size=args.multipart_chunk_size,
            cdn_host=args.cdn_host,
        )
        hub = Hub(store=store, settings=settings, secret=store.secret())
        asyncio.run(_serve(args, hub, users))
    finally:
        store.close()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()

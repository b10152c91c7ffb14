"""``python -m emulators.sagemaker --port N [--host 127.0.0.1] [--data-dir DIR]``.

Prints exactly one JSON line on stdout once both SageMaker and S3 serve requests; logs go
to stderr. SIGTERM/SIGINT stop both servers and flush the state.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from .s3_sidecar import S3Sidecar
from .server import EmulatorServer
from .service_model import service_model
from .state import Settings, Store
from .throttle import TokenBucket


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.sagemaker", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", default=None, help="persist state here (in-memory if omitted)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--account-id", default="123456789012")
    parser.add_argument("--max-rps", type=float, default=None, help="answer ThrottlingException above this rate")
    parser.add_argument("--no-s3", action="store_true", help="do not start moto's S3 server")
    parser.add_argument("--s3-endpoint", default=None,
                        help="an S3 endpoint already running (announced as s3_endpoint instead of starting one)")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(args.log_level.upper())  # moto's S3 request log
    service_model()  # load once before serving so the first request is not slow
    store = Store(Settings(region=args.region, account_id=args.account_id), args.data_dir)
    bucket = TokenBucket(args.max_rps) if args.max_rps else None
    server = EmulatorServer((args.host, args.port), store, bucket)
    s3 = None if (args.no_s3 or args.s3_endpoint) else S3Sidecar(args.host, args.data_dir, args.region)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, name="sagemaker-http", daemon=True)
    worker.start()
    info = {
        "emulator": "sagemaker",
        "endpoint": f"http://{args.host}:{server.server_address[1]}",
        "region": args.region,
        "account_id": args.account_id,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    if s3 is not None:
        info["s3_endpoint"] = s3.start()
    elif args.s3_endpoint:
        info["s3_endpoint"] = args.s3_endpoint
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    stop.wait()
    logging.getLogger("emulators.sagemaker").info("stopping")
    server.shutdown()
    server.server_close()
    if s3 is not None:
        s3.stop()
    with store.lock:
        store.save()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

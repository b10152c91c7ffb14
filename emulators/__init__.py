"""Local, wire-faithful emulators of the cloud registry APIs.

Each emulator is an independent re-implementation of one cloud's API, judged by a single rule:
the official SDK, low- and high-level, cannot tell it from the cloud. Emulators import nothing
from ``adapters``, ``mapping`` or ``gateway`` so that a bug in an adapter cannot hide behind the
same bug in the emulator it is tested against.

Every emulator runs alone as ``python -m emulators.<name> --port N [--host H] [--data-dir D]``;
``--port 0`` picks a free port. Once it serves requests it prints exactly one JSON line on
stdout (``{"emulator": name, "endpoint": url, ...}``) holding everything a user's own SDK
needs to reach it. :mod:`emulators.launcher` starts them as subprocesses and reads that line.
"""

NAMES = ("sagemaker", "vertex", "azureml", "hfhub")

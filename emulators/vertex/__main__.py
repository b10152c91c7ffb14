"""``python -m emulators.vertex --port N [--host H] [--data-dir D]``."""

from .server import main

raise SystemExit(main())

"""``python -m emulators.azureml --port N [--host H] [--data-dir D]``."""

from emulators.azureml.server import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Point huggingface_hub at an emulator the way a user does: HF_ENDPOINT before import.

``HF_ENDPOINT``/``HF_HUB_DISABLE_XET`` are read once, at import, and the card helpers
(``ModelCard.load``/``push_to_hub``, ``metadata_update``) only ever use that value. When some
other test imported huggingface_hub first, the same values are written into its constants so
the helpers still reach the emulator instead of huggingface.co.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

_ENV = ("HF_ENDPOINT", "HF_HUB_DISABLE_XET", "HF_HUB_CACHE", "HF_HUB_DISABLE_TELEMETRY")
_CONSTANTS = ("ENDPOINT", "HUGGINGFACE_CO_URL_TEMPLATE", "HF_HUB_DISABLE_XET", "HF_HUB_CACHE")


def use_endpoint(endpoint: str, cache_dir: str) -> Callable[[], None]:
    """Apply the settings; returns a function that puts everything back (other suites share the process)."""
    saved_env = {key: os.environ.get(key) for key in _ENV}
    os.environ.update({"HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HUB_CACHE": cache_dir,
                       "HF_HUB_DISABLE_TELEMETRY": "1"})
    restore_module: Callable[[], None] = lambda: None  # noqa: E731
    if "huggingface_hub" in sys.modules:
        from huggingface_hub import constants, hf_api

        saved = {name: getattr(constants, name) for name in _CONSTANTS}
        saved_api = hf_api.api.endpoint
        constants.ENDPOINT = endpoint
        constants.HUGGINGFACE_CO_URL_TEMPLATE = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
        constants.HF_HUB_DISABLE_XET = True
        constants.HF_HUB_CACHE = cache_dir
        hf_api.api.endpoint = endpoint

        def restore_module() -> None:
            for name, value in saved.items():
                setattr(constants, name, value)
            hf_api.api.endpoint = saved_api

    def restore() -> None:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        restore_module()

    return restore

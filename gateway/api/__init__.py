"""The REST API (FastAPI) under ``/v1``."""

from gateway.api.app import create_app

__all__ = ["create_app"]

"""The gateway's own state (SQLAlchemy 2 + Alembic): SQLite by default, PostgreSQL for teams."""

from gateway.store.db import Store

__all__ = ["Store"]

"""The platform store: SQLAlchemy models, repositories and Alembic migrations."""

from bastion.store.db import Store, default_url

__all__ = ["Store", "default_url"]

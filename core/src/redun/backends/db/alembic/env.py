"""Alembic environment: migrations run on the connection the backend hands over."""

from alembic import context
from redun.backends.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

"""Database URIs, credentials and engines (SQLite tuned for many writers)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote_plus, urlparse, urlunparse

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from redun.backends.db.errors import RedunDatabaseError

DEFAULT_DB_URI = "sqlite:///.redun/redun.db"
DEFAULT_DB_USERNAME_ENV = "REDUN_DB_USERNAME"
DEFAULT_DB_PASSWORD_ENV = "REDUN_DB_PASSWORD"
SQLITE_BUSY_TIMEOUT_MS = 60_000
WRITE_OPTION = "redun_write"

T = TypeVar("T")


def is_sqlite(uri: str) -> bool:
    return uri.startswith("sqlite:")


def is_sqlite_memory(uri: str) -> bool:
    return uri in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in uri


def resolve_db_uri(db_uri: str | None, config: Mapping[str, str]) -> str:
    """The URI to connect to, with credentials taken from the environment only."""
    secret_name = config.get("db_aws_secret_name", "")
    if secret_name:
        return _uri_from_aws_secret(secret_name)
    uri = db_uri or config.get("db_uri") or DEFAULT_DB_URI
    if is_sqlite(uri):
        return uri
    parts = urlparse(uri)
    if parts.password is not None:
        raise RedunDatabaseError(
            "db_uri must not contain a password: set credentials in the environment variables "
            f"named by db_username_env/db_password_env (default {DEFAULT_DB_USERNAME_ENV}, "
            f"{DEFAULT_DB_PASSWORD_ENV})."
        )
    if "@" in parts.netloc:
        return uri
    user = os.environ.get(config.get("db_username_env", DEFAULT_DB_USERNAME_ENV))
    password = os.environ.get(config.get("db_password_env", DEFAULT_DB_PASSWORD_ENV), "")
    if user and password:
        parts = parts._replace(netloc=f"{user}:{quote_plus(password)}@{parts.netloc}")
    elif user:
        parts = parts._replace(netloc=f"{user}@{parts.netloc}")
    return urlunparse(parts)


def _uri_from_aws_secret(secret_name: str) -> str:
    try:
        import boto3
    except ImportError:
        raise RedunDatabaseError(
            "[backend] db_aws_secret_name needs boto3: pip install redun-aws (or boto3)."
        ) from None
    region = os.environ.get("AWS_REGION", "us-west-2")
    client = boto3.client("secretsmanager", region_name=region)
    secret = json.loads(client.get_secret_value(SecretId=secret_name)["SecretString"])
    proto = {"postgres": "postgresql"}.get(secret["engine"], secret["engine"])
    password = quote_plus(secret["password"])
    return (
        f"{proto}://{secret['username']}:{password}"
        f"@{secret['host']}:{secret['port']}/{secret['dbname']}"
    )


def _driver_uri(uri: str) -> str:
    """PostgreSQL URIs without a driver use psycopg 3 (the `postgres` extra)."""
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            uri = "postgresql+psycopg://" + uri[len(prefix) :]
    if uri.startswith("postgresql+psycopg:"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise RedunDatabaseError(
                "PostgreSQL needs the psycopg driver: pip install 'redun-core[postgres]'."
            ) from None
    return uri


def make_engine(uri: str, echo: bool = False) -> Engine:
    """An engine whose write transactions never fail with "database is locked" at once."""
    if is_sqlite(uri):
        return _sqlite_engine(uri, echo)
    from redun._version import __version__

    engine = create_engine(_driver_uri(uri), echo=echo, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Lets redun's check_job_utc trigger tell new clients (UTC) from old ones.
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET redun.version = '{__version__}'")
        cursor.close()
        dbapi_connection.commit()

    return engine


def _sqlite_engine(uri: str, echo: bool) -> Engine:
    memory = is_sqlite_memory(uri)
    if memory:
        engine = create_engine(
            uri,
            echo=echo,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        path = urlparse(uri).path
        if uri.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        else:
            path = path[1:]
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            uri,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun by us (below), so that writers can take the
        # lock up front with BEGIN IMMEDIATE and wait on busy_timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        write = options.get(WRITE_OPTION, False)
        if options.get("isolation_level") == "AUTOCOMMIT" or (memory and not write):
            # An in-memory database is one shared connection: reads must not hold
            # a transaction open, or the next write could not begin.
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_transient(error: Exception) -> bool:
    """Errors worth retrying: locks, busy databases, dropped connections."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    text = str(error.orig).lower()
    return any(
        word in text
        for word in ("locked", "busy", "connection", "server closed", "terminat", "timeout")
    )


def with_retries(func: Callable[[], T], retries: int, backoff: float, backoff_max: float) -> T:
    """Run `func`, retrying transient database errors with exponential backoff."""
    attempt = 0
    while True:
        try:
            return func()
        except (OperationalError, DBAPIError) as error:
            if attempt >= retries or not is_transient(error):
                raise
            time.sleep(min(backoff * (2**attempt), backoff_max))
            attempt += 1

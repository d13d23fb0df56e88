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
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from redun.backends.db.errors import RedunDatabaseError

DEFAULT_DB_URI = "sqlite:///.redun/redun.db"
DEFAULT_DB_USERNAME_ENV = "REDUN_DB_USERNAME"
DEFAULT_DB_PASSWORD_ENV = "REDUN_DB_PASSWORD"
WAL_CHECKPOINT_PAGES = 10000
# SQLite's page cache for a writing connection, in KiB (its default is 2 MiB). Random
# hash keys spread every batch over all of each index; with 2 MiB even the indexes'
# inner pages fell out, and a 100,000-task run spent 19 s of system time re-reading
# them (9 s with 64 MiB; 48 s instead of 56 s in all).
SQLITE_CACHE_KIB = 65536
SQLITE_BUSY_TIMEOUT_MS = 60_000
# A server that does not answer at all (no refusal) fails a connection attempt after this.
PG_CONNECT_TIMEOUT_S = 10
URI_EXAMPLES = "sqlite:///PATH/redun.db or postgresql://USER@HOST:PORT/DB"
WRITE_OPTION = "redun_write"

T = TypeVar("T")


def is_sqlite(uri: str) -> bool:
    return uri.startswith(("sqlite:", "sqlite+"))


def is_sqlite_memory(uri: str) -> bool:
    return uri in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in uri


def resolve_db_uri(db_uri: str | None, config: Mapping[str, str]) -> str:
    """The URI to connect to, with credentials taken from the environment only."""
    secret_name = config.get("db_aws_secret_name", "")
    if secret_name:
        return _uri_from_aws_secret(secret_name)
    uri = db_uri or config.get("db_uri") or DEFAULT_DB_URI
    check_uri(uri)
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


def check_uri(uri: str) -> None:
    """A one-line error for a db_uri that is no URL or names no known database kind."""
    try:
        url = make_url(uri)
        url.port  # noqa: B018 (a port that is not a number fails here)
    except (ArgumentError, ValueError):
        raise RedunDatabaseError(
            f"[backend] db_uri {uri!r} is not a database URL; use {URI_EXAMPLES}."
        ) from None
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise RedunDatabaseError(
            f"[backend] db_uri {uri!r}: unknown kind of database {url.drivername!r}; "
            f"use {URI_EXAMPLES}."
        ) from None
    if url.get_backend_name() == "sqlite" and url.host:
        raise RedunDatabaseError(
            f"[backend] db_uri {uri!r}: a SQLite URL has no host; use sqlite:///relative/path "
            "or sqlite:////absolute/path."
        )


def describe_uri(uri: str) -> str:
    """The URI to show in messages (never its password)."""
    try:
        return make_url(uri).render_as_string(hide_password=True)
    except ArgumentError:
        return uri


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

    url = make_url(_driver_uri(uri))
    connect_args = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    engine = _create_engine(uri, url, echo=echo, pool_pre_ping=True, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Lets redun's check_job_utc trigger tell new clients (UTC) from old ones.
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET redun.version = '{__version__}'")
        cursor.close()
        dbapi_connection.commit()

    return engine


def _create_engine(uri: str, url: Any, **options: Any) -> Engine:
    """create_engine, with one line for a db_uri naming a driver that is not installed."""
    try:
        return create_engine(url, **options)
    except ImportError as error:
        raise RedunDatabaseError(
            f"[backend] db_uri {describe_uri(uri)!r} needs the Python driver {error.name!r}, "
            f"which is not installed: install it, or use {URI_EXAMPLES}."
        ) from None


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
        read_only = bool(path) and _is_read_only(path)
        if read_only:
            # A repository we may not write (a shared or archived .redun/) can still be read,
            # as redun reads it; SQLite's WAL mode would otherwise insist on writing.
            uri = _read_only_uri(path)
        engine = _create_engine(
            uri,
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
        if not memory and not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint every ~40 MB of WAL rather than SQLite's 4 MB: a checkpoint
            # syncs the database file, and the durability bound writes a batch at
            # least every half second, so the default checkpointed every few batches.
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
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


def _is_read_only(path: str) -> bool:
    """An existing database file that we may not write, or whose directory we may not."""
    if not os.path.exists(path):
        return False
    directory = os.path.dirname(os.path.abspath(path))
    return not (os.access(path, os.W_OK) and os.access(directory, os.W_OK))


def _read_only_uri(path: str) -> str:
    """SQLite's read-only URI; immutable when no writer has it open (no WAL files)."""
    from urllib.parse import quote

    directory = os.path.dirname(os.path.abspath(path))
    wal_alone = os.path.exists(path + "-wal") and not os.path.exists(path + "-shm")
    if wal_alone and not os.access(directory, os.W_OK):
        name = os.path.basename(path)
        raise RedunDatabaseError(
            f"The database {path} is in a read-only directory and has a write-ahead log "
            f"({name}-wal) without its index ({name}-shm), which SQLite cannot read without "
            f"creating the index: copy the repository (every {name}* file) somewhere "
            "writable, or have its owner open it once."
        )
    immutable = not any(os.path.exists(path + suffix) for suffix in ("-wal", "-shm"))
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    return f"sqlite:///file:{quote(os.path.abspath(path))}?{query}&uri=true"


TRANSIENT_WORDS = (
    "locked",
    "busy",
    "connection",
    "server closed",
    "terminat",
    "timeout",
    "shutting down",
    "starting up",
    "in recovery",
)
# During an outage the database is asked again at least this often.
OUTAGE_POLL_S = 5.0


def is_transient(error: Exception) -> bool:
    """Errors worth retrying: locks, busy databases, dropped or refused connections."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    text = str(error.orig).lower()
    return any(word in text for word in TRANSIENT_WORDS)


def error_reason(error: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's SQL text and parameters."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class Outage:
    """Since when the database has not answered, so every caller waits out the same deadline.

    `timeout` is ``[backend] db_outage_timeout``: how long a run keeps going with
    its records held in memory before it gives up. The user is told once when
    the outage starts and once when it ends.
    """

    def __init__(self, where: str, timeout: float, logger: Any) -> None:
        self.where = where
        self.timeout = timeout
        self.logger = logger
        self.since: float | None = None
        self.warned = False

    def failed(self, error: BaseException, held: int, warn: bool = True) -> None:
        """A transient failure: start the clock, warn (once), or raise once time is up."""
        now = time.monotonic()
        if self.since is None:
            self.since = now
        elif now - self.since >= self.timeout:
            raise self.gave_up(error) from None
        if warn and not self.warned:
            self.warned = True
            self.logger.warning(
                f"The database {self.where} does not answer ({error_reason(error)}): the run "
                f"goes on with {held} record(s) held in memory and retries for up to "
                f"{self.timeout:g} s ([backend] db_outage_timeout)."
            )

    def gave_up(self, error: BaseException) -> RedunDatabaseError:
        waited = time.monotonic() - (self.since or time.monotonic())
        return RedunDatabaseError(
            f"The database {self.where} did not answer for {waited:.0f} s "
            f"({error_reason(error)}); records of jobs finished since then are lost. Check "
            "the server, or raise [backend] db_outage_timeout to wait longer."
        )

    def ended(self) -> None:
        if self.warned:
            self.logger.warning(
                f"The database {self.where} answers again after "
                f"{time.monotonic() - (self.since or 0):.0f} s; the held records are written."
            )
        self.since = None
        self.warned = False


def with_retries(
    func: Callable[[], T],
    retries: int,
    backoff: float,
    backoff_max: float,
    outage: Outage | None = None,
    abort: Callable[[], bool] | None = None,
    held: Callable[[], int] = lambda: 0,
) -> T:
    """Run `func`, retrying transient database errors with exponential backoff.

    `retries` quick retries; with an `outage`, then on for as long as it allows
    (polling at least every OUTAGE_POLL_S). `abort`, checked while waiting,
    ends the waiting early.
    """
    attempt = 0
    while True:
        try:
            result = func()
        except (OperationalError, DBAPIError) as error:
            if not is_transient(error):
                raise
            if outage is not None:
                outage.failed(error, held(), warn=attempt >= retries)
            elif attempt >= retries:
                raise
            if abort is not None and abort():
                if outage is not None:
                    raise outage.gave_up(error) from None
                raise
            delay = min(backoff * (2**attempt), backoff_max)
            if attempt >= retries:
                delay = min(delay, OUTAGE_POLL_S)
            _sleep(delay, abort)
            attempt += 1
        else:
            if outage is not None and outage.since is not None:
                outage.ended()
            return result


def _sleep(seconds: float, abort: Callable[[], bool] | None) -> None:
    """Sleep in short steps, so that a signal (seen through `abort`) ends it quickly."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or (abort is not None and abort()):
            return
        time.sleep(min(left, 0.1))

"""RedunBackendDb: redun's call-graph store on SQLite or PostgreSQL.

Write path: ``record_*`` calls only fill an in-memory `WriteBuffer`; `flush()`
(called by the scheduler once per tick) writes it in one transaction of bulk,
idempotent inserts, retried on transient errors; the scheduler's `try_flush()`
lets a job started since the last write and still running wait for the next
one, so most job rows are inserted once, complete. Cache checks read the buffer
first, then run one prebuilt indexed query on a long-lived autocommit
connection, so they always see what other processes committed. Every other
read (queries, tags, records) flushes first and then reads the database.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import sys
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from redun.backends.base import (
    CACHE_MISS,
    ArgumentRecord,
    CacheHit,
    CacheQuery,
    RedunBackend,
    TagEntity,
)
from redun.backends.db import hot_queries as hot
from redun.backends.db import migrations, schema, tagging
from redun.backends.db.buffer import WriteBuffer
from redun.backends.db.driver_sql import DriverStatements
from redun.backends.db.engine import (
    WRITE_OPTION,
    Outage,
    describe_uri,
    error_reason,
    is_sqlite,
    is_transient,
    make_engine,
    resolve_db_uri,
    with_retries,
)
from redun.backends.db.errors import RedunDatabaseError, RedunVersionError
from redun.backends.db.types import utcnow
from redun.backends.db.versions import (
    LATEST_DB_VERSION,
    MAX_DB_VERSION,
    MIN_DB_VERSION,
    NULL_DB_VERSION,
    REDUN_DB_VERSIONS,
    DBVersionInfo,
    is_compatible,
    required_range,
)
from redun.backends.value_store import ValueStore
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from redun.tags import CONTEXT_KEY

if TYPE_CHECKING:
    from redun.backends.db.models import RedunSession, Value
    from redun.backends.db.reader import CallGraphReader
    from redun.backends.reasons import ArgInfo, MissReason

logger = logging.getLogger("redun")

DEFAULT_MAX_VALUE_SIZE = 1_000_000_000
# Long enough for a managed PostgreSQL failover (30-60 s), with room to spare.
DEFAULT_DB_OUTAGE_TIMEOUT = 300.0
DEFAULT_VALUE_STORE_MIN_SIZE = 1024
MAX_VALUE_SIZE_PREVIEW = 1_000_000
ALL_CACHE_RESULTS = frozenset(CacheResult)
_NOT_FETCHED = object()
# The prebuilt lookups of hot_queries (module constants), compiled once per dialect.
_HOT_STATEMENTS = DriverStatements()
# Hashes remembered as already written; past this many the memory is dropped
# (a forgotten hash only costs one idempotent insert or lookup). Three such maps
# at 500,000 took about 200 MB at the peak of a million-task run; at 100,000, 45 MB.
KNOWN_HASHES_LIMIT = 100_000
# Eval hashes per query of a batched cache check.
EVAL_BATCH = 1000


def _str2bool(text: str, key: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise RedunDatabaseError(f"[backend] {key} must be true or false, not '{text}'.")


def _config_number(config: Mapping[str, str], key: str, default: float, kind: type) -> Any:
    raw = config.get(key)
    if raw is None or raw == "":
        return kind(default)
    try:
        return kind(raw)
    except ValueError:
        raise RedunDatabaseError(
            f"[backend] {key} must be a {kind.__name__}, not '{raw}'."
        ) from None


class PreviewValue:
    """Stands in for a value too large (or impossible) to load for display."""

    def __init__(self, row: Value, size: int) -> None:
        self.row = row
        self.size = size

    def __repr__(self) -> str:
        return f"{self.row.type}(hash={self.row.value_hash[:8]}, size={self.size})"


class RedunBackendDb(RedunBackend):
    """Call graph and cache in a SQL database, written in batches.

    `config` is the ``[backend]`` section of redun.ini (a str -> str mapping).
    """

    def __init__(
        self,
        db_uri: str | None = None,
        config: Mapping[str, str] | None = None,
        logger: Any = None,
    ) -> None:
        config = dict(config or {})
        self.logger = logger or globals()["logger"]
        self.config = config
        self.db_uri = resolve_db_uri(db_uri, config)
        self.automigrate = _str2bool(
            config.get("automigrate", "true" if is_sqlite(self.db_uri) else "false"),
            "automigrate",
        )
        self.db_retries = _config_number(config, "db_retries", 3, int)
        self.db_retries_backoff = _config_number(config, "db_retries_backoff", 1.0, float)
        self.db_retries_backoff_max = _config_number(config, "db_retries_backoff_max", 60.0, float)
        self.db_outage_timeout = _config_number(
            config, "db_outage_timeout", DEFAULT_DB_OUTAGE_TIMEOUT, float
        )
        self.where = describe_uri(self.db_uri)
        self._outage = (
            Outage(self.where, self.db_outage_timeout, self.logger)
            if self.db_outage_timeout > 0
            else None
        )
        # Set by a running scheduler: waiting for the database ends once it says so (Ctrl-C).
        self.abort_waits: Any = lambda: False
        self.max_value_size = _config_number(config, "max_value_size", DEFAULT_MAX_VALUE_SIZE, int)
        self.value_store_min_size = _config_number(
            config, "value_store_min_size", DEFAULT_VALUE_STORE_MIN_SIZE, int
        )
        self.value_store: ValueStore | None = None
        if config.get("value_store_path"):
            self.value_store = ValueStore(self._abs_path(config["value_store_path"]))

        self.engine: Engine | None = None
        # Loaded: connected and the schema checked (first use loads, as load() would).
        self._loaded = False
        self._session: RedunSession | None = None
        # A session the caller set (bound to its own transaction): every read and write
        # goes through its connection, and it is never committed or closed here.
        self._external_session = False
        self._hot_connection: Connection | None = None
        self._lock = threading.RLock()
        self._buffer = WriteBuffer()
        self._pending_executions: dict[str, dict] = {}
        self._known_values: set[str] = set()
        self._known_calls: set[str] = set()
        self._job_info: dict[str, tuple[str, str]] = {}
        self._call_args: dict[str, str] = {}
        self._call_contexts: dict[str, str] = {}
        # (execution, task, args hash) -> call hash of the buffered jobs' calls.
        self._cse: dict[tuple[str, str, str], str] = {}
        # EVAL_RESULT rows fetched for a batch by check_cache_many, by eval hash.
        self._prefetched_evals: dict[str, list[tuple]] = {}
        self._registry: Any = None

    def _abs_path(self, path: str) -> str:
        if "://" in path or os.path.isabs(path):
            return path
        config_dir = self.config.get("config_dir") or os.path.join(os.getcwd(), ".redun")
        return os.path.join(config_dir, path)

    # -- lifecycle ----------------------------------------------------------------

    def connect(self) -> Engine:
        """Create the engine and reach the database, without checking the schema."""
        with self._lock:
            if self.engine is not None:
                return self.engine
            where = self.where
            try:
                engine = make_engine(self.db_uri, echo=bool(os.environ.get("REDUN_DB_ECHO")))
                with_retries(
                    lambda: engine.connect().close(),
                    self.db_retries,
                    self.db_retries_backoff,
                    self.db_retries_backoff_max,
                )
            except (OSError, DBAPIError) as error:
                reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
                raise RedunDatabaseError(
                    f"Cannot open the database {where}: {reason}. Check [backend] db_uri "
                    "(and the server, path and credentials it names)."
                ) from None
            self.engine = engine
            return engine

    def load(self, migrate: bool | None = None) -> None:
        """Connect, migrate (upgrades only) if allowed, then insist on a compatible schema."""
        with self._lock:
            self.connect()
            version = self.get_db_version()
            # An upgrade-only migration leaves a current schema alone, so it (and its
            # write lock) is needed only for an older, missing or too new schema.
            current = LATEST_DB_VERSION.key <= version.key <= MAX_DB_VERSION.key
            if (self.automigrate if migrate is None else migrate) and not current:
                migrations.migrate(self.engine, upgrade_only=True)
                version = self.get_db_version()
            if not is_compatible(version):
                raise RedunVersionError(self._incompatible_message(version))
            self._loaded = True

    def _incompatible_message(self, version: DBVersionInfo) -> str:
        where = self.engine.url.render_as_string(hide_password=True) if self.engine else ""
        if version == NULL_DB_VERSION:
            return (
                f"The database {where} has no redun schema: run 'redun db upgrade' "
                "(or set automigrate = true in [backend])."
            )
        if version.key < (3, 5):
            return (
                f"The database {where} is at version {version}, this program needs "
                f"{required_range()}: run 'redun db upgrade' (or set automigrate = true)."
            )
        return (
            f"The database {where} is at version {version}, newer than this program "
            f"supports ({required_range()}): upgrade redun-core."
        )

    def _require_engine(self) -> Engine:
        """The engine of a loaded backend: a backend is usable once built, so the first
        use loads it (connect, automigrate when allowed, check the schema)."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self.load()
        return self.engine

    def get_db_version(self) -> DBVersionInfo:
        if self._external_session:
            return migrations.get_db_version(self._session.connection())
        with self.connect().connect() as connection:
            return migrations.get_db_version(connection)

    def migrate(
        self, desired_version: DBVersionInfo | None = None, upgrade_only: bool = False
    ) -> bool:
        """Upgrade or downgrade the schema (flushes pending records first)."""
        with self._lock:
            self.flush()
            if self._session is not None and not self._external_session:
                self._session.close()
            changed = migrations.migrate(self.connect(), desired_version, upgrade_only)
            # The caller chose the schema: first use must not migrate it again.
            self._loaded = True
            return changed

    @staticmethod
    def get_db_version_required() -> tuple[DBVersionInfo, DBVersionInfo]:
        return MIN_DB_VERSION, MAX_DB_VERSION

    @staticmethod
    def get_all_db_versions() -> list[DBVersionInfo]:
        return list(REDUN_DB_VERSIONS)

    def is_db_compatible(self) -> bool:
        return is_compatible(self.get_db_version())

    def flush(self) -> None:
        """Write every buffered record, waiting out an outage (`db_outage_timeout`)."""
        with self._lock:
            if not self._buffer:
                return
            self._require_engine()
            self._write_buffer(self._retry)

    @property
    def buffered_bytes(self) -> int:
        return self._buffer.value_bytes

    @property
    def holds_records(self) -> bool:
        return bool(self._buffer.held_jobs)

    def try_flush(self) -> bool:
        """Write the buffer if the database answers now; False if the records stay held.

        The scheduler calls this on its own thread: an outage never blocks it, and
        it raises only once writing is impossible or the outage lasted too long.
        """
        with self._lock:
            if not self._buffer:
                return True
            self._require_engine()
            outage = self._outage
            if outage is None:
                self._write_buffer(self._retry, hold=True)
                return True
            try:
                self._write_buffer(lambda write: write(), transient_ok=True, hold=True)
            except (DBAPIError, OSError) as error:
                outage.failed(error, self._held())
                return False
            if outage.since is not None:
                outage.ended()
            return True

    def _write_buffer(self, run: Any, transient_ok: bool = False, hold: bool = False) -> None:
        """Write the buffer in one transaction through `run(write)` (which may retry).

        With `hold`, rows of jobs that may end before the next write wait for it
        (`WriteBuffer.jobs_to_hold`), so they are written once instead of twice.
        """
        buffer = self._buffer
        held = buffer.jobs_to_hold() if hold else set()

        def write() -> None:
            with self._write() as connection:
                buffer.write(connection, held)

        try:
            run(write)
        except IntegrityError as error:
            # A batch that breaks the schema's rules would fail forever: drop it.
            self._buffer = WriteBuffer()
            raise RedunDatabaseError(
                f"Could not record provenance ({error_reason(error)}); this batch of records "
                "was not written. Records must refer to values and tasks recorded before."
            ) from None
        except DBAPIError as error:
            if transient_ok and is_transient(error):
                raise
            raise self._write_error(error) from None
        self._buffer = buffer.remainder(held) if held else WriteBuffer()
        # Ended jobs are never held, so their calls are written now and found by the
        # CSE query; the map covers only the buffer's (not a million entries at the end).
        self._cse.clear()
        self._remember(self._known_values, buffer.values)
        self._remember(self._known_calls, buffer.call_nodes)

    def _write_error(self, error: BaseException) -> RedunDatabaseError:
        """One line saying what went wrong and what to do (never SQL or parameters)."""
        reason = error_reason(error)
        lowered = reason.lower()
        if "full" in lowered:
            hint = "free space where it lives; jobs recorded before this point are kept"
        elif "readonly" in lowered or "read-only" in lowered:
            hint = "the repository is read-only: run from a writable copy of it"
        else:
            hint = "check it and [backend] db_uri"
        return RedunDatabaseError(
            f"Could not write to the database {self.where}: {reason}; {hint}."
        )

    def _held(self) -> int:
        buffer = self._buffer
        return len(buffer.jobs) + len(buffer.job_ends) + len(buffer.call_nodes)

    def _retry(self, func: Any) -> Any:
        """`func()`, retried through transient errors and outages (see engine.with_retries)."""
        return with_retries(
            func,
            self.db_retries,
            self.db_retries_backoff,
            self.db_retries_backoff_max,
            outage=self._outage,
            abort=self.abort_waits,
            held=self._held,
        )

    @staticmethod
    def _remember(known: set[str], new: Iterable[str]) -> None:
        if len(known) > KNOWN_HASHES_LIMIT:
            known.clear()
        known.update(new)

    def close(self) -> None:
        with self._lock:
            self.flush()
            if self._session is not None and not self._external_session:
                self._session.close()
            self._session = None
            self._external_session = False
            self._loaded = False
            if self._hot_connection is not None:
                self._hot_connection.close()
                self._hot_connection = None
            if self.engine is not None:
                self.engine.dispose()
                self.engine = None

    @property
    def session(self) -> RedunSession:
        """An ORM session for queries, seeing every record so far (pending ones are flushed)."""
        with self._lock:
            self.flush()
            if self._external_session:
                return self._session
            if self._session is None:
                from redun.backends.db.models import RedunSession

                self._session = RedunSession(
                    self, bind=self._require_engine(), expire_on_commit=False
                )
            elif self._session.in_transaction():
                # End the previous read so this one sees the latest commits.
                self._session.commit()
            return self._session

    @session.setter
    def session(self, session: Any) -> None:
        """Use the caller's session (say, bound to a transaction it rolls back later).

        Records buffered so far are written first, where they were headed. From then on
        every read and write runs on the session's connection, each write in a savepoint
        followed by ``session.commit()`` as in redun (which leaves a transaction the
        caller began on the connection open). The backend never closes the session;
        None restores the backend's own session.
        """
        with self._lock:
            self.flush()
            if self._session is not None and not self._external_session:
                self._session.close()
            if self._hot_connection is not None:
                self._hot_connection.close()
                self._hot_connection = None
            if session is not None and getattr(session, "backend", None) is None:
                # Rows decode their values through the session's backend.
                session.backend = self
            self._session = session
            self._external_session = session is not None

    def end_read(self) -> None:
        """End the ORM session's read transaction by rolling it back (reads write nothing).

        Unlike `session`, this never commits, so it also works after the
        connection dropped: the next read reconnects.
        """
        with self._lock:
            if self._session is not None and not self._external_session:
                self._session.rollback()

    def reader(self) -> CallGraphReader:
        """The read model of this repository (what `redun log` and the console read)."""
        from redun.backends.db.reader import CallGraphReader

        return CallGraphReader(self)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._external_session:
            yield self._session.connection()
            return
        with self._require_engine().connect() as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction: its own, or a savepoint in the caller's session."""
        if self._external_session:
            session = self._session
            connection = session.connection()
            with connection.begin_nested():
                yield connection
            # As redun commits its session: a session joined to the caller's outer
            # transaction leaves that transaction open, one bound to an engine commits.
            session.commit()
            return
        engine = self._require_engine()
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection:
            with connection.begin():
                yield connection

    def _hot(self) -> Connection:
        """A long-lived autocommit connection: every lookup sees the latest commits."""
        if self._external_session:
            return self._session.connection()
        if self._hot_connection is None:
            self._hot_connection = (
                self._require_engine().connect().execution_options(isolation_level="AUTOCOMMIT")
            )
        return self._hot_connection

    def _query(self, stmt: Any, params: dict) -> Any:
        """Run a cache lookup, reconnecting and retrying after transient failures."""

        def run() -> Any:
            try:
                connection = self._hot()
                return _HOT_STATEMENTS.get(connection.dialect, id(stmt), lambda: stmt).fetchall(
                    connection, params
                )
            except DBAPIError:
                if self._hot_connection is not None:
                    self._hot_connection.invalidate()
                    self._hot_connection.close()
                    self._hot_connection = None
                raise

        return _Rows(self._retry(run))

    # -- values -----------------------------------------------------------------

    @property
    def type_registry(self) -> Any:
        if self._registry is None:
            from redun.value import get_type_registry

            self._registry = get_type_registry()
        return self._registry

    def _has_value(self, value_hash: str) -> bool:
        return value_hash in self._known_values or value_hash in self._buffer.values

    def record_value(self, value: Any, value_hash: str | None = None) -> str:
        with self._lock:
            if value_hash is not None and self._has_value(value_hash):
                return value_hash
            registry = self.type_registry
            data = registry.serialize(value)
            if len(data) > self.max_value_size:
                raise RedunDatabaseError(
                    f"Value {_trim(repr(value))} is too large ({len(data)} > "
                    f"max_value_size {self.max_value_size} bytes): raise [backend] "
                    "max_value_size and consider value_store_path."
                )
            if value_hash is None:
                value_hash = registry.get_hash(value, data)
                if self._has_value(value_hash):
                    return value_hash
            self._buffer_value(value, value_hash, data)
            for subvalue in registry.iter_subvalues(value):
                sub_hash = registry.get_hash(subvalue)
                if not self._has_value(sub_hash):
                    self._buffer_value(subvalue, sub_hash, registry.serialize(subvalue))
                self._buffer.subvalues.add((sub_hash, value_hash))
            return value_hash

    def _buffer_value(self, value: Any, value_hash: str, data: bytes) -> None:
        registry = self.type_registry
        if self.value_store and sys.getsizeof(data) >= self.value_store_min_size:
            self.value_store.put(value_hash, data)
            data = b""
        self._buffer.value_bytes += len(data)
        self._buffer.values[value_hash] = {
            "value_hash": value_hash,
            "type": registry.get_type_name(type(value)),
            "format": registry.get_serialization_format(value),
            "value": data,
        }
        file_type, task_type = _special_types()
        if isinstance(value, file_type):
            self._buffer.files[value_hash] = {"value_hash": value_hash, "path": value.path}
        elif isinstance(value, task_type):
            self._buffer.tasks[value_hash] = {
                "hash": value_hash,
                "name": value.name,
                "namespace": value.namespace or "",
                "source": value.source or "",
            }

    def get_value(self, value_hash: str) -> tuple[Any, bool]:
        with self._lock:
            row = self._buffer.values.get(value_hash)
            if row is not None:
                return self._decode(value_hash, row["type"], row["value"])
            found = self._query(hot.VALUE, {"value_hash": value_hash}).first()
            if found is None:
                return None, False
            return self._stored(value_hash, *found)[:2]

    def _stored(self, value_hash: str, type_name: str, data: bytes) -> tuple[Any, bool, str]:
        """Decode a value read from the database, which therefore needs no recording again."""
        result, found = self._decode(value_hash, type_name, data)
        if found:
            self._remember(self._known_values, (value_hash,))
        return result, found, value_hash

    def _decode(self, value_hash: str, type_name: str, data: bytes) -> tuple[Any, bool]:
        if len(data) == 0:
            if self.value_store is None:
                return None, False
            data, found = self.value_store.get(value_hash)
            if not found:
                return None, False
        from redun.value import InvalidValueError

        try:
            return self.type_registry.deserialize(type_name, data), True
        except (InvalidValueError, pickle.UnpicklingError, AttributeError, EOFError) as error:
            self.logger.debug(f"Value {value_hash[:8]} cannot be loaded: {error}")
            return None, False

    def get_value_from_row(self, row: Value) -> tuple[Any, bool]:
        return self._decode(row.value_hash, row.type, row.value)

    def get_value_size(self, row: Value) -> int:
        if not row.in_value_store:
            return len(row.value)
        return self.value_store.size(row.value_hash) if self.value_store else -1

    def preview_value_row(self, row: Value) -> Any:
        """The value for display: decoded, pickle-previewed, or a size stand-in."""
        from redun.utils import pickle_preview

        size = self.get_value_size(row)
        if size > MAX_VALUE_SIZE_PREVIEW or size < 0:
            return PreviewValue(row, size)
        value, found = self.get_value_from_row(row)
        if found:
            return value
        data = row.value if not row.in_value_store else self.value_store.get(row.value_hash)[0]
        if row.format == "application/python-pickle":
            return pickle_preview(data)
        return PreviewValue(row, size)

    # -- call graph ---------------------------------------------------------------

    def record_call_node(
        self,
        task_name: str,
        task_hash: str,
        args_hash: str,
        arguments: Sequence[ArgumentRecord],
        result_hash: str,
        child_call_hashes: Sequence[str],
        subtree_task_hashes: Iterable[str],
        unrecorded_child_call_hashes: Collection[str] = (),
    ) -> str:
        from redun.hashing import hash_call_node, hash_struct

        call_hash = hash_call_node(task_hash, args_hash, result_hash, list(child_call_hashes))
        with self._lock:
            self._note_call_args(call_hash, args_hash)
            if call_hash in self._known_calls or call_hash in self._buffer.call_nodes:
                return call_hash
            buffer = self._buffer
            buffer.add_call_node(
                {
                    "call_hash": call_hash,
                    "task_name": task_name,
                    "task_hash": task_hash,
                    "args_hash": args_hash,
                    "value_hash": result_hash,
                    "timestamp": utcnow(),
                },
                {task_hash, *subtree_task_hashes},
            )
            buffer.call_edges.extend(
                {"parent_id": call_hash, "child_id": child, "call_order": order}
                for order, child in enumerate(child_call_hashes)
                if child not in unrecorded_child_call_hashes
            )
            for arg in arguments:
                arg_hash = hash_struct(
                    ["Argument", call_hash, str(arg.position), str(arg.key), arg.value_hash]
                )
                buffer.arguments[arg_hash] = {
                    "arg_hash": arg_hash,
                    "call_hash": call_hash,
                    "value_hash": arg.value_hash,
                    "arg_position": arg.position,
                    "arg_key": arg.key,
                }
                buffer.argument_results.update(
                    (arg_hash, upstream) for upstream in arg.upstream_call_hashes
                )
            return call_hash

    def record_call_node_context(self, call_hash: str, context_hash: str) -> None:
        with self._lock:
            self._call_contexts[call_hash] = context_hash
            self.record_tags(TagEntity.CallNode, call_hash, [(CONTEXT_KEY, context_hash)])

    def get_subtree_tasks(self, call_hash: str) -> set[str]:
        with self._lock:
            buffered = self._buffer.subtree_tasks.get(call_hash)
            if buffered is not None:
                return set(buffered)
            rows = self._query(hot.SUBTREE_TASKS, {"call_hash": call_hash}).scalars()
            return set(rows)

    def set_eval_cache(
        self, eval_hash: str, task_hash: str, args_hash: str, value: Any, value_hash: str
    ) -> None:
        with self._lock:
            value_hash = self.record_value(value, value_hash)
            self._buffer.evaluations[eval_hash] = {
                "eval_hash": eval_hash,
                "task_hash": task_hash,
                "args_hash": args_hash,
                "value_hash": value_hash,
            }

    def check_cache_many(self, queries: Sequence[CacheQuery]) -> list[CacheHit]:
        """`check_cache` of each query, with one database round trip for the whole batch.

        The single-reduction lookups of a fan-out's siblings (check_valid full, the
        default) are one query for every eval hash not buffered, not one per job.
        Lookups that also ask for CSE or an ultimate hit are still run one by one.
        """
        with self._lock:
            self._prefetch_evals(queries)
            try:
                return [self.check_cache(query) for query in queries]
            finally:
                self._prefetched_evals = {}

    def _prefetch_evals(self, queries: Sequence[CacheQuery]) -> None:
        """Fetch the EVAL_RESULT rows that `check_cache` would query for these queries."""
        wanted: list[str] = []
        buffered = self._buffer.evaluations
        for query in queries:
            allowed = query.allowed_cache_results
            if allowed is None:
                allowed = ALL_CACHE_RESULTS
            if (
                query.cache_scope == CacheScope.BACKEND
                and CacheResult.SINGLE in allowed
                and CacheResult.CSE not in allowed
                and not (
                    query.check_valid == CacheCheckValid.SHALLOW and CacheResult.ULTIMATE in allowed
                )
                and query.eval_hash not in buffered
            ):
                wanted.append(query.eval_hash)
        if len(wanted) < 2:
            return
        prefetched: dict[str, list[tuple]] = {eval_hash: [] for eval_hash in wanted}
        dialect_name = self._require_engine().dialect.name
        for start in range(0, len(wanted), EVAL_BATCH):
            chunk = wanted[start : start + EVAL_BATCH]
            rows = self._query(
                hot.eval_results(dialect_name), {"hashes": hot.hash_list(dialect_name, chunk)}
            )
            for eval_hash, *row in rows:
                prefetched[eval_hash].append(tuple(row))
        self._prefetched_evals = prefetched

    def check_cache(self, query: CacheQuery) -> CacheHit:
        allowed = (
            ALL_CACHE_RESULTS
            if query.allowed_cache_results is None
            else query.allowed_cache_results
        )
        cache_scope = query.cache_scope
        if cache_scope == CacheScope.NONE:
            return CACHE_MISS
        task_hash, args_hash, eval_hash = query.task_hash, query.args_hash, query.eval_hash
        execution_id, context_hash = query.execution_id, query.context_hash
        with self._lock:
            # A DB row for SINGLE fetched together with the CSE candidate (or None).
            single_row: Any = _NOT_FETCHED
            if CacheResult.CSE in allowed:
                call_hash = self._cse.get((execution_id, task_hash, args_hash))
                if call_hash is not None and self._context_matches(call_hash, context_hash):
                    result, found, value_hash = self._call_result(call_hash)
                    if found:
                        return CacheHit(result, call_hash, CacheResult.CSE, value_hash)
                else:
                    # Jobs written by other processes into the same execution (subrun).
                    params = {
                        "task_hash": task_hash,
                        "args_hash": args_hash,
                        "execution_id": execution_id,
                        "eval_hash": eval_hash,
                    }
                    if context_hash is not None:
                        params["context_hash"] = context_hash
                    rows = self._query(hot.CSE_OR_SINGLE[context_hash is not None], params)
                    single_row = None
                    for kind, found_hash, value_hash, type_name, data in rows:
                        if kind == "single":
                            single_row = (value_hash, type_name, data)
                            continue
                        result, found, _ = self._stored(value_hash, type_name, data)
                        if found:
                            self._known_call(found_hash, args_hash)
                            return CacheHit(result, found_hash, CacheResult.CSE, value_hash)
            if cache_scope != CacheScope.BACKEND:
                return CACHE_MISS
            if query.check_valid == CacheCheckValid.SHALLOW and CacheResult.ULTIMATE in allowed:
                call_hash = self._find_ultimate(
                    task_hash, args_hash, query.scheduler_task_hashes, context_hash
                )
                if call_hash is not None:
                    result, found, value_hash = self._call_result(call_hash)
                    if found:
                        return CacheHit(result, call_hash, CacheResult.ULTIMATE, value_hash)
            if CacheResult.SINGLE in allowed:
                if single_row is _NOT_FETCHED or eval_hash in self._buffer.evaluations:
                    result, found, value_hash = self._eval_result(eval_hash)
                elif single_row is None:
                    result, found, value_hash = None, False, None
                else:
                    result, found, value_hash = self._stored(*single_row)
                if found:
                    return CacheHit(result, None, CacheResult.SINGLE, value_hash)
        return CACHE_MISS

    def _context_matches(self, call_hash: str, context_hash: str | None) -> bool:
        return context_hash is None or self._call_contexts.get(call_hash) == context_hash

    def _find_ultimate(
        self,
        task_hash: str,
        args_hash: str,
        scheduler_task_hashes: AbstractSet[str],
        context_hash: str | None,
    ) -> str | None:
        buffer = self._buffer
        for call_hash in reversed(buffer.calls_by_key.get((task_hash, args_hash), ())):
            if self._context_matches(call_hash, context_hash) and (
                buffer.subtree_tasks[call_hash] <= scheduler_task_hashes
            ):
                return call_hash
        params = {"task_hash": task_hash, "args_hash": args_hash}
        if context_hash is not None:
            params["context_hash"] = context_hash
        candidates: dict[str, set[str]] = {}
        for call_hash, subtree_task in self._query(hot.ULTIMATE[context_hash is not None], params):
            tasks = candidates.setdefault(call_hash, set())
            if subtree_task is not None:
                tasks.add(subtree_task)
        for call_hash, tasks in candidates.items():
            if tasks <= scheduler_task_hashes:
                self._known_call(call_hash, args_hash)
                return call_hash
        return None

    def _call_result(self, call_hash: str) -> tuple[Any, bool, str | None]:
        row = self._buffer.call_nodes.get(call_hash)
        if row is not None:
            value_hash = row["value_hash"]
        else:
            value_hash = self._query(hot.CALL_RESULT_HASH, {"call_hash": call_hash}).scalar()
            if value_hash is None:
                return None, False, None
        return *self.get_value(value_hash), value_hash

    def get_call_cache(self, call_hash: str) -> tuple[Any, bool]:
        """The (ultimate) result recorded for a call node."""
        with self._lock:
            return self._call_result(call_hash)[:2]

    def get_eval_cache(self, eval_hash: str) -> tuple[Any, bool]:
        """The single-reduction result recorded for an evaluation."""
        with self._lock:
            return self._eval_result(eval_hash)[:2]

    def _eval_result(self, eval_hash: str) -> tuple[Any, bool, str | None]:
        row = self._buffer.evaluations.get(eval_hash)
        if row is not None:
            return *self.get_value(row["value_hash"]), row["value_hash"]
        rows = self._prefetched_evals.pop(eval_hash, None)
        if rows is None:
            rows = self._query(hot.EVAL_RESULT, {"eval_hash": eval_hash})
        if not rows:
            return None, False, None
        value_hash, type_name, data, args_hash, _ = rows[0]
        for *_, call_hash in rows:
            if call_hash is not None:
                self._known_call(call_hash, args_hash)
        return self._stored(value_hash, type_name, data)

    def _known_call(self, call_hash: str, args_hash: str) -> None:
        """A call node read from the database: stored, so never recorded again."""
        self._note_call_args(call_hash, args_hash)
        self._remember(self._known_calls, (call_hash,))

    def _note_call_args(self, call_hash: str, args_hash: str) -> None:
        if len(self._call_args) > KNOWN_HASHES_LIMIT:
            self._call_args.clear()
        self._call_args[call_hash] = args_hash

    def is_call_node_recorded(self, call_hash: str) -> bool:
        with self._lock:
            if call_hash in self._known_calls or call_hash in self._buffer.call_nodes:
                return True
            args_hash = self._query(hot.CALL_ARGS_HASH, {"call_hash": call_hash}).scalar()
            if args_hash is None:
                return False
            self._known_call(call_hash, args_hash)
            return True

    def explain_cache_miss(
        self, query: CacheQuery, arguments: Mapping[str, ArgInfo], params: Sequence[str]
    ) -> MissReason:
        from redun.backends.db.explain import compare_call

        return compare_call(
            self.session, query.task_name, query.task_hash, query.args_hash, arguments, params
        )

    # -- executions and jobs -------------------------------------------------------

    def record_execution(self, execution_id: str, args: list[str], root_job_id: str) -> None:
        row = {
            "id": execution_id,
            "args": json.dumps(args),
            "job_id": root_job_id,
            "updated_time": None,
        }
        with self._lock:
            # An execution is written once its root job starts (as redun does).
            if root_job_id in self._job_info or root_job_id in self._buffer.jobs:
                self._buffer.executions[execution_id] = row
            else:
                self._pending_executions[root_job_id] = row

    def record_updated_time(self, execution_id: str, now: datetime | None = None) -> None:
        now = now or utcnow()
        with self._lock:
            row = self._buffer.executions.get(execution_id)
            if row is not None:
                row["updated_time"] = now
            else:
                self._buffer.execution_updates[execution_id] = now

    def record_job_start(
        self,
        job_id: str,
        task: Any,
        execution_id: str,
        parent_id: str | None,
        cached: bool,
        start_time: datetime | None = None,
    ) -> None:
        with self._lock:
            task_hash = self.record_value(task, task.hash)
            self._buffer.jobs[job_id] = {
                "id": job_id,
                "start_time": start_time or utcnow(),
                "end_time": None,
                "task_hash": task_hash,
                "cached": cached,
                "call_hash": None,
                "parent_id": parent_id,
                "execution_id": execution_id,
            }
            self._job_info[job_id] = (execution_id, task_hash)
            execution = self._pending_executions.pop(job_id, None)
            if execution is not None:
                self._buffer.executions[execution["id"]] = execution

    def record_job_end(
        self, job_id: str, call_hash: str | None, end_time: datetime | None = None
    ) -> None:
        end_time = end_time or utcnow()
        with self._lock:
            row = self._buffer.jobs.get(job_id)
            if row is not None:
                row["end_time"] = end_time
                row["call_hash"] = call_hash
            else:
                self._buffer.job_ends[job_id] = {"end_time": end_time, "call_hash": call_hash}
            info = self._job_info.pop(job_id, None)
            if info is not None and call_hash is not None:
                args_hash = self._args_hash_of(call_hash)
                if args_hash is not None:
                    self._cse[(info[0], info[1], args_hash)] = call_hash

    def _args_hash_of(self, call_hash: str) -> str | None:
        args_hash = self._call_args.get(call_hash)
        if args_hash is not None:
            return args_hash
        row = self._buffer.call_nodes.get(call_hash)
        if row is not None:
            return row["args_hash"]
        return self._query(hot.CALL_ARGS_HASH, {"call_hash": call_hash}).scalar()

    def get_job(self, job_id: str) -> dict | None:
        with self._lock:
            self.flush()
            with self._read() as connection:
                row = connection.execute(
                    select(
                        schema.job.c.id, schema.job.c.parent_id, schema.job.c.execution_id
                    ).where(schema.job.c.id == job_id)
                ).first()
        if row is None:
            return None
        return {"job_id": row.id, "parent_id": row.parent_id, "execution_id": row.execution_id}

    # -- handles --------------------------------------------------------------------

    def _buffer_handle(self, handle: Any) -> None:
        info = handle.__handle__
        self._buffer.handles.setdefault(
            info.hash,
            {
                "hash": info.hash,
                "fullname": info.fullname,
                "key": info.key,
                "value_hash": self.record_value(handle),
                "is_valid": True,
            },
        )
        info.is_recorded = True

    def advance_handle(self, parent_handles: Sequence[Any], child_handle: Any) -> None:
        with self._lock:
            # States skipped by chained forks are recorded so the lineage has no gaps.
            queue = [
                parent.__handle__.fork_parent
                for parent in parent_handles
                if parent.__handle__.fork_parent and not parent.__handle__.is_recorded
            ]
            while queue:
                skipped = queue.pop()
                self._buffer_handle(skipped)
                if skipped.__handle__.fork_parent:
                    queue.append(skipped.__handle__.fork_parent)
            self._buffer_handle(child_handle)
            for parent in parent_handles:
                self._buffer_handle(parent)
                self._buffer.handle_edges.add(
                    (parent.__handle__.hash, child_handle.__handle__.hash)
                )

    def rollback_handle(self, handle: Any) -> None:
        """Invalidate every state descended from `handle`, which is about to be used again.

        Descendants of states invalidated earlier are followed too: a branch that was
        superseded and then re-run is current again, and a rollback must reach past it.
        """
        with self._lock:
            self.flush()
            info = handle.__handle__
            with self._write() as connection:
                edges = connection.execute(
                    select(schema.handle.c.hash, schema.handle_edge.c.child_id)
                    .join(
                        schema.handle_edge, schema.handle_edge.c.parent_id == schema.handle.c.hash
                    )
                    .where(schema.handle.c.fullname == info.fullname)
                ).all()
                children: dict[str, list[str]] = {}
                for parent, child in edges:
                    children.setdefault(parent, []).append(child)
                invalid: set[str] = set()
                queue = list(children.get(info.hash, ()))
                while queue:
                    current = queue.pop()
                    if current not in invalid:
                        invalid.add(current)
                        queue.extend(children.get(current, ()))
                if invalid:
                    from sqlalchemy import update

                    connection.execute(
                        update(schema.handle)
                        .where(schema.handle.c.hash.in_(invalid))
                        .values(is_valid=False)
                    )

    def is_valid_handle(self, handle: Any) -> bool:
        handle_hash = handle.__handle__.hash
        with self._lock:
            if handle_hash in self._buffer.handles:
                # Recorded just now, so current (the next write marks it valid).
                return True
            is_valid = self._query(hot.HANDLE_IS_VALID, {"handle_hash": handle_hash}).scalar()
            return bool(is_valid)

    # -- tags ---------------------------------------------------------------------

    def record_tags(
        self,
        entity_type: TagEntity,
        entity_id: str,
        tags: Iterable[tuple[str, Any]],
        parents: Iterable[str] = (),
        update: bool = False,
        new: bool = False,
    ) -> list[tuple[str, str, str, Any]]:
        tags = list(tags)
        parents = sorted(parents)
        if not tags:
            return []
        with self._lock:
            if not parents and not update and not new:
                rows = tagging.tag_rows(entity_type, entity_id, tags, [])
                for row in rows:
                    self._buffer.tags.setdefault(row["tag_hash"], row)
                return [(r["tag_hash"], entity_id, r["key"], r["value"]) for r in rows]
            self.flush()
            with self._write() as connection:
                return tagging.record_tags(
                    connection, entity_type, entity_id, tags, parents, update, new
                )

    def delete_tags(
        self, entity_id: str, tags: Iterable[tuple[str, Any]], keys: Iterable[str] = ()
    ) -> list[tuple[str, str, str, Any]]:
        with self._lock:
            self.flush()
            with self._write() as connection:
                return tagging.delete_tags(connection, entity_id, list(tags), list(keys))

    def update_tags(
        self,
        entity_type: TagEntity,
        entity_id: str,
        old_keys: Iterable[str],
        new_tags: Iterable[tuple[str, Any]],
    ) -> list[tuple[str, str, str, Any]]:
        with self._lock:
            self.flush()
            with self._write() as connection:
                return tagging.update_tags(
                    connection, entity_type, entity_id, list(old_keys), list(new_tags)
                )

    def get_tags(self, entity_ids: Iterable[str]) -> dict[str, Any]:
        with self._lock:
            self.flush()
            with self._read() as connection:
                return tagging.get_tags(connection, list(entity_ids))

    # -- records ------------------------------------------------------------------

    def iter_record_ids(self, root_ids: Iterable[str]) -> Iterator[str]:
        with self._lock:
            self.flush()
            from redun.backends.db import records

            with self._read() as connection:
                yield from records.iter_record_ids(connection, list(root_ids))

    def get_records(self, ids: Iterable[str], sorted: bool = True) -> Iterator[dict]:
        with self._lock:
            self.flush()
            from redun.backends.db import records

            with self._read() as connection:
                yield from records.get_records(connection, list(ids), keep_order=sorted)

    def has_records(self, ids: Iterable[str]) -> list[str]:
        with self._lock:
            self.flush()
            from redun.backends.db import records

            with self._read() as connection:
                return records.has_records(connection, list(ids))

    def put_records(self, new_records: Iterable[dict]) -> int:
        with self._lock:
            self.flush()
            from redun.backends.db import records

            try:
                with self._write() as connection:
                    return records.put_records(connection, list(new_records))
            except IntegrityError as error:
                raise RedunDatabaseError(
                    f"The records refer to records that are neither given nor in the "
                    f"database ({error.orig}): export them from their root executions."
                ) from error


class _Rows(list):
    """Fetched rows with the result methods the lookups use."""

    def first(self) -> Any:
        return self[0] if self else None

    def scalar(self) -> Any:
        return self[0][0] if self else None

    def scalars(self) -> list:
        return [row[0] for row in self]


def _trim(text: str, max_length: int = 200) -> str:
    return text if len(text) <= max_length else text[: max_length - 3] + "..."


_SPECIAL_TYPES: tuple[type, type] | None = None


def _special_types() -> tuple[type, type]:
    """(File, Task): values that get a companion row (imported on first use)."""
    global _SPECIAL_TYPES
    if _SPECIAL_TYPES is None:
        from redun.file import File
        from redun.task import Task

        _SPECIAL_TYPES = (File, Task)
    return _SPECIAL_TYPES

"""Issue 19's measures: the durable floor, ratios, bytes per task, startup, scale targets.

The floor is checked against the engine itself: both record a small fan-out
and must leave the same provenance rows. The rest runs on stand-in engines
and hand-made records, so each computation is pinned to its definition.
Nothing here asserts a duration of our engine.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
FLOOR = BENCH / "floor.py"
REDUN = Path(sys.executable).parent / "redun"

# Every per-task table, with the columns that do not depend on time or on random ids.
PROVENANCE = {
    "value": "value_hash, type, format, value",
    "task": "hash, name, namespace, source",
    "evaluation": "eval_hash, task_hash, args_hash, value_hash",
    "call_node": "call_hash, task_name, task_hash, args_hash, value_hash",
    "argument": "arg_hash, call_hash, value_hash, arg_position, arg_key",
    "argument_result": "arg_hash, result_call_hash",
    "call_subtree_task": "call_hash, task_hash",
    "call_edge": "parent_id, child_id, call_order",
}


def rows(db: Path, table: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as connection:
        return sorted(connection.execute(f"SELECT {PROVENANCE[table]} FROM {table}"))


def job_rows(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db)) as connection:
        return connection.execute(
            "SELECT j.cached, j.call_hash, c.task_name FROM job j "
            "LEFT JOIN call_node c ON c.call_hash = j.call_hash ORDER BY j.start_time"
        ).fetchall()


def floor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(FLOOR), *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(not REDUN.exists(), reason="needs the redun command beside this python")
def test_floor_writes_the_rows_the_engine_writes(tmp_path: Path) -> None:
    n = 20
    config = tmp_path / "config"
    config.mkdir()
    engine_db = tmp_path / "engine.db"
    (config / "redun.ini").write_text(f"[backend]\ndb_uri = sqlite:///{engine_db}\n")
    done = subprocess.run(
        [str(REDUN), "-c", str(config), "run", str(BENCH / "workflows" / "fanout.py"), "main"]
        + ["--n", str(n)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    floor_db = tmp_path / "floor.db"
    first = floor("--n", str(n), "--db", str(floor_db), "--run", "first")
    assert first.returncode == 0, first.stderr

    for table in PROVENANCE:
        assert rows(floor_db, table) == rows(engine_db, table), (
            f"{table}: bench/floor.py no longer writes what the engine writes; make it match"
        )
    engine_jobs, floor_jobs = job_rows(engine_db), job_rows(floor_db)
    assert len(floor_jobs) == len(engine_jobs) == n + 2
    assert sorted(floor_jobs) == sorted(engine_jobs)

    report = json.loads(first.stdout)
    assert (report["run"], report["n"], report["tasks"]) == ("first", n, n + 2)
    assert report["per_task_ms"] == pytest.approx(report["seconds"] / (n + 2) * 1000)

    cached = floor("--n", str(n), "--db", str(floor_db), "--run", "cached")
    assert cached.returncode == 0, cached.stderr
    again = json.loads(cached.stdout)
    # The cached run only adds job rows, each a cache hit naming the first run's call node.
    for table in PROVENANCE:
        assert rows(floor_db, table) == rows(engine_db, table), table
    hits = job_rows(floor_db)[n + 2 :]
    assert len(hits) == n + 2
    assert all(cached_flag == 1 and call for cached_flag, call, _ in hits)
    assert {name for _, _, name in hits} == {
        "bench.fanout.main",
        "bench.fanout.noop",
        "bench.fanout.total",
    }
    # Bytes per task count what this run added to what was on disk before it.
    files = [floor_db, floor_db.with_name("floor.db-wal"), floor_db.with_name("floor.db-shm")]
    on_disk = sum(p.stat().st_size for p in files if p.exists())
    assert again["db_bytes"] == on_disk
    assert again["db_bytes_per_task"] == pytest.approx(
        (again["db_bytes"] - report["db_bytes"]) / (n + 2)
    )


def test_floor_refuses_the_wrong_database_in_one_line(tmp_path: Path) -> None:
    missing = floor("--n", "5", "--db", str(tmp_path / "none.db"), "--run", "cached")
    assert missing.returncode == 2
    assert "needs the first run's database" in missing.stderr.splitlines()[-1]
    existing = tmp_path / "there.db"
    existing.write_bytes(b"")
    again = floor("--n", "5", "--db", str(existing), "--run", "first")
    assert again.returncode == 2
    assert "needs a fresh database" in again.stderr.splitlines()[-1]


def record(runner: ModuleType, bench: str, n: int, run: str, per_task: float | None, **kw):
    status = kw.pop("status", "ok")
    return runner.Record("ours", bench, n, run, status, per_task_ms=per_task, **kw)


def test_floor_ratio_and_its_targets(runner: ModuleType) -> None:
    records = [
        record(runner, "fanout", 1000, "first", 0.3),
        record(runner, "fanout", 1000, "cached", 0.15),
        record(runner, "fanout", 10_000, "first", 0.5),
        record(runner, "fanout", 10_000, "cached", 0.1),
    ]
    floors = [
        runner.FloorRecord(1000, "first", "ok", per_task_ms=0.1),
        runner.FloorRecord(1000, "cached", "ok", per_task_ms=0.1),
        runner.FloorRecord(10_000, "first", "ok", per_task_ms=0.25),
        runner.FloorRecord(10_000, "cached", "failed", error="boom"),
    ]
    assert runner.floor_ratio(records[0], floors[0]) == pytest.approx(3.0)
    assert runner.floor_ratio(records[3], floors[3]) is None
    first, cached = (
        runner.floor_target(records, floors, "ours", run) for run in ("first", "cached")
    )
    # The largest size decides (2x at 10,000 is within the 2x limit; 3x at 1,000 is listed).
    assert first.verdict == "met"
    assert first.measured == "2.00x at 10,000 (0.500 vs 0.250 ms); 1,000: 3.00x"
    # Where the floor failed at the largest size, the target cannot be met.
    assert cached.verdict == "unmet" and cached.measured == "floor failed at 10,000"
    only_small = runner.floor_target(records, floors[:2], "ours", "cached")
    assert only_small.verdict == "met" and only_small.measured.startswith("1.50x at 1,000")
    assert runner.floor_target([], floors, "ours", "first").verdict == "not run"
    table = runner.floor_table(records, floors, "ours")
    assert "3.00x" in table and "2.00x" in table and "failed: boom" in table


def test_per_task_cost_against_the_1000_task_run(runner: ModuleType) -> None:
    records = [
        record(runner, "fanout", 1000, "first", 0.4),
        record(runner, "fanout", 100_000, "first", 0.5),
        record(runner, "fanout", 1_000_000, "first", 0.7),
        record(runner, "fanout", 1000, "cached", 0.2),
        record(runner, "fanout", 100_000, "cached", 0.28),
        record(runner, "map2", 100_000, "first", 0.3),
        record(runner, "map2", 1000, "cached", 0.2),
        record(runner, "map2", 100_000, "cached", None, status="timeout"),
    ]
    assert runner.ratio_to_base(records, records[1]) == pytest.approx(1.25)
    assert runner.ratio_to_base(records, records[0]) == pytest.approx(1.0)
    assert runner.ratio_to_base(records, records[5]) is None  # no 1,000-task map2 first run
    verdicts = {
        (bench, run): runner.flat_target(records, "ours", bench, run)
        for bench in ("fanout", "map2")
        for run in ("first", "cached")
    }
    assert verdicts["fanout", "first"].verdict == "unmet"  # 1.75x at a million
    assert "1,000,000: 1.75x" in verdicts["fanout", "first"].measured
    assert verdicts["fanout", "cached"].verdict == "met where run"
    assert verdicts["map2", "first"].verdict == "unmet"  # measured, but nothing to compare to
    assert verdicts["map2", "cached"].verdict == "unmet"
    assert "100,000 timeout" in verdicts["map2", "cached"].measured
    rows = runner.runs_table(records[:2]).splitlines()
    assert "1.25x" in rows[3] and "1.00x" in rows[2]


def test_database_bytes_per_task_are_net_of_what_was_there(
    runner: ModuleType, tmp_path: Path
) -> None:
    db = tmp_path / "redun.db"
    assert runner.db_bytes(db) is None
    db.write_bytes(b"x" * 4096)
    (tmp_path / "redun.db-wal").write_bytes(b"x" * 1000)
    (tmp_path / "redun.db-shm").write_bytes(b"x" * 24)
    assert runner.db_bytes(db) == 5120

    engine = runner.Engine("ours", Path("redun"), baseline={"first": {"wall_s": 0.1}})
    fanout = runner.BY_NAME["fanout"]
    ok = runner.Measurement(0, 1.0, 50.0, stdout_tail="45")
    made = runner.make_record(engine, fanout, 10, "first", ok, 0.5, 13_000, 1_000)
    assert (made.db_bytes, made.db_bytes_per_task) == (13_000, pytest.approx(12_000 / 12))
    wrong = runner.Measurement(0, 1.0, 50.0, stdout_tail="44")
    assert (
        runner.make_record(engine, fanout, 10, "first", wrong, 0.5, 13_000, 1_000).db_bytes_per_task
        is None
    )
    map2 = runner.BY_NAME["map2"]
    printed = runner.Measurement(0, 1.0, 50.0, stdout_tail=str(10 * 11))
    assert runner.make_record(
        engine, map2, 10, "cached", printed, 0.5, 2_300, 0
    ).db_bytes_per_task == (pytest.approx(2_300 / 23))


def test_whole_runner_reports_bytes_per_task_net_of_the_empty_run(
    runner: ModuleType, stand_in: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    argv = ["--engine", f"fake={stand_in}", "--only", "fanout", "--sizes", "3000"]
    argv += ["--startup-repeat", "1", "--baseline-repeat", "1", "--floor-repeat", "1"]
    argv += ["--no-lag-beside", "--tmpdir", str(tmp_path), "--results", str(results)]
    assert runner.main(argv) == 0
    (result_file,) = results.glob("*-bench.json")
    payload = json.loads(result_file.read_text())
    base = payload["engines"][0]["baseline"]["first"]["db_bytes"]
    first, cached = payload["runs"]
    assert payload["lag"] == []
    # 3,000 integer rows take pages the empty run's file does not have.
    assert first["db_bytes"] > base
    assert first["db_bytes_per_task"] == pytest.approx((first["db_bytes"] - base) / 3002)
    # The cached run counts only its own growth (the stand-in adds no rows then).
    assert cached["db_bytes_per_task"] == pytest.approx(
        (cached["db_bytes"] - first["db_bytes"]) / 3002
    )


def test_million_task_target(runner: ModuleType) -> None:
    def big(run: str, rss: float, per_task_bytes: float | None, status: str = "ok"):
        return runner.Record(
            "ours",
            "fanout",
            1_000_000,
            run,
            status,
            wall_s=600.0,
            peak_rss_mb=rss,
            db_bytes_per_task=per_task_bytes,
        )

    met = runner.million_target(
        [big("first", 1500, 1900), big("cached", 900, 100)], "ours", "fanout"
    )
    assert met.verdict == "met" and "1,900 B/task" in met.measured
    assert (
        runner.million_target(
            [big("first", 1500, 2500), big("cached", 900, 1)], "ours", "fanout"
        ).verdict
        == "unmet"
    )
    assert (
        runner.million_target(
            [big("first", 2100, 1000), big("cached", 900, 1)], "ours", "fanout"
        ).verdict
        == "unmet"
    )
    failed = runner.million_target(
        [big("first", 1500, 1900), big("cached", 0, None, "timeout")], "ours", "fanout"
    )
    assert failed.verdict == "unmet" and "cached timeout" in failed.measured
    assert runner.million_target([], "ours", "map2").verdict == "not run"


def test_first_task_latency_includes_everything_before_the_body(
    runner: ModuleType, stand_in: Path, stand_in_delay_s: float, tmp_path: Path
) -> None:
    engine = runner.Engine("fake", stand_in)
    runner.measure_first_task(engine, tmp_path, timeout_s=60, repeat=2)
    for latency in (engine.first_task_s, engine.first_task_existing_s):
        assert latency is not None
        # The stand-in waits before its "task" starts; interpreter start comes on top.
        assert stand_in_delay_s <= latency < stand_in_delay_s + 10
    broken = tmp_path / "broken"
    broken.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(3)\n")
    broken.chmod(0o755)
    failing = runner.Engine("broken", broken)
    runner.measure_first_task(failing, tmp_path, timeout_s=60, repeat=1)
    assert failing.first_task_s is None and failing.first_task_existing_s is None
    assert [p for p in tmp_path.iterdir() if "startup" in p.name] == []


IMPORTTIME = textwrap.dedent("""\
    import time: self [us] | cumulative | imported package
    import time:       100 |        100 |     redun.utils
    import time:       200 |        300 |   redun.task
    import time:       400 |        700 | redun
    some warning on stderr
    import time:        50 |         50 | json
""")


def test_importtime_totals(runner: ModuleType) -> None:
    profile = runner.parse_importtime(IMPORTTIME)
    assert profile["total_ms"] == pytest.approx(0.75)
    assert profile["package_ms"] == pytest.approx(0.7)
    assert profile["modules"] == 4
    assert profile["slowest"][0] == ["redun", pytest.approx(0.4)]
    assert [name for name, _ in profile["slowest"]] == [
        "redun",
        "redun.task",
        "redun.utils",
        "json",
    ]
    # Top-level imports are the ones indented by a single space.
    assert profile["roots"] == [["redun", pytest.approx(0.7)], ["json", pytest.approx(0.05)]]
    assert runner.parse_importtime("")["package_ms"] is None


def test_importtime_of_import_redun_and_of_the_run_command(
    runner: ModuleType, stand_in: Path, tmp_path: Path
) -> None:
    """Real `-X importtime` output: of this interpreter's redun, and of the stand-in's run."""
    engine = runner.Engine("fake", stand_in)
    runner.measure_importtime(engine, tmp_path, repeat=2)
    profile = engine.importtime
    assert profile is not None and profile["package_ms"] > 0
    assert profile["total_ms"] >= profile["package_ms"] * 0.99
    assert any(name.startswith("redun") for name, _ in profile["slowest"])
    run = engine.run_importtime
    # The stand-in imports configparser and sqlalchemy itself: top-level imports of the command.
    roots = [name for name, _ in run["roots"]]
    assert "sqlalchemy" in roots and "configparser" in roots
    assert run["total_ms"] >= max(ms for _, ms in run["roots"]) * 0.99
    assert "| sqlalchemy" in runner.imports_table(engine)


def test_timeout_grows_with_the_task_count(runner: ModuleType) -> None:
    assert runner.scaled_timeout(900, 1000) == 900
    assert runner.scaled_timeout(900, 2_000_003) == pytest.approx(2_000_003 * 0.005)


def test_lag_runs_beside_every_fanout_size(runner: ModuleType) -> None:
    def lag_sizes(*argv: str) -> tuple[int, ...]:
        args = runner.parse_args(["--engine", f"ours={sys.executable}", *argv])
        return runner.plan(args)[1]

    assert lag_sizes("--only", "fanout", "--sizes", "fanout:1000,5000") == (1000, 5000)
    assert lag_sizes("--only", "fanout,lag", "--sizes", "fanout:1000 lag:3000") == (1000, 3000)
    assert lag_sizes("--only", "fanout", "--no-lag-beside") == ()
    assert lag_sizes("--only", "chain") == ()
    items, lags = runner.plan(
        runner.parse_args(["--engine", f"o={sys.executable}", "--only", "startup"])
    )
    assert items == [] and lags == ()

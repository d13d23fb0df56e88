"""bench/run.py without an engine: statement counting, RSS, timeouts, tables, targets.

Real subprocesses throughout, and a stand-in `redun` executable for the whole
runner, so the harness is checked even while no engine can run workflows.
Benchmarks are not timed tests: nothing here asserts a duration.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


SELECTS = textwrap.dedent("""
    import os, sys
    import sqlalchemy as sa

    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        conn.execute(sa.text("create table t (x integer)"))
        conn.execute(sa.text("insert into t values (:x)"), [{"x": 1}, {"x": 2}])
        for _ in range(int(sys.argv[1])):
            conn.execute(sa.text("select x from t")).all()
""")


def test_counts_each_cursor_execution(runner: ModuleType, tmp_path: Path) -> None:
    one = runner.measure([*python(SELECTS), "1"], tmp_path / "one", timeout_s=60)
    five = runner.measure([*python(SELECTS), "5"], tmp_path / "five", timeout_s=60)
    assert one.returncode == 0, one.stderr_tail
    assert five.statements - one.statements == 4
    assert one.executemany == five.executemany == 1


def test_forked_child_counts_only_its_own_statements(runner: ModuleType, tmp_path: Path) -> None:
    code = SELECTS.replace("int(sys.argv[1])", "1") + textwrap.dedent("""
        if os.fork() == 0:
            with engine.connect() as conn:
                conn.execute(sa.text("select 1")).all()
                conn.execute(sa.text("select 2")).all()
            sys.exit(0)
        os.wait()
    """)
    single = runner.measure([*python(SELECTS), "1"], tmp_path / "single", timeout_s=60)
    forked = runner.measure(python(code), tmp_path / "forked", timeout_s=60)
    assert forked.returncode == 0, forked.stderr_tail
    assert forked.statements - single.statements == 2


def test_process_without_a_database_imports_nothing(runner: ModuleType, tmp_path: Path) -> None:
    result = runner.measure(
        python("import sys; print('sqlalchemy' in sys.modules)"), tmp_path, timeout_s=60
    )
    assert result.stdout_tail == "False"
    assert result.statements is None


def test_peak_rss_includes_waited_for_descendants(runner: ModuleType, tmp_path: Path) -> None:
    grandchild = "block = b'x' * (200 * 1024 * 1024)"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    big = runner.measure(python(code), tmp_path / "big", timeout_s=60, count_sql=False)
    assert big.peak_rss_mb >= 200 * 1024 * 1024 / 1e6


def test_peak_rss_excludes_the_measuring_process(runner: ModuleType, tmp_path: Path) -> None:
    """A fork starts from its parent's resident set; the runner's size must not count."""
    ballast = b"x" * (150 * 1024 * 1024)
    small = runner.measure(python("pass"), tmp_path, timeout_s=60, count_sql=False)
    assert len(ballast) and small.peak_rss_mb < 100


def test_timeout_kills_the_process_group(runner: ModuleType, tmp_path: Path) -> None:
    sleeper = "import time; time.sleep(120)"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {sleeper!r}])"
    result = runner.measure(python(code), tmp_path, timeout_s=1, count_sql=False)
    assert result.timed_out
    status, _ = runner.status_of(result, expected=0)
    assert status == "timeout"


def test_status_needs_exit_zero_and_the_expected_result(runner: ModuleType) -> None:
    def m(code: int, out: str = "", err: str = "") -> object:
        return runner.Measurement(code, 1.0, 50.0, stdout_tail=out, stderr_tail=err)

    assert runner.status_of(m(0, "[redun] x\n45"), 45) == ("ok", "")
    assert runner.status_of(m(0, "44"), 45) == ("wrong result", "printed '44', expected 45")
    assert runner.status_of(m(1, err="Traceback\nRecursionError: too deep"), 45) == (
        "failed",
        "RecursionError: too deep",
    )


def test_table_columns_line_up_as_markdown(runner: ModuleType) -> None:
    table = runner.format_table(["name", "wall s"], [["fanout", 1.23456], ["chain", None]])
    lines = table.splitlines()
    assert lines[1].startswith("|--") and set(lines[1]) <= {"|", "-"}
    assert len({len(line) for line in lines}) == 1
    assert "1.23" in lines[2] and "-" in lines[3]


def test_sizes_apply_to_task_counts_or_one_benchmark(runner: ModuleType) -> None:
    sizes = runner.parse_sizes("2000,10_000", runner.BENCHMARKS)
    assert sizes["fanout"] == sizes["chain"] == (2000, 10000)
    assert "values" not in sizes
    assert runner.parse_sizes("fanout:5 values:1,2", runner.BENCHMARKS) == {
        "fanout": (5,),
        "values": (1, 2),
    }
    with pytest.raises(SystemExit):
        runner.parse_sizes("nope:1", runner.BENCHMARKS)


def test_targets_are_met_unmet_or_say_why_not(runner: ModuleType) -> None:
    def rec(engine: str, bench: str, n: int, run: str, wall: float, status: str = "ok") -> object:
        return runner.Record(engine, bench, n, run, status, wall_s=wall, peak_rss_mb=900.0)

    records = [
        rec("ours", "fanout", 2000, "first", 1.0),
        rec("ref", "fanout", 2000, "first", 25.0),
        rec("ours", "fanout", 2000, "cached", 1.0),
        rec("ref", "fanout", 2000, "cached", 10.0),
        rec("ours", "chain", 10_000, "first", 5.0, status="failed"),
    ]
    ours = runner.Engine("ours", Path("redun"), import_s=0.05, help_s=0.3)
    verdicts = [
        t.verdict for t in runner.evaluate_targets(records, ours, runner.Engine("ref", Path("r")))
    ]
    assert verdicts[:3] == ["met", "unmet", "not run"]
    assert verdicts[5:9] == ["unmet", "not run", "met", "unmet"]
    alone = runner.evaluate_targets(records, ours, None)
    assert alone[0].verdict == "n/a (make bench-compare)"


def test_whole_runner_against_a_stand_in_engine(
    runner: ModuleType, stand_in: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    redun = stand_in
    results = tmp_path / "results"
    argv = ["--compare", "--engine", f"fake={redun}", "--engine", f"ref={redun}"]
    argv += ["--only", "fanout", "--sizes", "10"]
    argv += ["--startup-repeat", "1", "--baseline-repeat", "1"]
    argv += ["--tmpdir", str(tmp_path), "--results", str(results)]

    assert runner.main(argv) == 0

    (result_file,) = results.glob("*-compare.json")
    runs = json.loads(result_file.read_text())["runs"]
    assert [(r["engine"], r["run"], r["status"]) for r in runs] == [
        ("fake", "first", "ok"),
        ("fake", "cached", "ok"),
        ("ref", "first", "ok"),
        ("ref", "cached", "ok"),
    ]
    # The stand-in sends one statement per task on top of what an empty run sends.
    assert runs[0]["sql_per_task"] == pytest.approx(10 / 12)
    assert runs[0]["peak_rss_mb"] > 0
    out = capsys.readouterr().out
    assert "## Ours against the reference" in out and "speedup (ref / fake)" in out
    assert "## Targets (issues 6, 13 and 19)" in out
    payload = json.loads(result_file.read_text())
    # Beside the fan-out: the lag workflow at the same size, and the durable floor.
    assert [(r["engine"], r["n"], r["status"]) for r in payload["lag"]] == [
        ("fake", 10, "ok"),
        ("ref", 10, "ok"),
    ]
    assert [(f["n"], f["run"], f["status"]) for f in payload["floor"]] == [
        (10, "first", "ok"),
        (10, "cached", "ok"),
    ]
    assert "## Against the durable floor" in out
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("redun-bench-")] == []


def test_recording_lag_against_a_stand_in_engine(
    runner: ModuleType, stand_in: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    redun = stand_in
    results = tmp_path / "results"
    argv = ["--engine", f"fake={redun}", "--only", "lag", "--sizes", "lag:20"]
    argv += ["--startup-repeat", "1", "--baseline-repeat", "1"]
    argv += ["--tmpdir", str(tmp_path), "--results", str(results)]

    assert runner.main(argv) == 0

    (result_file,) = results.glob("*-bench.json")
    payload = json.loads(result_file.read_text())
    assert payload["runs"] == []
    [lag] = payload["lag"]
    assert (lag["engine"], lag["n"], lag["status"]) == ("fake", 20, "ok")
    # Every stamp was seen; a lag is never negative and never beyond the run itself.
    assert 0 <= lag["p50_s"] <= lag["p99_s"] <= lag["max_s"] <= lag["wall_s"]
    out = capsys.readouterr().out
    assert "## Recording lag" in out and "## Runs" not in out
    assert "a finished job is durable within about 1 s" in out

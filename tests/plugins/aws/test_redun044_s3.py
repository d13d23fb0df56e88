"""A workflow recorded by redun 0.44.1 with S3 Files is a cache hit for us.

`data/redun-0.44.1-s3.db` was written by the real redun 0.44.1 (its own venv,
s3fs + boto3) running `data/redun-0.44.1-s3-workflow.py.txt` against this
repo's moto server; `data/record_redun044_s3.sh` re-creates it. The S3 objects
are written again here with the same bytes, hence the same ETags.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

from redun import File, Scheduler
from redun.backends.db import Execution, Job

from tests.helpers.moto_server import MotoServer

DATA = Path(__file__).parent / "data"


def test_s3_files_recorded_by_redun_0_44_1_hit_our_cache(
    moto: MotoServer, tmp_path: Path, monkeypatch
) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="redun-legacy")
    s3.put_object(Bucket="redun-legacy", Key="input.txt", Body=b"one two three four\n")
    s3.put_object(Bucket="redun-legacy", Key="out/shout.txt", Body=b"ONE TWO THREE FOUR\n")
    # redun 0.44.1 showed these hashes for the two Files when it recorded the run.
    assert File("s3://redun-legacy/input.txt").hash.startswith("1a8799ac")
    assert File("s3://redun-legacy/out/shout.txt").hash.startswith("6b1473b4")

    shutil.copy(DATA / "redun-0.44.1-s3.db", tmp_path / "redun.db")
    shutil.copy(DATA / "redun-0.44.1-s3-workflow.py.txt", tmp_path / "wf.py")
    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("wf", tmp_path / "wf.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "wf", module)
    spec.loader.exec_module(module)

    scheduler = Scheduler(config={"backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"}})
    count, shouted = scheduler.run(
        # As `redun run wf.py main --path ... --out-path ...` passed them.
        module.main(path="s3://redun-legacy/input.txt", out_path="s3://redun-legacy/out/shout.txt")
    )
    assert count == 4 and shouted.read() == "ONE TWO THREE FOUR\n"
    session = scheduler.backend.session
    executions = session.query(Execution).all()
    assert len(executions) == 2
    newest = max(executions, key=lambda e: e.job.start_time)
    jobs = session.query(Job).filter(Job.execution_id == newest.id).all()
    assert jobs and all(job.cached for job in jobs)

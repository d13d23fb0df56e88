"""Scratch on S3 (moto server): code package, inputs and results go through s3:// from pods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redun.scheduler import Scheduler

from tests.plugins.k8s.conftest import K8sEmulator
from tests.plugins.k8s.test_conformance import fast_config
from tests.plugins.k8s.workflow import write_workflow

pytest.importorskip("redun_aws", reason="s3:// comes from redun-aws")

pytestmark = pytest.mark.container

BUCKET = "k8s-scratch"


def test_s3_scratch_singles_arrays_and_scripts(
    k8s: K8sEmulator,
    moto: Any,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    wf = write_workflow(tmp_path_factory.mktemp("k8ss3"), monkeypatch)
    db = tmp_path_factory.mktemp("k8ss3db") / "redun.db"
    section = {
        **fast_config(k8s, Path("unused")),
        "scratch": "",
        "s3_scratch": f"s3://{BUCKET}/redun/",
        "min_array_size": "3",
        "job_stale_time": "1.0",
    }
    sched = Scheduler(config={"backend": {"db_uri": f"sqlite:///{db}"}, "executors.k8s": section})
    on_k8s = wf.square.options(executor="k8s")
    env = wf.getenv.options(executor="k8s")(["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID"])
    results = sched.run([[on_k8s(i) for i in range(3)], env])
    assert results[0] == [0, 1, 4]
    # The endpoint is plain env (redun-aws forwards it); the key id comes from the Secret.
    assert results[1] == {"AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "testing"}
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert any(key.startswith("redun/code/") and key.endswith(".tar.gz") for key in keys)
    assert any(key.startswith("redun/array_jobs/") for key in keys)
    assert sum(key.endswith("/output") and key.startswith("redun/jobs/") for key in keys) == 4
    kinds = sorted(job["spec"].get("completionMode") for job in k8s.history())
    assert kinds == ["Indexed", "NonIndexed"]
    for job in k8s.history():
        annotations = job["metadata"]["annotations"]
        assert annotations["redun.insitro.com/scratch"] == f"s3://{BUCKET}/redun"
        # No hostPath scratch volume: pods reach scratch over the S3 API.
        assert "volumes" not in job["spec"]["template"]["spec"]
    k8s.wait_until_empty()

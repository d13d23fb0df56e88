"""Session-wide test settings: plugins load strictly, so a broken plugin fails loudly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.containers import container_image, prebuild_image  # noqa: F401
from tests.helpers.moto_server import moto, moto_docker, moto_server  # noqa: F401  (fixtures)

os.environ["REDUN_PLUGINS_STRICT"] = "1"
os.environ.pop("REDUN_CONFIG", None)
os.environ.pop("REDUN_DISABLED_PLUGINS", None)

# Loopback only: no SDK credential chain may look for a cloud metadata server
# (../shared/reference/cloud-testing.md). Emulator fixtures add their endpoints.
NETWORK_SAFE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:1",
    "GCE_METADATA_IP": "127.0.0.1:1",
    "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
}
for _key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS", "KUBECONFIG"):
    os.environ.pop(_key, None)
os.environ.update(NETWORK_SAFE_ENV)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build the container image once, before any test (and its timeout) starts."""
    if any("container_image" in getattr(item, "fixturenames", ()) for item in session.items):
        prebuild_image()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path for unpacked test distributions, with autoload enabled."""
    from redun.plugins.manager import reset_plugin_manager

    from tests.helpers.distributions import forget_modules

    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    monkeypatch.delenv("REDUN_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    reset_plugin_manager()
    yield path
    forget_modules(path)
    reset_plugin_manager()


@pytest.fixture(autouse=True)
def restore_import_state() -> Iterator[None]:
    """Workflows imported by one test must not leak onto sys.path for the next."""
    import sys

    from redun.utils import get_import_paths

    saved_sys_path = sys.path[:]
    saved_import_paths = get_import_paths()[:]
    yield
    sys.path[:] = saved_sys_path
    get_import_paths()[:] = saved_import_paths

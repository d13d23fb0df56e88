import importlib
import sys

import pytest

from tests.core.values.golden_module import GOLDEN_MODULE_SOURCE


@pytest.fixture
def golden_mod(tmp_path, monkeypatch):
    """The module `redun_golden_mod`, importable from a temporary directory."""
    (tmp_path / "redun_golden_mod.py").write_text(GOLDEN_MODULE_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "redun_golden_mod", raising=False)
    module = importlib.import_module("redun_golden_mod")
    yield module
    sys.modules.pop("redun_golden_mod", None)

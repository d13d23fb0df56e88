"""Tests of redun-k8s: skipped as a whole when the distribution is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("redun_k8s", reason="redun-k8s is not installed")

"""Tests of redun-docker: skipped as a whole when the distribution is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("redun_docker", reason="redun-docker is not installed")

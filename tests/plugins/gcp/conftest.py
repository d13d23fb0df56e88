"""Tests of redun-gcp: skipped as a whole when the distribution is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("redun_gcp", reason="redun-gcp is not installed")

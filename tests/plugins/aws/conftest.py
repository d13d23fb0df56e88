"""Tests of redun-aws: skipped as a whole when the distribution is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("redun_aws", reason="redun-aws is not installed")

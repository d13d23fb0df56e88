"""Tests of redun-slurm: skipped as a whole when the distribution is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("redun_slurm", reason="redun-slurm is not installed")

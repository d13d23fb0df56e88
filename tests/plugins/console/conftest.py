"""Tests of redun-console: skipped as a whole when the distribution is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("redun_console", reason="redun-console is not installed")

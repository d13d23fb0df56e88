"""Session-wide test settings: plugins load strictly, so a broken plugin fails loudly."""

from __future__ import annotations

import os

os.environ["REDUN_PLUGINS_STRICT"] = "1"
os.environ.pop("REDUN_CONFIG", None)
os.environ.pop("REDUN_DISABLED_PLUGINS", None)

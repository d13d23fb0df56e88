"""A third-party redun plugin, as an outside author would write it."""

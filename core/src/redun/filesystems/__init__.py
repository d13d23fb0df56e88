"""Builtin filesystems, registered as plugins in `redun.builtins.filesystems`."""

"""Executors: where jobs run. Types are provided by plugins (``redun_executors`` hook)."""

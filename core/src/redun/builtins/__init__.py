"""Builtin plugins: registered like third-party plugins, but first and always."""

"""The redun terminal console: browse executions, jobs, values and tasks (textual TUI)."""

__version__ = "0.1.0"

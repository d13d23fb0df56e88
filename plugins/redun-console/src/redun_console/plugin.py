"""Entry point of redun-console (group `redun`).

The redun terminal console: browse executions, jobs, values and tasks (textual TUI).

The backend is not built yet, so this module implements no hooks: the
distribution is installed and listed by `redun plugins`, and asking for one of
its names explains that this version does not provide it.
"""

"""The ``redun`` command line (click); subcommands come from ``redun_commands``."""

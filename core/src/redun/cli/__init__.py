"""The ``redun`` command line (click); subcommands come from ``redun_commands``.

redun's scripting names load on first use (`redun.compat.REEXPORTS`), so
``redun --help`` imports none of them: `RedunClient`, `RedunClientError`,
`setup_scheduler`, `setup_config`, `get_config_dir`, `find_config_dir`,
`import_script`, `check_version`, `REDUN_CONFIG_ENV`, `CallGraphQuery`.
``redun.cli.main`` is callable as redun's ``main(argv)``.
"""

from redun.compat import module_getattr

__getattr__ = module_getattr(__name__)

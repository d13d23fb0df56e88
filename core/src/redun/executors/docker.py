"""redun's ``redun.executors.docker``: the module of the ``type = docker`` executor's plugin.

Whatever plugin registers executor type ``docker`` (redun-docker, or a third
party's) provides this module; importing it without one installed is an
ImportError saying what to install.
"""

from redun.compat import alias_plugin_module

alias_plugin_module(__name__, "docker")

"""redun's ``redun.executors.k8s``: the module of the ``type = k8s`` executor's plugin.

Whatever plugin registers executor type ``k8s`` (redun-k8s, or a third
party's) provides this module; importing it without one installed is an
ImportError saying what to install.
"""

from redun.compat import alias_plugin_module

alias_plugin_module(__name__, "k8s")

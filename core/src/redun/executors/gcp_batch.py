"""redun's ``redun.executors.gcp_batch``: the module of the ``type = gcp_batch`` executor's plugin.

Whatever plugin registers executor type ``gcp_batch`` (redun-gcp, or a third
party's) provides this module; importing it without one installed is an
ImportError saying what to install.
"""

from redun.compat import alias_plugin_module

alias_plugin_module(__name__, "gcp_batch")

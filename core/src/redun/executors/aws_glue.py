"""redun's ``redun.executors.aws_glue``: the module of the ``type = aws_glue`` executor's plugin.

Whatever plugin registers executor type ``aws_glue`` (redun-aws, or a third
party's) provides this module; importing it without one installed is an
ImportError saying what to install.
"""

from redun.compat import alias_plugin_module

alias_plugin_module(__name__, "aws_glue")

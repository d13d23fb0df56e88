"""redun's ``redun.glue``: the Spark and Glue helpers of the ``aws_glue`` executor's plugin.

The ``glue`` module next to whatever plugin registers executor type
``aws_glue`` (redun-aws: `redun_aws.glue`) is served under this name, so
``from redun.glue import udf, sql_query`` works as in redun. Without such a
plugin the import is an ImportError saying what to install.
"""

from redun.compat import alias_plugin_module

alias_plugin_module(__name__, "aws_glue", sibling="glue")

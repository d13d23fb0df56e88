"""The two version numbers, kept apart (docs/compatibility.md, "Versions").

`__version__` is the redun release whose API, behaviour and database this
engine is a drop-in for. It is what redun's users test: ``redun.__version__``,
``redun --version``, ``redun --check-version '>=0.8.0'``, the ``redun.version``
tag of every execution and the version check of remote workers.

`DISTRIBUTION_VERSION` is the version of the ``redun-core`` distribution (and
of every plugin distribution, which share it): what pip installs, what
``importlib.metadata.version("redun-core")`` and ``redun plugins`` report, and
what plugins pin their ``redun-core`` range against.
"""

__version__ = "0.46.0"
DISTRIBUTION_VERSION = "0.1.0"

# Where a person reads the version (log lines, `redun db info`): both numbers.
VERSION_BANNER = f"{__version__} (redun-core {DISTRIBUTION_VERSION})"

"""The script every redun Glue job runs: ``redun oneshot`` inside the Glue job.

Uploaded to scratch by the aws_glue executor and named as the Glue job's
ScriptLocation. Glue puts ``--extra-py-files`` (redun and its pure-Python
dependencies, zipped) on sys.path and passes each run's arguments; the
oneshot argv arrives JSON-encoded in ``--redun-oneshot``.
"""

import json
import os
import sys


def argument(name, default=None):
    flag = f"--{name}"
    if flag in sys.argv:
        return sys.argv[sys.argv.index(flag) + 1]
    return default


def main():
    argv = json.loads(argument("redun-oneshot"))
    if argument("redun-workers"):
        os.environ["REDUN_GLUE_NUM_WORKERS"] = argument("redun-workers")
    from redun_aws.glue import setup_glue_job

    job = setup_glue_job(argument("JOB_NAME", "redun"), {"redun-oneshot": argv})
    from redun.cli.main import main as redun_main

    try:
        redun_main(argv[1:])
    except SystemExit as exit:
        if exit.code not in (0, None):
            raise
    if job is not None:
        job.commit()


if __name__ == "__main__":
    main()

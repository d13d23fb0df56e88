"""Run moto's server for the test session: ``python -m tests.helpers.moto_main PORT_FILE``.

moto's own ``moto_server`` command, plus what the tests need around it:

- it binds 127.0.0.1 on a free port and writes the port to PORT_FILE, so
  nothing races for a fixed port;
- the Batch extension (`tests.helpers.moto_batch`) and the Glue job-run
  emulator (`tests.helpers.moto_glue`) are installed first;
- a WSGI layer counts the API calls per service and action
  (``GET /redun-test/calls``; cleared by ``POST /moto-api/reset``), which the
  benchmarks and the API-call tests read, and can answer the next N calls of
  an action with AWS's throttling error (``POST /redun-test/throttle`` with
  ``{"service": "batch", "action": "describejobs", "count": 2}``), as a busy
  account gets it; ``POST /redun-test/batch`` (or ``/glue``) changes
  that extension's SETTINGS until the next reset.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections import Counter
from typing import Any

_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


def request_key(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, action) of one AWS API request, from its signature and target."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = match.group(1) if match else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rsplit(".", 1)[-1]
    path = environ.get("PATH_INFO", "")
    if service == "batch" or path.startswith("/v1/"):
        return service, path.rstrip("/").rsplit("/", 1)[-1]
    return service, environ.get("REQUEST_METHOD", "GET")


class TestControl:
    """WSGI middleware around moto's app: call counting and throttling."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.throttles: dict[tuple[str, str], int] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/redun-test/"):
            return self.control(path, environ, start_response)
        if path == "/moto-api/reset":
            with self.lock:
                self.calls.clear()
                self.throttles.clear()
            return self.app(environ, start_response)
        if path.startswith("/moto-api/"):
            return self.app(environ, start_response)
        service, action = request_key(environ)
        key = (service, action.lower())
        with self.lock:
            self.calls[f"{service}:{action}"] += 1
            throttled = self.throttles.get(key, 0) > 0
            if throttled:
                self.throttles[key] -= 1
        if throttled:
            body = json.dumps(
                {"__type": "TooManyRequestsException", "message": "Too Many Requests."}
            ).encode()
            start_response(
                "429 Too Many Requests",
                [
                    ("Content-Type", "application/json"),
                    ("x-amzn-ErrorType", "TooManyRequestsException"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]
        return self.app(environ, start_response)

    def control(self, path: str, environ: dict[str, Any], start_response: Any) -> Any:
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/redun-test/calls" and method == "GET":
            with self.lock:
                payload: Any = dict(self.calls)
        elif path == "/redun-test/calls/reset" and method == "POST":
            with self.lock:
                self.calls.clear()
            payload = {}
        elif path in ("/redun-test/batch", "/redun-test/glue") and method == "POST":
            from tests.helpers import moto_batch, moto_glue

            SETTINGS = (moto_batch if path.endswith("batch") else moto_glue).SETTINGS

            length = int(environ.get("CONTENT_LENGTH") or 0)
            SETTINGS.update(json.loads(environ["wsgi.input"].read(length) or b"{}"))
            payload = dict(SETTINGS)
        elif path == "/redun-test/throttle" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(length) or b"{}")
            key = (request["service"], request["action"].lower())
            with self.lock:
                self.throttles[key] = int(request.get("count", 1))
            payload = {"throttled": list(key)}
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"unknown test control path"]
        body = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


def main(argv: list[str]) -> None:
    port_file = argv[0]
    from werkzeug.serving import make_server

    from tests.helpers import moto_batch, moto_glue

    moto_batch.install()
    moto_glue.install()
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1", 0, TestControl(app), threaded=True, request_handler=MotoRequestHandler
    )
    # moto tells Batch containers where it listens (we give them AWS_ENDPOINT_URL instead).
    os.environ["MOTO_PORT"] = str(server.server_port)
    tmp_file = f"{port_file}.tmp"
    with open(tmp_file, "w") as out:
        out.write(str(server.server_port))
    os.replace(tmp_file, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])

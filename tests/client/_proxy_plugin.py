"""A proxy.py plugin for the network tests: names under ``.invalid`` (which never resolve, RFC 2606) resolve to
127.0.0.1 here, so a sandbox named so is reachable only through the proxy; each request line the proxy receives is
appended to the file named by ``AKOOL_TEST_PROXY_LOG``."""

from __future__ import annotations

import os
from typing import Any

from proxy.http.proxy import HttpProxyBasePlugin


class LoopbackNames(HttpProxyBasePlugin):  # type: ignore[misc]
    def resolve_dns(self, host: str, port: int) -> tuple[str | None, Any]:
        return ("127.0.0.1", None) if host.endswith(".invalid") else (None, None)

    def before_upstream_connection(self, request: Any) -> Any:
        if request.method == b"CONNECT":  # a tunnel: what goes through it is encrypted, one line per tunnel
            _log(request)
        return request

    def handle_client_request(self, request: Any) -> Any:
        if request.method != b"CONNECT":
            _log(request)
        return request


def _log(request: Any) -> None:
    with open(os.environ["AKOOL_TEST_PROXY_LOG"], "a") as log:
        log.write(f"{request.method.decode()} {(request.host or b'').decode()}:{request.port} "
                  f"{(request.path or b'').decode()}\n")

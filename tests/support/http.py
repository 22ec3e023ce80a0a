"""Standing between a `requests` session and the server: an adapter that sees every request and
answers it itself or lets it through, canned answers, and the upload engine's session routed
through such an adapter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import pytest
import requests
from requests.adapters import HTTPAdapter

import inlet.upload

Send = Callable[[], requests.Response]


class InterceptingAdapter(HTTPAdapter):
    """An adapter whose `intercept` sees every request the session sends. Override it: return an
    answer of your own (`canned`) without sending, or call `send()` for the real exchange, doing
    what you will before and after it (raising stands for a connection that failed)."""

    def intercept(self, request: requests.PreparedRequest, send: Send) -> requests.Response:
        return send()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        real = partial(
            super().send,
            request,
            stream=stream,
            timeout=timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )
        return self.intercept(request, real)


def canned(
    request: requests.PreparedRequest,
    status: int,
    content: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> requests.Response:
    """An answer to `request` that no server gave: `status`, `content` and `headers`."""
    response = requests.Response()
    response.status_code, response._content = status, content
    response.headers.update(headers or {})
    response.request, response.url = request, request.url or ""
    return response


def use_adapter(monkeypatch: pytest.MonkeyPatch, adapter: HTTPAdapter) -> None:
    """The upload engine's presigned-URL session goes through `adapter`."""

    def session(parallel: int) -> requests.Session:
        through = requests.Session()
        through.mount("http://", adapter)
        return through

    monkeypatch.setattr(inlet.upload, "s3_session", session)

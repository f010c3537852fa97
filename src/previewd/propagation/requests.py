"""requests: send the current canary value with every request a session makes.

``install(session)`` once, where the session is made; every request it sends (redirects
included) carries the value of the caller's :func:`previewd.propagation.current`.
"""

from __future__ import annotations

from typing import Any

import requests

from previewd.propagation import baggage
from previewd.propagation.context import current
from previewd.propagation.value import DEFAULT_HEADER, header_name

_INSTALLED = "_previewd_canary_header"  # marks a session already wrapped


def _apply(request: requests.PreparedRequest, header: str) -> None:
    value = current()
    if value is None:
        return
    bags = [request.headers["baggage"]] if "baggage" in request.headers else []
    merged = baggage.with_pr(bags, value)
    request.headers[header] = value
    if merged:
        request.headers["baggage"] = merged
    else:
        request.headers.pop("baggage", None)


def install(session: requests.Session, header: str = DEFAULT_HEADER) -> requests.Session:
    """Wrap ``session.send`` so each prepared request gets the canary header and baggage
    member; returns the session. Installing again does not wrap it twice (the last header
    name given counts)."""
    header = header_name(header)
    if getattr(session, _INSTALLED, None) is not None:
        setattr(session, _INSTALLED, header)
        return session
    send = session.send

    def send_with_canary(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        _apply(request, getattr(session, _INSTALLED))
        return send(request, **kwargs)

    session.send = send_with_canary  # type: ignore[method-assign]
    setattr(session, _INSTALLED, header)
    return session

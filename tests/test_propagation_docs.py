"""The wiring example in docs/canary.md, run as written: only its two addresses are pointed at
real loopback servers, then a request with a canary value must reach both downstream hops."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from previewd.propagation.wsgi import Environ, StartResponse
from tests.propagation_support import asgi_server, grpc_server, method, wsgi_server

DOC = Path(__file__).resolve().parents[1] / "docs" / "canary.md"


def doc_example() -> str:
    """The python block under 'Wiring a Python service'."""
    section = DOC.read_text(encoding="utf-8").split("## Wiring a Python service", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "docs/canary.md lost its wiring example"
    return found.group(1)


def echo(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The 'users' service: reports the headers it was sent."""
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"x-canary": environ.get("HTTP_X_CANARY"),
                        "baggage": environ.get("HTTP_BAGGAGE")}).encode()]


def test_the_documented_wiring_carries_the_value_to_both_hops() -> None:
    code = doc_example()
    assert '"http://users"' in code and '"store:80"' in code  # the two addresses replaced below
    with grpc_server() as target, wsgi_server(echo) as users_url:
        namespace: dict[str, Any] = {}
        exec(code.replace('"http://users"', repr(users_url)).replace('"store:80"', repr(target)), namespace)
        app, users, store = namespace["app"], namespace["users"], namespace["store"]
        unary = store.unary_unary(method("Unary"))

        @app.get("/")
        async def call_both() -> dict[str, Any]:
            reply = await users.get("/")
            return {"users": reply.json(), "store": json.loads(unary(b"", timeout=30))}

        with asgi_server(app) as url:
            marked = httpx.get(url, headers={"X-Canary": "42"}, timeout=60).json()
            plain = httpx.get(url, timeout=60).json()
    assert marked["users"] == {"x-canary": "42", "baggage": "previewd-pr=42"}
    assert marked["store"]["x-canary"] == ["42"] and marked["store"]["baggage"] == ["previewd-pr=42"]
    assert plain["users"] == {"x-canary": None, "baggage": None}
    assert plain["store"]["x-canary"] == [] and plain["store"]["baggage"] == []

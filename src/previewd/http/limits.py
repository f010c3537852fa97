"""Every bound on what an unauthenticated sender can make previewd hold: time, bytes, depth, count.

Defined once here; the HTTP server (``http/server.py``), the body reader (``http/bodies.py``)
and the rejection log (``http/rejections.py``) read them, and README.md lists them.
"""

from __future__ import annotations

# --- connections (enforced by the HTTP server, before any request reaches the app) ---

REQUEST_HEAD_TIMEOUT = 10.0
"""Seconds a connection gets to deliver a complete request line and headers, counted from
the connection's start or from the end of its previous response; then it is closed."""

KEEP_ALIVE_TIMEOUT = 5
"""Seconds an idle keep-alive connection is kept open after a response."""

MAX_HEADER_BYTES = 16 * 1024
"""Bytes of an unfinished request line plus headers the server buffers; above it it answers
400 and closes (h11's ``max_incomplete_event_size``)."""

MAX_CONNECTIONS = 512
"""Open connections at once; above it every new request gets 503 (each holds at most
``MAX_HEADER_BYTES`` plus one 64 KiB read buffer)."""

# --- bodies (enforced by the body reader) ---

BODY_READ_TIMEOUT = 10.0
"""Seconds to receive a whole request body (GitHub itself gives up on a delivery after 10 s);
then the request gets 408 and the connection is closed."""

MAX_UNAUTHENTICATED_BODIES = 16
"""Bodies read at once before their sender is authenticated (GitHub's signature covers the
body, so it must be read first). One more gets 503 with ``Retry-After`` straight away, so
unauthenticated bodies hold at most this many times ``server.max_body_bytes``."""

RETRY_AFTER_SECONDS = 5
"""``Retry-After`` sent with the 503 for a body over ``MAX_UNAUTHENTICATED_BODIES``."""

MAX_JSON_DEPTH = 64
"""Nesting of arrays and objects in a webhook or API body (GitHub's deepest payloads nest
about 8 levels); deeper bodies get 400 before they are parsed."""

# --- the rejection log ---

REJECTION_LOG_BURST = 10
"""Lines logged per rejection kind (source and status) per ``REJECTION_LOG_INTERVAL``; the
rest are counted and the count is logged with the next line of that kind."""

REJECTION_LOG_INTERVAL = 60.0
"""Seconds of one rejection-log window."""

MAX_LOGGED_DELIVERY_ID = 64
"""Characters of a delivery id kept in the rejection log (it is sender-controlled)."""

MAX_LOGGED_REASON = 200
"""Characters of a rejection reason kept in the rejection log."""

"""A webhook receiver on 127.0.0.1 for tests: checks every signature on its own and records what it accepted.

It answers requests by a script: the n-th request gets the n-th entry (an HTTP status, or
``HANG`` to hold the request open until the test releases it), then 200 for the rest.
Like a real receiver it de-duplicates by ``X-OMS-Event-Id``: ``accepted`` lists every
2xx answer in order, ``accepted_ids`` the distinct events.

    with WebhookReceiver(secret, script=[503, 503]) as receiver:
        WebhookEndpoint.objects.create(channel=channel, url=receiver.url, secret=secret)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"
SIGNATURE_TOLERANCE_SECONDS = 300


@dataclass
class Received:
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: bytes
    signature_ok: bool
    answered: int | str


def signature_is_valid(secret: str, header: str, body: bytes) -> bool:
    """Verify ``t=<unix time>,v1=<hex>`` exactly as the receiver's documentation tells them to."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - timestamp) <= SIGNATURE_TOLERANCE_SECONDS
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookReceiver:
    def __init__(self, secret: str, *, script: list[int | str] = ()):
        self.secret = secret
        self.script = list(script)
        self.received: list[Received] = []
        self.accepted: list[str] = []
        self.hanging = threading.Event()  # set while a HANG request is held open
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/oms"

    @property
    def accepted_ids(self) -> set[str]:
        with self._lock:
            return set(self.accepted)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, headers: dict[str, str], body: bytes) -> int | str:
        ok = signature_is_valid(self.secret, headers.get("x-oms-signature", ""), body)
        ok = ok and json.loads(body).get("id") == headers.get("x-oms-event-id")
        with self._lock:
            answer = self.script[len(self.received)] if len(self.received) < len(self.script) else 200
            if answer == 200 and not ok:
                answer = 401
            self.received.append(Received(headers, body, ok, answer))
            if answer == 200:
                self.accepted.append(headers["x-oms-event-id"])
        return answer

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = receiver._answer({k.lower(): v for k, v in self.headers.items()}, body)
                if answer == HANG:
                    receiver.hanging.set()
                    receiver.release.wait(timeout=60)
                    self.close_connection = True  # the sender is gone; answer nothing
                    return
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

"""A minimal checkout client for the OMS API, using only the standard library.

    OMS_URL=http://127.0.0.1:8000 OMS_TOKEN=oms_… python docs/examples/checkout_client.py TEE000-NVY-XS

Shows availability on a product page, then places an order idempotently and reads its status.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


class OmsError(Exception):
    """A problem+json answer: ``status``, ``detail`` and ``errors`` (field → messages)."""

    def __init__(self, problem: dict):
        super().__init__(f"{problem.get('status')} {problem.get('title')}: {problem.get('detail')}")
        self.problem = problem


class OmsClient:
    def __init__(self, base_url: str, token: str, timeout: float = 10):
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout

    def _call(self, method: str, path: str, body: dict | None = None, idempotency_key: str | None = None) -> dict:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(3):
            request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                problem = json.loads(error.read() or b"{}")
                if error.code == 429 and attempt < 2:  # throttled: wait as told, then retry
                    time.sleep(int(error.headers.get("Retry-After", "1")))
                    continue
                raise OmsError(problem) from None
        raise AssertionError("unreachable")

    def availability(self, lines: list[dict], postcode: str, country: str = "GB", radius_km: float = 25) -> dict:
        destination = {"postcode": postcode, "country": country}
        return self._call(
            "POST", "/api/v1/availability", {"lines": lines, "destination": destination, "pickup_radius_km": radius_km}
        )

    def place_order(self, order: dict, idempotency_key: str) -> dict:
        """Safe to retry with the same key after a timeout: the first order is returned, never a second."""
        return self._call("POST", "/api/v1/orders", order, idempotency_key=idempotency_key)

    def order(self, order_id: int) -> dict:
        return self._call("GET", f"/api/v1/orders/{order_id}")

    def cancel(self, order_id: int, reason: str, lines: list[dict] | None = None) -> dict:
        body = {"reason": reason} | ({"lines": lines} if lines else {})
        return self._call("POST", f"/api/v1/orders/{order_id}/cancel", body, idempotency_key=str(uuid.uuid4()))

    def request_return(self, order_id: int, lines: list[dict]) -> dict:
        return self._call("POST", "/api/v1/returns", {"order": order_id, "lines": lines}, str(uuid.uuid4()))


def main(sku: str) -> None:
    client = OmsClient(os.environ.get("OMS_URL", "http://127.0.0.1:8000"), os.environ["OMS_TOKEN"])
    lines = [{"sku": sku, "quantity": 1}]
    offer = client.availability(lines, postcode="WC2N 5DU")
    print("available:", offer["lines"][0]["available"], "delivery:", offer["delivery"])
    for store in offer["pickup_stores"][:3]:
        print(f"  collect at {store['store']} ({store['distance_km']} km), ready by {store['ready_by']}")
    if not offer["delivery"]["can_fulfil"]:
        return
    checkout_id = f"WEB-{uuid.uuid4().hex[:8].upper()}"
    order = client.place_order(
        {
            "external_id": checkout_id,
            "customer": {"email": "a@example.com", "name": "A. Person"},
            "lines": [{**lines[0], "unit_price": "19.99"}],
            "currency": "GBP",
            "fulfilment": {
                "method": "delivery",
                "address": {"line1": "1 Trafalgar Sq", "city": "London", "postcode": "WC2N 5DU", "country": "GB"},
            },
            "payment": {"status": "authorised", "tenders": [{"type": "card", "amount": "19.99", "reference": "P-1"}]},
        },
        idempotency_key=checkout_id,
    )
    print("order", order["number"], order["status"], [(f["location"], f["method"]) for f in order["fulfilments"]])


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except OmsError as exc:
        print(exc, json.dumps(exc.problem.get("errors") or exc.problem.get("shortfall") or {}), file=sys.stderr)
        sys.exit(1)

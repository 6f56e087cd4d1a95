"""The Prometheus metrics of the channel API, and the decorator that records them.

Counters and histograms live in each process's default registry; with several gunicorn
workers set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, wiped at each deploy) and the
scrape sums every worker, as prometheus-client's multiprocess mode does.
"""

from __future__ import annotations

import os
import time

from prometheus_client import Counter, Histogram

# Placement and availability are answered in milliseconds; a webhook may wait on a slow receiver.
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

ORDERS_PLACED = Counter("oms_order_placements_total", "Order placement requests answered, by HTTP status", ["status"])
ORDER_PLACEMENT_SECONDS = Histogram("oms_order_placement_seconds", "Time to answer an order placement", buckets=_FAST)
AVAILABILITY_ANSWERED = Counter(
    "oms_availability_requests_total", "Availability requests answered, by HTTP status", ["status"]
)
AVAILABILITY_SECONDS = Histogram("oms_availability_seconds", "Time to answer an availability request", buckets=_FAST)
# Webhook delivery attempts are counted where they happen: ``oms.webhooks``.


# (HTTP method, URL name) of the requests measured, and their counter and histogram.
MEASURED = {
    ("POST", "orders"): (ORDERS_PLACED, ORDER_PLACEMENT_SECONDS),
    ("POST", "availability"): (AVAILABILITY_ANSWERED, AVAILABILITY_SECONDS),
}


class RequestMetricsMiddleware:
    """Count and time the measured API requests by their answer's status, errors included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        measured = match and MEASURED.get((request.method, match.url_name))
        if measured:
            counter, histogram = measured
            histogram.observe(time.perf_counter() - started)
            counter.labels(status=str(response.status_code)).inc()
        return response


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

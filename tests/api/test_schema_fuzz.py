"""Generated requests from the committed schema against the running app: no 500s, and every
response (errors included) is one the schema documents, in the documented shape."""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from oms.services import api_token_issue
from tests.orders_support import place

schema = schemathesis.openapi.from_path(Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml")
# Hypothesis' examples (20 per operation, derandomized) keep the run short and repeatable; the
# coverage phase's exhaustive boundary cases would multiply the run time.
schema.config.phases.coverage.enabled = False


@pytest.fixture
def fuzz_token(network, settings) -> str:
    """A channel token over a small network with stock and an order, so some requests hit real rows."""
    settings.OMS_API_RATE = "100000/min"
    for sku in network.skus:
        network.stock(network.soho, sku, 50)
        network.stock(network.warehouse, sku, 50)
    place(network, [(network.skus[0], 1)])
    return api_token_issue(channel=network.web)


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=20, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_generated_requests_as_documented(case, live_server, fuzz_token):
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Token {fuzz_token}"},
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )

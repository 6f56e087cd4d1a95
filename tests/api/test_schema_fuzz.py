"""Generated requests from the committed schema against the running app, every endpoint and every check.

Positive cases (valid by the schema) and negative ones (invalid) run through every built-in
check: no 5xx, only documented status codes, content types, headers and body shapes, invalid
data refused, valid data not refused for its shape, authentication not ignored. Then the
stateful phase follows the links schemathesis infers from the responses (an order's ``id``
into ``/orders/{id}``, ``/orders/{id}/cancel`` …). The seed and example counts are fixed, so
a run is repeatable: 476 requests over the 19 operations and 30 workflows of about 210 steps,
about a minute on SQLite.
"""

from pathlib import Path

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings

from oms.services import api_token_issue
from tests.factories import ChannelFactory, LocationFactory, SkuFactory
from tests.orders_support import Network, place

SEED = 20260101
EXAMPLES = 25  # per operation and mode; about 60 s for all of them on the CI machine
schema = schemathesis.openapi.from_path(Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml")
schema.config.seed = SEED
# The coverage phase's exhaustive boundary cases would multiply the run time; Hypothesis' cases
# in both modes find what it finds on this schema.
schema.config.phases.coverage.enabled = False
# A request valid by the schema can still name an unknown SKU, order or location: the API
# answers 400 or 404 naming it (documented per operation), which is not a refusal of its shape.
schema.config.checks.positive_data_acceptance.expected_statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
HYPOTHESIS = settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
WORKFLOWS = 30
RAN: list[str] = []
STEPS: list[str] = []


def fuzz_world() -> str:
    """Build a small network with stock, an order and the schema example's SKU; return a channel token.

    Everything is built the same way each time (fixed codes), so a workflow run on a fresh
    world meets the same rows as before and Hypothesis can replay it.
    """
    network = Network(
        web=ChannelFactory(code="web"),
        warehouse=LocationFactory(code="WH-MID", kind="warehouse", lat=52.4862, lon=-1.8904, pickup=False),
        soho=LocationFactory(code="ST-SOHO", lat=51.5136, lon=-0.1365),
        camden=LocationFactory(code="ST-CAMDEN", lat=51.5390, lon=-0.1426),
        leeds=LocationFactory(code="ST-LEEDS", lat=53.7997, lon=-1.5492),
        skus=[SkuFactory(code=f"SKU-{n}") for n in (1, 2, 3)],  # SKU-1 is the schema's order example
    )
    for sku in network.skus:
        network.stock(network.soho, sku, 50)
        network.stock(network.warehouse, sku, 50)
    place(network, [(network.skus[0], 1)])
    return api_token_issue(channel=network.web)


@pytest.fixture
def fuzz_token(transactional_db, settings) -> str:
    settings.OMS_API_RATE = "1000000/min"
    return fuzz_world()


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@HYPOTHESIS
def test_api_answers_generated_requests_as_documented(case, live_server, fuzz_token):
    RAN.append(case.operation.label)
    case.call_and_validate(base_url=live_server.url, headers={"Authorization": f"Token {fuzz_token}"})


@pytest.mark.django_db(transaction=True)
def test_api_workflows_along_inferred_links_answer_as_documented(live_server, fuzz_token):
    # Inbound supply is for location systems and administrators: the channel token only ever gets 403 there.
    class Workflow(schema.exclude(tag="inbound").as_state_machine()):
        def setup(self):
            # Each workflow starts from the same world: what an earlier one created or changed
            # would make the links it can follow, and so Hypothesis' replay, differ.
            call_command("flush", interactive=False, verbosity=0)
            self.headers = {"Authorization": f"Token {fuzz_world()}"}

        def get_call_kwargs(self, case):
            return {"base_url": live_server.url, "headers": self.headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            STEPS.append(f"{case.operation.label} {response.status_code}")
            super().validate_response(response, case, additional_checks, **kwargs)

    Workflow.run(settings=settings(HYPOTHESIS, max_examples=WORKFLOWS, stateful_step_count=6))
    assert any(step.startswith("POST /api/v1/orders 201") for step in STEPS), STEPS

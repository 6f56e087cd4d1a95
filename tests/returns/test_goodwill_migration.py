"""The goodwill migration gives every existing refund and refund request the order of its return."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("returns", "0003_refund_request")]
AFTER = [("returns", "0005_goodwill_refunds_required_order")]


@pytest.mark.django_db(transaction=True)
def test_existing_refunds_and_requests_belong_to_their_returns_order():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    channel = apps.get_model("inventory", "Channel").objects.create(code="web", name="Web", kind="web")
    order = apps.get_model("oms", "Order").objects.create(
        channel=channel, external_id="W-1", currency="GBP", method="delivery", number="O-MIGRATE1"
    )
    ret = apps.get_model("returns", "Return").objects.create(order=order, reference="R-MIGRATE1")
    apps.get_model("returns", "Refund").objects.create(ret=ret, amount="5.00", currency="GBP", method="store_credit")
    apps.get_model("returns", "RefundRequest").objects.create(
        ret=ret, amount="5.00", currency="GBP", method="store_credit", status="approved"
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    assert list(apps.get_model("returns", "Refund").objects.values_list("order_id", "goodwill_reason")) == [
        (order.pk, "")
    ]
    assert list(apps.get_model("returns", "RefundRequest").objects.values_list("order_id", flat=True)) == [order.pk]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

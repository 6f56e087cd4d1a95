"""Every model has a working admin page: list, search and the detail of a real record."""

import io

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_with_demo(client):
    call_command("generate_demo_data", "--stores", "4", "--skus", "12", "--orders", "15", stdout=io.StringIO())
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_every_registered_model_lists_searches_and_opens_a_record(admin_client_with_demo):
    client = admin_client_with_demo
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = f"/admin/{opts.app_label}/{opts.model_name}/"
        assert client.get(changelist).status_code == 200, changelist
        if model_admin.search_fields:
            assert client.get(changelist, {"q": "a"}).status_code == 200, changelist
        first = model.objects.order_by("pk").first()
        if first is not None:
            assert client.get(f"{changelist}{first.pk}/change/").status_code == 200, opts.label


def test_ledger_and_orders_cannot_be_edited_in_the_admin(admin_client_with_demo):
    from inventory.models import StockMovement
    from oms.models import Order

    client = admin_client_with_demo
    movement = StockMovement.objects.first()
    order = Order.objects.first()
    assert client.post(f"/admin/inventory/stockmovement/{movement.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/oms/order/{order.pk}/change/", {"status": "cancelled"}).status_code == 403
    assert StockMovement.objects.filter(pk=movement.pk).exists()
    assert Order.objects.get(pk=order.pk).status == order.status

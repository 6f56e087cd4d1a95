"""Routing's hand-written candidate read gives what the models hold, and fails loudly when they change under it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from fulfilment.models import ShippingCost
from fulfilment.sql import CANDIDATE_FIELDS, candidate_locations
from inventory.models import Location

pytestmark = pytest.mark.django_db


def test_every_candidate_field_is_a_location_column():
    columns = {f.name for f in Location._meta.concrete_fields}
    assert set(CANDIDATE_FIELDS) <= columns


def test_the_read_gives_the_fields_todays_count_and_the_most_specific_cost(network):
    soho = network.soho
    soho.daily_capacity = 5
    soho.save(update_fields=["daily_capacity"])
    ShippingCost.objects.create(location=soho, zone="", cost=Decimal("9.00"))
    ShippingCost.objects.create(location=soho, zone="GB", cost=Decimal("6.00"))
    ShippingCost.objects.create(location=soho, zone="GB-SW", cost=Decimal("4.50"))
    inactive = Location.objects.filter(pk=network.camden.pk)
    inactive.update(active=False)

    rows = candidate_locations(ids=[soho.pk, network.camden.pk], zones=("GB-SW", "GB"), since=timezone.now())

    assert len(rows) == 1  # inactive locations are never candidates
    values = dict(zip([*CANDIDATE_FIELDS, "used", "cost"], rows[0], strict=True))
    assert (values["id"], values["code"], values["daily_capacity"], values["used"]) == (soho.pk, soho.code, 5, 0)
    assert Decimal(str(values["cost"])) == Decimal("4.50")
    other = candidate_locations(ids=[soho.pk], zones=("IE",), since=timezone.now())
    assert Decimal(str(other[0][-1])) == Decimal("9.00")  # no cost for the zone: the cost to any destination

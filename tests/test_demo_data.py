import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory.models import (
    Channel,
    ChannelCap,
    InboundSupply,
    Location,
    Reservation,
    Sku,
    SkuAlias,
    StockLevel,
    StockMovement,
    Transfer,
    gtin_check_digit_is_valid,
)
from inventory.selectors import inventory_discrepancies
from omnichannel.management.commands import generate_demo_data
from oms.models import ApiToken, Customer, Order
from returns.models import Refund, Return

pytestmark = pytest.mark.django_db


def generate(*args) -> str:
    out = io.StringIO()
    call_command("generate_demo_data", "--orders", "12", *args, stdout=out)
    return out.getvalue()


def network_fingerprint():
    return (
        list(Location.objects.order_by("code").values_list("code", "name", "lat", "lon", "postcode", "ships")),
        list(Sku.objects.order_by("code").values_list("code", "name", "barcodes__code", "attributes")),
        list(SkuAlias.objects.order_by("code").values_list("code", "sku__code")),
        list(
            StockLevel.objects.order_by("location__code", "sku__code").values_list(
                "location__code", "sku__code", "on_hand"
            )
        ),
    )


def wipe():
    """Empty the demo tables; the ledger is append-only in the product, not between test runs."""
    for model in (Refund, Return, Order, Customer, Reservation, StockMovement, InboundSupply, Transfer):
        model.objects.all().delete()
    for model in (StockLevel, ChannelCap, ApiToken, Sku, Channel, Location):
        model.objects.all().delete()


def test_small_network_has_every_part_and_a_consistent_ledger():
    out = generate("--stores", "8", "--skus", "40", "--seed", "3")
    assert Location.objects.filter(kind="warehouse").count() == 2
    assert Location.objects.filter(kind="store").count() == 8
    assert Sku.objects.count() == 40
    assert InboundSupply.objects.filter(location__kind="warehouse").count() == 4
    assert InboundSupply.objects.filter(location__kind="store").count() == 5
    logins = generate_demo_data.demo_login_stores()
    assert len(logins) == 2 and all(InboundSupply.objects.filter(location__code=code).exists() for code in logins)
    assert all(gtin_check_digit_is_valid(s.barcodes.get().code) for s in Sku.objects.all())
    assert SkuAlias.objects.filter(channel__code="marketplace").count() == 40
    assert set(Channel.objects.values_list("code", flat=True)) == {"web", "app", "store", "marketplace", "livestream"}
    live = Channel.objects.get(code="livestream")
    assert set(live.sells_from.values_list("kind", flat=True)) == {"warehouse"}
    assert live.caps.count() == 5
    assert Channel.objects.get(code="marketplace").buffer == 2
    assert out.count(" token: oms_") == 5
    assert StockLevel.objects.filter(location__kind="warehouse", on_hand__gte=40).count() > 60
    assert StockLevel.objects.filter(location__kind="store").exists()
    assert inventory_discrepancies() == []


def test_the_same_seed_gives_the_same_network_and_another_seed_another():
    generate("--stores", "5", "--skus", "30", "--seed", "11")
    first = network_fingerprint()
    wipe()
    generate("--stores", "5", "--skus", "30", "--seed", "11")
    assert network_fingerprint() == first
    wipe()
    generate("--stores", "5", "--skus", "30", "--seed", "12")
    assert network_fingerprint() != first


def test_more_stores_than_towns_get_sites_near_the_same_town():
    towns = len(generate_demo_data.read_cities())
    generate("--stores", str(towns + 3), "--skus", "5", "--seed", "1")
    extra = Location.objects.filter(kind="store").exclude(code__endswith="-1")
    assert extra.count() == 3
    for shop in extra:
        first = Location.objects.get(code=shop.code.rsplit("-", 1)[0] + "-1")
        assert abs(shop.lat - first.lat) <= 0.03 and abs(shop.lon - first.lon) <= 0.05
        assert shop.name != first.name


def test_refuses_a_database_that_already_has_locations(store):
    with pytest.raises(CommandError, match="already has locations"):
        generate("--stores", "2", "--skus", "5")
    assert Location.objects.count() == 1


def test_default_size_is_sixty_stores_and_two_warehouses():
    parser = generate_demo_data.Command().create_parser("manage.py", "generate_demo_data")
    options = parser.parse_args([])
    assert (options.stores, options.skus) == (60, 600)
    assert len(generate_demo_data.WAREHOUSES) == 2


def test_the_town_table_holds_real_places_in_the_uk_and_ireland():
    cities = generate_demo_data.read_cities()
    assert len(cities) >= 250
    assert len({c["name"] for c in cities}) == len(cities)
    for city in cities:
        assert 49.9 <= float(city["lat"]) <= 60.9 and -10.5 <= float(city["lon"]) <= 1.8, city["name"]
        assert city["country"] in {"GB", "IE"} and city["postcode"]

"""Generate a realistic UK and Irish retail network: locations, channels, catalogue and stock.

Everything is drawn from one ``random.Random(seed)``, so a seed always gives the same
network. The work is a list of named steps (STEPS); a layer that adds data of its own,
such as an order history, appends its step there and receives the same DemoNetwork.
"""

from __future__ import annotations

import csv
import random
import re
import string
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils import timezone

from fulfilment.models import ShippingCost
from inventory.credentials import location_credential_issue
from inventory.inbound import inbound_create
from inventory.models import Barcode, Channel, ChannelCap, Location, Sku, SkuAlias, gtin_check_digit_is_valid
from inventory.stock_feed import stock_feed_apply
from omnichannel.demo_orders import make_orders
from oms.services import channel_create

CITIES_CSV = Path(__file__).resolve().parents[2] / "data" / "cities.csv"

WAREHOUSES = [
    # code, name, lat, lon, address, city, postcode
    ("WH-MIDLANDS", "Midlands distribution centre", 52.2742, -1.1543, "Royal Oak Way North", "Daventry", "NN11 8PQ"),
    ("WH-NORTH", "North distribution centre", 53.6995, -1.4103, "Europort, Normanton", "Wakefield", "WF6 1TX"),
]
SITES = ["Retail Park", "Shopping Centre", "Station", "Market Place", "Outlet", "High Street"]
STREETS = [
    "High Street",
    "Market Street",
    "Church Street",
    "King Street",
    "Queen Street",
    "Station Road",
    "Bridge Street",
]
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in inward codes

COLOURS = [
    ("BLK", "Black"), ("NVY", "Navy"), ("WHT", "White"), ("GRY", "Grey marl"), ("OLV", "Olive"),
    ("RST", "Rust"), ("SKY", "Sky blue"), ("CRM", "Cream"), ("BRG", "Burgundy"), ("SGE", "Sage"),
]  # fmt: skip
SIZES = {
    "tops": ["XS", "S", "M", "L", "XL", "XXL"],
    "waist": ["28", "30", "32", "34", "36", "38"],
    "dress": ["6", "8", "10", "12", "14", "16", "18"],
    "shoe": ["UK4", "UK5", "UK6", "UK7", "UK8", "UK9", "UK10", "UK11"],
    "bed": ["SINGLE", "DOUBLE", "KING", "SUPERKING"],
    "one": ["OS"],
}
# category, style code, name, size run, price
PRODUCTS = [
    ("tops", "TEE", "Organic cotton crew tee", "tops", "12.00"),
    ("tops", "OXF", "Oxford shirt", "tops", "32.00"),
    ("knitwear", "JMP", "Lambswool crew jumper", "tops", "45.00"),
    ("knitwear", "CRD", "Cable knit cardigan", "tops", "52.00"),
    ("outerwear", "PKA", "Waterproof parka", "tops", "95.00"),
    ("outerwear", "QLT", "Lightweight quilted jacket", "tops", "68.00"),
    ("bottoms", "JNS", "Slim stretch jeans", "waist", "40.00"),
    ("bottoms", "CHN", "Cotton chinos", "waist", "35.00"),
    ("dresses", "DRS", "Jersey midi dress", "dress", "39.00"),
    ("dresses", "SHD", "Linen shirt dress", "dress", "49.00"),
    ("footwear", "TRN", "Leather trainers", "shoe", "65.00"),
    ("footwear", "CHB", "Suede chelsea boots", "shoe", "85.00"),
    ("accessories", "SCF", "Wool scarf", "one", "22.00"),
    ("accessories", "BNE", "Ribbed beanie", "one", "14.00"),
    ("home", "DUV", "Percale duvet cover", "bed", "45.00"),
    ("home", "SHT", "Brushed cotton fitted sheet", "bed", "25.00"),
    ("home", "TWL", "Egyptian cotton bath towel", "one", "18.00"),
    ("home", "CSH", "Velvet cushion", "one", "20.00"),
    ("home", "THR", "Herringbone throw", "one", "38.00"),
    ("home", "MUG", "Stoneware mug", "one", "8.00"),
    ("home", "CND", "Scented candle", "one", "16.00"),
]
RANGES = ["Essential", "Heritage", "Coast", "Studio", "Highland", "Harbour", "Meadow", "Urban", "Loch", "Dales"]
CHANNELS = [
    # code, name, kind
    ("web", "Web shop", Channel.Kind.WEB),
    ("app", "Mobile app", Channel.Kind.APP),
    ("store", "Store tills and endless aisle", Channel.Kind.STORE),
    ("marketplace", "Marketplace", Channel.Kind.MARKETPLACE),
    ("livestream", "Live shopping", Channel.Kind.LIVESTREAM),
]


@dataclass
class DemoNetwork:
    """What the steps share: the options, the one random source, and what earlier steps made."""

    rng: random.Random
    stores: int
    skus: int
    orders: int
    out: OutputWrapper
    warehouses: list[Location] = field(default_factory=list)
    shops: list[Location] = field(default_factory=list)
    catalogue: list[Sku] = field(default_factory=list)
    channels: dict[str, Channel] = field(default_factory=dict)


def read_cities() -> list[dict]:
    """The shipped table of real towns and cities, largest first."""
    with CITIES_CSV.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")[:20]


def _postcode(rng: random.Random, outward: str, country: str) -> str:
    if country == "IE":  # an Eircode: routing key and a four-character unique identifier
        return f"{outward} {''.join(rng.choices(string.ascii_uppercase + string.digits, k=4))}"
    return f"{outward} {rng.randint(1, 9)}{''.join(rng.choices(POSTCODE_LETTERS, k=2))}"


def make_locations(network: DemoNetwork) -> None:
    """Two central warehouses and stores in real towns, more of them in the larger ones."""
    rng = network.rng
    network.warehouses = Location.objects.bulk_create(
        Location(
            code=code,
            name=name,
            kind=Location.Kind.WAREHOUSE,
            lat=lat,
            lon=lon,
            address=address,
            city=city,
            postcode=postcode,
            ships=True,
            pickup=False,
            accepts_returns=True,
            daily_capacity=20_000,
            priority=10,
        )  # fmt: skip
        for code, name, lat, lon, address, city, postcode in WAREHOUSES
    )
    cities = read_cities()
    # Past one store per town, extra stores go to towns in proportion to their size rank.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(cities))]
    picks = cities[: network.stores] + rng.choices(cities, weights, k=max(0, network.stores - len(cities)))
    seen: Counter[str] = Counter()
    shops = []
    for city in picks:
        seen[city["name"]] += 1
        nth = seen[city["name"]]
        lat, lon = float(city["lat"]), float(city["lon"])
        if nth > 1:
            lat, lon = lat + rng.uniform(-0.03, 0.03), lon + rng.uniform(-0.05, 0.05)
        site = "" if nth == 1 else f" {SITES[(nth - 2) % len(SITES)]}" + (f" {nth}" if nth > len(SITES) + 1 else "")
        ships = rng.random() < 0.7
        shops.append(
            Location(
                code=f"ST-{_slug(city['name'])}-{nth}",
                name=f"{city['name']}{site}",
                kind=Location.Kind.STORE,
                lat=round(lat, 5),
                lon=round(lon, 5),
                address=f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
                city=city["name"],
                postcode=_postcode(rng, city["postcode"], city["country"]),
                country=city["country"],
                timezone="Europe/Dublin" if city["country"] == "IE" else "Europe/London",
                ships=ships,
                pickup=True,
                accepts_returns=True,
                daily_capacity=rng.choice([20, 30, 40, 60, 80]) if ships else None,
            )
        )
    network.shops = Location.objects.bulk_create(shops, batch_size=500)
    network.out.write(f"  {len(network.warehouses)} warehouses, {len(network.shops)} stores")


def make_shipping_costs(network: DemoNetwork) -> None:
    """Parcel rates routing weighs: warehouses ship on a contract rate, stores by courier at a store's own rate.

    Each store's rate is drawn from its own code, so adding this step leaves the rest of
    the seeded network as it was. Crossing the Irish Sea costs more in both directions.
    """
    costs = []
    for warehouse in network.warehouses:
        costs += [ShippingCost(location=warehouse, zone="", cost=Decimal("3.95"))]
        costs += [ShippingCost(location=warehouse, zone="IE", cost=Decimal("9.50"))]
        costs += [ShippingCost(location=warehouse, zone="GB-BT", cost=Decimal("7.25"))]  # Northern Ireland
    for shop in network.shops:
        rate = Decimal(str(round(random.Random(shop.code).uniform(5.5, 8.5), 2)))
        costs += [ShippingCost(location=shop, zone="", cost=rate)]
        abroad = "GB" if shop.country == "IE" else "IE"
        costs += [ShippingCost(location=shop, zone=abroad, cost=rate + Decimal("6.00"))]
    ShippingCost.objects.bulk_create(costs, batch_size=500)
    network.out.write(f"  {len(costs)} shipping costs (warehouses 3.95 in Great Britain; stores 5.50 to 8.50)")


def make_channels(network: DemoNetwork) -> None:
    """The five sales channels, each with its API token printed once."""
    for code, name, kind in CHANNELS:
        channel, token = channel_create(code=code, name=name, kind=kind)
        network.channels[code] = channel
        network.out.write(f"  channel {code} token: {token}")


def make_location_credentials(network: DemoNetwork) -> None:
    """The warehouses' WMS may send stock feeds for both warehouses; its token is printed once."""
    codes = [w.code for w in network.warehouses]
    _, token = location_credential_issue(name="warehouse-wms", location_codes=codes)
    network.out.write(f"  location credential warehouse-wms ({', '.join(codes)}) token: {token}")


def _gtin13(number: int) -> str:
    body = f"5060{number:08d}"  # 50: the UK's GS1 prefix
    return next(body + d for d in string.digits if gtin_check_digit_is_valid(body + d))


def make_catalogue(network: DemoNetwork) -> None:
    """Apparel and home products in colours and sizes, each SKU with a GTIN-13 and a marketplace code."""
    rng = network.rng
    skus = []
    for line in count():
        for category, style, name, size_run, price in PRODUCTS:
            range_name = RANGES[line % len(RANGES)] + (f" {line // len(RANGES) + 1}" if line >= len(RANGES) else "")
            for colour_code, colour in rng.sample(COLOURS, rng.randint(2, 4)):
                for size in SIZES[size_run]:
                    skus.append(
                        Sku(
                            code=f"{style}{line:03d}-{colour_code}-{size}",
                            name=f"{range_name} {name.lower()}, {colour.lower()}, {size}",
                            category=category,
                            attributes={"colour": colour, "size": size, "range": range_name, "price": price},
                        )
                    )
        if len(skus) >= network.skus:
            break
    network.catalogue = Sku.objects.bulk_create(skus[: network.skus], batch_size=500)
    Barcode.objects.bulk_create(
        (Barcode(code=_gtin13(i + 1), sku=sku) for i, sku in enumerate(network.catalogue)), batch_size=500
    )
    marketplace = network.channels["marketplace"]
    codes = {f"B0{''.join(rng.choices(string.ascii_uppercase + string.digits, k=8))}" for _ in network.catalogue}
    while len(codes) < len(network.catalogue):
        codes.add(f"B0{''.join(rng.choices(string.ascii_uppercase + string.digits, k=8))}")
    aliases = zip(sorted(codes), network.catalogue, strict=True)
    SkuAlias.objects.bulk_create(
        (SkuAlias(channel=marketplace, code=code, sku=sku) for code, sku in aliases), batch_size=500
    )
    network.out.write(f"  {len(network.catalogue)} SKUs with barcodes and marketplace codes")


def set_channel_policies(network: DemoNetwork) -> None:
    """Hold units back from the marketplace; keep live shopping to the warehouses, capped per SKU."""
    marketplace, live = network.channels["marketplace"], network.channels["livestream"]
    marketplace.buffer = 2
    marketplace.save(update_fields=["buffer"])
    live.sells_from.set(network.warehouses)
    featured = network.rng.sample(network.catalogue, min(5, len(network.catalogue)))
    ChannelCap.objects.bulk_create(ChannelCap(channel=live, sku=sku, quantity=50) for sku in featured)
    network.out.write(f"  marketplace buffer 2; livestream sells from warehouses, capped on {len(featured)} SKUs")


def _stock_rows(network: DemoNetwork):
    rng = network.rng
    for warehouse in network.warehouses:
        for sku in network.catalogue:
            if rng.random() < 0.97:
                yield warehouse.code, sku.code, rng.randint(40, 400)
    for shop in network.shops:
        ranged = rng.uniform(0.3, 0.7)
        for sku in network.catalogue:
            if rng.random() < ranged:
                # Shallow and patchy: a fifth of what a store ranges is sold out.
                yield shop.code, sku.code, 0 if rng.random() < 0.2 else rng.randint(1, 8)


def make_stock(network: DemoNetwork) -> None:
    """Opening stock through the stock feed, so the ledger agrees with every counter."""
    result = stock_feed_apply(rows=_stock_rows(network), mode="snapshot", reference="demo:opening-stock")
    if result.rejected:
        raise CommandError(f"Opening stock was refused: {result.rejected[0]}")
    network.out.write(f"  {result.applied} stock levels")


def demo_login_stores(n: int = 2) -> list[str]:
    """The stores the demo's store-staff login works at: the first that ship and take collections, by priority."""
    stores = Location.objects.filter(kind=Location.Kind.STORE, pickup=True, ships=True, active=True)
    return list(stores.order_by("-priority", "code").values_list("code", flat=True)[:n])


def make_inbound_supply(network: DemoNetwork) -> None:
    """Deliveries due from suppliers: two per warehouse and one for each of five stores, over the next fortnight.

    The stores of the demo's store login come first, so its "Deliveries due" page has work on
    it. Drawn from a random source of its own, so the data of every other step stays as it was.
    """
    rng, today = random.Random(f"inbound:{len(network.catalogue)}"), timezone.localdate()
    login = set(demo_login_stores())
    stores = sorted(network.shops, key=lambda shop: shop.code not in login)[:5]
    places = [(w, 2, (60, 240)) for w in network.warehouses] + [(s, 1, (2, 12)) for s in stores]
    made = 0
    for location, documents, (fewest, most) in places:
        for n in range(documents):
            skus = rng.sample(network.catalogue, k=min(len(network.catalogue), rng.randint(3, 8)))
            inbound_create(
                reference=f"PO-{location.code}-{n + 1}",
                location=location.code,
                expected_on=today + timedelta(days=rng.randint(1, 14)),
                lines=[(sku.code, rng.randint(fewest, most)) for sku in skus],
            )
            made += 1
    network.out.write(f"  {made} deliveries due")


STEPS: list[tuple[str, Callable[[DemoNetwork], None]]] = [
    ("locations", make_locations),
    ("shipping costs", make_shipping_costs),
    ("channels", make_channels),
    ("location credentials", make_location_credentials),
    ("catalogue", make_catalogue),
    ("channel policies", set_channel_policies),
    ("stock", make_stock),
    ("orders", make_orders),
    ("inbound supply", make_inbound_supply),
]


class Command(BaseCommand):
    help = (
        "Fill an empty database with a demo retail network: stores in real UK and Irish towns, two "
        "warehouses, channels (tokens printed), a catalogue and stock. Same --seed, same network."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stores", type=int, default=60)
        parser.add_argument("--skus", type=int, default=600)
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument("--orders", type=int, default=150, help="Order history to place and move along.")

    def handle(self, *args, stores: int, skus: int, seed: int, orders: int, **options):
        if stores < 1 or skus < 5:
            raise CommandError("--stores must be at least 1 and --skus at least 5.")
        # Adding a second network to live data would mix demo stock into real counters.
        if Location.objects.exists() or Channel.objects.exists():
            raise CommandError("The database already has locations or channels; run this on an empty database.")
        network = DemoNetwork(rng=random.Random(seed), stores=stores, skus=skus, orders=orders, out=self.stdout)
        for name, step in STEPS:
            started = time.perf_counter()
            self.stdout.write(f"{name}…")
            step(network)
            self.stdout.write(f"  done in {time.perf_counter() - started:.1f} s")
        self.stdout.write(self.style.SUCCESS(f"Demo network ready (seed {seed})."))

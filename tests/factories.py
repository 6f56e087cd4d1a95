import factory

from inventory.models import Channel, Location, Sku


def gtin13(n: int) -> str:
    body = f"50{n:010d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = "apparel"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"LOC-{n:04d}")
    name = factory.Sequence(lambda n: f"Location {n}")
    kind = Location.Kind.STORE
    city = "London"
    lat = 51.5074
    lon = -0.1278
    ships = True
    pickup = True
    accepts_returns = True


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    code = factory.Sequence(lambda n: f"web{n}")
    name = factory.Sequence(lambda n: f"Web shop {n}")
    kind = Channel.Kind.WEB

"""Store staff UI URLs, all under /store/<code>/ (the store is checked against the person's stores)."""

from django.urls import path

from .views import stock, work

urlpatterns = [
    # Work queue, ship-from-store, click-and-collect handover (views/work.py).
    path("", work.queue, name="queue"),
    path("pickups/", work.pickups, name="pickups"),
    # Stock look-up, adjust/count, inbound transfers, endless aisle (views/stock.py).
    path("stock/", stock.stock, name="stock"),
    path("order/", stock.aisle, name="aisle"),
]

from django.urls import path, register_converter

from . import availability, fulfilments, inbound, orders, returns, sales, stock
from .common import IdConverter

register_converter(IdConverter, "id")

app_name = "api"

urlpatterns = [
    path("availability", availability.AvailabilityView.as_view(), name="availability"),
    path("orders", orders.OrderListCreateView.as_view(), name="orders"),
    path("orders/<id:pk>", orders.OrderDetailView.as_view(), name="order"),
    path("orders/<id:pk>/cancel", orders.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<id:pk>/address", orders.OrderAddressView.as_view(), name="order-address"),
    *[
        path(f"fulfilments/<id:pk>/{action}", view.as_view(), name=f"fulfilment-{action}")
        for action, view in fulfilments.ACTIONS.items()
    ],
    path("sales", sales.SaleCreateView.as_view(), name="sales"),
    path("returns", returns.ReturnCreateView.as_view(), name="returns"),
    path("returns/<id:pk>", returns.ReturnDetailView.as_view(), name="return"),
    path("returns/<id:pk>/receive", returns.ReturnReceiveView.as_view(), name="return-receive"),
    path("stock", stock.StockView.as_view(), name="stock"),
    path("stock-feeds", stock.StockFeedView.as_view(), name="stock-feeds"),
    path("skus", stock.SkuListView.as_view(), name="skus"),
    path("catalogue/<str:code>", stock.CatalogueView.as_view(), name="catalogue"),
    path("inbound", inbound.InboundCreateView.as_view(), name="inbound"),
    # References may hold "/", so the receipt's longer path is matched first.
    path("inbound/<path:reference>/receive", inbound.InboundReceiveView.as_view(), name="inbound-receive"),
    path("inbound/<path:reference>", inbound.InboundDetailView.as_view(), name="inbound-detail"),
]

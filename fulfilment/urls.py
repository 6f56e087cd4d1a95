"""Store staff UI URLs, all under /store/<code>/ (the store is checked against the person's stores)."""

from django.urls import path

from .views import deliveries, pick, pickup, stock, store_ops, transfers, work

urlpatterns = [
    # Work queue and one fulfilment (views/work.py), picking (views/pick.py), the pickup counter (views/pickup.py).
    path("", work.queue, name="queue"),
    path("work/<int:pk>/", work.fulfilment_detail, name="fulfilment"),
    path("work/<int:pk>/accept/", work.accept, name="fulfilment_accept"),
    path("work/<int:pk>/decline/", work.decline, name="fulfilment_decline"),
    path("work/<int:pk>/pick/", pick.pick, name="pick"),
    path("work/<int:pk>/pick/scan/", pick.pick_scan, name="pick_scan"),
    path("work/<int:pk>/pick/undo/", pick.pick_undo, name="pick_undo"),
    path("work/<int:pk>/pick/confirm/", pick.pick_confirm, name="pick_confirm"),
    path("work/<int:pk>/pick-list/", pick.pick_list, name="pick_list"),
    path("work/<int:pk>/pack/", work.pack, name="fulfilment_pack"),
    path("work/<int:pk>/packing-slip/", work.packing_slip, name="packing_slip"),
    path("work/<int:pk>/ship/", work.ship, name="fulfilment_ship"),
    path("work/<int:pk>/ready/", work.ready, name="fulfilment_ready"),
    path("pause/", store_ops.pause, name="pause"),
    path("resume/", store_ops.resume, name="resume"),
    path("pickups/", pickup.pickups, name="pickups"),
    path("pickups/handover/", pickup.handover, name="handover"),
    path("pickups/<int:pk>/collect/", pickup.collect, name="fulfilment_collect"),
    path("pickups/<int:pk>/put-back/", pickup.put_back, name="fulfilment_put_back"),
    # Stock look-up, adjust/count, inbound transfers, endless aisle (views/stock.py).
    path("stock/", stock.stock, name="stock"),
    path("stock/adjust/", stock.adjust, name="stock_adjust"),
    path("stock/count/", stock.count, name="stock_count"),
    path("stock/sales/", store_ops.sales_and_counts, name="stock_sales"),
    # Transfers: shipped from the queue, received on the stock page (views/transfers.py).
    path("transfers/<int:transfer_id>/ship/", transfers.ship, name="transfer_ship"),
    path("stock/transfers/<int:transfer_id>/receive/", transfers.receive, name="transfer_receive"),
    path("stock/transfers/receive/", transfers.receive_scan, name="transfer_receive_scan"),
    # Suppliers' deliveries due, received by scanning (views/deliveries.py).
    path("stock/deliveries/", deliveries.deliveries, name="deliveries"),
    path("stock/deliveries/<int:supply_id>/receive/", deliveries.receive, name="delivery_receive"),
    path("order/", stock.aisle, name="aisle"),
    path("order/<str:number>/", stock.aisle_placed, name="aisle_placed"),
]

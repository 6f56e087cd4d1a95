"""Returns desk URLs, under /store/<code>/returns/ beside the rest of the store UI."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.desk, name="returns"),
    path("order/<int:order_id>/", views.order_detail, name="return_order"),
    path("<str:reference>/", views.return_detail, name="return"),
    path("<str:reference>/refund/", views.refund_preview, name="return_refund"),
    path("<str:reference>/settle/", views.settle, name="return_settle"),
    path("<str:reference>/receipt/", views.receipt, name="return_receipt"),
]

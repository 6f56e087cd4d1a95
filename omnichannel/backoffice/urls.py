"""The customer-service back office: search, customer 360, order page and its actions.

It lives in the project package because it spans every app (orders, fulfilments, returns).
"""

from django.urls import path

from omnichannel.privacy import views as privacy

from . import approvals, views, worklist_views

app_name = "backoffice"
urlpatterns = [
    path("", views.search, name="home"),
    path("worklists/<slug:slug>/", worklist_views.worklist, name="worklist"),
    path("customers/<int:pk>/", views.customer, name="customer"),
    path("customers/<int:pk>/merge/", views.customer_merge, name="customer_merge"),
    path("customers/<int:pk>/export/", privacy.customer_export_download, name="customer_export"),
    path("customers/<int:pk>/erase/", privacy.customer_erase_confirm, name="customer_erase"),
    path("orders/<int:pk>/", views.order, name="order"),
    path("orders/<int:pk>/<slug:action>/", views.order_action, name="order_action"),
    path("orders/<int:pk>/returns/<str:reference>/refund/", views.refund_preview, name="refund_preview"),
    path("refund-approvals/", approvals.approval_list, name="approvals"),
    path("refund-approvals/<int:pk>/<slug:decision>/", approvals.approval_decide, name="approval_decide"),
]

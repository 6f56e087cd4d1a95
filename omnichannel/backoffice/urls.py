"""The customer-service back office: search, customer 360, order page and its actions.

It lives in the project package because it spans every app (orders, fulfilments, returns).
"""

from django.urls import path

from . import views

app_name = "backoffice"
urlpatterns = [
    path("", views.search, name="home"),
    path("customers/<int:pk>/", views.customer, name="customer"),
    path("customers/<int:pk>/merge/", views.customer_merge, name="customer_merge"),
    path("orders/<int:pk>/", views.order, name="order"),
    path("orders/<int:pk>/<slug:action>/", views.order_action, name="order_action"),
]

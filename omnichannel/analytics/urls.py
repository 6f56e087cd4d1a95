from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<slug:slug>.csv", views.export, name="export"),
    path("routing-lab/", views.lab, name="lab"),
    path("cross-channel/", views.cross_channel, name="cross_channel"),
]

"""Returns desk URLs, under /store/<code>/returns/ beside the rest of the store UI."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.desk, name="returns"),
]

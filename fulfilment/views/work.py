from django.shortcuts import render

from .common import store_page


@store_page
def queue(request, store):
    return render(request, "store/base.html", {"store": store})


@store_page
def pickups(request, store):
    return render(request, "store/base.html", {"store": store})

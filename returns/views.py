from django.shortcuts import render

from fulfilment.views.common import store_page


@store_page
def desk(request, store):
    return render(request, "store/base.html", {"store": store})

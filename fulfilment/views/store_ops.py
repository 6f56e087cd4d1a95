"""Store operations pages: the store's till sales and the SKUs it is asked to count."""

from __future__ import annotations

from django.shortcuts import render

from inventory.till import count_flags_open, till_sales

from .common import store_page


@store_page
def sales_and_counts(request, store):
    """What the tills sold here, newest first, and the SKUs to count because a sale proved the books wrong."""
    context = {"store": store, "sales": till_sales(location=store), "flags": count_flags_open(location=store)}
    return render(request, "store/stock/sales.html", context)

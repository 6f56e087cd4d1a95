"""The cross-channel page's reports: one table (on the page and as CSV) and one chart each."""

from __future__ import annotations

from collections.abc import Callable

from . import kpis
from .charts import bar_chart
from .reports import Column, Report, display
from .selectors import AnalyticsFilters, share


def contribution(filters: AnalyticsFilters) -> Report:
    rows = kpis.channel_contribution(filters=filters)
    return Report(
        "contribution",
        "Contribution by channel",
        [
            Column("Channel"),
            Column("Orders", "int"),
            Column("Revenue", "money"),
            Column("Share of revenue", "rate"),
            Column("Margin", "money"),
            Column("Margin rate", "rate"),
            Column("Cost known for", "rate"),
        ],
        [[r.code, r.orders, r.revenue, r.revenue_share, r.margin, r.margin_rate, r.cost_coverage] for r in rows],
        bar_chart(
            "Revenue by channel",
            [r.code for r in rows],
            [("Revenue", [float(r.revenue) for r in rows])],
            lambda v: display(v, "money"),
        ),
        note="Margin: revenue less unit cost, over the units whose SKU has a cost; 'Cost known for' says how much "
        "of the revenue that covers.",
    )


def lifetime(filters: AnalyticsFilters, customers: kpis.CrossChannelCustomers | None = None) -> Report:
    found = customers or kpis.cross_channel_customers(filters=filters)
    return Report(
        "lifetime-value",
        "Customer lifetime value by channels used",
        [Column("Bought through"), Column("Customers", "int"), Column("Share", "rate"), Column("Mean value", "money")],
        [[b.label, b.customers, b.share, b.mean_value] for b in found.bands],
        bar_chart(
            "Mean lifetime value",
            [b.label for b in found.bands],
            [("Mean value", [float(b.mean_value or 0) for b in found.bands])],
            lambda v: display(v, "money"),
        ),
        note="Customers who ordered in the period, over every order they ever placed through any channel "
        "(cancelled units left out). The channel filter does not apply.",
    )


def crossing(filters: AnalyticsFilters, customers: kpis.CrossChannelCustomers | None = None) -> Report:
    found = customers or kpis.cross_channel_customers(filters=filters)
    rows = [
        ["First online, later in a store", found.first_online, found.online_then_store, found.online_to_store_rate],
        ["First in a store, later online", found.first_store, found.store_then_online, found.store_to_online_rate],
    ]
    return Report(
        "crossing",
        "Customers crossing channels",
        [Column("Path"), Column("Customers", "int"), Column("Crossed", "int"), Column("Rate", "rate")],
        rows,
        bar_chart(
            "Crossing rate", [r[0] for r in rows], [("Rate", [r[3] for r in rows])], lambda v: display(v, "rate")
        ),
        note="Of the customers who ordered in the period, by where their first order ever was; crossed: they "
        "have since bought through the other kind of channel.",
    )


def store_service(filters: AnalyticsFilters) -> Report:
    rows = kpis.served_by_another_channels_store(filters=filters)
    return Report(
        "store-service",
        "Orders a store served for another channel",
        [Column("Channel"), Column("Orders", "int"), Column("Served by a store", "int"), Column("Share", "rate")],
        [[r.code, r.orders, r.served_by_store, r.rate] for r in rows],
        bar_chart(
            "Share served by a store",
            [r.code for r in rows],
            [("Share", [r.rate for r in rows])],
            lambda v: display(v, "rate"),
        ),
        note="Orders bought online (not through a store channel) that a store shipped or handed over.",
    )


KPI_REPORTS: dict[str, Callable[[AnalyticsFilters], Report]] = {
    "contribution": contribution,
    "lifetime-value": lifetime,
    "crossing": crossing,
    "store-service": store_service,
}


def kpi_page(filters: AnalyticsFilters) -> dict:
    """The page: four headline figures, then the reports; the customer query runs once for both of its reports."""
    customers = kpis.cross_channel_customers(filters=filters)
    reports = {
        "contribution": contribution(filters),
        "lifetime-value": lifetime(filters, customers),
        "crossing": crossing(filters, customers),
        "store-service": store_service(filters),
    }
    service = reports["store-service"].rows
    orders, by_store = sum(r[1] for r in service), sum(r[2] for r in service)
    headlines = [
        ("store-served", "Orders served by a store for another channel", display(share(by_store, orders), "rate")),
        ("online-to-store", "First online, later in a store", display(customers.online_to_store_rate, "rate")),
        ("store-to-online", "First in a store, later online", display(customers.store_to_online_rate, "rate")),
        ("multi-channel-value", "Mean lifetime value, customers of 2+ channels",
         display(customers.multi_channel_mean, "money")),
    ]  # fmt: skip
    return {"headlines": headlines, "reports": list(reports.values())}

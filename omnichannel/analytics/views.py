"""Analytics dashboard, its CSV exports and the routing policy lab: parse the filters, read, render."""

import csv
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render

from fulfilment.routing.candidates import routing_policy_for
from inventory.models import Channel
from omnichannel.replicas import replica_reads
from oms.access import BACK_OFFICE_ROLES, role_required

from .forms import AnalyticsFilterForm, PolicyLabForm
from .headlines import headline_figures, previous_period
from .kpi_reports import KPI_REPORTS, kpi_page
from .reports import REPORTS, lab_report
from .selectors import last_rollup, routing_comparison


@role_required(*BACK_OFFICE_ROLES)
@replica_reads
def dashboard(request):
    form = AnalyticsFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "analytics/dashboard.html", {"form": form}, status=400)
    filters = form.filters()
    context = {
        "form": form,
        "filters": filters,
        "query": urlencode(form.query()),
        "headlines": headline_figures(filters=filters),
        "previous": previous_period(filters),
        "reports": [build(filters) for build in REPORTS.values()],
        "last_run": last_rollup(),
    }
    return render(request, "analytics/dashboard.html", context)


@role_required(*BACK_OFFICE_ROLES)
@replica_reads
def export(request, slug: str):
    """One report's table as CSV, for the same filters as the page it was linked from."""
    build = REPORTS.get(slug) or KPI_REPORTS.get(slug)
    if build is None:
        raise Http404("No such report.")
    form = AnalyticsFilterForm(request.GET)
    if not form.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        return HttpResponse(f"Cannot export: {problems}\n", status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}_{filters.start}_{filters.end}.csv"'
    csv.writer(response).writerows(build(filters).csv_rows())
    return response


@role_required(*BACK_OFFICE_ROLES)
@replica_reads
def lab(request):
    channel = Channel.objects.filter(code=request.GET.get("channel") or None).first()
    form = PolicyLabForm(request.GET, policy=routing_policy_for(channel=channel))
    if "run" not in request.GET:  # first visit: the candidate starts as a copy of the current policy
        return render(request, "analytics/lab.html", {"form": form})
    if not form.is_valid():
        return render(request, "analytics/lab.html", {"form": form}, status=400)
    data = form.cleaned_data
    comparison = routing_comparison(
        start=data["start"], end=data["end"], channel=data["channel"], candidate=form.candidate()
    )
    context = {"form": form, "comparison": comparison, **lab_report(comparison)}
    return render(request, "analytics/lab.html", context)


@role_required(*BACK_OFFICE_ROLES)
@replica_reads
def cross_channel(request):
    """Cross-channel KPIs for the same filters as the dashboard: contribution, lifetime value, crossing, service."""
    form = AnalyticsFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "analytics/cross_channel.html", {"form": form}, status=400)
    filters = form.filters()
    context = {"form": form, "filters": filters, "query": urlencode(form.query()), **kpi_page(filters)}
    return render(request, "analytics/cross_channel.html", context)

"""The worklist pages: one filtered, sorted, paginated list of exceptions with each row's next action."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from oms.access import BACK_OFFICE_ROLES, is_supervisor, role_required

from .worklists import WORKLISTS, worklist_counts, worklist_page


def worklist_tiles(*, now) -> list[dict]:
    """The numbers the home page shows before anything else: one tile per worklist."""
    counts = worklist_counts(now=now)
    return [{"worklist": w, "count": counts[w.slug]} for w in WORKLISTS.values()]


@role_required(*BACK_OFFICE_ROLES)
def worklist(request, slug: str):
    now = timezone.now()
    found = worklist_page(slug=slug, now=now, params=request.GET, page_number=request.GET.get("page") or 1)
    if found is None:
        raise Http404("No such worklist.")
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        f"backoffice/worklists/{slug}.html",
        {
            "list": found,
            "worklist": found.worklist,
            "rows": found.page.object_list,
            "now": now,
            "page_query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "tiles": worklist_tiles(now=now),
            "user_is_supervisor": is_supervisor(request.user),
            "here": request.get_full_path(),
        },
    )

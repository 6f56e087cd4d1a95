"""Where a back-office button sends the agent afterwards."""

from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def back_to(request, *default, **default_kwargs):
    """Go to the page the form named in ``next`` (a path on this site only), else to ``default``.

    ``next`` is a URL, never a view name: anything else a client sends falls back to the default.
    """
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect(*default, **default_kwargs)

from django.shortcuts import render

from oms.access import BACK_OFFICE_ROLES, role_required


@role_required(*BACK_OFFICE_ROLES)
def dashboard(request):
    return render(request, "backoffice/base.html")


@role_required(*BACK_OFFICE_ROLES)
def lab(request):
    return render(request, "backoffice/base.html")

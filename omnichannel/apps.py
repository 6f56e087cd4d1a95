from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class OmnichannelConfig(AppConfig):
    name = "omnichannel"
    verbose_name = "Omnichannel OMS"
    default = True


class OmsAdminConfig(admin_apps.AdminConfig):
    """Django's admin on the project's own site, which guards every admin against hostile input."""

    default = False
    default_site = "omnichannel.admin_site.OmsAdminSite"

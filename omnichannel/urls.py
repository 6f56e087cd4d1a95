from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from fulfilment.views.common import store_home
from omnichannel.ops.views import healthz, metrics_view, readyz
from omnichannel.views import home

store_urls = (
    [
        path("", store_home, name="home"),
        path("<str:code>/", include("fulfilment.urls")),
        path("<str:code>/returns/", include("returns.urls")),
    ],
    "store",
)

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("store/", include(store_urls)),
    path("backoffice/analytics/", include("omnichannel.analytics.urls")),
    path("backoffice/", include("omnichannel.backoffice.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("omnichannel.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "omnichannel.api.errors.not_found"
handler500 = "omnichannel.api.errors.server_failed"

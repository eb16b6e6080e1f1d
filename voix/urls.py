"""Mounts each app's pages. Technical Django admin under /django-admin/ (superusers only)."""

from django.contrib import admin
from django.urls import include, path

from voix.api import api

urlpatterns = [
    # First: the public survey answer page is the busiest address (fewer patterns to try).
    path("", include("voix.surveys.urls")),
    path("django-admin/", admin.site.urls),
    path("", include("voix.core.urls")),
    path("", include("voix.commitments.urls")),
    path("", include("voix.contacts.urls")),
    path("", include("voix.reception.urls")),
    path("", include("voix.appointments.urls")),
    path("", include("voix.complaints.urls")),
    path("", include("voix.field_reports.urls")),
    path("api/v1/", api.urls),
]

handler403 = "voix.core.views.error_403"
handler404 = "voix.core.views.error_404"
handler500 = "voix.core.views.error_500"

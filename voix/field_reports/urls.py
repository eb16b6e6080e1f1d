"""Pages of the field_reports app; each views module lists its own ``urls``."""

from .views import reports, triage

app_name = "field_reports"

urlpatterns = [*reports.urls, *triage.urls]

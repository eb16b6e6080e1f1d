"""Pages of the field_reports app; each views module lists its own ``urls``."""

app_name = "field_reports"

urlpatterns = []

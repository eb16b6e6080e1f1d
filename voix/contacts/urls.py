from .views import clock_settings, imports, log, worklists

app_name = "contacts"

# Each part of the app adds its views module's urlpatterns here.
urlpatterns = [
    *worklists.urlpatterns,
    *log.urlpatterns,
    *clock_settings.urlpatterns,
    *imports.urlpatterns,
]

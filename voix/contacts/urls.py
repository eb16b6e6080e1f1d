app_name = "contacts"

# Each part of the app adds its views module's urlpatterns here.
urlpatterns = []

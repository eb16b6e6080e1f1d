"""pilotage pages."""

urlpatterns = []

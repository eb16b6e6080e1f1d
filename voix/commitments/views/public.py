"""public pages."""

urlpatterns = []

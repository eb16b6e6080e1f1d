"""frameworks pages."""

urlpatterns = []

"""Pages of the complaints app; each views module lists its own ``urls``."""

app_name = "complaints"

urlpatterns = []

"""Pages of the surveys app; each views module lists its own ``urls``."""

app_name = "surveys"

urlpatterns = []

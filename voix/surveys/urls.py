"""Pages of the surveys app; each views module lists its own ``urls``."""

from .views import builder, public, results, settings_pages

app_name = "surveys"

urlpatterns = [*public.urls, *builder.urls, *results.urls, *settings_pages.urls]

"""Pages of the appointments app; each views module lists its own ``urls``."""

from .views import agenda, manage, public, relay, settings_pages

app_name = "appointments"

urlpatterns = [*public.urls, *manage.urls, *agenda.urls, *relay.urls, *settings_pages.urls]

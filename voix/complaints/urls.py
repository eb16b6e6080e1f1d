"""Pages of the complaints app; each views module lists its own ``urls``."""

from .views import mediation, public, relay, settings_pages, staff

app_name = "complaints"

# relay and settings before staff, so « reclamations/relais/ » is never read as a case.
urlpatterns = [*public.urls, *relay.urls, *settings_pages.urls, *staff.urls, *mediation.urls]

from .views import frameworks, pilotage, public

app_name = "commitments"

urlpatterns = [*frameworks.urlpatterns, *pilotage.urlpatterns, *public.urlpatterns]

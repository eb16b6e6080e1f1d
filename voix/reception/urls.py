from django.urls import path

from . import views

app_name = "reception"

urlpatterns = [
    path("accueil/", views.index, name="index"),
    path("accueil/borne/<str:token>/", views.kiosk, name="kiosk"),
    path("accueil/borne/<str:token>/ticket/<int:pk>/", views.kiosk_ticket, name="kiosk_ticket"),
    path("accueil/ecran/<str:token>/", views.display, name="display"),
    path("accueil/guichets/<int:pk>/", views.counter_page, name="counter"),
    path("accueil/guichets/<int:pk>/modifier/", views.counter_edit, name="counter_edit"),
    path("accueil/guichets/<int:pk>/<slug:action>/", views.counter_action, name="counter_action"),
    path("accueil/sites/<int:pk>/chiffres/", views.figures, name="figures"),
    path("accueil/sites/<int:pk>/reglages/", views.site_settings, name="settings"),
    path("accueil/sites/<int:pk>/reglages/sms/", views.settings_edit, name="settings_edit"),
    path(
        "accueil/sites/<int:pk>/reglages/liens/", views.tokens_regenerate, name="tokens_regenerate"
    ),
    path("accueil/sites/<int:pk>/motifs/ajouter/", views.queue_create, name="queue_create"),
    path("accueil/motifs/<int:pk>/", views.queue_edit, name="queue_edit"),
    path("accueil/sites/<int:pk>/guichets/ajouter/", views.counter_create, name="counter_create"),
]

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import TemplateView

from . import views, views_retention

app_name = "core"

urlpatterns = [
    path("", views.public_index, name="public_index"),
    path("organismes/<slug:slug>/", views.organisation_public, name="organisation_public"),
    path("organismes/<slug:slug>/lieux/<slug:site_slug>/", views.site_public, name="site_public"),
    path(
        "accessibilite/",
        TemplateView.as_view(template_name="core/accessibility.html"),
        name="accessibility",
    ),
    path("mentions-legales/", TemplateView.as_view(template_name="core/legal.html"), name="legal"),
    path(
        "donnees-personnelles/",
        TemplateView.as_view(template_name="core/personal_data.html"),
        name="personal_data",
    ),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/oublie/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "mot-de-passe/oublie/envoye/",
        auth_views.PasswordResetDoneView.as_view(template_name="core/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/nouveau/termine/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="core/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("mot-de-passe/changer/", views.PasswordChangeView.as_view(), name="password_change"),
    path("mon-espace/", views.home, name="home"),
    path("administration/", views.admin_index, name="admin_index"),
    path("administration/organismes/", views.admin_organisations, name="admin_organisations"),
    path(
        "administration/organismes/nouveau/",
        views.admin_organisation_create,
        name="admin_organisation_create",
    ),
    path(
        "administration/organismes/<int:pk>/",
        views.admin_organisation_edit,
        name="admin_organisation_edit",
    ),
    path(
        "administration/organismes/<int:pk>/sites/nouveau/",
        views.admin_site_create,
        name="admin_site_create",
    ),
    path(
        "administration/organismes/<int:pk>/fermetures/nouvelle/",
        views.admin_closure_create,
        name="admin_closure_create",
    ),
    path("administration/sites/<int:pk>/", views.admin_site_edit, name="admin_site_edit"),
    path(
        "administration/sites/<int:pk>/horaires/", views.admin_site_hours, name="admin_site_hours"
    ),
    path(
        "administration/fermetures/<int:pk>/supprimer/",
        views.admin_closure_delete,
        name="admin_closure_delete",
    ),
    path("administration/personnes/", views.admin_people, name="admin_people"),
    path(
        "administration/personnes/nouvelle/", views.admin_person_create, name="admin_person_create"
    ),
    path("administration/personnes/<int:pk>/", views.admin_person_edit, name="admin_person_edit"),
    path(
        "administration/personnes/<int:pk>/invitation/",
        views.admin_person_invite,
        name="admin_person_invite",
    ),
    path(
        "administration/rattachements/<int:pk>/retirer/",
        views.admin_membership_delete,
        name="admin_membership_delete",
    ),
    path("administration/journal/", views.audit_log, name="audit_log"),
]

urlpatterns += views_retention.urls  # retention periods (core:retention)

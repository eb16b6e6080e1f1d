"""The survey app's pages under /survey/, as its documentation installs them."""

from django.urls import include, path

urlpatterns = [path("survey/", include("survey.urls"))]

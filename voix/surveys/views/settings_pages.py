"""The surveys settings of an organisation (quality leads and administrators): which
questionnaire the invitations use, after which events, at most how often per person, and
how long after the event."""

from django.shortcuts import render
from django.urls import path, reverse

from voix.core.views import submitted

from .. import services
from ..forms import SettingsForm
from .builder import EDITORS, NAV, editor_required, pick_organisation


@editor_required
def survey_settings(request):
    organisation = pick_organisation(request, EDITORS)
    current = services.settings_for(organisation)
    form = SettingsForm(request.POST or None, instance=current, organisation=organisation)
    back = reverse("surveys:settings") + f"?organisme={organisation.slug}"
    done = submitted(
        request,
        form,
        lambda data: services.save_settings(request.user, organisation, **data),
        "Réglages des enquêtes enregistrés.",
        back,
    )
    return done or render(
        request,
        "surveys/staff/settings.html",
        {
            "form": form,
            "organisation": organisation,
            "back": reverse("surveys:index") + f"?organisme={organisation.slug}",
            "nav": NAV,
        },
    )


urls = [path("enquetes/reglages/", survey_settings, name="settings")]

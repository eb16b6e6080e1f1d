"""Configuration of appointments: managers and administrators of the organisation set the
booking settings, the reasons, the advisors' opening slots, their exceptions and absences;
every mistake is refused with a clear French message on its field."""

from datetime import date, datetime, time, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from voix.appointments import services
from voix.appointments.models import (
    Absence,
    Audience,
    BookingSettings,
    OpeningSlot,
    Reason,
    SlotException,
)
from voix.core.models import AuditEvent

SETTINGS = "appointments:settings"


def reason_data(world, **overrides):
    data = {
        "label": "Aide au logement",
        "description": "Apportez votre bail.",
        "duration_minutes": "30",
        "modes": ["sur_place", "telephone"],
        "audience": Audience.PUBLIC,
        "min_notice_hours": "4",
        "max_horizon_days": "21",
        "sites": [world.site.pk],
        "queue_label": "Rendez-vous",
        "position": "3",
        "is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def slot_data(world, **overrides):
    data = {
        "advisor": world.advisor2.pk,
        "site": world.site.pk,
        "weekday": "4",
        "starts": "13:30",
        "ends": "16:00",
        "reasons": [world.rdv_reason.pk],
        "modes": ["sur_place", "visio"],
        "valid_from": "2026-01-05",
        "valid_until": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def page(response):
    return unescape(response.content.decode())


# ----- who may open the pages ----------------------------------------------------------


@pytest.mark.parametrize("persona", ["agent", "qualite", "mediateur", "partenaire", "sans_role"])
def test_only_managers_and_administrators_configure(world, client_for, persona):
    client = client_for(persona)
    assert client.get(reverse(SETTINGS)).status_code == 403
    assert client.get(reverse("appointments:reason_create")).status_code == 403
    response = client.post(
        reverse("appointments:reason_edit", args=[world.rdv_reason.pk]), reason_data(world)
    )
    assert response.status_code == 403
    assert Reason.objects.get(pk=world.rdv_reason.pk).label == "Question sur mon dossier"


def test_another_organisations_objects_are_not_found(world, client_for):
    client = client_for("outsider")
    slot = world.advisor.opening_slots.first()
    for url in (
        reverse("appointments:reason_edit", args=[world.rdv_reason.pk]),
        reverse("appointments:slot_edit", args=[slot.pk]),
        reverse("appointments:slot_delete", args=[slot.pk]),
        reverse("appointments:slot_exception_create", args=[slot.pk]),
        reverse(SETTINGS) + f"?organisme={world.caf.slug}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("appointments:slot_delete", args=[slot.pk])).status_code == 404
    assert OpeningSlot.objects.filter(pk=slot.pk).exists()


def test_the_settings_page_lists_reasons_slots_by_advisor_and_absences(world, client_for):
    services.add_absence(
        None,
        world.advisor2,
        world.caf,
        starts_at=timezone.now() + timedelta(days=3),
        ends_at=timezone.now() + timedelta(days=5),
        label="Formation",
    )
    html = page(client_for("manager").get(reverse(SETTINGS)))
    for text in (
        "Question sur mon dossier",
        "Rendez-vous des droits",
        "Suivi social",
        "Agent Test",
        "Conseillère Deux",
        "Lundi 09:00–12:00",
        "Formation",
    ):
        assert text in html
    assert "Accueil sur rendez-vous" not in html  # the other organisation's reason


def test_empty_states_give_guidance(world, client_for):
    html = page(client_for("outsider").get(reverse(SETTINGS)))
    assert "Autre organisme" in html
    assert "Aucune plage d'ouverture pour l'instant" in html
    assert "Sans plage, aucun créneau n'est proposé" in html
    assert "Aucune absence en cours ni à venir" in html


# ----- booking settings ----------------------------------------------------------------


def settings_data(**overrides):
    data = {
        "video_link_template": "https://visio.exemple.fr/caf-{jeton}?ref={reference}",
        "reminder_hours": "24",
        "waitlist_max_notifications": "2",
        "consent_text": "J'accepte que la Caf utilise ces coordonnées pour ce rendez-vous.",
    }
    data.update(overrides)
    return data


def test_the_booking_settings_are_saved_and_audited(world, client_for):
    response = client_for("admin").post(reverse("appointments:settings_edit"), settings_data())
    assert response.status_code == 302
    saved = BookingSettings.objects.get(organisation=world.caf)
    assert saved.video_link_template == "https://visio.exemple.fr/caf-{jeton}?ref={reference}"
    assert saved.reminder_hours == 24
    assert saved.waitlist_max_notifications == 2
    assert AuditEvent.objects.filter(action="rendez_vous.réglages_modifiés").exists()


def test_the_settings_form_explains_the_video_placeholders(world, client_for):
    html = page(client_for("manager").get(reverse("appointments:settings_edit")))
    assert "{jeton}" in html and "{reference}" in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("video_link_template", "https://visio.exemple.fr/caf", "Ajoutez {jeton} à l'adresse"),
        ("video_link_template", "http://visio.exemple.fr/{jeton}", "commence par https://"),
        ("video_link_template", "https://v.fr/{jeton}/{nom}", "Variable inconnue : {nom}"),
        ("reminder_hours", "0", "entre 1 et 336 heures"),
        ("waitlist_max_notifications", "50", "entre 1 et 10"),
        ("consent_text", "OK", "trop court"),
    ],
)
def test_bad_settings_are_refused_with_a_message(world, client_for, field, value, message):
    response = client_for("manager").post(
        reverse("appointments:settings_edit"), settings_data(**{field: value})
    )
    assert response.status_code == 200
    assert message in page(response)
    assert services.ensure_settings(world.caf).reminder_hours == 48


# ----- reasons -------------------------------------------------------------------------


def test_a_manager_creates_then_edits_a_reason(world, client_for):
    client = client_for("manager")
    response = client.post(reverse("appointments:reason_create"), reason_data(world))
    assert response.status_code == 302
    reason = Reason.objects.get(organisation=world.caf, label="Aide au logement")
    assert reason.duration_minutes == 30
    assert (reason.on_site, reason.phone, reason.video) == (True, True, False)
    assert list(reason.sites.all()) == [world.site]
    assert reason.min_notice_hours == 4 and reason.max_horizon_days == 21
    assert AuditEvent.objects.filter(action="rendez_vous.motif_enregistré").exists()
    edit = reverse("appointments:reason_edit", args=[reason.pk])
    html = page(client.get(edit))
    assert 'value="Aide au logement"' in html
    response = client.post(
        edit,
        reason_data(world, modes=["visio"], duration_minutes="45", is_active=None),
    )
    assert response.status_code == 302
    reason.refresh_from_db()
    assert (reason.on_site, reason.phone, reason.video) == (False, False, True)
    assert reason.duration_minutes == 45
    assert reason.is_active is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"duration_minutes": "22"}, "La durée doit être un multiple de 5 minutes"),
        ({"duration_minutes": "300"}, "La durée va de 5 à 240 minutes"),
        ({"modes": None}, "Cochez au moins un mode"),
        ({"sites": None}, "Cochez au moins un site"),
        ({"label": "question sur mon dossier"}, "Un motif s'appelle déjà"),
        ({"min_notice_hours": "600", "max_horizon_days": "10"}, "plus court que l'horizon"),
        ({"max_horizon_days": "0"}, "de 1 à 365 jours"),
    ],
)
def test_bad_reasons_are_refused_with_a_message(world, client_for, overrides, message):
    before = Reason.objects.count()
    response = client_for("manager").post(
        reverse("appointments:reason_create"), reason_data(world, **overrides)
    )
    assert response.status_code == 200
    html = page(response)
    assert message in html
    assert "Le formulaire contient" in html
    assert Reason.objects.count() == before


def test_a_relay_cannot_be_a_site_of_a_reason(world, client_for):
    html = page(client_for("manager").get(reverse("appointments:reason_create")))
    assert "Siège test" in html
    assert "France Services test" not in html
    response = client_for("manager").post(
        reverse("appointments:reason_create"), reason_data(world, sites=[world.relay.pk])
    )
    assert response.status_code == 200
    assert not Reason.objects.filter(label="Aide au logement").exists()


# ----- opening slots -------------------------------------------------------------------


def test_a_manager_creates_edits_and_deletes_an_opening_slot(world, client_for):
    client = client_for("manager")
    response = client.post(reverse("appointments:slot_create"), slot_data(world))
    assert response.status_code == 302
    slot = OpeningSlot.objects.get(advisor=world.advisor2, weekday=4)
    assert (slot.starts, slot.ends) == (time(13, 30), time(16))
    assert (slot.on_site, slot.phone, slot.video) == (True, False, True)
    assert list(slot.reasons.all()) == [world.rdv_reason]
    assert slot.valid_until is None
    edit = reverse("appointments:slot_edit", args=[slot.pk])
    assert 'value="13:30"' in page(client.get(edit))
    response = client.post(edit, slot_data(world, ends="17:00", valid_until="2027-06-30"))
    assert response.status_code == 302
    slot.refresh_from_db()
    assert slot.ends == time(17) and slot.valid_until == date(2027, 6, 30)
    delete = reverse("appointments:slot_delete", args=[slot.pk])
    html = page(client.get(delete))
    assert "Supprimer la plage" in html
    assert OpeningSlot.objects.filter(pk=slot.pk).exists()  # asking does not delete
    assert client.post(delete).status_code == 302
    assert not OpeningSlot.objects.filter(pk=slot.pk).exists()
    assert AuditEvent.objects.filter(action="rendez_vous.plage_supprimée").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends": "13:00"}, "L'heure de fin (13:00) doit être après l'heure de début (13:30)"),
        ({"starts": "13:32"}, "à 5 minutes près"),
        ({"modes": None}, "Cochez au moins un mode"),
        ({"valid_until": "2025-12-31"}, "est avant la date de début"),
        ({"advisor": None}, "Ce champ est obligatoire"),
        ({"weekday": "0", "starts": "10:00", "ends": "11:00"}, "chevauche une autre plage"),
    ],
)
def test_bad_opening_slots_are_refused_with_a_message(world, client_for, overrides, message):
    before = OpeningSlot.objects.count()
    response = client_for("manager").post(
        reverse("appointments:slot_create"), slot_data(world, **overrides)
    )
    assert response.status_code == 200
    assert message in page(response)
    assert OpeningSlot.objects.count() == before


def test_only_the_organisations_people_can_hold_slots(world, client_for):
    html = page(client_for("manager").get(reverse("appointments:slot_create")))
    assert "Conseillère Deux" in html
    assert "Partenaire Test" not in html
    assert "Outsider Test" not in html
    response = client_for("manager").post(
        reverse("appointments:slot_create"),
        slot_data(world, advisor=world.people["partenaire"].pk),
    )
    assert response.status_code == 200
    assert not OpeningSlot.objects.filter(advisor=world.people["partenaire"]).exists()


def test_an_exception_removes_one_day_of_a_slot(world, client_for):
    slot = world.advisor.opening_slots.filter(weekday=0).order_by("starts").first()
    url = reverse("appointments:slot_exception_create", args=[slot.pk])
    client = client_for("manager")
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    response = client.post(url, {"day": (monday + timedelta(days=1)).isoformat(), "label": ""})
    assert response.status_code == 200
    assert "cette plage a lieu le lundi" in page(response)
    response = client.post(url, {"day": monday.isoformat(), "label": "Formation"})
    assert response.status_code == 302
    assert SlotException.objects.filter(slot=slot, day=monday, label="Formation").exists()
    html = page(client.get(reverse(SETTINGS)))
    assert f"{monday:%d/%m/%Y} (Formation)" in html
    response = client.post(url, {"day": monday.isoformat(), "label": ""})
    assert "déjà une exception" in page(response)


# ----- absences ------------------------------------------------------------------------


def test_a_manager_adds_then_deletes_an_absence(world, client_for):
    client = client_for("manager")
    response = client.post(
        reverse("appointments:absence_create"),
        {
            "advisor": world.advisor.pk,
            "starts_at": "2030-03-04T08:00",
            "ends_at": "2030-03-08T18:00",
            "label": "Congés",
        },
    )
    assert response.status_code == 302
    absence = Absence.objects.get(advisor=world.advisor, label="Congés")
    assert absence.organisation == world.caf
    assert absence.starts_at == timezone.make_aware(datetime(2030, 3, 4, 8))
    delete = reverse("appointments:absence_delete", args=[absence.pk])
    assert "04/03/2030 08:00" in page(client.get(delete))
    assert client.post(delete).status_code == 302
    assert not Absence.objects.filter(pk=absence.pk).exists()
    assert AuditEvent.objects.filter(action="rendez_vous.absence_supprimée").exists()


def test_an_absence_ending_before_it_starts_is_refused(world, client_for):
    response = client_for("manager").post(
        reverse("appointments:absence_create"),
        {
            "advisor": world.advisor.pk,
            "starts_at": "2030-03-08T18:00",
            "ends_at": "2030-03-04T08:00",
            "label": "",
        },
    )
    assert response.status_code == 200
    assert "La fin (04/03/2030 08:00) doit être après le début (08/03/2030 18:00)" in page(response)
    assert not Absence.objects.exists()


def test_an_absence_hides_the_advisors_slots(world, client_for):
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday() + 7)
    starts = timezone.make_aware(datetime.combine(monday, time(0)))
    client_for("manager").post(
        reverse("appointments:absence_create"),
        {
            "advisor": world.advisor.pk,
            "starts_at": f"{monday:%Y-%m-%d}T00:00",
            "ends_at": f"{monday:%Y-%m-%d}T23:55",
            "label": "",
        },
    )
    slots = services.available_slots(
        world.rdv_reason, world.site, start=monday, days=1, now=starts - timedelta(days=1)
    )
    assert slots  # advisor2 still receives on Mondays
    assert all(world.advisor.pk not in s.advisor_ids for s in slots)

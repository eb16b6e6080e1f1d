"""« Mon rendez-vous »: the pages behind the signed link (no account): see, download the
.ics, cancel, move, waitlist; expired and invalid links; past and cancelled appointments."""

from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from voix.appointments import links, services
from voix.appointments.models import Appointment, Channel, Mode, Status, WaitlistEntry
from voix.appointments.views.public import slot_param
from voix.core import services as core_services
from voix.core.models import AuditEvent

_tokens = {}


def url(name, appointment, query=""):
    """The page's address; one token per appointment in a test (a token made a second
    later differs: it carries its timestamp)."""
    token = _tokens.setdefault(appointment.pk, links.manage_token(appointment))
    return reverse(f"appointments:{name}", args=[token]) + query


@pytest.fixture(autouse=True)
def _forget_tokens():
    _tokens.clear()


def text(response):
    return unescape(response.content.decode())


def book(w, mode=Mode.ON_SITE, **fields):
    slot = services.first_available(w.rdv_reason, w.site, mode=mode)
    return services.book(
        None,
        w.rdv_reason,
        site=w.site,
        mode=mode,
        starts_at=slot.starts_at,
        channel=Channel.PUBLIC,
        full_name="Alex Martin",
        phone=fields.get("phone", "06 11 22 33 44"),
        email="alex@example.org",
        consent=True,
    )


# ----- seeing it ------------------------------------------------------------------------


def test_the_page_says_what_when_and_where_for_an_on_site_appointment(world, client):
    core_services.update_site(None, world.site, access_info="Bus ligne 2, arrêt Mairie.")
    html = text(client.get(url("manage", world.appointment)))
    assert "Question sur mon dossier" in html
    local = timezone.localtime(world.appointment.starts_at)
    assert f"à {local.hour}h{local:%M}" in html
    assert "Siège test" in html and "1 rue A" in html and "53000 Laval" in html
    assert "Bus ligne 2" in html
    assert world.appointment.reference in html
    for action in ("manage_move", "manage_cancel", "manage_ics", "manage_waitlist"):
        assert url(action, world.appointment) in html


def test_a_phone_appointment_says_the_advisor_will_call(world, client):
    appointment = book(world, Mode.PHONE, phone="06 99 88 77 66")
    html = text(client.get(url("manage", appointment)))
    assert "un conseiller vous appelle au <strong>06 99 88 77 66</strong>" in html


def test_a_video_appointment_gives_its_link(world, client):
    appointment = book(world, Mode.VIDEO)
    assert appointment.video_link
    assert f'href="{appointment.video_link}"' in text(client.get(url("manage", appointment)))


def test_an_invalid_link_answers_404_with_a_french_message(world, client):
    response = client.get(reverse("appointments:manage", args=["abc:def"]))
    assert response.status_code == 404
    assert "n'est pas valide" in text(response)
    token = links.manage_token(world.appointment)
    response = client.get(reverse("appointments:manage", args=[token[:-2] + "xx"]))
    assert response.status_code == 404


def test_an_expired_link_answers_410_with_the_number_to_call(world, client):
    core_services.update_organisation(None, world.caf, phone="02 43 11 11 11")
    token = links.manage_token(world.appointment)
    with time_machine.travel(timezone.now() + timedelta(days=links.MANAGE_LINK_DAYS, hours=1)):
        response = client.get(reverse("appointments:manage", args=[token]))
        cancel = client.post(reverse("appointments:manage_cancel", args=[token]))
    assert response.status_code == 410
    assert "Ce lien a expiré" in text(response)
    assert "02 43 11 11 11" in text(response)
    assert cancel.status_code == 410
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.PLANNED


def test_the_ics_file_downloads(world, client):
    response = client.get(url("manage_ics", world.appointment))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f'filename="{world.appointment.reference}.ics"' in response["Content-Disposition"]
    body = response.content.decode()
    assert "BEGIN:VCALENDAR" in body and f"UID:{world.appointment.reference}@voix" in body


# ----- cancelling -----------------------------------------------------------------------


def test_cancelling_asks_for_confirmation_first(world, client):
    response = client.get(url("manage_cancel", world.appointment))
    assert response.status_code == 200
    assert "Oui, annuler le rendez-vous" in text(response)
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.PLANNED


def test_cancelling_frees_the_slot_and_leaves_no_action(world, client):
    response = client.post(
        url("manage_cancel", world.appointment), {"reason_text": "Je ne suis pas disponible"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("manage", world.appointment)
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.CANCELLED
    assert world.appointment.cancel_reason == "Je ne suis pas disponible"
    assert not world.appointment.occupancy.exists()
    assert AuditEvent.objects.filter(
        action="rendez_vous.annulé", object_id=str(world.appointment.pk), actor__isnull=True
    ).exists()
    html = text(client.get(response["Location"]))
    assert "Votre rendez-vous est annulé" in html
    assert "Annulé" in html
    assert url("manage_move", world.appointment) not in html
    assert url("manage_cancel", world.appointment) not in html


def test_a_cancelled_appointment_cannot_be_cancelled_or_moved_again(world, client):
    services.cancel(None, world.appointment, by_user=True)
    assert client.post(url("manage_cancel", world.appointment)).status_code == 400
    slot = services.first_available(world.rdv_reason, world.site, mode=Mode.ON_SITE)
    response = client.post(
        url("manage_move", world.appointment), {"debut": slot_param(slot.starts_at)}
    )
    assert response.status_code == 200
    assert "ne peut plus être déplacé" in text(response)
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.CANCELLED


def test_a_past_appointment_shows_its_state_and_no_action(world, client):
    token = links.manage_token(world.appointment)
    with time_machine.travel(world.appointment.ends_at + timedelta(hours=1)):
        html = text(client.get(reverse("appointments:manage", args=[token])))
    assert "Ce rendez-vous est passé" in html
    assert reverse("appointments:manage_cancel", args=[token]) not in html
    assert reverse("appointments:manage_move", args=[token]) not in html


# ----- moving ---------------------------------------------------------------------------


def test_moving_lists_other_slots_then_confirms_before_moving(world, client):
    appointment = world.appointment
    response = client.get(url("manage_move", appointment))
    assert response.status_code == 200
    target, link = response.context["soonest"][0]
    assert target.starts_at != appointment.starts_at
    html = text(client.get(url("manage_move", appointment) + link))
    assert "Confirmer le nouvel horaire" in html
    appointment.refresh_from_db()
    assert appointment.version == 1  # nothing moved by looking


def test_moving_to_a_free_slot_keeps_the_same_link(world, client):
    appointment = world.appointment
    slots = services.available_slots(world.rdv_reason, world.site, mode=Mode.ON_SITE)
    target = slots[-1]
    response = client.post(url("manage_move", appointment), {"debut": slot_param(target.starts_at)})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == target.starts_at
    assert appointment.version == 2
    html = text(client.get(response["Location"]))
    assert "Votre rendez-vous est déplacé" in html


def test_moving_to_a_slot_taken_meanwhile_offers_alternatives(world, client):
    appointment = world.appointment
    slots = services.available_slots(world.rdv_reason, world.site, mode=Mode.ON_SITE)
    target = slots[-1]
    for number in range(10):
        try:
            services.book(
                None,
                world.rdv_reason,
                site=world.site,
                mode=Mode.ON_SITE,
                starts_at=target.starts_at,
                channel=Channel.PUBLIC,
                full_name=f"Autre {number}",
                email="autre@example.org",
                consent=True,
            )
        except services.SlotTaken:
            break
    response = client.post(url("manage_move", appointment), {"debut": slot_param(target.starts_at)})
    assert response.status_code == 409
    html = text(response)
    assert "Ce créneau vient d'être réservé" in html
    assert response.context["alternatives"]
    for _slot, link in response.context["alternatives"]:
        assert f'href="{link}"' in html
    before = appointment.starts_at
    appointment.refresh_from_db()
    assert appointment.starts_at == before and appointment.version == 1


def test_a_move_without_a_time_says_what_to_do(world, client):
    response = client.post(url("manage_move", world.appointment), {"debut": "n'importe quand"})
    assert response.status_code == 400
    assert "illisible" in text(response)


# ----- waitlist -------------------------------------------------------------------------


def test_asking_for_an_earlier_slot_subscribes_the_appointment(world, client):
    appointment = world.appointment
    assert client.get(url("manage_waitlist", appointment)).status_code == 200
    response = client.post(url("manage_waitlist", appointment))
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(appointment=appointment)
    assert entry.is_active and entry.before == appointment.starts_at
    assert entry.reason == appointment.reason and entry.site == appointment.site
    html = text(client.get(url("manage", appointment)))
    assert "Vous serez prévenu si un créneau plus tôt se libère" in html
    unsubscribe = reverse("appointments:waitlist_unsubscribe", args=[entry.token])
    assert unsubscribe in html


def test_the_unsubscribe_link_confirms_then_stops_the_messages(world, client):
    client.post(url("manage_waitlist", world.appointment))
    entry = WaitlistEntry.objects.get(appointment=world.appointment)
    unsubscribe = reverse("appointments:waitlist_unsubscribe", args=[entry.token])
    assert "Ne plus être prévenu" in text(client.get(unsubscribe))
    entry.refresh_from_db()
    assert entry.is_active  # a link preview opening the page changes nothing
    response = client.post(unsubscribe)
    assert response.status_code == 200
    assert "C'est fait" in text(response)
    entry.refresh_from_db()
    assert not entry.is_active
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.PLANNED


def test_an_unknown_unsubscribe_link_answers_404(world, client):
    response = client.post(reverse("appointments:waitlist_unsubscribe", args=["inconnu"]))
    assert response.status_code == 404
    assert "aucune inscription" in text(response)


def test_the_link_of_one_appointment_never_opens_another(world, client):
    other = book(world)
    html = text(client.get(url("manage", other)))
    assert other.reference in html
    assert world.appointment.reference not in html
    assert Appointment.objects.filter(pk=other.pk, status=Status.PLANNED).exists()


def test_choosing_a_time_that_is_not_free_says_so_before_any_confirmation(world, client):
    taken = world.partner_appointment.starts_at
    response = client.get(url("manage_move", world.appointment, f"?debut={slot_param(taken)}"))
    html = text(response)
    assert "Cet horaire n'est plus libre" in html
    assert "Confirmer le nouvel horaire" not in html

"""Partner booking: a France Services advisor books for the person next to them, step by
step without JavaScript, and sees only the bookings of their own relay and their outcome."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from voix.appointments import services
from voix.appointments.models import Appointment, Channel, Mode, Status
from voix.core.models import AuditEvent

INDEX = "appointments:relay_index"
BOOK = "appointments:relay_book"


def book_url(**params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse(BOOK) + (f"?{query}" if query else "")


def slot_value(slot):
    return f"{timezone.localtime(slot.starts_at):%Y-%m-%dT%H:%M}"


def details(**overrides):
    data = {
        "full_name": "Alex Martin",
        "phone": "06 11 22 33 44",
        "email": "",
        "referral_note": "Perte d'emploi, demande de RSA à étudier.",
        "consent": "on",
        "etape": "coordonnees",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def book_for_relay(world, relay, *, now=None, full_name="Sacha Ailleurs"):
    slot = services.first_available(
        world.rdd_reason, world.site, mode=Mode.ON_SITE, channel=Channel.PARTNER, now=now
    )
    return services.book(
        None,
        world.rdd_reason,
        site=world.site,
        mode=Mode.ON_SITE,
        starts_at=slot.starts_at,
        channel=Channel.PARTNER,
        full_name=full_name,
        email="sacha@example.org",
        consent=True,
        relay=relay,
        referral_note="Orientée par un autre relais.",
        now=now,
    )


# ----- who may open the pages ----------------------------------------------------------


@pytest.mark.parametrize("persona", ["agent", "manager", "qualite", "mediateur", "admin"])
def test_the_caf_staff_get_403_they_use_the_agenda(world, client_for, persona):
    for name in (INDEX, BOOK, "appointments:relay_export"):
        assert client_for(persona).get(reverse(name)).status_code == 403


def test_anonymous_people_are_sent_to_the_login_page(world, client_for):
    response = client_for("anonyme").get(reverse(BOOK))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))


# ----- the relay's bookings ------------------------------------------------------------


def test_the_partner_sees_only_its_relay_bookings(world, client_for):
    elsewhere = book_for_relay(world, world.other_relay)
    client = client_for("partenaire")
    html = client.get(reverse(INDEX)).content.decode()
    assert world.partner_appointment.reference in html
    assert "Dominique Relais" in html
    assert elsewhere.reference not in html
    assert "Sacha Ailleurs" not in html
    assert world.appointment.reference not in html  # booked online, not by the relay
    csv = client.get(reverse("appointments:relay_export") + "?periode=tous").content.decode()
    assert world.partner_appointment.reference in csv
    assert elsewhere.reference not in csv
    assert world.appointment.reference not in csv
    detail = reverse("appointments:relay_detail", args=[elsewhere.pk])
    assert client.get(detail).status_code == 404


def test_the_list_shows_each_booking_outcome(world, client_for):
    services.set_status(None, world.partner_appointment, Status.EXCUSED)
    html = client_for("partenaire").get(reverse(INDEX) + "?periode=tous").content.decode()
    assert "Excusé" in html
    assert "Rendez-vous des droits" in html
    assert "Sur place" in html


def test_upcoming_and_past_bookings_are_filtered(world, client_for):
    past = book_for_relay(world, world.relay, now=timezone.now() - timedelta(days=20))
    assert past.ends_at < timezone.now()
    client = client_for("partenaire")
    upcoming = client.get(reverse(INDEX)).content.decode()
    assert world.partner_appointment.reference in upcoming
    assert past.reference not in upcoming
    before = client.get(reverse(INDEX) + "?periode=passes").content.decode()
    assert past.reference in before
    assert world.partner_appointment.reference not in before
    csv = client.get(reverse("appointments:relay_export") + "?periode=passes").content.decode()
    assert past.reference in csv
    assert world.partner_appointment.reference not in csv


def test_the_export_is_a_spreadsheet_friendly_csv(world, client_for):
    response = client_for("partenaire").get(reverse("appointments:relay_export"))
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert text.startswith("\ufeffreference;date;heure;motif;mode;lieu;statut;personne")
    assert f"{world.partner_appointment.reference};" in text
    assert ";Prévu;Dominique Relais;" in text


def test_an_empty_relay_list_says_how_to_start(world, client_for):
    world.partner_appointment.delete()
    html = unescape(client_for("partenaire").get(reverse(INDEX)).content.decode())
    assert "Aucun rendez-vous à venir" in html
    assert reverse(BOOK) in html


# ----- booking, step by step, without JavaScript ---------------------------------------


def test_a_partner_books_end_to_end_without_javascript(world, client_for):
    client = client_for("partenaire")
    # 1. the reasons a relay may book — not the agents-only one
    html = client.get(reverse(BOOK)).content.decode()
    assert "<script" not in html.split('id="contenu"')[1].split("</main>")[0]
    assert f'name="motif" value="{world.rdd_reason.pk}"' in html
    assert f'name="motif" value="{world.rdv_reason.pk}"' in html
    assert f'value="{world.agent_reason.pk}"' not in html
    # 2. the only site is chosen for them; 3. the mode
    html = client.get(book_url(motif=world.rdd_reason.pk, etape="motif")).content.decode()
    assert 'name="mode" value="sur_place"' in html
    assert 'name="mode" value="visio"' in html
    assert 'name="mode" value="telephone"' not in html  # not offered for this reason
    # 4. the slots, soonest first
    params = dict(motif=world.rdd_reason.pk, site=world.site.pk, mode=Mode.VIDEO)
    html = client.get(book_url(**params, etape="mode")).content.decode()
    first = services.first_available(
        world.rdd_reason, world.site, mode=Mode.VIDEO, channel=Channel.PARTNER
    )
    values = re.findall(r'name="creneau" value="([^"]+)"', html)
    assert values[0] == slot_value(first)
    assert values == sorted(values)
    # 5. the person's details
    html = client.get(book_url(**params, creneau=values[0], etape="creneau")).content.decode()
    assert "La personne accepte que ses coordonnées soient transmises à la Caf" in html
    assert 'name="referral_note"' in html
    response = client.post(reverse(BOOK), {**params, "creneau": values[0], **details()})
    assert response.status_code == 302
    appointment = Appointment.objects.get(full_name="Alex Martin")
    assert response["Location"] == reverse("appointments:relay_detail", args=[appointment.pk])
    assert appointment.channel == Channel.PARTNER
    assert appointment.relay == world.relay
    assert appointment.booked_by == world.people["partenaire"]
    assert appointment.starts_at == first.starts_at
    assert appointment.mode == Mode.VIDEO
    assert appointment.referral_note == "Perte d'emploi, demande de RSA à étudier."
    assert appointment.consent_at is not None
    assert appointment.phone == "06 11 22 33 44"
    assert AuditEvent.objects.filter(action="rendez_vous.réservé").exists()
    # the confirmation, to read or print for the person
    page = unescape(client.get(response["Location"]).content.decode())
    assert appointment.reference in page
    assert "Rendez-vous des droits" in page
    assert f"{timezone.localtime(appointment.starts_at):%H:%M}" in page
    assert appointment.video_link in page
    assert "lien personnel pour déplacer ou annuler" in page
    # and the relay's list now has it
    assert appointment.reference in client.get(reverse(INDEX)).content.decode()


def test_booking_on_site_shows_the_address(world, client_for):
    client = client_for("partenaire")
    slot = services.first_available(
        world.rdv_reason, world.site, mode=Mode.ON_SITE, channel=Channel.PARTNER
    )
    params = dict(motif=world.rdv_reason.pk, site=world.site.pk, mode=Mode.ON_SITE)
    response = client.post(reverse(BOOK), {**params, "creneau": slot_value(slot), **details()})
    assert response.status_code == 302
    page = unescape(client.get(response["Location"]).content.decode())
    assert "1 rue A, 53000 Laval" in page
    assert "Apportez votre dernier avis d'imposition." in page


def _post(world, client, **overrides):
    slot = services.first_available(
        world.rdd_reason, world.site, mode=Mode.ON_SITE, channel=Channel.PARTNER
    )
    params = dict(motif=world.rdd_reason.pk, site=world.site.pk, mode=Mode.ON_SITE)
    return client.post(
        reverse(BOOK), {**params, "creneau": slot_value(slot), **details(**overrides)}
    )


def test_without_the_persons_consent_nothing_is_booked(world, client_for):
    before = Appointment.objects.count()
    response = _post(world, client_for("partenaire"), consent=None)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Cochez la case après avoir recueilli l'accord de la personne" in html
    assert 'id="erreurs"' in html
    assert Appointment.objects.count() == before
    assert 'value="Alex Martin"' in html  # what was typed is kept


def test_the_note_on_the_situation_is_required(world, client_for):
    before = Appointment.objects.count()
    response = _post(world, client_for("partenaire"), referral_note="  ")
    assert response.status_code == 400
    assert "Décrivez en quelques mots la situation" in unescape(response.content.decode())
    assert Appointment.objects.count() == before


def test_the_note_is_at_most_1000_characters(world, client_for):
    response = _post(world, client_for("partenaire"), referral_note="x" * 1001)
    assert response.status_code == 400
    assert "ne doit pas dépasser 1000 caractères" in unescape(response.content.decode())


def test_a_phone_or_an_email_is_required(world, client_for):
    response = _post(world, client_for("partenaire"), phone="", email="")
    assert response.status_code == 400
    assert "Indiquez un numéro de téléphone ou une adresse électronique" in unescape(
        response.content.decode()
    )


def test_a_wrong_phone_number_is_refused_on_its_field(world, client_for):
    before = Appointment.objects.count()
    response = _post(world, client_for("partenaire"), phone="12 34")
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Numéro de téléphone invalide" in html
    assert Appointment.objects.count() == before


def test_a_slot_taken_meanwhile_offers_alternatives(world, client_for):
    slot = services.first_available(
        world.rdd_reason, world.site, mode=Mode.ON_SITE, channel=Channel.PARTNER
    )
    for advisor_id in set(slot.advisor_ids):  # every advisor free then gets booked meanwhile
        services.book(
            None,
            world.rdd_reason,
            site=world.site,
            mode=Mode.ON_SITE,
            starts_at=slot.starts_at,
            channel=Channel.AGENT,
            full_name=f"Quelqu'un {advisor_id}",
            advisor=world.people["agent"].__class__.objects.get(pk=advisor_id),
        )
    params = dict(motif=world.rdd_reason.pk, site=world.site.pk, mode=Mode.ON_SITE)
    client = client_for("partenaire")
    response = client.post(reverse(BOOK), {**params, "creneau": slot_value(slot), **details()})
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Ce créneau vient d'être réservé" in html
    alternatives = re.findall(r'name="creneau" value="([^"]+)"', html)
    assert alternatives and slot_value(slot) not in alternatives
    assert 'value="Alex Martin"' in html
    # choosing an alternative books it
    response = client.post(reverse(BOOK), {**params, "creneau": alternatives[0], **details()})
    assert response.status_code == 302
    assert Appointment.objects.filter(full_name="Alex Martin", relay=world.relay).exists()


def test_a_slot_no_longer_free_sends_back_to_the_slots(world, client_for):
    client = client_for("partenaire")
    params = dict(motif=world.rdd_reason.pk, site=world.site.pk, mode=Mode.ON_SITE)
    response = client.get(book_url(**params, creneau="2020-01-06T09:00"))
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Ce créneau n'est plus libre" in html
    assert 'name="creneau"' in html


def test_a_reason_the_relays_may_not_book_is_refused(world, client_for):
    response = client_for("partenaire").get(book_url(motif=world.agent_reason.pk))
    assert response.status_code == 400
    assert "Choisissez le motif du rendez-vous" in unescape(response.content.decode())


def test_no_choice_at_a_step_says_what_to_choose(world, client_for):
    client = client_for("partenaire")
    response = client.get(book_url(etape="motif"))
    assert response.status_code == 400
    response = client.get(book_url(motif=world.rdd_reason.pk, site=world.site.pk, etape="mode"))
    assert response.status_code == 400
    assert "Choisissez comment le rendez-vous aura lieu" in unescape(response.content.decode())
    params = dict(motif=world.rdd_reason.pk, site=world.site.pk, mode=Mode.ON_SITE)
    response = client.get(book_url(**params, etape="creneau"))
    assert response.status_code == 400
    assert "Choisissez un créneau dans la liste" in unescape(response.content.decode())


def test_the_slots_page_through_the_following_days(world, client_for):
    client = client_for("partenaire")
    params = dict(motif=world.rdv_reason.pk, site=world.site.pk, mode=Mode.PHONE)
    html = unescape(client.get(book_url(**params)).content.decode())
    first_page = re.findall(r'name="creneau" value="([^"]+)"', html)
    assert "Jours suivants" in html
    next_url = re.search(r'href="([^"]*debut=[^"]+)"', html).group(1)
    html = unescape(client.get(next_url).content.decode())
    second_page = re.findall(r'name="creneau" value="([^"]+)"', html)
    assert second_page and min(second_page) > max(first_page)
    assert "Revenir aux premiers créneaux" in html


def test_a_site_of_another_organisation_cannot_be_chosen(world, client_for):
    params = dict(motif=world.rdd_reason.pk, site=world.other_site.pk, mode=Mode.ON_SITE)
    response = client_for("partenaire").get(book_url(**params))
    # the only site of the reason is taken instead: the other organisation's is ignored
    assert response.status_code == 200
    assert "Accueil Metz" not in response.content.decode()

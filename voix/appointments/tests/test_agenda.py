"""The agents' agenda: day and week views, an appointment's page and its actions (move,
cancel, status, check-in), booking for someone, and who may open what.

Time stands still on Monday 30 November 2026 at 08:00 (Paris) while the world is built,
so its appointments are known: the public one at 10:00–10:20 with the agent (« Camille
Usager »), the partner's referral at 10:00–11:00 with the second advisor.
"""

from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from voix.appointments import services
from voix.appointments.models import Appointment, Channel, Mode, Notification, Status
from voix.core.models import AuditEvent
from voix.reception.models import Ticket

PARIS = ZoneInfo("Europe/Paris")


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


MONDAY = paris(2026, 11, 30, 8, 0)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def page(client, url, **params):
    response = client.get(url, params)
    return response, unescape(response.content.decode())


def agenda_url():
    return reverse("appointments:agenda")


def detail_url(appointment):
    return reverse("appointments:detail", args=[appointment.pk])


# ----- the world as this module expects it ------------------------------------------------


def test_the_world_appointments_are_on_monday_morning(world):
    assert world.appointment.starts_at == paris(2026, 11, 30, 10, 0)
    assert world.appointment.advisor == world.advisor
    assert world.partner_appointment.starts_at == paris(2026, 11, 30, 10, 0)
    assert world.partner_appointment.advisor == world.advisor2


# ----- agenda: day view -------------------------------------------------------------------


def test_an_advisor_sees_their_own_day_by_default(world, client_for):
    response, html = page(client_for("agent"), agenda_url())
    assert response.status_code == 200
    assert "Agenda de Agent Test" in html
    assert "Lundi 30 novembre 2026" in html
    assert "Camille Usager" in html
    assert "10:00–10:20" in html
    assert "Question sur mon dossier" in html
    assert "Sur place" in html and "fr-icon-map-pin-2-line" in html
    assert "Prévu" in html
    # the second advisor's referral is not in the agent's own agenda
    assert "Dominique Relais" not in html


def test_free_opening_time_is_shown_lighter_with_a_booking_link(world, client_for):
    _, html = page(client_for("agent"), agenda_url())
    assert 'class="voix-agenda-free"' in html
    # it is 08:00: the whole morning is still ahead
    assert "09:00–10:00" in html
    assert "10:20–12:00" in html
    assert "14:00–16:30" in html
    book = reverse("appointments:book")
    assert f"{book}?site={world.site.pk}&conseiller={world.advisor.pk}&date=2026-11-30" in html


def test_free_time_already_past_is_not_offered(world, client_for, clock):
    clock.move_to(paris(2026, 11, 30, 11, 3))
    _, html = page(client_for("agent"), agenda_url())
    assert "09:00–10:00" not in html
    assert "11:05–12:00" in html  # rounded up to the 5-minute grid


def test_a_site_day_shows_every_advisor_and_who_referred(world, client_for):
    _, html = page(
        client_for("manager"), agenda_url(), site=world.site.pk, conseiller="", date="2026-11-30"
    )
    assert "Agenda — Siège test" in html
    assert "Agent Test" in html and "Conseillère Deux" in html
    assert "Camille Usager" in html and "Dominique Relais" in html
    assert "Orienté par <strong>France Services test</strong>" in html
    assert "Séparation récente, revenus en baisse." in html


def test_a_manager_without_opening_slots_sees_their_site_by_default(world, client_for):
    _, html = page(client_for("manager"), agenda_url())
    assert "Agenda — Siège test" in html
    assert "Dominique Relais" in html


def test_a_public_holiday_offers_no_free_time(world, client_for):
    # Friday 25 December 2026
    _, html = page(
        client_for("agent"), agenda_url(), date="2026-12-25", conseiller=world.advisor.pk
    )
    assert 'class="voix-agenda-free"' not in html
    assert "Aucun rendez-vous ni créneau libre ce jour-là." in html


def test_an_absence_removes_free_time(world, client_for):
    services.add_absence(
        None,
        world.advisor,
        world.caf,
        starts_at=paris(2026, 12, 1, 9, 0),
        ends_at=paris(2026, 12, 1, 23, 0),
        label="Formation",
    )
    _, html = page(client_for("agent"), agenda_url(), date="2026-12-01")
    assert 'class="voix-agenda-free"' not in html


def test_day_navigation_keeps_the_filters(world, client_for):
    _, html = page(client_for("agent"), agenda_url())
    assert f"?vue=jour&conseiller={world.advisor.pk}&date=2026-11-29" in html
    assert f"?vue=jour&conseiller={world.advisor.pk}&date=2026-12-01" in html
    assert "Jour précédent" in html and "Jour suivant" in html and "Aujourd'hui" in html
    _, html = page(
        client_for("agent"), agenda_url(), conseiller=world.advisor.pk, date="2026-12-01"
    )
    assert "Mardi 1 décembre 2026" in html
    assert "Camille Usager" not in html


def test_video_appointments_are_one_click_away_and_phone_ones_show_the_number(world, client_for):
    video = services.book(
        world.advisor,
        world.rdv_reason,
        site=world.site,
        mode=Mode.VIDEO,
        starts_at=paris(2026, 11, 30, 14, 0),
        channel=Channel.AGENT,
        full_name="Vidéo Usager",
    )
    phone = services.book(
        world.advisor,
        world.rdv_reason,
        site=world.site,
        mode=Mode.PHONE,
        starts_at=paris(2026, 11, 30, 14, 20),
        channel=Channel.AGENT,
        full_name="Phone Usager",
        phone="02 43 00 00 00",
        advisor=world.advisor,
    )
    assert video.video_link.startswith("https://")
    _, html = page(client_for("agent"), agenda_url(), conseiller=world.advisor.pk)
    assert f'href="{video.video_link}" target="_blank" rel="noopener"' in html
    assert "Rejoindre la visio" in html
    assert "avec Vidéo Usager à 14:00 (nouvelle fenêtre)" in html
    assert 'href="tel:0243000000"' in html and "Appeler le 02 43 00 00 00" in html
    assert phone.advisor == world.advisor
    # each mode in words, not only as an icon
    assert "En visio" in html and "Par téléphone" in html


def test_cancelled_appointments_stay_visible_with_their_status_in_words(world, client_for):
    services.cancel(world.advisor, world.appointment, reason_text="Erreur de saisie")
    _, html = page(client_for("agent"), agenda_url())
    assert "Camille Usager" in html
    assert "Annulé" in html
    assert "10:00–10:20" in html  # the appointment; and its time is free again:
    assert "09:00–12:00" in html


def test_a_bad_date_or_advisor_says_what_is_wrong(world, client_for):
    response, html = page(client_for("agent"), agenda_url(), date="31/02/2026")
    assert response.status_code == 400
    assert "La date doit être au format JJ/MM/AAAA" in html
    assert "Lundi 30 novembre 2026" in html  # today instead
    response, html = page(client_for("agent"), agenda_url(), conseiller="999999")
    assert response.status_code == 400
    assert "Ce conseiller n'est pas dans la liste" in html


def test_another_organisation_advisor_is_not_offered(world, client_for):
    response, html = page(client_for("outsider"), agenda_url(), conseiller=world.advisor.pk)
    assert response.status_code == 400
    assert "Camille Usager" not in html


# ----- agenda: week view ------------------------------------------------------------------


def test_the_week_is_a_table_with_days_and_hours_as_headers(world, client_for):
    response, html = page(
        client_for("manager"), agenda_url(), vue="semaine", site=world.site.pk, date="2026-12-02"
    )
    assert response.status_code == 200
    assert "Semaine du lundi 30 novembre au dimanche 6 décembre 2026" in html
    assert '<th scope="col">Heure</th>' in html
    for label in ("Lundi 30/11", "Mardi 01/12", "Vendredi 04/12"):
        assert label in html
    assert "Samedi" not in html  # nothing on the weekend: no column
    assert '<th scope="row">9 h</th>' in html and '<th scope="row">16 h</th>' in html
    assert "Camille Usager" in html and "Dominique Relais" in html
    assert "Orienté par France Services test" in html
    assert "Libre 14:00–15:00" in html
    assert "Semaine précédente" in html and "date=2026-11-25" in html


# ----- one appointment --------------------------------------------------------------------


def test_the_appointment_page_shows_details_history_and_messages(world, client_for):
    Notification.objects.create(
        appointment=world.partner_appointment,
        kind=Notification.Kind.CONFIRMATION,
        via=Notification.Via.SMS,
        to="+33711223344",
        state=Notification.State.SENT,
        attempts=1,
    )
    response, html = page(client_for("agent"), detail_url(world.partner_appointment))
    assert response.status_code == 200
    assert world.partner_appointment.reference in html
    assert "Dominique Relais" in html
    assert 'href="tel:0711223344"' in html
    assert "Orienté par" in html and "Séparation récente, revenus en baisse." in html
    assert "Par un relais partenaire" in html
    assert "Rendez-vous réservé" in html  # history from the audit log
    assert "Partenaire Test" in html  # who booked
    assert "Confirmation" in html and "SMS" in html and "Envoyé" in html


def test_a_partner_never_sees_an_appointment_even_its_own_referral(world, client_for):
    client = client_for("partenaire")
    assert client.get(detail_url(world.partner_appointment)).status_code == 404
    assert client.get(agenda_url()).status_code == 403


def test_quality_gets_403_and_another_organisation_404(world, client_for):
    assert client_for("qualite").get(detail_url(world.appointment)).status_code == 403
    assert client_for("outsider").get(detail_url(world.appointment)).status_code == 404


# ----- move -------------------------------------------------------------------------------


def move_url(appointment):
    return reverse("appointments:move", args=[appointment.pk])


def test_the_move_page_lists_free_slots_soonest_first(world, client_for):
    response, html = page(client_for("agent"), move_url(world.appointment))
    assert response.status_code == 200
    assert 'name="creneau"' in html
    assert "Lundi 30 novembre 2026" in html
    assert paris(2026, 11, 30, 9, 0).isoformat() in html  # agents may book inside the notice


def test_moving_to_a_free_slot(world, client_for):
    target = paris(2026, 11, 30, 14, 0)
    client = client_for("agent")
    response = client.post(
        move_url(world.appointment),
        {"site": world.site.pk, "mode": Mode.ON_SITE, "creneau": target.isoformat()},
    )
    assert response.status_code == 302
    world.appointment.refresh_from_db()
    assert world.appointment.starts_at == target
    assert world.appointment.version == 2
    assert AuditEvent.objects.filter(
        action="rendez_vous.déplacé", object_id=str(world.appointment.pk)
    ).exists()
    html = unescape(client.get(response["Location"]).content.decode())
    assert "Rendez-vous déplacé au 30/11/2026 à 14:00" in html
    # the history says where it was, in words
    # (PostgreSQL's jsonb keeps its own key order)
    for part in ("début : 30/11/2026 10:00", "mode : Sur place", "site : Siège test"):
        assert part in html
    assert "Rendez-vous déplacé" in html


def test_moving_by_typing_a_date_and_time(world, client_for):
    response = client_for("agent").post(
        move_url(world.appointment),
        {"site": world.site.pk, "mode": Mode.PHONE, "jour": "2026-12-01", "heure": "09:40"},
    )
    assert response.status_code == 302
    world.appointment.refresh_from_db()
    assert world.appointment.starts_at == paris(2026, 12, 1, 9, 40)
    assert world.appointment.mode == Mode.PHONE


def test_moving_outside_opening_hours_says_why_and_changes_nothing(world, client_for):
    response = client_for("agent").post(
        move_url(world.appointment),
        {"site": world.site.pk, "mode": Mode.ON_SITE, "jour": "2026-12-01", "heure": "19:00"},
    )
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert "Aucun conseiller ne reçoit à cet horaire" in html
    assert 'href="#id_jour"' in html  # the error summary points at the field
    world.appointment.refresh_from_db()
    assert world.appointment.version == 1


def test_moving_without_a_slot_or_with_half_a_date_asks_for_it(world, client_for):
    client = client_for("agent")
    response = client.post(
        move_url(world.appointment), {"site": world.site.pk, "mode": "sur_place"}
    )
    assert response.status_code == 400
    assert "Choisissez un créneau dans la liste, ou indiquez un jour et une heure." in unescape(
        response.content.decode()
    )
    response = client.post(
        move_url(world.appointment),
        {"site": world.site.pk, "mode": "sur_place", "jour": "2026-12-01"},
    )
    html = unescape(response.content.decode())
    assert "Indiquez aussi l'heure du nouveau rendez-vous." in html


def test_moving_onto_a_taken_time_offers_alternatives(world, client_for):
    # 10:00 on Monday: both advisors are taken (the public booking and the referral).
    other = services.book(
        world.advisor,
        world.rdv_reason,
        site=world.site,
        mode=Mode.ON_SITE,
        starts_at=paris(2026, 11, 30, 14, 0),
        channel=Channel.AGENT,
        full_name="Autre Usager",
    )
    response = client_for("agent").post(
        move_url(other),
        {
            "site": world.site.pk,
            "mode": Mode.ON_SITE,
            "creneau": paris(2026, 11, 30, 10, 0).isoformat(),
        },
    )
    html = unescape(response.content.decode())
    assert response.status_code == 409
    assert "Ce créneau vient d'être réservé" in html
    assert "Les prochains créneaux encore libres" in html
    other.refresh_from_db()
    assert other.starts_at == paris(2026, 11, 30, 14, 0)


# ----- cancel -----------------------------------------------------------------------------


def cancel_url(appointment):
    return reverse("appointments:cancel", args=[appointment.pk])


def test_cancelling_asks_for_confirmation_and_a_reason(world, client_for):
    client = client_for("agent")
    response, html = page(client, cancel_url(world.appointment))
    assert response.status_code == 200
    assert "Motif de l'annulation" in html
    response = client.post(cancel_url(world.appointment), {"motif": "   "})
    assert response.status_code == 400
    assert "Indiquez le motif de l'annulation." in unescape(response.content.decode())
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.PLANNED


def test_cancelling_frees_the_time(world, client_for):
    client = client_for("agent")
    response = client.post(
        cancel_url(world.appointment), {"motif": "La personne a trouvé la réponse en ligne"}
    )
    assert response.status_code == 302
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.CANCELLED
    assert world.appointment.cancel_reason == "La personne a trouvé la réponse en ligne"
    assert not world.appointment.occupancy.exists()
    html = unescape(client_for("agent").get(detail_url(world.appointment)).content.decode())
    assert "Rendez-vous annulé" in html
    assert "La personne a trouvé la réponse en ligne" in html
    assert "Aucune action possible" in html


def test_a_cancelled_appointment_cannot_be_cancelled_again(world, client_for):
    services.cancel(world.advisor, world.appointment, reason_text="Doublon")
    client = client_for("agent")
    response = client.post(cancel_url(world.appointment), {"motif": "Encore"})
    assert response.status_code == 302
    html = unescape(client.get(response["Location"]).content.decode())
    assert "n'est plus prévu" in html


# ----- status and check-in ----------------------------------------------------------------


def status_url(appointment):
    return reverse("appointments:set_status", args=[appointment.pk])


def test_honoured_is_refused_before_the_appointment_time(world, client_for):
    client = client_for("agent")
    response = client.post(status_url(world.appointment), {"statut": Status.HONOURED}, follow=True)
    assert "La venue se note à partir de l'heure du rendez-vous" in unescape(
        response.content.decode()
    )
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.PLANNED


def test_setting_the_outcome_after_the_appointment(world, client_for, clock):
    clock.move_to(paris(2026, 11, 30, 10, 30))
    client = client_for("agent")
    html = unescape(client.get(detail_url(world.appointment)).content.decode())
    assert 'value="honore"' in html and 'value="absent"' in html
    response = client.post(status_url(world.appointment), {"statut": Status.NO_SHOW}, follow=True)
    assert "Statut du rendez-vous" in unescape(response.content.decode())
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.NO_SHOW
    client.post(status_url(world.appointment), {"statut": Status.PLANNED})
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.PLANNED


def test_excused_frees_the_time_and_an_unknown_status_is_refused(world, client_for):
    client = client_for("agent")
    client.post(status_url(world.appointment), {"statut": Status.EXCUSED})
    world.appointment.refresh_from_db()
    assert world.appointment.status == Status.EXCUSED
    assert not world.appointment.occupancy.exists()
    response = client.post(status_url(world.appointment), {"statut": "perdu"}, follow=True)
    assert "Ce statut n'existe pas" in unescape(response.content.decode())


def test_checking_in_puts_the_person_in_the_queue_and_shows_the_ticket(world, client_for):
    client = client_for("agent")
    html = unescape(client.get(detail_url(world.appointment)).content.decode())
    assert "Enregistrer l'arrivée" in html
    response = client.post(
        reverse("appointments:check_in", args=[world.appointment.pk]), follow=True
    )
    ticket = Ticket.objects.get(appointment_ref=world.appointment.reference)
    html = unescape(response.content.decode())
    assert f"Arrivée enregistrée : ticket {ticket.code} dans la file « Rendez-vous »" in html
    world.appointment.refresh_from_db()
    assert world.appointment.checked_in_at is not None
    assert "Enregistrer l'arrivée" not in html


def test_checking_in_another_day_is_refused(world, client_for):
    services.move(world.advisor, world.appointment, starts_at=paris(2026, 12, 1, 9, 0))
    response = client_for("agent").post(
        reverse("appointments:check_in", args=[world.appointment.pk]), follow=True
    )
    assert "Ce rendez-vous n'est pas aujourd'hui." in unescape(response.content.decode())
    assert not Ticket.objects.filter(appointment_ref=world.appointment.reference).exists()


# ----- booking for someone ----------------------------------------------------------------


def book_url():
    return reverse("appointments:book")


def choice(world, reason=None, mode=Mode.ON_SITE, **extra):
    return {
        "motif": (reason or world.rdv_reason).pk,
        "site": world.site.pk,
        "mode": mode,
        **extra,
    }


def test_the_booking_page_offers_every_reason_of_the_organisation(world, client_for):
    response, html = page(client_for("agent"), book_url())
    assert response.status_code == 200
    for reason in (world.rdv_reason, world.rdd_reason, world.agent_reason):
        assert reason.label in html
    assert world.other_reason.label not in html
    assert 'name="creneau"' not in html  # no slot before a reason is chosen


def test_the_booking_page_lists_slots_by_day_soonest_first(world, client_for):
    _, html = page(client_for("agent"), book_url(), **choice(world))
    assert "Lundi 30 novembre 2026" in html
    first = paris(2026, 11, 30, 9, 0).isoformat()
    assert first in html
    assert html.index(first) < html.index(paris(2026, 11, 30, 14, 0).isoformat())
    assert "Voir les jours suivants" in html
    _, html = page(client_for("agent"), book_url(), **choice(world, date="2026-12-03"))
    assert "Lundi 30 novembre" not in html and "Jeudi 3 décembre 2026" in html
    assert "Revenir aux premiers créneaux" in html


def test_an_agent_books_for_someone(world, client_for):
    starts_at = paris(2026, 11, 30, 9, 0)
    client = client_for("agent")
    response = client.post(
        book_url(),
        choice(
            world,
            reason=world.agent_reason,
            creneau=starts_at.isoformat(),
            full_name="Alex Martin",
            phone="06 98 76 54 32",
            email="",
            note="Vient avec sa fille.",
        ),
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get(full_name="Alex Martin")
    assert response["Location"] == detail_url(appointment)
    assert (appointment.channel, appointment.starts_at, appointment.reason) == (
        Channel.AGENT,
        starts_at,
        world.agent_reason,
    )
    assert appointment.booked_by == world.people["agent"]
    assert appointment.phone == "06 98 76 54 32"
    html = unescape(client.get(response["Location"]).content.decode())
    assert "Rendez-vous réservé pour Alex Martin le 30/11/2026 à 09:00" in html


def test_booking_with_a_chosen_advisor(world, client_for):
    response = client_for("agent").post(
        book_url(),
        choice(
            world,
            conseiller=world.advisor2.pk,
            creneau=paris(2026, 11, 30, 9, 0).isoformat(),
            full_name="Sam Lee",
        ),
    )
    assert response.status_code == 302
    assert Appointment.objects.get(full_name="Sam Lee").advisor == world.advisor2


def test_a_taken_slot_shows_the_message_and_alternatives(world, client_for):
    response = client_for("agent").post(
        book_url(),
        choice(world, creneau=paris(2026, 11, 30, 10, 0).isoformat(), full_name="Tard Venu"),
    )
    html = unescape(response.content.decode())
    assert response.status_code == 409
    assert "Ce créneau vient d'être réservé" in html
    assert "Les prochains créneaux encore libres" in html
    assert 'name="creneau"' in html
    assert 'value="Tard Venu"' in html  # what was typed is kept
    assert not Appointment.objects.filter(full_name="Tard Venu").exists()


def test_bad_input_gets_an_error_summary_and_messages_by_field(world, client_for):
    client = client_for("agent")
    response = client.post(
        book_url(),
        choice(world, creneau=paris(2026, 11, 30, 9, 0).isoformat(), full_name="", email="pas@"),
    )
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert 'id="erreurs"' in html
    assert 'href="#id_full_name"' in html and "Indiquez le nom et le prénom" in html
    assert 'href="#id_email"' in html and "Le courriel n'est pas valide" in html
    response = client.post(
        book_url(),
        choice(world, creneau=paris(2026, 11, 30, 9, 0).isoformat(), full_name="A B", phone="123"),
    )
    assert response.status_code == 400
    assert "Numéro de téléphone invalide" in unescape(response.content.decode())
    response = client.post(
        book_url(), choice(world, mode=Mode.PHONE, creneau="", full_name="A B", phone="")
    )
    html = unescape(response.content.decode())
    assert "Choisissez un créneau dans la liste." in html
    assert 'href="#creneaux"' in html
    assert "indiquez le numéro à appeler" in html
    assert not Appointment.objects.filter(full_name="A B").exists()


def test_a_slot_in_the_past_is_refused(world, client_for):
    response = client_for("agent").post(
        book_url(),
        choice(world, creneau=paris(2026, 11, 27, 9, 0).isoformat(), full_name="Passé Usager"),
    )
    assert response.status_code == 400
    assert "Ce créneau est déjà passé" in unescape(response.content.decode())


def test_a_reason_not_offered_at_the_site_or_in_that_mode_says_so(world, client_for):
    response, html = page(
        client_for("agent"),
        book_url(),
        motif=world.rdd_reason.pk,
        site=world.relay.pk,
        mode="visio",
    )
    assert response.status_code == 400
    assert "Ce site n'est pas dans la liste" in html  # relays are not booking sites
    response, html = page(
        client_for("agent"),
        book_url(),
        motif=world.rdd_reason.pk,
        site=world.site.pk,
        mode="telephone",
    )
    assert response.status_code == 400
    assert "ne se tient pas « par téléphone »" in html
    assert "modes possibles : sur place, en visio" in html


def test_another_organisation_reason_is_refused(world, client_for):
    response, html = page(
        client_for("agent"),
        book_url(),
        motif=world.other_reason.pk,
        site=world.site.pk,
        mode="sur_place",
    )
    assert response.status_code == 400
    assert "Ce motif n'est pas proposé" in html


# ----- menu and home ----------------------------------------------------------------------


def test_the_menu_and_home_offer_the_agenda_to_those_who_hold_appointments(world, client_for):
    for persona in ("agent", "manager", "admin"):
        html = client_for(persona).get(reverse("core:home")).content.decode()
        assert f'href="{agenda_url()}"' in html, persona
    for persona in ("qualite", "mediateur", "partenaire"):
        html = client_for(persona).get(reverse("core:home")).content.decode()
        assert f'href="{agenda_url()}"' not in html, persona
    html = client_for("agent").get(agenda_url()).content.decode()
    assert f'href="{agenda_url()}" aria-current="page">Rendez-vous</a>' in html


def test_the_agenda_booking_link_preselects_site_and_advisor(world, client_for):
    response, html = page(
        client_for("agent"),
        book_url(),
        site=world.site.pk,
        conseiller=world.advisor2.pk,
        date="2026-12-01",
    )
    assert response.status_code == 200
    assert f'<option value="{world.site.pk}" selected>' in html
    assert f'<option value="{world.advisor2.pk}" selected>' in html
    assert 'value="2026-12-01"' in html
    assert "erreurs" not in html  # no reason yet is not an error


def test_an_agent_narrowed_to_another_site_sees_only_that_site(world, client):
    from voix.core import services as core_services
    from voix.core.models import Role

    antenna = core_services.create_site(
        None,
        world.caf,
        name="Antenne test",
        slug="antenne",
        kind="antenne",
        address="2 rue C",
        postcode="53200",
        commune="Château-Gontier",
        insee_code="53062",
    )
    person = core_services.create_person(
        None, email="antenne@test.localhost", full_name="Agent Antenne", password="x-2026-long"
    )
    core_services.add_membership(None, person, world.caf, Role.AGENT, site=antenna)
    client.force_login(person)
    assert client.get(detail_url(world.appointment)).status_code == 404
    response, html = page(client, agenda_url(), site=world.site.pk)
    assert response.status_code == 400  # the siège is not in their list
    assert "Camille Usager" not in html
    _, html = page(client, agenda_url())
    assert "Agenda — Antenne test" in html
    # an administrator of the whole organisation sees every site
    client.force_login(world.people["admin"])
    assert client.get(detail_url(world.appointment)).status_code == 200

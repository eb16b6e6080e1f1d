"""Public booking without an account: reason → mode → site → slot → details, through the
test client only (plain links and one form: no JavaScript needed)."""

from datetime import timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from voix.appointments import links, services
from voix.appointments.models import Appointment, Channel, Mode, WaitlistEntry
from voix.appointments.views.public import slot_param
from voix.core import antibot
from voix.core import services as core_services


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()  # the rate-limit counters live in the cache, shared by every test
    yield
    cache.clear()


def org_url(w):
    return reverse("appointments:public_start", args=[w.caf.slug])


def slots_url(w, mode=Mode.ON_SITE, reason=None):
    return reverse(
        "appointments:public_slots",
        args=[w.caf.slug, (reason or w.rdv_reason).pk, mode, w.site.slug],
    )


def details_url(w, starts_at, mode=Mode.ON_SITE):
    return reverse(
        "appointments:public_details",
        args=[w.caf.slug, w.rdv_reason.pk, mode, w.site.slug, slot_param(starts_at)],
    )


def first_slot(w, mode=Mode.ON_SITE):
    return services.first_available(w.rdv_reason, w.site, mode=mode)


def form_data(**overrides):
    data = {
        "full_name": "Alex Martin",
        "phone": "06 11 22 33 44",
        "email": "alex@example.org",
        "note": "",
        "consent": "on",
        antibot.STAMP_FIELD: antibot.stamp(timezone.now() - timedelta(seconds=30)),
        antibot.HONEYPOT_FIELD: "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def take_everyone(w, slot):
    """Others book *slot* until no advisor is free then."""
    for number in range(10):
        try:
            services.book(
                None,
                w.rdv_reason,
                site=w.site,
                mode=Mode.ON_SITE,
                starts_at=slot.starts_at,
                channel=Channel.PUBLIC,
                full_name=f"Autre {number}",
                email="autre@example.org",
                consent=True,
            )
        except services.SlotTaken:
            return
    raise AssertionError("the slot never fills up")


def text(response):
    return unescape(response.content.decode())


# ----- the steps ------------------------------------------------------------------------


def test_the_first_step_offers_only_reasons_the_public_may_book(world, client):
    services.save_reason(None, world.caf, label="Motif retiré", is_active=False, sites=[world.site])
    html = text(client.get(org_url(world)))
    assert "Question sur mon dossier" in html
    assert "Rendez-vous des droits" not in html  # relays and agents only
    assert "Suivi social" not in html  # agents only
    assert "Motif retiré" not in html
    assert "Étape 1 sur 5" in html
    assert reverse("appointments:public_mode", args=[world.caf.slug, world.rdv_reason.pk]) in html


def test_an_organisation_without_online_reasons_says_so_and_gives_its_number(world, client):
    core_services.update_organisation(None, world.other, phone="03 87 00 00 00")
    services.save_reason(
        None, world.other, world.other_reason, audience="agent", sites=[world.other_site]
    )
    html = text(client.get(reverse("appointments:public_start", args=[world.other.slug])))
    assert "Aucun rendez-vous ne peut être pris en ligne" in html
    assert "03 87 00 00 00" in html


def test_the_mode_step_offers_the_modes_of_the_reason(world, client):
    services.save_reason(None, world.caf, world.rdv_reason, video=False, sites=[world.site])
    html = text(
        client.get(reverse("appointments:public_mode", args=[world.caf.slug, world.rdv_reason.pk]))
    )
    assert "Sur place" in html and "Par téléphone" in html
    assert "En visio" not in html
    assert "Question sur mon dossier" in html  # the choice made so far, with a link to change it


def test_a_mode_the_reason_does_not_offer_is_not_found(world, client):
    services.save_reason(None, world.caf, world.rdv_reason, video=False, sites=[world.site])
    url = reverse(
        "appointments:public_site", args=[world.caf.slug, world.rdv_reason.pk, Mode.VIDEO]
    )
    assert client.get(url).status_code == 404


def test_the_site_step_shows_each_site_with_its_first_free_slot(world, client):
    url = reverse(
        "appointments:public_site", args=[world.caf.slug, world.rdv_reason.pk, Mode.ON_SITE]
    )
    html = text(client.get(url))
    assert "Siège test" in html
    assert "Premier horaire libre" in html
    assert "Votre commune ou code postal" in html


def test_the_slot_step_offers_the_soonest_slots_first(world, client):
    slots = services.available_slots(world.rdv_reason, world.site, mode=Mode.ON_SITE)
    html = text(client.get(slots_url(world)))
    first_link = details_url(world, slots[0].starts_at)
    assert "Les premiers horaires libres" in html
    assert html.index(first_link) < html.index("Semaine du")
    assert details_url(world, slots[2].starts_at) in html


def test_the_slot_step_pages_by_week(world, client):
    slots = services.available_slots(world.rdv_reason, world.site, mode=Mode.ON_SITE)
    first_week = timezone.localtime(slots[0].starts_at).date()
    first_week -= timedelta(days=first_week.weekday())
    later = next(
        s for s in slots if timezone.localtime(s.starts_at).date() >= first_week + timedelta(days=7)
    )
    html = text(client.get(slots_url(world)))
    assert "Semaine suivante avec des horaires libres" in html
    assert details_url(world, later.starts_at) not in html.split("Semaine du")[1]
    next_week = first_week + timedelta(days=7)
    html = text(client.get(slots_url(world) + f"?semaine={next_week.isoformat()}"))
    assert details_url(world, later.starts_at) in html
    assert "Semaine précédente avec des horaires libres" in html


def test_without_any_free_slot_the_page_gives_the_phone_and_the_waitlist(world, client):
    core_services.update_site(None, world.site, phone="02 43 00 00 00")
    services.save_reason(None, world.caf, world.rdv_reason, max_horizon_days=0, sites=[world.site])
    html = text(client.get(slots_url(world)))
    assert "Aucun horaire n'est libre pour le moment" in html
    assert "02 43 00 00 00" in html
    assert (
        reverse(
            "appointments:public_waitlist",
            args=[world.caf.slug, world.rdv_reason.pk, Mode.ON_SITE, world.site.slug],
        )
        in html
    )


def test_the_public_pages_need_no_javascript(world, client):
    slot = first_slot(world)
    for url in (org_url(world), slots_url(world), details_url(world, slot.starts_at)):
        html = client.get(url).content.decode()
        assert "hx-" not in html
    html = text(client.get(details_url(world, slot.starts_at)))
    assert 'method="post"' in html
    assert "Ne pas remplir" in html
    assert 'tabindex="-1"' in html
    assert "J'accepte que la Caf utilise ces coordonnées" in html  # the consent wording


def test_the_consent_wording_is_the_organisations(world, client):
    services.save_settings(None, world.caf, consent_text="Texte de consentement de la Caf test.")
    html = text(client.get(details_url(world, first_slot(world).starts_at)))
    assert "Texte de consentement de la Caf test." in html


# ----- booking --------------------------------------------------------------------------


def test_booking_without_javascript_leads_to_the_manage_page_with_a_confirmation(world, client):
    slot = first_slot(world)
    response = client.post(details_url(world, slot.starts_at), form_data(note="Interprète LSF"))
    appointment = Appointment.objects.get(full_name="Alex Martin")
    assert response.status_code == 302
    assert response["Location"] == links.manage_url(appointment, absolute=False) + "?confirmation=1"
    assert appointment.channel == Channel.PUBLIC
    assert appointment.starts_at == slot.starts_at
    assert appointment.consent_at is not None
    assert appointment.note == "Interprète LSF"
    assert appointment.booked_by is None
    html = text(client.get(response["Location"]))
    assert "Votre rendez-vous est réservé" in html
    assert appointment.reference in html
    assert "alex@example.org" in html


def test_a_video_booking_shows_its_link(world, client):
    slot = first_slot(world, Mode.VIDEO)
    response = client.post(details_url(world, slot.starts_at, Mode.VIDEO), form_data())
    appointment = Appointment.objects.get(full_name="Alex Martin")
    assert appointment.video_link
    assert appointment.video_link in text(client.get(response["Location"]))


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"phone": "12 34"}, "phone", "Numéro de téléphone invalide"),
        ({"email": "alex@exemple"}, "email", "n'est pas une adresse électronique valide"),
        ({"phone": "", "email": ""}, "phone", "au moins l'un des deux"),
        ({"consent": None}, "consent", "Cochez la case"),
        ({"full_name": "   "}, "full_name", "Indiquez vos nom et prénom"),
    ],
)
def test_bad_details_are_refused_field_by_field_and_nothing_is_lost(
    world, client, overrides, field, message
):
    before = Appointment.objects.count()
    slot = first_slot(world)
    response = client.post(
        details_url(world, slot.starts_at), form_data(note="Ma note", **overrides)
    )
    html = text(response)
    assert response.status_code == 400
    assert Appointment.objects.count() == before
    assert message in html
    assert 'id="erreurs"' in html  # the error summary at the top
    assert f'href="#id_{field}"' in html  # …links to the field
    assert "Ma note" in html  # what was typed is kept
    if field != "full_name":
        assert 'value="Alex Martin"' in html


def test_a_phone_appointment_needs_a_phone_number(world, client):
    slot = first_slot(world, Mode.PHONE)
    response = client.post(details_url(world, slot.starts_at, Mode.PHONE), form_data(phone=""))
    assert response.status_code == 400
    assert "le numéro où le conseiller vous appellera" in text(response)
    assert not Appointment.objects.filter(full_name="Alex Martin").exists()


def test_a_filled_honeypot_books_nothing(world, client):
    slot = first_slot(world)
    response = client.post(
        details_url(world, slot.starts_at),
        form_data(**{antibot.HONEYPOT_FIELD: "https://spam.example"}),
    )
    assert response.status_code == 400
    assert "« Ne pas remplir » doit rester vide" in text(response)
    assert not Appointment.objects.filter(full_name="Alex Martin").exists()


def test_a_form_sent_too_fast_is_refused_then_accepted_later(world, client):
    slot = first_slot(world)
    response = client.post(
        details_url(world, slot.starts_at),
        form_data(**{antibot.STAMP_FIELD: antibot.stamp(timezone.now() - timedelta(seconds=1))}),
    )
    assert response.status_code == 400
    assert "envoyé trop vite" in text(response)
    assert not Appointment.objects.filter(full_name="Alex Martin").exists()
    # The page keeps the first timestamp: sent again a little later, it goes through.
    stamp = response.context["form"].data[antibot.STAMP_FIELD]
    assert f'value="{stamp}"' in response.content.decode()


def test_a_form_left_open_more_than_two_hours_is_refused(world, client):
    slot = first_slot(world)
    old = antibot.stamp(timezone.now() - timedelta(hours=2, minutes=1))
    response = client.post(
        details_url(world, slot.starts_at), form_data(**{antibot.STAMP_FIELD: old})
    )
    assert response.status_code == 400
    assert "ouvert depuis plus de 2 heures" in text(response)
    assert old not in response.content.decode()  # a fresh timestamp for the next try


def test_bookings_are_rate_limited_per_address(world, client, settings):
    settings.PUBLIC_RATE_LIMIT = 2
    slot = first_slot(world)
    url = details_url(world, slot.starts_at)
    for _ in range(2):
        assert client.post(url, form_data(phone="12")).status_code == 400
    response = client.post(url, form_data())
    assert response.status_code == 429
    assert "Trop de demandes" in text(response)
    assert not Appointment.objects.filter(full_name="Alex Martin").exists()
    other = client.post(url, form_data(), REMOTE_ADDR="10.0.0.7")
    assert other.status_code == 302  # another address is not held back


def test_a_slot_taken_meanwhile_offers_alternatives_and_keeps_the_form(world, client):
    slot = first_slot(world)
    take_everyone(world, slot)
    response = client.post(details_url(world, slot.starts_at), form_data(note="Ma note"))
    html = text(response)
    assert response.status_code == 409
    assert "Ce créneau vient d'être réservé" in html
    alternatives = response.context["alternatives"]
    assert alternatives
    for alternative, url in alternatives:
        assert alternative.starts_at != slot.starts_at
        assert f'formaction="{url}"' in html
    assert "Ma note" in html and 'value="Alex Martin"' in html
    # One click on an alternative books it with the same details.
    alternative, url = alternatives[0]
    response = client.post(url, form_data(note="Ma note"))
    assert response.status_code == 302
    assert Appointment.objects.get(full_name="Alex Martin").starts_at == alternative.starts_at


def test_opening_a_slot_that_is_no_longer_free_says_so(world, client):
    slot = first_slot(world)
    take_everyone(world, slot)
    response = client.get(details_url(world, slot.starts_at))
    assert "Cet horaire n'est plus libre" in text(response)
    assert response.context["alternatives"]


def test_a_slot_in_the_past_is_refused_with_a_message(world, client):
    past = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    response = client.post(details_url(world, past), form_data())
    assert response.status_code in (400, 409)
    assert not Appointment.objects.filter(full_name="Alex Martin").exists()
    assert "erreurs" in text(response)


# ----- waitlist without an appointment ---------------------------------------------------


def test_anyone_can_ask_to_be_told_when_a_slot_frees_up(world, client):
    url = reverse(
        "appointments:public_waitlist",
        args=[world.caf.slug, world.rdv_reason.pk, Mode.ON_SITE, world.site.slug],
    )
    data = form_data(full_name=None, note=None, phone="")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "C'est noté" in text(response)
    entry = WaitlistEntry.objects.get(email="alex@example.org")
    assert entry.reason == world.rdv_reason and entry.site == world.site and entry.is_active


def test_the_waitlist_form_needs_a_way_to_reach_the_person(world, client):
    url = reverse(
        "appointments:public_waitlist",
        args=[world.caf.slug, world.rdv_reason.pk, Mode.ON_SITE, world.site.slug],
    )
    response = client.post(url, form_data(full_name=None, note=None, phone="", email=""))
    assert response.status_code == 400
    assert "au moins l'un des deux" in text(response)
    assert not WaitlistEntry.objects.filter(appointment__isnull=True).exists()

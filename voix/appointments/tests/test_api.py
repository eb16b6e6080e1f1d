"""The appointments API: partners book for their relay only and see only its bookings; an
organisation's agents book through the API; everyone else gets 404; French errors."""

import json
from datetime import datetime

import pytest

from voix.appointments.models import Appointment, Channel, Mode
from voix.commitments.management.commands.create_api_token import create_api_token

BASE = "/api/v1/rendez-vous"


@pytest.fixture
def api(world, client):
    keys = {}

    def call(persona, method, path, body=None, **params):
        if persona not in keys:
            keys[persona] = create_api_token(None, world.people[persona])[1]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {keys[persona]}"}
        if method == "get":
            return client.get(path, params, **headers)
        return client.post(path, json.dumps(body), content_type="application/json", **headers)

    return call


def _slots(api, persona, reason, **params):
    response = api(persona, "get", f"{BASE}/disponibilites", motif_id=reason.pk, **params)
    assert response.status_code == 200, response.content
    return response.json()


def _booking(world, reason, slot, **fields):
    return {
        "motif_id": reason.pk,
        "site_id": world.site.pk,
        "mode": Mode.ON_SITE,
        "debut": slot["debut"],
        "nom": "Sacha Orienté",
        "telephone": "06 98 76 54 32",
        "consentement": True,
        "note_relais": "Perte d'emploi, dossier RSA à ouvrir.",
        **fields,
    }


def test_a_partner_sees_the_reasons_relays_may_book_of_its_organisation_only(world, api):
    response = api("partenaire", "get", f"{BASE}/motifs")
    assert response.status_code == 200
    labels = {row["motif"] for row in response.json()}
    assert labels == {"Question sur mon dossier", "Rendez-vous des droits"}
    rdd = next(row for row in response.json() if row["motif"] == "Rendez-vous des droits")
    assert rdd["modes"] == ["sur_place", "visio"] and rdd["public"] == "partenaire"
    assert [site["id"] for site in rdd["sites"]] == [world.site.pk]


def test_availability_lists_free_slots_soonest_first(world, api):
    slots = _slots(api, "partenaire", world.rdd_reason, jours=10)
    assert slots
    starts = [datetime.fromisoformat(slot["debut"]) for slot in slots]
    assert starts == sorted(starts)
    assert {slot["site_id"] for slot in slots} == {world.site.pk}
    booked = world.partner_appointment.starts_at
    assert all(
        not (start < world.partner_appointment.ends_at and booked < end)
        or slot["conseillers_libres"] >= 1
        for slot, start, end in (
            (s, datetime.fromisoformat(s["debut"]), datetime.fromisoformat(s["fin"])) for s in slots
        )
    )
    visio = _slots(api, "partenaire", world.rdd_reason, mode="visio", jours=10)
    assert visio and all(slot["modes"] == ["visio"] for slot in visio)


def test_availability_refuses_bad_parameters_in_french(world, api):
    response = api(
        "partenaire",
        "get",
        f"{BASE}/disponibilites",
        motif_id=world.rdd_reason.pk,
        mode="telephone",
        jours=0,
        site_id=world.relay.pk,
    )
    assert response.status_code == 422
    fields = {line["champ"] for line in response.json()["erreurs"]}
    assert fields == {"mode", "jours", "site_id"}
    assert "rien n'a été enregistré" in response.json()["detail"]
    malformed = api("partenaire", "get", f"{BASE}/disponibilites", motif_id="abc")
    assert malformed.status_code == 422
    assert malformed.json()["erreurs"][0]["message"] == "un nombre entier est attendu"


@pytest.mark.parametrize("persona", ["outsider", "qualite", "mediateur", "sans_role"])
def test_people_without_a_booking_role_get_404(world, api, persona):
    response = api(persona, "get", f"{BASE}/disponibilites", motif_id=world.rdv_reason.pk)
    assert response.status_code == 404
    reasons = {row["organisme"] for row in api(persona, "get", f"{BASE}/motifs").json()}
    assert reasons == ({"autre"} if persona == "outsider" else set())
    detail = api(persona, "get", f"{BASE}/{world.appointment.reference}")
    assert detail.status_code == 404


def test_agents_only_reasons_are_not_bookable_through_the_api(world, api):
    response = api("agent", "get", f"{BASE}/disponibilites", motif_id=world.agent_reason.pk)
    assert response.status_code == 404


def test_a_partner_books_for_its_relay_and_a_retry_does_not_book_twice(world, api):
    slot = _slots(api, "partenaire", world.rdd_reason)[0]
    body = _booking(world, world.rdd_reason, slot)
    first = api("partenaire", "post", BASE, body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["canal"] == Channel.PARTNER and data["relais_id"] == world.relay.pk
    assert data["note_relais"] == "Perte d'emploi, dossier RSA à ouvrir."
    assert data["telephone"] == "06 98 76 54 32" and data["statut"] == "prevu"
    appointment = Appointment.objects.get(reference=data["reference"])
    assert appointment.booked_by == world.people["partenaire"]
    assert appointment.consent_at is not None
    again = api("partenaire", "post", BASE, {**body, "nom": " sacha  orienté "})
    assert again.status_code == 200
    assert again.json()["reference"] == data["reference"]
    assert Appointment.objects.filter(full_name="Sacha Orienté").count() == 1


def test_a_partner_cannot_book_for_another_relay(world, api):
    slot = _slots(api, "partenaire", world.rdd_reason)[0]
    body = _booking(world, world.rdd_reason, slot, relais_id=world.other_relay.pk)
    response = api("partenaire", "post", BASE, body)
    assert response.status_code == 422
    assert response.json()["erreurs"] == [
        {"champ": "relais_id", "message": "vous ne pouvez réserver que pour votre propre relais."}
    ]
    assert not Appointment.objects.filter(full_name="Sacha Orienté").exists()


def test_a_booking_with_missing_details_is_refused_field_by_field(world, api):
    slot = _slots(api, "partenaire", world.rdd_reason)[0]
    body = _booking(
        world, world.rdd_reason, slot, telephone="12", consentement=False, note_relais=""
    )
    response = api("partenaire", "post", BASE, body)
    assert response.status_code == 422
    fields = {line["champ"] for line in response.json()["erreurs"]}
    assert fields == {"telephone", "consentement", "note_relais"}
    assert "Réservation refusée, rien n'a été enregistré." in response.json()["detail"]
    assert not Appointment.objects.filter(full_name="Sacha Orienté").exists()


def test_a_start_without_time_zone_is_refused(world, api):
    slot = _slots(api, "partenaire", world.rdd_reason)[0]
    naive = datetime.fromisoformat(slot["debut"]).replace(tzinfo=None).isoformat()
    response = api("partenaire", "post", BASE, _booking(world, world.rdd_reason, slot, debut=naive))
    assert response.status_code == 422
    assert response.json()["erreurs"][0]["champ"] == "debut"


def test_a_slot_taken_meanwhile_answers_409_with_alternatives(world, api):
    slot = _slots(api, "partenaire", world.rdd_reason)[0]
    for number in range(slot["conseillers_libres"]):
        body = _booking(world, world.rdd_reason, slot, nom=f"Personne {number}")
        assert api("partenaire", "post", BASE, body).status_code == 201
    late = api("partenaire", "post", BASE, _booking(world, world.rdd_reason, slot, nom="Tard"))
    assert late.status_code == 409
    data = late.json()
    assert data["detail"].startswith("Ce créneau vient d'être réservé")
    assert data["alternatives"] and all(a["debut"] != slot["debut"] for a in data["alternatives"])


def test_an_agent_books_through_the_api_channel_without_relay(world, api):
    slot = _slots(api, "agent", world.rdv_reason, mode="telephone")[0]
    body = _booking(
        world, world.rdv_reason, slot, mode="telephone", note_relais="", courriel="a@example.org"
    )
    response = api("agent", "post", BASE, body)
    assert response.status_code == 201, response.content
    assert response.json()["canal"] == Channel.API and response.json()["relais_id"] is None
    refused = api("agent", "post", BASE, {**body, "relais_id": world.relay.pk, "nom": "Autre"})
    assert refused.status_code == 422
    assert refused.json()["erreurs"][0]["champ"] == "relais_id"


def test_a_partner_lists_only_its_relays_bookings_and_an_agent_its_organisations(world, api):
    partner = api("partenaire", "get", BASE)
    assert partner.status_code == 200
    assert [row["reference"] for row in partner.json()] == [world.partner_appointment.reference]
    agent = {row["reference"] for row in api("agent", "get", BASE).json()}
    assert agent == {world.appointment.reference, world.partner_appointment.reference}
    assert api("outsider", "get", BASE).json() == []
    cancelled = api("agent", "get", BASE, statut="annule")
    assert cancelled.status_code == 200 and cancelled.json() == []
    bad = api("agent", "get", BASE, statut="perdu")
    assert bad.status_code == 422 and bad.json()["erreurs"][0]["champ"] == "statut"


def test_one_booking_by_reference_inside_the_scope_only(world, api):
    own = api("partenaire", "get", f"{BASE}/{world.partner_appointment.reference}")
    assert own.status_code == 200
    assert own.json()["relais"] == world.relay.name
    other = api("partenaire", "get", f"{BASE}/{world.appointment.reference}")
    assert other.status_code == 404
    assert api("agent", "get", f"{BASE}/{world.appointment.reference}").status_code == 200


def test_no_token_gets_401(world, client):
    assert client.get(f"{BASE}/motifs").status_code == 401


def test_the_list_is_bounded_by_its_dates(world, api):
    day = world.appointment.starts_at.astimezone(world.site.calendar().tz).date()
    same_day = api("agent", "get", BASE, du=day.isoformat(), au=day.isoformat())
    assert world.appointment.reference in {row["reference"] for row in same_day.json()}
    before = api("agent", "get", BASE, du="2020-01-01", au="2020-01-31")
    assert before.status_code == 200 and before.json() == []
    reversed_dates = api("agent", "get", BASE, du="2026-03-10", au="2026-03-01")
    assert reversed_dates.status_code == 422
    assert reversed_dates.json()["erreurs"][0]["champ"] == "au"

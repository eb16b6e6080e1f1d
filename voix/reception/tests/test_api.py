"""The queue API: external systems post tickets idempotently; staff roles only; scoped."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from voix.commitments.management.commands.create_api_token import create_api_token
from voix.reception.models import Status, Ticket, VisitDay

URL = "/api/v1/reception/tickets"
PARIS = ZoneInfo("Europe/Paris")
ENTRY = datetime(2026, 3, 9, 9, 0, tzinfo=PARIS)


@pytest.fixture
def post(world, client, on_commit):
    def send(persona, **fields):
        _token, key = create_api_token(None, world.people[persona])
        body = {
            "site_id": world.site.pk,
            "source": "filea",
            "external_id": "T-1",
            "motif": "Prestations",
            "entree": ENTRY.isoformat(),
            **fields,
        }
        return client.post(
            URL,
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )

    return send


def test_posting_a_ticket_twice_updates_it_and_never_duplicates(world, post):
    first = post("agent")
    assert first.status_code == 201
    called = (ENTRY + timedelta(minutes=12)).isoformat()
    done = (ENTRY + timedelta(minutes=30)).isoformat()
    again = post("agent", appel=called, debut=called, fin=done, guichet="Guichet 1")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Ticket.objects.filter(external_id="T-1").count() == 1
    ticket = Ticket.objects.get(external_id="T-1")
    assert (ticket.status, ticket.counter) == (Status.DONE, world.counter)
    assert again.json()["attente_minutes"] == 12.0 and again.json()["visite"] is True
    repeat = post("agent", appel=called, debut=called, fin=done, guichet="Guichet 1")
    assert repeat.status_code == 200
    row = VisitDay.objects.get(site=world.site, day=ENTRY.date())
    assert (row.tickets, row.visits, row.within_20) == (1, 1, 1)


def test_a_ticket_left_without_contact_is_recorded_but_is_not_a_visit(world, post):
    response = post("manager", parti_sans_contact=True)
    assert response.json()["etat"] == Status.ABANDONED
    assert response.json()["visite"] is False
    row = VisitDay.objects.get(site=world.site, day=ENTRY.date())
    assert (row.tickets, row.visits, row.abandoned) == (1, 0, 1)


def test_times_out_of_order_are_refused_in_french_with_the_field(world, post):
    response = post("agent", appel=(ENTRY - timedelta(minutes=5)).isoformat())
    assert response.status_code == 422
    assert [line["champ"] for line in response.json()["erreurs"]] == ["appel"]
    assert "ne peut pas précéder" in response.json()["detail"]
    assert not Ticket.objects.filter(external_id="T-1").exists()


def test_a_date_in_the_future_is_refused(world, post):
    response = post("agent", entree=(datetime.now(PARIS) + timedelta(days=2)).isoformat())
    assert response.status_code == 422
    assert "dans le futur" in response.json()["detail"]


def test_an_unknown_reason_or_counter_is_named(world, post):
    assert "Motif « Inconnu » inconnu" in post("agent", motif="Inconnu").json()["detail"]
    assert "Guichet « G9 » inconnu" in post("agent", guichet="G9").json()["detail"]


def test_only_agents_managers_and_admins_write(world, post):
    assert post("qualite").status_code == 403
    assert post("mediateur").status_code == 403
    assert post("admin").status_code == 201


def test_a_site_of_another_organisation_is_not_found(world, post):
    assert post("outsider").status_code == 404
    assert post("partenaire").status_code == 404  # its relay only
    assert not Ticket.objects.filter(external_id="T-1").exists()


def test_reading_tickets_is_scoped(world, client, post):
    post("agent")
    _token, key = create_api_token(None, world.people["outsider"])
    rows = client.get(
        URL, {"day": ENTRY.date().isoformat()}, HTTP_AUTHORIZATION=f"Bearer {key}"
    ).json()
    assert rows == []
    _token, key = create_api_token(None, world.people["manager"])
    rows = client.get(
        URL, {"day": ENTRY.date().isoformat()}, HTTP_AUTHORIZATION=f"Bearer {key}"
    ).json()
    assert [r["external_id"] for r in rows] == ["T-1"]

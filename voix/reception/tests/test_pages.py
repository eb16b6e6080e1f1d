"""The reception pages: the kiosk without JavaScript, the counter buttons (with and without
htmx), the display, live figures, settings, and who may open what."""

from html import unescape

from django.urls import reverse

from voix.core import services as core_services
from voix.core.models import Role
from voix.reception import services
from voix.reception.models import Status, Ticket


def kiosk_url(w):
    return reverse("reception:kiosk", args=[w.reception.kiosk_token])


def test_the_kiosk_offers_one_big_button_per_active_reason(world, client):
    services.save_queue(None, world.site, world.queue_rdv, is_active=False)
    html = client.get(kiosk_url(world)).content.decode()
    assert f'name="motif" value="{world.queue.pk}"' in html
    assert f'value="{world.queue_rdv.pk}"' not in html
    assert "hx-" not in html  # a plain form: the kiosk needs no JavaScript


def test_taking_a_ticket_at_the_kiosk_works_without_javascript(world, client):
    response = client.post(kiosk_url(world), {"motif": world.queue.pk, "phone": ""})
    ticket = Ticket.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "reception:kiosk_ticket", args=[world.reception.kiosk_token, ticket.pk]
    )
    page = client.get(response["Location"]).content.decode()
    assert ticket.code in page
    assert "1 personne avant vous" in page  # the world's ticket entered first


def test_a_wrong_phone_number_at_the_kiosk_says_why_and_takes_no_ticket(world, client):
    before = Ticket.objects.count()
    response = client.post(kiosk_url(world), {"motif": world.queue.pk, "phone": "123"})
    assert response.status_code == 400
    assert "portable invalide" in response.content.decode()
    assert Ticket.objects.count() == before


def test_a_regenerated_link_replaces_the_old_one(world, client_for):
    old_kiosk, old_display = world.reception.kiosk_token, world.reception.display_token
    response = client_for("manager").post(
        reverse("reception:tokens_regenerate", args=[world.site.pk])
    )
    assert response.status_code == 302
    client = client_for("anonyme")
    assert client.get(reverse("reception:kiosk", args=[old_kiosk])).status_code == 404
    assert client.get(reverse("reception:display", args=[old_display])).status_code == 404
    world.reception.refresh_from_db()
    assert client.get(kiosk_url(world)).status_code == 200


def test_the_settings_page_shows_the_kiosk_and_display_links_to_managers(world, client_for):
    html = client_for("manager").get(reverse("reception:settings", args=[world.site.pk]))
    assert world.reception.kiosk_token in html.content.decode()
    assert world.reception.display_token in html.content.decode()


def test_calling_from_the_counter_page_without_javascript(world, client_for):
    client = client_for("agent")
    url = reverse("reception:counter_action", args=[world.counter.pk, "appeler"])
    response = client.post(url, follow=True)
    assert "Ticket A001 appelé." in response.content.decode()
    world.ticket.refresh_from_db()
    assert (world.ticket.status, world.ticket.counter, world.ticket.agent) == (
        Status.CALLED,
        world.counter,
        world.people["agent"],
    )


def test_counter_buttons_answer_htmx_with_the_desk_only(world, client_for):
    client = client_for("agent")
    url = reverse("reception:counter_action", args=[world.counter.pk, "appeler"])
    response = client.post(url, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="poste"' in html and "<html" not in html
    assert "Ticket A001 appelé." in html
    for action in ("commencer", "terminer"):
        client.post(
            reverse("reception:counter_action", args=[world.counter.pk, action]),
            HTTP_HX_REQUEST="true",
        )
    world.ticket.refresh_from_db()
    assert world.ticket.status == Status.DONE


def test_nobody_waiting_is_said_plainly(world, client_for):
    services.call_next(None, world.visio_counter)
    client = client_for("agent")
    url = reverse("reception:counter_action", args=[world.counter.pk, "appeler"])
    html = unescape(client.post(url, HTTP_HX_REQUEST="true").content.decode())
    assert "Personne n'attend pour ce guichet." in html


def test_transfer_from_the_counter_page(world, client_for):
    client = client_for("agent")
    services.call_next(world.people["agent"], world.counter)
    url = reverse("reception:counter_action", args=[world.counter.pk, "transferer"])
    client.post(url, {"queue": world.queue_rdv.pk})
    world.ticket.refresh_from_db()
    assert (world.ticket.status, world.ticket.queue) == (Status.TRANSFERRED, world.queue_rdv)


def test_an_agent_of_another_organisation_gets_404_on_the_counter(world, client):
    stranger = core_services.create_person(
        None, email="agent-metz@test.localhost", full_name="Agent Metz", password="x" * 12
    )
    core_services.add_membership(None, stranger, world.other, Role.AGENT)
    client.force_login(stranger)
    assert client.get(reverse("reception:counter", args=[world.counter.pk])).status_code == 404
    url = reverse("reception:counter_action", args=[world.counter.pk, "appeler"])
    assert client.post(url).status_code == 404
    world.ticket.refresh_from_db()
    assert world.ticket.status == Status.WAITING
    assert (
        client.get(reverse("reception:counter", args=[world.other_counter.pk])).status_code == 200
    )


def test_a_partner_sees_only_its_relay(world, client_for):
    client = client_for("partenaire")
    assert (
        client.get(reverse("reception:counter", args=[world.relay_counter.pk])).status_code == 200
    )
    assert client.get(reverse("reception:counter", args=[world.counter.pk])).status_code == 404
    html = client.get(reverse("reception:index")).content.decode()
    assert world.relay.name in html
    assert world.site.name not in html


def test_the_display_shows_the_last_call_with_its_counter_and_an_aria_live_region(world, client):
    services.call_next(None, world.visio_counter)
    url = reverse("reception:display", args=[world.reception.display_token])
    html = client.get(url).content.decode()
    assert "A001" in html and "Visio-guichet" in html
    assert 'aria-live="assertive"' in html
    assert 'http-equiv="refresh"' in html  # without JavaScript the page reloads itself
    assert "AudioContext" in html
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "A001" in partial and "<html" not in partial


def test_live_figures_count_waiting_people_and_visits(world, client_for):
    services.take_ticket(world.site, world.queue_rdv)
    html = (
        client_for("manager")
        .get(reverse("reception:figures", args=[world.site.pk]))
        .content.decode()
    )
    assert "personnes en attente" in html
    assert "Rendez-vous" in html and "Prestations" in html


def test_a_manager_adds_a_reason_and_a_counter(world, client_for):
    client = client_for("manager")
    client.post(
        reverse("reception:queue_create", args=[world.site.pk]),
        {"label": "Première demande", "letter": "p", "position": 3, "is_active": "on"},
    )
    queue = world.site.queues.get(label="Première demande")
    assert queue.letter == "P"
    client.post(
        reverse("reception:counter_create", args=[world.site.pk]),
        {
            "label": "Guichet 5",
            "kind": "guichet",
            "queues": [queue.pk],
            "position": 5,
            "is_active": "on",
        },
    )
    assert list(world.site.counters.get(label="Guichet 5").queues.all()) == [queue]


def test_a_bad_ticket_letter_is_explained(world, client_for):
    response = client_for("manager").post(
        reverse("reception:queue_create", args=[world.site.pk]),
        {"label": "Autre", "letter": "7", "position": 3},
    )
    assert response.status_code == 200
    assert "une seule lettre majuscule" in response.content.decode()

"""Contact log pages: scoping, worklists, bulk assignment, logging and actions."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from voix.contacts import services
from voix.contacts.models import Channel, ClockPolicy, Contact, Status


def log(world, **fields):
    fields = {"channel": Channel.PHONE, "site": world.site, **fields}
    return services.log_contact(world.people["agent"], world.caf, **fields)


def test_partner_sees_only_the_contacts_of_its_relay(world, client_for):
    client = client_for("partenaire")
    page = client.get(reverse("contacts:list")).content.decode()
    assert f"N° {world.relay_contact.pk}<" in page
    assert f"N° {world.contact.pk}<" not in page
    assert client.get(reverse("contacts:contact", args=[world.relay_contact.pk])).status_code == 200
    assert client.get(reverse("contacts:contact", args=[world.contact.pk])).status_code == 404


def test_partner_reads_its_relay_contact_but_cannot_act_on_it(world, client_for):
    url = reverse("contacts:contact_action", args=[world.relay_contact.pk, "mettre-en-attente"])
    assert client_for("partenaire").post(url).status_code == 403
    world.relay_contact.refresh_from_db()
    assert world.relay_contact.paused_at is None


def test_outsider_gets_404_on_a_contact_of_another_organisation(world, client_for):
    client = client_for("outsider")
    assert client.get(reverse("contacts:contact", args=[world.contact.pk])).status_code == 404
    page = client.get(reverse("contacts:list")).content.decode()
    assert f"N° {world.other_contact.pk}<" in page
    assert f"N° {world.contact.pk}<" not in page


def test_a_person_without_a_role_gets_403(world, client_for):
    client = client_for("sans_role")
    assert client.get(reverse("contacts:my_worklist")).status_code == 403
    assert client.get(reverse("contacts:list")).status_code == 403


def test_my_worklist_lists_my_open_contacts_by_deadline_in_words(world, client_for):
    now = timezone.now()
    agent = world.people["agent"]
    later = log(world, assignee=agent, received_at=now - timedelta(hours=1))
    overdue = log(world, assignee=agent, received_at=now - timedelta(days=40))
    log(world, assignee=world.people["manager"], received_at=now - timedelta(days=50))
    page = client_for("agent").get(reverse("contacts:my_worklist")).content.decode()
    assert page.index(f"N° {overdue.pk}<") < page.index(f"N° {later.pk}<")
    assert "En retard de" in page
    assert f"N° {world.closed_contact.pk}<" not in page  # closed: nothing to do
    rows = page.count('href="/contacts/')
    assert rows >= 3


def test_team_view_counts_overdue_and_due_soon(world, client_for):
    now = timezone.now()
    log(world, received_at=now - timedelta(days=40))
    page = client_for("manager").get(reverse("contacts:team_worklist")).content.decode()
    assert "en retard (échéance dépassée)" in page
    assert "Attribuer les contacts cochés" in page


def test_team_view_is_for_managers(world, client_for):
    assert client_for("agent").get(reverse("contacts:team_worklist")).status_code == 403


def test_bulk_assignment_asks_for_confirmation_then_assigns(world, client_for):
    a, b = log(world), log(world)
    client = client_for("manager")
    data = {"contacts": [a.pk, b.pk], "assignee": world.people["agent"].pk}
    response = client.post(reverse("contacts:bulk_assign"), data)
    assert response.status_code == 200
    assert "Confirmer l'attribution" in response.content.decode()
    assert Contact.objects.filter(pk__in=[a.pk, b.pk], assignee__isnull=True).count() == 2
    response = client.post(reverse("contacts:bulk_assign"), {**data, "confirmer": "oui"})
    assert response.status_code == 302
    assert set(Contact.objects.filter(pk__in=[a.pk, b.pk]).values_list("assignee", flat=True)) == {
        world.people["agent"].pk
    }


def test_bulk_assignment_ignores_contacts_outside_the_managers_organisation(world, client_for):
    data = {
        "contacts": [world.other_contact.pk],
        "assignee": world.people["agent"].pk,
        "confirmer": "oui",
    }
    client_for("manager").post(reverse("contacts:bulk_assign"), data)
    world.other_contact.refresh_from_db()
    assert world.other_contact.assignee is None


def test_logging_an_answer_before_receipt_shows_the_error_on_the_field(world, client_for):
    before = Contact.objects.count()
    response = client_for("agent").post(
        reverse("contacts:create"),
        {
            "channel": Channel.EMAIL,
            "site": world.site.pk,
            "received_at": "2026-01-10T10:00",
            "first_answer_at": "2026-01-09T10:00",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "précède la date de réception" in page
    assert Contact.objects.count() == before


def test_logging_a_contact_opens_its_page(world, client_for):
    response = client_for("agent").post(
        reverse("contacts:create"),
        {
            "channel": Channel.LETTER,
            "reason": world.reason.pk,
            "site": world.site.pk,
            "received_at": "2026-01-10T10:00",
            "requester_ref": "ALLOC-9",
        },
    )
    contact = Contact.objects.get(requester_ref="ALLOC-9")
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:contact", args=[contact.pk])
    assert contact.ack_due_at is not None


def test_hold_and_resume_from_the_contact_page(world, client_for):
    client = client_for("agent")
    pk = world.contact.pk
    client.post(reverse("contacts:contact_action", args=[pk, "mettre-en-attente"]))
    world.contact.refresh_from_db()
    assert world.contact.status == Status.WAITING and world.contact.due_at is None
    page = client.get(reverse("contacts:contact", args=[pk])).content.decode()
    assert "Délai suspendu" in page and "Contact mis en attente de pièces" in page
    client.post(reverse("contacts:contact_action", args=[pk, "reprendre"]))
    world.contact.refresh_from_db()
    assert world.contact.status == Status.IN_PROGRESS and world.contact.returns == 1


def test_an_action_refused_by_the_service_is_shown_as_a_message(world, client_for):
    client = client_for("agent")
    url = reverse("contacts:contact_action", args=[world.contact.pk, "repondre"])
    response = client.post(url, {"at": "2000-01-01T10:00"}, follow=True)
    assert "précède la date de réception" in response.content.decode()


def test_csv_export_is_scoped_and_filtered(world, client_for):
    response = client_for("agent").get(reverse("contacts:list") + "?format=csv&status=ouverts")
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("numero;canal;motif")
    ids = {line.split(";")[0] for line in text.splitlines()[1:]}
    assert str(world.contact.pk) in ids
    assert str(world.closed_contact.pk) not in ids
    assert str(world.other_contact.pk) not in ids


def test_search_finds_a_contact_by_requester_reference(world, client_for):
    page = client_for("agent").get(reverse("contacts:list") + "?q=ALLOC-001").content.decode()
    assert f"N° {world.contact.pk}<" in page
    assert f"N° {world.relay_contact.pk}<" not in page


def test_manager_edits_a_policy_and_quality_lead_only_reads(world, client_for):
    client = client_for("manager")
    response = client.post(
        reverse("contacts:policy_create") + "?canal=courrier",
        {
            "channel": Channel.LETTER,
            "ack_delay": 8,
            "ack_unit": "jours_ouvres",
            "answer_delay": 20,
            "answer_unit": "jours_ouvres",
            "warn_before_hours": 48,
        },
    )
    assert response.status_code == 302
    policy = ClockPolicy.objects.get(organisation=world.caf, channel=Channel.LETTER, reason=None)
    assert policy.ack_delay == 8
    qualite = client_for("qualite")
    assert qualite.get(reverse("contacts:settings")).status_code == 200
    assert qualite.get(reverse("contacts:policy_edit", args=[policy.pk])).status_code == 403


def test_my_worklist_says_due_soon_in_words_and_shows_my_alerts(world, client_for):
    from voix.contacts import clocks

    now = timezone.now()
    agent = world.people["agent"]
    services.save_policy(
        None, world.caf, channel=Channel.VIDEO, answer_delay=2, answer_unit="heures"
    )
    soon = log(world, channel=Channel.VIDEO, assignee=agent, received_at=now - timedelta(hours=1))
    clocks.sweep(now=now)
    page = client_for("agent").get(reverse("contacts:my_worklist")).content.decode()
    assert "Échéance proche : " in page
    assert "Dernières alertes" in page
    assert f"Contact n° {soon.pk}" in page

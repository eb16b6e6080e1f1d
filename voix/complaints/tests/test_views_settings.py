"""/reclamations/reglages/: themes and root causes — add, rename, take out of use (never
delete: classified cases keep their label)."""

from html import unescape

from django.urls import reverse

from voix.complaints import services
from voix.complaints.models import RootCause, Theme


def url():
    return reverse("complaints:settings")


def page(response) -> str:
    return unescape(response.content.decode())


def test_quality_adds_a_theme(world, client_for):
    response = client_for("qualite").post(
        url(), {"action": "ajouter", "kind": "theme", "theme-nouveau-label": "  Courrier  "}
    )
    assert response.status_code == 302
    assert Theme.objects.filter(organisation=world.caf, label="Courrier", active=True).exists()


def test_a_duplicate_label_is_refused_at_its_field(world, client_for):
    response = client_for("qualite").post(
        url(),
        {"action": "ajouter", "kind": "theme", "theme-nouveau-label": world.complaint_theme.label},
    )
    assert response.status_code == 400
    assert f"Le thème « {world.complaint_theme.label} » existe déjà." in page(response)


def test_a_cause_is_renamed(world, client_for):
    data = {
        "action": "renommer",
        "kind": "cause",
        "pk": world.complaint_cause.pk,
        f"cause-{world.complaint_cause.pk}-label": "Pièce justificative manquante",
    }
    client_for("admin").post(url(), data)
    world.complaint_cause.refresh_from_db()
    assert world.complaint_cause.label == "Pièce justificative manquante"


def test_a_theme_taken_out_of_use_stays_on_the_cases_that_carry_it(world, client_for):
    with services.without_messages():
        services.tag_complaint(
            world.people["qualite"], world.complaint, theme=world.complaint_theme, root_causes=[]
        )
    client = client_for("qualite")
    client.post(url(), {"action": "desactiver", "kind": "theme", "pk": world.complaint_theme.pk})
    world.complaint_theme.refresh_from_db()
    assert world.complaint_theme.active is False
    # still on the case that has it …
    html = page(client.get(reverse("complaints:detail", args=[world.complaint.pk])))
    theme = world.complaint_theme
    assert f'<option value="{theme.pk}" selected>{theme.label}</option>' in html
    # … but no longer offered for another one
    html = page(client.get(reverse("complaints:detail", args=[world.relay_complaint.pk])))
    assert f">{world.complaint_theme.label}</option>" not in html
    client.post(url(), {"action": "reactiver", "kind": "theme", "pk": world.complaint_theme.pk})
    world.complaint_theme.refresh_from_db()
    assert world.complaint_theme.active is True


def test_another_organisations_label_cannot_be_touched(world, client_for):
    data = {"action": "desactiver", "kind": "theme", "pk": world.outsider_complaint_theme.pk}
    assert client_for("qualite").post(url(), data).status_code == 404
    world.outsider_complaint_theme.refresh_from_db()
    assert world.outsider_complaint_theme.active is True


def test_the_page_lists_the_organisations_labels(world, client_for):
    html = page(client_for("qualite").get(url()))
    assert world.complaint_theme.label in html and world.complaint_cause.label in html
    assert world.outsider_complaint_theme.label not in html
    assert RootCause.objects.filter(organisation=world.caf).count() == 1

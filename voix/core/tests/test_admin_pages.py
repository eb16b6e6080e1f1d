"""Administration pages: real forms, French messages, confirmation before removal."""

from django.urls import reverse

from voix.core.models import AuditEvent, Closure, Membership, Role, Site, User


def test_admin_creates_a_site_then_sets_its_hours(world, client_for):
    client = client_for("admin")
    response = client.post(
        reverse("core:admin_site_create", args=[world.caf.pk]),
        {
            "name": "Antenne de Mayenne",
            "slug": "mayenne",
            "kind": "antenne",
            "address": "1 quai",
            "postcode": "53100",
            "commune": "Mayenne",
            "insee_code": "53147",
            "is_active": "on",
        },
    )
    site = Site.objects.get(slug="mayenne")
    assert response["Location"] == reverse("core:admin_site_hours", args=[site.pk])
    response = client.post(
        reverse("core:admin_site_hours", args=[site.pk]),
        {
            "monday_matin_debut": "08:30",
            "monday_matin_fin": "12:00",
            "friday_apresmidi_debut": "13:30",
            "friday_apresmidi_fin": "16:30",
        },
    )
    assert response.status_code == 302
    assert [str(s) for s in site.opening_hours.all()] == [
        "lundi 08:30–12:00",
        "vendredi 13:30–16:30",
    ]


def test_overlapping_hours_show_a_french_message_and_keep_the_old_hours(world, client_for):
    before = [str(s) for s in world.site.opening_hours.all()]
    response = client_for("admin").post(
        reverse("core:admin_site_hours", args=[world.site.pk]),
        {
            "tuesday_matin_debut": "08:30",
            "tuesday_matin_fin": "14:00",
            "tuesday_apresmidi_debut": "13:00",
            "tuesday_apresmidi_fin": "17:00",
        },
    )
    assert response.status_code == 200
    assert (
        "Le mardi, les plages 08:30–14:00 et 13:00–17:00 se chevauchent."
        in response.content.decode()
    )
    assert [str(s) for s in world.site.opening_hours.all()] == before


def test_hours_ending_before_they_start_are_refused(world, client_for):
    response = client_for("admin").post(
        reverse("core:admin_site_hours", args=[world.site.pk]),
        {"monday_matin_debut": "12:00", "monday_matin_fin": "08:00"},
    )
    assert (
        "Le lundi, la fermeture (08:00) doit venir après l&#x27;ouverture (12:00)."
        in response.content.decode()
    )


def test_half_filled_interval_names_the_day(world, client_for):
    response = client_for("admin").post(
        reverse("core:admin_site_hours", args=[world.site.pk]), {"monday_matin_debut": "08:30"}
    )
    assert "Le lundi matin, indiquez" in response.content.decode()


def test_bad_insee_code_is_refused_on_the_field(world, client_for):
    response = client_for("admin").post(
        reverse("core:admin_site_edit", args=[world.site.pk]),
        {
            "name": "Siège",
            "slug": "siege",
            "kind": "siege",
            "address": "1 rue",
            "postcode": "530",
            "commune": "Laval",
            "insee_code": "53",
            "is_active": "on",
        },
    )
    html = response.content.decode()
    assert "Le code postal compte 5 chiffres" in html
    assert Site.objects.get(pk=world.site.pk).postcode == "53000"


def test_removing_a_role_asks_for_confirmation_first(world, client_for):
    client = client_for("admin")
    membership = world.people["agent"].memberships.get()
    url = reverse("core:admin_membership_delete", args=[membership.pk])
    assert "Retirer à Agent Test" in client.get(url).content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()
    client.post(url)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="rattachement.retiré").exists()


def test_closure_can_be_added_and_removed_after_confirmation(world, client_for):
    client = client_for("admin")
    client.post(
        reverse("core:admin_closure_create", args=[world.caf.pk]),
        {
            "site": world.site.pk,
            "start_date": "2031-05-30",
            "end_date": "2031-05-30",
            "label": "Pont",
        },
    )
    closure = Closure.objects.get(label="Pont")
    assert closure.site == world.site
    client.post(reverse("core:admin_closure_delete", args=[closure.pk]))
    assert not Closure.objects.filter(pk=closure.pk).exists()


def test_closure_ending_before_it_starts_is_refused(world, client_for):
    response = client_for("admin").post(
        reverse("core:admin_closure_create", args=[world.caf.pk]),
        {"start_date": "2031-05-30", "end_date": "2031-05-01", "label": "Erreur"},
    )
    assert "La date de fin doit suivre la date de début." in response.content.decode()
    assert not Closure.objects.filter(label="Erreur").exists()


def test_admin_invites_a_person_with_a_first_role(
    world, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("admin").post(
            reverse("core:admin_person_create"),
            {
                "full_name": "Nina Nouvelle",
                "email": "nina@test.localhost",
                "organisation": world.caf.pk,
                "role": Role.PARTENAIRE,
                "site": world.relay.pk,
            },
        )
    person = User.objects.get(email="nina@test.localhost")
    assert response["Location"] == reverse("core:admin_person_edit", args=[person.pk])
    assert person.memberships.get().site == world.relay
    assert mailoutbox[0].to == ["nina@test.localhost"]


def test_partner_without_relay_is_refused_on_the_site_field(world, client_for):
    response = client_for("admin").post(
        reverse("core:admin_person_create"),
        {
            "full_name": "Sans Relais",
            "email": "sr@test.localhost",
            "organisation": world.caf.pk,
            "role": Role.PARTENAIRE,
        },
    )
    assert "Choisissez le relais de ce conseiller." in response.content.decode()
    assert not User.objects.filter(email="sr@test.localhost").exists()


def test_admin_cannot_give_a_role_in_another_organisation(world, client_for):
    response = client_for("admin").post(
        reverse("core:admin_person_edit", args=[world.people["agent"].pk]),
        {"add_membership": "1", "organisation": world.other.pk, "role": Role.AGENT},
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(
        organisation=world.other, user=world.people["agent"]
    ).exists()


def test_admin_cannot_deactivate_themselves(world, client_for):
    admin = world.people["admin"]
    client_for("admin").post(
        reverse("core:admin_person_edit", args=[admin.pk]),
        {"save_person": "1", "full_name": admin.full_name, "email": admin.email},
    )
    admin.refresh_from_db()
    assert admin.is_active


def test_audit_log_shows_only_the_admins_organisation_and_exports_csv(world, client_for):
    from voix.core import services

    services.update_site(world.people["outsider"], world.other_site, name="Metz renommé")
    services.update_site(world.people["admin"], world.site, name="Siège renommé")
    client = client_for("admin")
    html = client.get(reverse("core:audit_log")).content.decode()
    assert "Siège renommé" in html and "Metz renommé" not in html
    export = client.get(reverse("core:audit_log") + "?format=csv")
    text = export.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("date;auteur;action")
    assert "Siège renommé" in text and "Metz renommé" not in text


def test_login_with_wrong_password_says_so_in_french(world, client):
    response = client.post(
        reverse("core:login"), {"username": "agent@test.localhost", "password": "x"}
    )
    assert "Adresse électronique ou mot de passe incorrect." in response.content.decode()


def test_person_without_membership_sees_an_explanation(world, client_for):
    html = client_for("sans_role").get(reverse("core:home")).content.decode()
    assert (
        "n'est rattaché à aucun organisme" in html
        or "n&#x27;est rattaché à aucun organisme" in html
    )


def test_password_reset_sends_a_link_that_sets_a_new_password(world, client, mailoutbox):
    client.post(reverse("core:password_reset"), {"email": "agent@test.localhost"})
    assert len(mailoutbox) == 1
    link = next(
        line for line in mailoutbox[0].body.splitlines() if "/mot-de-passe/nouveau/" in line
    )
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0]
    client.post(
        form_url, {"new_password1": "Un-nouveau-mot-2026", "new_password2": "Un-nouveau-mot-2026"}
    )
    assert User.objects.get(email="agent@test.localhost").check_password("Un-nouveau-mot-2026")


def test_public_site_page_shows_hours_closures_and_holidays(world, client):
    html = client.get(world.site.get_absolute_url()).content.decode()
    assert "08:30–12:00 et 13:30–16:30" in html
    assert "Inventaire" in html
    assert "Siège test" in html


def test_public_pages_hide_inactive_sites_and_private_organisations(world, client):
    from voix.core import services

    services.update_site(None, world.relay, is_active=False)
    assert client.get(world.relay.get_absolute_url()).status_code == 404
    services.update_organisation(None, world.caf, is_public=False)
    assert client.get(world.caf.get_absolute_url()).status_code == 404

"""Retention periods: the registry, the per-organisation periods, the purge and its page."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from voix.core import retention
from voix.core.models import AuditEvent, RetentionPeriod
from voix.field_reports.models import FieldReport

KEY = "essai_notes"


@pytest.fixture
def notes_type():
    """A test data type (90 days) that blanks old field reports; yields the list of its calls."""
    calls = []

    def purge(organisation, cutoff, now):
        calls.append((organisation.slug, cutoff, now))
        # Erase the field reports' free texts, as a stand-in for any database write.
        return FieldReport.objects.filter(
            organisation=organisation, created_at__lt=cutoff, texts_purged_at__isnull=True
        ).update(description="", texts_purged_at=now)

    retention.register_data_type(KEY, "Notes d'essai", 90, purge)
    yield calls
    retention._REGISTRY.pop(KEY, None)


@pytest.fixture
def failing_type():
    def purge(organisation, cutoff, now):
        FieldReport.objects.filter(organisation=organisation).update(description="")
        raise RuntimeError("stockage indisponible")

    retention.register_data_type("essai_panne", "Type en panne", 60, purge)
    yield
    retention._REGISTRY.pop("essai_panne", None)


def age(report, days):
    FieldReport.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )


# ----- registry and periods ---------------------------------------------------------------


def test_apps_register_their_types_by_themselves(db):
    keys = {t.key for t in retention.data_types()}
    assert "remontees_textes" in keys
    assert retention.get_data_type("remontees_textes").default_days == 3 * 365


def test_an_unknown_type_is_refused_by_name(world):
    with pytest.raises(ValidationError) as error:
        retention.period_for(world.caf, "inconnu")
    assert "inconnu" in str(error.value)


def test_the_default_period_applies_until_the_organisation_sets_its_own(world, notes_type):
    assert retention.period_for(world.caf, KEY) == 90
    retention.set_retention_period(world.people["admin"], world.caf, KEY, 400)
    assert retention.period_for(world.caf, KEY) == 400
    assert retention.period_for(world.other, KEY) == 90


def test_setting_the_default_again_removes_the_override(world, notes_type):
    retention.set_retention_period(world.people["admin"], world.caf, KEY, 400)
    retention.set_retention_period(world.people["admin"], world.caf, KEY, 90)
    assert not RetentionPeriod.objects.filter(organisation=world.caf, data_type=KEY).exists()


def test_a_period_outside_the_bounds_is_refused_with_its_type_named(world, notes_type):
    for days in (0, retention.MIN_DAYS - 1, retention.MAX_DAYS + 1, "dix"):
        with pytest.raises(ValidationError) as error:
            retention.set_retention_period(world.people["admin"], world.caf, KEY, days)
        assert "Notes d'essai" in error.value.message_dict["days"][0]


def test_a_change_of_period_is_audited(world, notes_type):
    retention.set_retention_period(world.people["admin"], world.caf, KEY, 120)
    event = AuditEvent.objects.get(action="conservation.modifiée")
    assert event.changes == {"type": KEY, "jours": [90, 120]}
    assert event.action_label == "Durée de conservation modifiée"


# ----- the purge ----------------------------------------------------------------------------


def test_the_purge_uses_each_organisations_period(world, notes_type):
    now = timezone.now()
    retention.set_retention_period(world.people["admin"], world.caf, KEY, 30)
    age(world.field_report, 45)
    totals = retention.purge(now=now)
    assert totals[KEY] == 1
    calls = {slug: cutoff for slug, cutoff, _ in notes_type}
    assert calls["caf-test"] == now - timedelta(days=30)
    assert calls["autre"] == now - timedelta(days=90)


def test_the_purge_is_idempotent(world, notes_type):
    age(world.field_report, 200)
    now = timezone.now()
    assert retention.purge(now=now)[KEY] == 1
    assert retention.purge(now=now)[KEY] == 0


def test_a_dry_run_counts_and_erases_nothing(world, notes_type):
    age(world.field_report, 200)
    assert retention.purge(dry_run=True)[KEY] == 1
    world.field_report.refresh_from_db()
    assert world.field_report.description
    assert not AuditEvent.objects.filter(action="données.purgées").exists()


def test_each_purge_is_audited_with_its_count(world, notes_type):
    age(world.field_report, 200)
    retention.purge()
    event = AuditEvent.objects.get(action="données.purgées", changes__type=KEY)
    assert (event.organisation, event.changes["nombre"], event.actor) == (world.caf, 1, None)


def test_a_failing_purge_is_rolled_back_alone(world, notes_type, failing_type):
    age(world.field_report, 200)
    lines = retention.purge_lines()
    failed = [line for line in lines if line.error]
    assert {line.data_type.key for line in failed} == {"essai_panne"}
    assert "stockage indisponible" in failed[0].error
    # The failing type's writes are undone; the other type's are kept.
    descriptions = set(FieldReport.objects.values_list("description", flat=True))
    assert "" in descriptions and len(descriptions) > 1


# ----- the command --------------------------------------------------------------------------


def test_the_command_prints_counts_per_type_and_organisation(world, notes_type, capsys):
    age(world.field_report, 200)
    call_command("purge_personal_data")
    out = capsys.readouterr().out
    assert "Caf test — Notes d'essai (plus de 90 jours) : 1 supprimé(s)" in out
    assert "Total Notes d'essai : 1 supprimé(s)" in out
    call_command("purge_personal_data")
    assert "Total Notes d'essai : 0 supprimé(s)" in capsys.readouterr().out


def test_the_command_dry_run_erases_nothing(world, notes_type, capsys):
    age(world.field_report, 200)
    call_command("purge_personal_data", "--dry-run")
    out = capsys.readouterr().out
    assert "Simulation" in out and "1 à supprimer" in out
    world.field_report.refresh_from_db()
    assert world.field_report.description


def test_the_command_fails_loudly_after_applying_the_other_purges(
    world, notes_type, failing_type, capsys
):
    age(world.field_report, 200)
    with pytest.raises(CommandError):
        call_command("purge_personal_data")
    assert "ÉCHEC" in capsys.readouterr().err
    world.field_report.refresh_from_db()
    assert world.field_report.texts_purged_at is not None


# ----- the page ----------------------------------------------------------------------------


def test_the_page_shows_the_defaults_and_edits_the_periods(world, client_for, notes_type):
    client = client_for("admin")
    html = client.get(reverse("core:retention")).content.decode()
    assert "Notes d&#x27;essai" in html and "Par défaut : 90 jours" in html
    fields = {t.key: retention.period_for(world.caf, t.key) for t in retention.data_types()}
    response = client.post(
        reverse("core:retention"), {**fields, KEY: 180, "organisme": world.caf.pk}
    )
    assert response.status_code == 302
    assert retention.period_for(world.caf, KEY) == 180


def test_a_wrong_period_on_the_page_saves_nothing(world, client_for, notes_type):
    fields = {t.key: t.default_days for t in retention.data_types()}
    fields["remontees_textes"] = 500
    response = client_for("admin").post(reverse("core:retention"), {**fields, KEY: 5})
    assert response.status_code == 400
    assert "au moins 30 jours" in response.content.decode()
    assert not RetentionPeriod.objects.exists()


def test_an_administrator_edits_only_the_organisations_they_administer(world, client_for):
    fields = {t.key: 400 for t in retention.data_types()}
    client_for("outsider").post(reverse("core:retention"), {**fields, "organisme": world.caf.pk})
    assert not RetentionPeriod.objects.filter(organisation=world.caf).exists()
    assert RetentionPeriod.objects.filter(organisation=world.other).exists()


def test_the_simulation_shows_what_would_be_erased_and_erases_nothing(
    world, client_for, notes_type
):
    age(world.field_report, 200)
    html = (
        client_for("admin")
        .get(reverse("core:retention"), {"simulation": "1", "organisme": world.caf.pk})
        .content.decode()
    )
    assert '<th scope="row">Notes d&#x27;essai</th>' in html
    assert "<td>1</td>" in html
    world.field_report.refresh_from_db()
    assert world.field_report.texts_purged_at is None

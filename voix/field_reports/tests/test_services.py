"""Rules of the field reports: filing, who sees what, triage (accept, merge, decline)."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from voix.core import services as core_services
from voix.core.models import AuditEvent, Role
from voix.field_reports import services
from voix.field_reports.models import (
    DEFAULT_THEMES,
    Affected,
    FieldReport,
    FieldReportTheme,
    Status,
)

NOW = timezone.make_aware(datetime(2030, 3, 4, 10, 0))


def file(world, persona="agent", **fields):
    values = {
        "description": "Les usagers attendent trop longtemps au guichet le lundi.",
        "theme": world.field_theme,
        "users_affected": Affected.SOME,
        "urgency": "moyenne",
    }
    values.update(fields)
    return services.file_report(world.people[persona], world.caf, **values)


def partner_of(world, site, email="autre-relais@test.localhost"):
    user = core_services.create_person(None, email=email, full_name="Autre Relais")
    core_services.add_membership(None, user, world.caf, Role.PARTENAIRE, site=site)
    return user


# ----- filing ----------------------------------------------------------------------------


def test_an_organisation_gets_the_default_themes_once(world):
    themes = services.themes_for(world.other)
    assert [t.label for t in themes] == DEFAULT_THEMES
    services.themes_for(world.other)
    assert FieldReportTheme.objects.filter(organisation=world.other).count() == len(DEFAULT_THEMES)


def test_a_theme_put_out_of_use_is_no_longer_offered_nor_accepted(world):
    services.save_theme(world.people["qualite"], world.caf, world.field_theme, active=False)
    assert world.field_theme not in services.themes_for(world.caf)
    with pytest.raises(ValidationError) as error:
        file(world)
    assert "theme" in error.value.message_dict


def test_filing_records_the_reporter_the_time_and_an_audit_line(world):
    report = file(world, now=NOW, site=world.site)
    assert report.reporter == world.people["agent"]
    assert report.created_at == NOW
    assert report.status == Status.NEW
    assert AuditEvent.objects.filter(
        action="remontée.déposée", object_id=str(report.pk), organisation=world.caf
    ).exists()


def test_a_partner_files_for_its_relay_even_without_naming_it(world):
    assert world.relay_report.site == world.relay
    report = file(world, "partenaire")
    assert report.site == world.relay


def test_a_partner_cannot_file_for_another_site(world):
    with pytest.raises(PermissionDenied):
        file(world, "partenaire", site=world.other_relay)


def test_a_mediator_or_an_outsider_cannot_file_for_the_caf(world):
    for persona in ("mediateur", "outsider", "sans_role"):
        with pytest.raises(PermissionDenied):
            file(world, persona)


def test_the_site_must_belong_to_the_organisation(world):
    with pytest.raises(ValidationError) as error:
        file(world, site=world.other_site)
    assert "site" in error.value.message_dict


def test_an_empty_or_unwritten_description_is_refused_with_its_field_named(world):
    for text in ("", "   ", "court", "aaaaaaaaaaaaaaa"):
        with pytest.raises(ValidationError) as error:
            file(world, description=text)
        assert "description" in error.value.message_dict, text
    with pytest.raises(ValidationError) as error:
        file(world, description="x" * 3 + "y" * (services.TEXT_MAX + 1))
    assert "2000 caractères au plus" in error.value.message_dict["description"][0]


def test_the_theme_must_be_one_of_the_organisation(world):
    foreign = services.themes_for(world.other)[0]
    with pytest.raises(ValidationError) as error:
        file(world, theme=foreign)
    assert "theme" in error.value.message_dict


def test_an_estimated_number_of_users_wins_over_the_rough_answer(world):
    report = file(world, users_affected=Affected.ONE, users_affected_count="25")
    assert (report.users_affected, report.users_affected_count) == (Affected.COUNT, 25)
    assert report.affected_display() == "environ 25"


def test_an_estimate_chosen_without_a_number_is_refused(world):
    with pytest.raises(ValidationError) as error:
        file(world, users_affected=Affected.COUNT)
    assert "users_affected_count" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        file(world, users_affected="plein")
    assert "users_affected" in error.value.message_dict


def test_nothing_is_written_when_filing_fails(world):
    before = (FieldReport.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError):
        file(world, urgency="extrême")
    assert (FieldReport.objects.count(), AuditEvent.objects.count()) == before


# ----- who sees what ---------------------------------------------------------------------


def test_a_partner_sees_only_its_relays_reports(world):
    visible = set(services.visible_reports(world.people["partenaire"]))
    assert world.relay_report in visible
    assert world.field_report not in visible
    assert world.accepted_report not in visible


def test_a_partner_of_another_relay_does_not_see_this_relays_reports(world):
    neighbour = partner_of(world, world.other_relay)
    assert world.relay_report not in set(services.visible_reports(neighbour))


def test_an_agent_sees_only_their_own_reports(world):
    visible = set(services.visible_reports(world.people["agent"]))
    assert visible == {world.field_report, world.declined_report}


def test_the_quality_team_sees_every_report_of_its_organisation_and_no_other(world):
    everything = {
        world.field_report,
        world.relay_report,
        world.accepted_report,
        world.declined_report,
    }
    for persona in ("qualite", "manager", "admin"):
        assert set(services.visible_reports(world.people[persona])) == everything
    assert not services.visible_reports(world.people["outsider"]).exists()
    assert not services.visible_reports(world.people["mediateur"]).exists()


# ----- triage ----------------------------------------------------------------------------


def test_accepting_tells_the_reporter_it_will_become_an_improvement_action(world):
    report = services.accept_report(world.people["qualite"], world.field_report, now=NOW)
    assert report.status == Status.ACCEPTED
    assert "action d'amélioration" in report.outcome_note
    assert (report.triaged_by, report.triaged_at) == (world.people["qualite"], NOW)


def test_accepting_keeps_the_triagers_own_note(world):
    report = services.accept_report(
        world.people["manager"], world.field_report, note="Pris en compte au comité qualité."
    )
    assert report.outcome_note == "Pris en compte au comité qualité."


def test_an_agent_or_a_partner_cannot_triage(world):
    for persona in ("agent", "partenaire", "mediateur", "outsider"):
        with pytest.raises(PermissionDenied):
            services.accept_report(world.people[persona], world.field_report)
    assert FieldReport.objects.get(pk=world.field_report.pk).status == Status.NEW


def test_declining_needs_a_reason(world):
    for reason in ("", "   ", "non"):
        with pytest.raises(ValidationError) as error:
            services.decline_report(world.people["qualite"], world.field_report, reason=reason)
        assert "reason" in error.value.message_dict
    assert FieldReport.objects.get(pk=world.field_report.pk).status == Status.NEW


def test_the_reporter_reads_the_decline_reason(world):
    assert world.declined_report.status == Status.DECLINED
    assert world.declined_report.decline_reason == "Hors du champ de la relation usager."
    assert world.declined_report.outcome_note == world.declined_report.decline_reason


def test_only_a_new_report_can_be_accepted_or_declined(world):
    with pytest.raises(ValidationError):
        services.accept_report(world.people["qualite"], world.declined_report)
    with pytest.raises(ValidationError):
        services.decline_report(
            world.people["qualite"], world.accepted_report, reason="Finalement non."
        )


def test_a_merged_report_points_to_the_one_that_carries_it(world):
    report = services.merge_report(
        world.people["qualite"], world.field_report, into=world.accepted_report
    )
    assert report.status == Status.MERGED
    assert report.merged_into == world.accepted_report
    assert world.accepted_report.number in report.outcome_note


def test_the_reporter_of_a_merged_report_may_open_the_report_it_went_into(world):
    services.merge_report(world.people["qualite"], world.field_report, into=world.relay_report)
    assert world.relay_report in set(services.visible_reports(world.people["agent"]))


def test_a_report_cannot_be_merged_into_itself(world):
    with pytest.raises(ValidationError) as error:
        services.merge_report(world.people["qualite"], world.field_report, into=world.field_report)
    assert "elle-même" in error.value.message_dict["into"][0]


def test_a_report_cannot_be_merged_into_another_organisations(world):
    foreign = services.file_report(
        world.people["outsider"],
        world.other,
        description="Un autre organisme, une autre remontée.",
        theme=services.themes_for(world.other)[0],
        users_affected=Affected.ONE,
    )
    with pytest.raises(ValidationError) as error:
        services.merge_report(world.people["qualite"], world.field_report, into=foreign)
    assert "même organisme" in error.value.message_dict["into"][0]


def test_a_report_cannot_be_merged_into_a_declined_or_merged_one(world):
    with pytest.raises(ValidationError):
        services.merge_report(
            world.people["qualite"], world.field_report, into=world.declined_report
        )


def test_a_merge_cycle_is_refused(world):
    qualite = world.people["qualite"]
    services.merge_report(qualite, world.field_report, into=world.accepted_report)
    with pytest.raises(ValidationError):
        services.merge_report(qualite, world.accepted_report, into=world.field_report)
    # Even if the data were inconsistent (an open report pointing somewhere), no loop.
    FieldReport.objects.filter(pk=world.relay_report.pk).update(merged_into=world.accepted_report)
    with pytest.raises(ValidationError) as error:
        services.merge_report(qualite, world.accepted_report, into=world.relay_report)
    assert "boucle" in error.value.message_dict["into"][0]


def test_reports_merged_earlier_follow_their_carrier_when_it_is_merged(world):
    qualite = world.people["qualite"]
    services.merge_report(qualite, world.field_report, into=world.relay_report)
    services.merge_report(qualite, world.relay_report, into=world.accepted_report)
    world.field_report.refresh_from_db()
    assert world.field_report.merged_into == world.accepted_report


def test_each_decision_is_audited(world):
    qualite = world.people["qualite"]
    services.merge_report(qualite, world.field_report, into=world.accepted_report)
    actions = set(
        AuditEvent.objects.filter(object_type="fieldreport").values_list("action", flat=True)
    )
    assert {
        "remontée.déposée",
        "remontée.acceptée",
        "remontée.déclinée",
        "remontée.fusionnée",
    } <= actions
    from voix.core.models import AUDIT_ACTIONS

    assert all(action in AUDIT_ACTIONS for action in actions)


# ----- retention -------------------------------------------------------------------------


def test_the_purge_blanks_the_texts_of_old_reports_and_keeps_the_counts(world):
    now = timezone.now()
    old = file(world, now=now - timedelta(days=4 * 365))
    erased = services.purge_texts(world.caf, now - timedelta(days=3 * 365), now)
    assert erased == 1
    old.refresh_from_db()
    assert (old.description, old.suggestion, old.texts_purged_at) == ("", "", now)
    assert old.theme == world.field_theme
    world.field_report.refresh_from_db()
    assert world.field_report.description
    assert services.purge_texts(world.caf, now - timedelta(days=3 * 365), now) == 0

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError, IntegrityError

from voix.core import services
from voix.core.models import AuditEvent, Membership, Role


def test_overlapping_opening_hours_are_refused_with_the_day_and_times(world):
    with pytest.raises(ValidationError) as error:
        services.set_opening_hours(
            None, world.site, [(0, time(8, 30), time(12)), (0, time(11), time(14))]
        )
    assert "lundi" in error.value.messages[0]
    assert "08:30–12:00" in error.value.messages[0] and "11:00–14:00" in error.value.messages[0]
    assert world.site.opening_hours.count() == 10  # nothing half-written


def test_opening_hours_ending_before_they_start_are_refused(world):
    with pytest.raises(ValidationError) as error:
        services.set_opening_hours(None, world.site, [(2, time(14), time(9))])
    assert error.value.messages == [
        "Le mercredi, la fermeture (09:00) doit venir après l'ouverture (14:00)."
    ]


def test_opening_hours_are_replaced_and_audited(world):
    services.set_opening_hours(world.people["admin"], world.site, [(4, time(9), time(12))])
    assert [str(s) for s in world.site.opening_hours.all()] == ["vendredi 09:00–12:00"]
    event = AuditEvent.objects.filter(
        action="site.horaires_modifiés", object_id=str(world.site.pk)
    ).first()
    assert event.actor == world.people["admin"]
    assert event.changes["après"] == ["vendredi 09:00–12:00"]


def test_database_refuses_hours_ending_before_they_start(world):
    from voix.core.models import OpeningHours

    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningHours.objects.create(site=world.site, weekday=0, opens=time(12), closes=time(9))


def test_site_calendar_uses_commune_holidays_and_closures(world):
    calendar = world.site.calendar()
    assert calendar.region == "metropole"
    assert date(2030, 1, 2) in calendar.closures
    assert world.other_site.calendar().region == "alsace-moselle"


def test_partner_membership_needs_a_relay(world):
    with pytest.raises(ValidationError):
        services.add_membership(None, world.people["sans_role"], world.caf, Role.PARTENAIRE)
    with pytest.raises(ValidationError):
        services.add_membership(
            None, world.people["sans_role"], world.caf, Role.PARTENAIRE, site=world.site
        )


def test_same_role_twice_is_refused(world):
    with pytest.raises(ValidationError):
        services.add_membership(None, world.people["qualite"], world.caf, Role.QUALITE)
    assert Membership.objects.filter(user=world.people["qualite"]).count() == 1


def test_last_administrator_cannot_be_removed(world):
    membership = world.people["admin"].memberships.get()
    with pytest.raises(ValidationError):
        services.remove_membership(None, membership)
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_organisation_cannot_be_placed_under_itself(world):
    with pytest.raises(ValidationError):
        services.update_organisation(None, world.network, parent=world.caf)


def test_invite_person_sends_a_password_link(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        person = services.invite_person(
            world.people["admin"],
            email="Nouvelle@Test.localhost",
            full_name="Nouvelle Personne",
            organisation=world.caf,
            role=Role.AGENT,
        )
    assert person.email == "nouvelle@test.localhost"
    assert not person.has_usable_password()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["nouvelle@test.localhost"]
    assert "/mot-de-passe/nouveau/" in mailoutbox[0].body


def test_audit_log_records_who_did_what(world):
    admin = world.people["admin"]
    services.update_site(admin, world.site, name="Siège renommé")
    event = AuditEvent.objects.first()
    assert (event.actor, event.action, event.object_repr) == (
        admin,
        "site.modifié",
        "Siège renommé",
    )
    assert event.changes["name"] == ["Siège test", "Siège renommé"]
    assert event.organisation == world.caf


def test_audit_event_cannot_be_changed_or_deleted_through_the_orm(world):
    event = AuditEvent.objects.first()
    event.action = "falsifié"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(action="falsifié")


def test_database_refuses_update_and_delete_of_the_audit_log(world):
    table = AuditEvent._meta.db_table
    for sql in (f"UPDATE {table} SET action = 'falsifié'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert not AuditEvent.objects.filter(action="falsifié").exists()
    assert AuditEvent.objects.count() > 0


def test_next_opening_of_a_site_skips_its_closure(world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from voix.core.workdays import next_opening

    paris = ZoneInfo("Europe/Paris")
    # Closure « Inventaire » covers Wednesday 2 and Thursday 3 January 2030.
    at = datetime(2030, 1, 2, 10, 0, tzinfo=paris)
    assert next_opening(world.site, at) == datetime(2030, 1, 4, 8, 30, tzinfo=paris)
    # The other organisation is not closed those days.
    assert next_opening(world.other_site, at) == at


def test_deadlines_follow_the_sites_territory(world):
    from voix.core.workdays import add_working_days

    # Thursday 2 April 2026 + 1 working day: Friday 3 in Laval, but Good Friday is a
    # public holiday in Metz (Alsace-Moselle), and Monday 6 is Easter Monday everywhere.
    assert add_working_days(date(2026, 4, 2), 1, world.site) == date(2026, 4, 3)
    assert add_working_days(date(2026, 4, 2), 1, world.other_site) == date(2026, 4, 7)


def test_every_recorded_action_has_a_french_label():
    import re
    from pathlib import Path

    from voix.core.models import AUDIT_ACTIONS

    source = Path(services.__file__).read_text()
    recorded = set(re.findall(r'"([a-z]+\.[a-zéèàû_]+)"', source))
    assert recorded and recorded <= set(AUDIT_ACTIONS)


def test_opening_summary_groups_days_with_the_same_hours(world):
    morning, afternoon = (time(8, 30), time(12)), (time(13, 30), time(16, 30))
    hours = [(d, *morning) for d in range(5)] + [(d, *afternoon) for d in (0, 1, 2, 4)]
    services.set_opening_hours(None, world.site, hours + [(5, time(9), time(12))])
    assert world.site.opening_summary() == [
        "Du lundi au mercredi : 08:30–12:00 et 13:30–16:30",
        "Jeudi : 08:30–12:00",
        "Vendredi : 08:30–12:00 et 13:30–16:30",
        "Samedi : 09:00–12:00",
    ]
    services.set_opening_hours(None, world.site, [(1, *morning), (2, *morning)])
    assert world.site.opening_summary() == ["Mardi et mercredi : 08:30–12:00"]

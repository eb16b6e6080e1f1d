"""manage.py snapshot_availability [--organisme SLUG]: note, for each active reason at each
site where it is offered, when its first free slot is — once a day (cron, e.g. 06:00).

The rows (AvailabilitySnapshot, one per day, site and reason) feed the « délai d'obtention
d'un rendez-vous » indicator (source ``appointments.delay``). Running it again the same day
replaces that day's rows with the new figures (last run wins): never a duplicate.

Each reason is measured for the widest audience that may book it: online (public) for a
public reason, through a partner relay for a partner reason, by an agent for an agents-only
reason — so that « Rendez-vous des droits », booked through the relays, is measured too.
"""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from voix.appointments import services
from voix.appointments.models import Audience, AvailabilitySnapshot, Channel, Reason
from voix.core.models import Organisation

CHANNEL_FOR_AUDIENCE = {
    Audience.PUBLIC: Channel.PUBLIC,
    Audience.PARTNER: Channel.PARTNER,
    Audience.AGENT: Channel.AGENT,
}


def snapshot(reason: Reason, site, now: datetime) -> AvailabilitySnapshot:
    """Measure one reason at one site at *now* and upsert that day's row."""
    channel = CHANNEL_FOR_AUDIENCE.get(reason.audience, Channel.PUBLIC)
    slot = services.first_available(reason, site, channel=channel, now=now)
    first_at = slot.starts_at if slot else None
    delay = round((first_at - now).total_seconds() / 86400, 2) if first_at else None
    row, _created = AvailabilitySnapshot.objects.update_or_create(
        day=timezone.localdate(now),
        site=site,
        reason=reason,
        defaults={
            "organisation_id": reason.organisation_id,
            "taken_at": now,
            "first_available_at": first_at,
            "delay_days": delay,
        },
    )
    return row


@transaction.atomic
def take_snapshots(*, now: datetime | None = None, organisation=None) -> list[AvailabilitySnapshot]:
    """The snapshot of every active reason × active site where it is offered (of one
    organisation, or all); returns the rows written."""
    now = now or timezone.now()
    reasons = Reason.objects.filter(is_active=True).select_related("organisation")
    if organisation is not None:
        reasons = reasons.filter(organisation=organisation)
    rows = []
    for reason in reasons.order_by("organisation_id", "pk"):
        for site in reason.sites.filter(is_active=True).order_by("pk"):
            rows.append(snapshot(reason, site, now))
    return rows


class Command(BaseCommand):
    help = (
        "Note pour chaque motif et chaque site la date du premier créneau libre "
        "(indicateur « délai d'obtention d'un rendez-vous »). À lancer une fois par jour."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--organisme", default="", help="identifiant (slug) d'un seul organisme"
        )

    def handle(self, *args, organisme="", **options):
        organisation = None
        if organisme:
            organisation = Organisation.objects.filter(slug=organisme).first()
            if organisation is None:
                raise CommandError(f"Aucun organisme n'a l'identifiant « {organisme} ».")
        rows = take_snapshots(organisation=organisation)
        without = sum(1 for row in rows if row.first_available_at is None)
        self.stdout.write(
            f"{len(rows)} mesure(s) de disponibilité enregistrée(s) "
            f"({without} sans créneau libre dans l'horizon de réservation)."
        )

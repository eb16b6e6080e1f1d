"""The invitation sweep behind `manage.py send_survey_invitations`: invite to the
organisation's invitation questionnaire the people seen recently —

- after an appointment marked honoured (status « honoré ») that ended at least
  ``delay_hours`` ago and at most ``LOOKBACK_DAYS`` ago, with an e-mail or a mobile;
- after a complaint answered (``answered_at``) in the same window, whose personal data was
  not purged —

each as its organisation's settings allow (``SurveySettings``). Contacts are invited when
the agent closes them (the « close » action of the contact log), not by the sweep.

Idempotent and safe with concurrent runs: a source already invited is skipped (and unique
in the database), and ``services.invite`` caps each person to one invitation per period
with one conditional UPDATE. The sweep then sends the invitations still waiting or failed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone

from . import services
from .models import Invitation, InvitationSource, SurveySettings, SurveyStatus

LOOKBACK_DAYS = 3  # older than this, an invitation would come too late to make sense


@dataclass
class SweepResult:
    invited: int = 0
    not_invited: int = 0  # capped (invited within the period) or an unusable address
    sent: int = 0  # messages sent for invitations left waiting or failed earlier

    def summary(self) -> str:
        return (
            f"{self.invited} invitation(s) créée(s), {self.not_invited} personne(s) non "
            f"invitée(s) (déjà invitée(s) sur la période ou coordonnées inutilisables), "
            f"{self.sent} message(s) en attente envoyé(s)."
        )


def _not_invited(survey, source):
    return ~Exists(
        Invitation.objects.filter(survey=survey, source=source, source_id=OuterRef("pk"))
    )


def appointment_candidates(settings: SurveySettings, now: datetime):
    """Honoured appointments of the window not yet invited (read-only use)."""
    from voix.appointments.models import Appointment, Status

    newest = now - timedelta(hours=settings.delay_hours)
    return (
        Appointment.objects.filter(
            organisation_id=settings.organisation_id,
            status=Status.HONOURED,
            ends_at__lte=newest,
            ends_at__gte=now - timedelta(days=LOOKBACK_DAYS),
        )
        .exclude(email="", phone="")
        .filter(_not_invited(settings.invitation_survey, InvitationSource.APPOINTMENT))
        .order_by("ends_at", "pk")
        .values_list("pk", "email", "phone", "site_id")
    )


def complaint_candidates(settings: SurveySettings, now: datetime):
    """Complaints answered in the window, personal data still there, not yet invited."""
    from voix.complaints.models import Complaint

    newest = now - timedelta(hours=settings.delay_hours)
    return (
        Complaint.objects.filter(
            organisation_id=settings.organisation_id,
            answered_at__isnull=False,
            answered_at__lte=newest,
            answered_at__gte=now - timedelta(days=LOOKBACK_DAYS),
            purged_at__isnull=True,
        )
        .exclude(email="", phone="")
        .filter(_not_invited(settings.invitation_survey, InvitationSource.COMPLAINT))
        .order_by("answered_at", "pk")
        .values_list("pk", "email", "phone", "site_id")
    )


def sweep(now: datetime | None = None) -> SweepResult:
    """Invite everyone due, for every organisation whose settings ask for it."""
    now = now or timezone.now()
    result = SweepResult()
    rows = SurveySettings.objects.filter(
        invitation_survey__status=SurveyStatus.OPEN
    ).select_related("organisation", "invitation_survey")
    for settings in rows:
        organisation = settings.organisation
        batches = []
        if settings.after_appointment:
            batches.append((InvitationSource.APPOINTMENT, appointment_candidates(settings, now)))
        if settings.after_complaint:
            batches.append((InvitationSource.COMPLAINT, complaint_candidates(settings, now)))
        sites = {site.pk: site for site in organisation.sites.all()}
        for source, candidates in batches:
            for pk, email, phone, site_id in list(candidates):
                try:
                    invitation = services.invite(
                        organisation,
                        source=source,
                        source_id=pk,
                        email=email,
                        phone=phone,
                        site=sites.get(site_id),
                        now=now,
                    )
                except ValidationError:
                    invitation = None
                    if email and phone:  # an unusable e-mail: try the mobile
                        try:
                            invitation = services.invite(
                                organisation,
                                source=source,
                                source_id=pk,
                                phone=phone,
                                site=sites.get(site_id),
                                now=now,
                            )
                        except ValidationError:
                            invitation = None
                if invitation is None:
                    result.not_invited += 1
                else:
                    result.invited += 1
    result.sent = services.retry_invitations(now)
    return result

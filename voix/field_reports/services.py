"""Every write of the field reports: one function per action, in a transaction, audited.

Who may do what (checked here and by the pages):
- file a report: agents, managers, quality staff and administrators of the organisation,
  and the advisors of its partner relays (for their relay only);
- triage (accept, merge, decline) and see every report: quality staff, managers and
  administrators of the organisation (or of a network above it);
- a reporter sees their own reports, and the report theirs was merged into; a relay
  advisor sees the reports of their relay.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from voix.core.models import Membership, Organisation, Role, Site
from voix.core.scoping import has_role, organisations_with_role, scope_for
from voix.core.services import record_event

from .models import (
    DEFAULT_THEMES,
    OPEN_STATUSES,
    Affected,
    FieldReport,
    FieldReportTheme,
    Status,
    Urgency,
)

#: Roles that file reports for their organisation (partners file for their relay).
STAFF_FILER_ROLES = (Role.AGENT, Role.MANAGER, Role.QUALITE, Role.ADMIN)
FILER_ROLES = (*STAFF_FILER_ROLES, Role.PARTENAIRE)
#: Roles that triage the reports and see the counts.
TRIAGE_ROLES = (Role.QUALITE, Role.MANAGER, Role.ADMIN)

TEXT_MAX = 2000
DESCRIPTION_MIN = 10
REASON_MIN = 5
COUNT_MAX = 1_000_000
ACCEPT_NOTE = "Remontée retenue : elle sera transformée en action d'amélioration."


# ----- who may do what -------------------------------------------------------------------


def relay_of(user) -> Site | None:
    """The relay site of a partner (their « partenaire » membership), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    membership = (
        Membership.objects.filter(user=user, role=Role.PARTENAIRE, site__isnull=False)
        .select_related("site__organisation")
        .first()
    )
    return membership.site if membership else None


def filing_organisations(user) -> QuerySet:
    """Organisations for which *user* files reports as a member of their staff."""
    return organisations_with_role(user, *STAFF_FILER_ROLES).order_by("name")


def can_file(user) -> bool:
    return filing_organisations(user).exists() or relay_of(user) is not None


def triage_organisations(user) -> QuerySet:
    """Organisations whose reports *user* triages and counts."""
    return organisations_with_role(user, *TRIAGE_ROLES).order_by("name")


def can_triage(user, report: FieldReport) -> bool:
    return has_role(user, *TRIAGE_ROLES, organisation=report.organisation_id)


def visible_reports(user) -> QuerySet:
    """The reports *user* may open: their own, the one each of theirs was merged into,
    their relay's (partners), and every report of the organisations they triage."""
    if not getattr(user, "is_authenticated", False):
        return FieldReport.objects.none()
    reports = FieldReport.objects.select_related("organisation", "site", "theme", "reporter")
    scope = scope_for(user)
    if scope.everything:
        return reports
    triaged = [pk for pk, roles in scope.roles.items() if roles & set(TRIAGE_ROLES)]
    merged_targets = FieldReport.objects.filter(reporter=user, merged_into__isnull=False).values(
        "merged_into"
    )
    condition = (
        Q(reporter=user)
        | Q(pk__in=merged_targets)
        | Q(organisation_id__in=triaged)
        | Q(site_id__in=scope.relay_site_ids)
    )
    return reports.filter(condition)


# ----- themes ----------------------------------------------------------------------------


def themes_for(organisation: Organisation) -> list[FieldReportTheme]:
    """The active themes of *organisation*; the default list is created the first time."""
    themes = list(FieldReportTheme.objects.filter(organisation=organisation, active=True))
    if themes or FieldReportTheme.objects.filter(organisation=organisation).exists():
        return themes
    with transaction.atomic():
        for position, label in enumerate(DEFAULT_THEMES):
            FieldReportTheme.objects.get_or_create(
                organisation=organisation, label=label, defaults={"position": position}
            )
    return list(FieldReportTheme.objects.filter(organisation=organisation, active=True))


@transaction.atomic
def save_theme(
    actor, organisation: Organisation, theme: FieldReportTheme | None = None, **fields
) -> FieldReportTheme:
    """Create or change one theme of *organisation* (label, position, active)."""
    if theme is not None and theme.organisation_id != organisation.pk:
        raise ValidationError({"theme": "Ce thème appartient à un autre organisme."})
    label = (fields.get("label", theme.label if theme else "") or "").strip()
    if not label:
        raise ValidationError({"label": "Indiquez le libellé du thème."})
    duplicate = FieldReportTheme.objects.filter(organisation=organisation, label__iexact=label)
    if theme is not None:
        duplicate = duplicate.exclude(pk=theme.pk)
    if duplicate.exists():
        raise ValidationError({"label": f"Le thème « {label} » existe déjà."})
    created = theme is None
    theme = theme or FieldReportTheme(organisation=organisation)
    theme.label = label[:120]
    if "position" in fields:
        theme.position = fields["position"]
    if "active" in fields:
        theme.active = bool(fields["active"])
    theme.save()
    record_event(
        actor,
        "remontée.thème_enregistré",
        theme,
        organisation=organisation,
        changes={"libellé": theme.label, "en_usage": theme.active, "créé": created},
    )
    return theme


# ----- filing ----------------------------------------------------------------------------


def _text(value, field, label, *, required=False, minimum=0) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: f"{label} : ce champ est obligatoire."})
    if text and len(text) < minimum:
        raise ValidationError({field: f"{label} : écrivez au moins {minimum} caractères."})
    if len(text) > TEXT_MAX:
        raise ValidationError(
            {field: f"{label} : {TEXT_MAX} caractères au plus (le texte en compte {len(text)})."}
        )
    if text and len(set(text.replace(" ", ""))) < 3:
        raise ValidationError({field: f"{label} : le texte ne semble pas rédigé."})
    return text


def _affected(users_affected, users_affected_count):
    if users_affected_count in ("", None):
        count = None
    else:
        try:
            count = int(users_affected_count)
        except (TypeError, ValueError):
            raise ValidationError(
                {"users_affected_count": "Nombre d'usagers concernés : indiquez un nombre."}
            ) from None
        if not 1 <= count <= COUNT_MAX:
            raise ValidationError(
                {"users_affected_count": "Nombre d'usagers concernés : au moins 1."}
            )
    if count is not None:
        # A number given wins over the rough answer: it says more.
        return Affected.COUNT, count
    if users_affected not in Affected.values:
        raise ValidationError(
            {"users_affected": "Usagers concernés : choisissez une des réponses proposées."}
        )
    if users_affected == Affected.COUNT:
        raise ValidationError(
            {"users_affected_count": "Nombre d'usagers concernés : indiquez votre estimation."}
        )
    return users_affected, None


def _check_filer(actor, organisation: Organisation, site: Site | None) -> Site | None:
    """The site the report is tied to, after checking that *actor* may file it."""
    if site is not None and site.organisation_id != organisation.pk:
        raise ValidationError({"site": "Ce site n'appartient pas à cet organisme."})
    if has_role(actor, *STAFF_FILER_ROLES, organisation=organisation):
        if site is not None and not site.is_active:
            raise ValidationError({"site": "Ce site est fermé : choisissez-en un autre."})
        return site
    relay = relay_of(actor)
    if relay is not None and relay.organisation_id == organisation.pk:
        if site is not None and site.pk != relay.pk:
            raise PermissionDenied("Un relais partenaire dépose ses remontées pour lui-même.")
        return relay
    raise PermissionDenied("Vous ne pouvez pas déposer de remontée pour cet organisme.")


@transaction.atomic
def file_report(
    actor,
    organisation: Organisation,
    *,
    description,
    theme: FieldReportTheme,
    users_affected,
    users_affected_count=None,
    urgency=Urgency.MEDIUM,
    suggestion="",
    site: Site | None = None,
    now=None,
) -> FieldReport:
    """File a field report for *organisation* (a partner: for their relay, always)."""
    site = _check_filer(actor, organisation, site)
    description = _text(
        description, "description", "Ce qui s'est passé", required=True, minimum=DESCRIPTION_MIN
    )
    suggestion = _text(suggestion, "suggestion", "Suggestion")
    if theme is None:
        raise ValidationError({"theme": "Thème : choisissez un thème."})
    if theme.organisation_id != organisation.pk or not theme.active:
        raise ValidationError({"theme": "Thème : choisissez un thème de la liste."})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": "Urgence : choisissez faible, moyenne ou forte."})
    users_affected, count = _affected(users_affected, users_affected_count)
    report = FieldReport.objects.create(
        organisation=organisation,
        site=site,
        reporter=actor,
        created_at=now or timezone.now(),
        description=description,
        theme=theme,
        users_affected=users_affected,
        users_affected_count=count,
        urgency=urgency,
        suggestion=suggestion,
    )
    record_event(
        actor,
        "remontée.déposée",
        report,
        changes={
            "thème": theme.label,
            "urgence": urgency,
            "site": site.pk if site else None,
        },
    )
    return report


# ----- triage ----------------------------------------------------------------------------


def _lock(actor, report: FieldReport) -> FieldReport:
    if not can_triage(actor, report):
        raise PermissionDenied("Le tri des remontées est réservé à l'équipe qualité.")
    return FieldReport.objects.select_for_update().get(pk=report.pk)


def _require_new(report: FieldReport, verb: str):
    if report.status != Status.NEW:
        raise ValidationError(
            {
                "status": f"Cette remontée est déjà {report.get_status_display().lower()} : "
                f"elle ne peut plus être {verb}."
            }
        )


def _triaged(report: FieldReport, actor, now, **fields) -> FieldReport:
    for name, value in fields.items():
        setattr(report, name, value)
    report.triaged_by = actor
    report.triaged_at = now or timezone.now()
    report.save()
    return report


@transaction.atomic
def accept_report(actor, report: FieldReport, *, note="", now=None) -> FieldReport:
    """Accept a new report: it will be turned into an improvement action (a later app).
    The reporter reads *note* (by default, that their report was retained)."""
    report = _lock(actor, report)
    _require_new(report, "acceptée")
    note = _text(note, "note", "Message à l'auteur")
    _triaged(report, actor, now, status=Status.ACCEPTED, outcome_note=note or ACCEPT_NOTE)
    record_event(actor, "remontée.acceptée", report, changes={"note": bool(note)})
    return report


@transaction.atomic
def merge_report(
    actor, report: FieldReport, *, into: FieldReport, note="", now=None
) -> FieldReport:
    """Merge a duplicate (new or accepted) into another open report of the same
    organisation. The reports already merged into the duplicate follow it, so that every
    reporter sees the report that carries theirs."""
    report = _lock(actor, report)
    if into is None:
        raise ValidationError({"into": "Indiquez la remontée avec laquelle fusionner."})
    target = FieldReport.objects.select_for_update().get(pk=into.pk)
    if target.pk == report.pk:
        raise ValidationError({"into": "Une remontée ne peut pas être fusionnée avec elle-même."})
    if target.organisation_id != report.organisation_id:
        raise ValidationError({"into": "Les deux remontées doivent être du même organisme."})
    if report.status not in OPEN_STATUSES:
        raise ValidationError(
            {
                "status": f"Cette remontée est déjà {report.get_status_display().lower()} : "
                "elle ne peut plus être fusionnée."
            }
        )
    if target.status not in OPEN_STATUSES:
        raise ValidationError(
            {
                "into": f"La remontée {target.number} est "
                f"{target.get_status_display().lower()} : choisissez une remontée nouvelle "
                "ou acceptée."
            }
        )
    # No cycle: the target must not lead back to the report (defence in depth: a merged
    # report is never open, so the status check above already refuses it).
    seen, step = set(), target
    while step is not None and step.pk not in seen:
        if step.pk == report.pk:
            raise ValidationError({"into": "Cette fusion formerait une boucle."})
        seen.add(step.pk)
        step = step.merged_into
    note = _text(note, "note", "Message à l'auteur")
    followers = list(report.merged_reports.values_list("pk", flat=True))
    FieldReport.objects.filter(pk__in=followers).update(merged_into=target)
    _triaged(
        report,
        actor,
        now,
        status=Status.MERGED,
        merged_into=target,
        outcome_note=note or f"Remontée fusionnée avec la remontée {target.number}.",
    )
    record_event(
        actor,
        "remontée.fusionnée",
        report,
        changes={"avec": target.pk, "rattachées": followers},
    )
    return report


@transaction.atomic
def decline_report(actor, report: FieldReport, *, reason, now=None) -> FieldReport:
    """Decline a new report; the reporter reads *reason* (required)."""
    report = _lock(actor, report)
    _require_new(report, "déclinée")
    reason = _text(reason, "reason", "Motif du refus", required=True, minimum=REASON_MIN)
    _triaged(report, actor, now, status=Status.DECLINED, decline_reason=reason, outcome_note=reason)
    record_event(actor, "remontée.déclinée", report, changes={"motif": reason})
    return report


# ----- retention -------------------------------------------------------------------------


def purge_texts(organisation: Organisation, cutoff, now) -> int:
    """Blank the free texts of the reports of *organisation* filed before *cutoff* (they
    may name a person); theme, relay, urgency and outcome stay for the counts."""
    return FieldReport.objects.filter(
        organisation=organisation, created_at__lt=cutoff, texts_purged_at__isnull=True
    ).update(
        description="",
        suggestion="",
        decline_reason="",
        outcome_note="",
        texts_purged_at=now,
    )

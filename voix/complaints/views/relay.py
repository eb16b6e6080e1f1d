"""The partner relay's page (France Services): file a complaint or suggestion for the person
sitting with the advisor (their consent recorded), and follow the cases this relay filed —
those only, and only what the advisor typed or may tell the person (reference, subject,
status, dates)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from voix.core.models import Membership, Role, Site

from .. import services
from ..forms import RelayComplaintForm, error_summary, mark_invalid
from ..models import Complaint, Intake
from .public import errors_on_form, keep_files_warning

NAV = "reclamations"
SESSION_KEY = "voix_reclamation_relais"


def relay_of(request) -> Site:
    """The person's relay (their « partenaire » membership); anyone else gets 403."""
    membership = (
        Membership.objects.filter(user=request.user, role=Role.PARTENAIRE, site__isnull=False)
        .select_related("site__organisation")
        .order_by("site__name")
        .first()
    )
    if membership is None:
        raise PermissionDenied(
            "Cette page est réservée aux conseillers des relais partenaires (France Services). "
            "Les agents de l'organisme utilisent « Réclamations »."
        )
    return membership.site


def relay_cases(user, relay):
    """The cases this relay filed, as far as *user* may see them."""
    return (
        services.visible_complaints(user)
        .filter(relay=relay)
        .only(
            "pk",
            "reference",
            "subject",
            "kind",
            "status",
            "received_at",
            "answered_at",
            "closed_at",
            "relay_id",
        )
        .order_by("-received_at", "-pk")
    )


@login_required
def relay_index(request):
    """/reclamations/relais/: the form to file for someone, then the relay's cases."""
    relay = relay_of(request)
    organisation = relay.organisation
    status = 200
    if request.method == "POST":
        form = RelayComplaintForm(request.POST, request.FILES, organisation=organisation)
        if form.is_valid():
            try:
                complaint = services.file_complaint(
                    request.user,
                    organisation,
                    intake=Intake.RELAY,
                    relay=relay,
                    consent=True,
                    **form.service_fields(),
                )
            except ValidationError as error:
                errors_on_form(form, error)
            else:
                request.session[SESSION_KEY] = complaint.pk
                return redirect("complaints:relay_index")
        keep_files_warning(form, request)
        mark_invalid(form)
        status = 400
    else:
        form = RelayComplaintForm(organisation=organisation)
    filed = None
    filed_pk = request.session.pop(SESSION_KEY, None) if request.method == "GET" else None
    if filed_pk:
        filed = Complaint.objects.filter(pk=filed_pk, relay=relay).first()
    cases = relay_cases(request.user, relay)
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/staff/relay.html",
        {
            "relay": relay,
            "organisation": organisation,
            "form": form,
            "error_list": error_summary(form),
            "filed": filed,
            "filed_link": services.tracking_url(filed) if filed else "",
            "page": page,
            "total": page.paginator.count,
            "today": timezone.localdate(),
            "nav": NAV,
        },
        status=status,
    )


urls = [
    path("reclamations/relais/", relay_index, name="relay_index"),
]

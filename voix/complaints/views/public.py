"""Public pages, no account: the complaint form of an organisation and the private tracking
page of a case (where it stands, the answer, one satisfaction question, the request for
mediation). Both work without JavaScript.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from voix.core import antibot
from voix.core.models import Organisation

from .. import services
from ..forms import (
    FILES_AGAIN,
    MediationRequestForm,
    PublicComplaintForm,
    SatisfactionForm,
    error_summary,
    mark_invalid,
)
from ..models import AnswerVia, Intake, Kind, MediationStatus, Status

RATE_SCOPE = "reclamation"
TRACKING_SCOPE = "suivi-reclamation"


def errors_on_form(form, error: ValidationError) -> None:
    """A service's ValidationError on the form's fields (the rest above the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def files_were_chosen(request) -> bool:
    return any(f for f in request.FILES.getlist("attachments"))


def keep_files_warning(form, request) -> None:
    """Files are never kept across a correction: say so at the field."""
    if files_were_chosen(request) and "attachments" not in form.errors:
        form.add_error("attachments", FILES_AGAIN)


# ----- the public form ----------------------------------------------------------------------


def public_form(request, slug):
    """/reclamation/<organisme>/: réclamation, suggestion or remerciement, with attachments."""
    organisation = get_object_or_404(Organisation, slug=slug, is_public=True)
    now = timezone.now()
    status = 200
    if request.method == "POST":
        if not antibot.hit(request, RATE_SCOPE, now):
            return antibot.too_many(request, what="le dépôt de réclamations")
        form = PublicComplaintForm(request.POST, request.FILES, organisation=organisation)
        if form.is_valid():
            try:
                complaint = services.file_complaint(
                    None,
                    organisation,
                    intake=Intake.FORM,
                    consent=True,
                    now=now,
                    **form.service_fields(),
                )
            except ValidationError as error:
                errors_on_form(form, error)
            else:
                return redirect(services.tracking_path(complaint) + "?envoi=1")
        keep_files_warning(form, request)
        mark_invalid(form)
        status = 400
    else:
        form = PublicComplaintForm(organisation=organisation)
        wanted = request.GET.get("lieu", "")
        if wanted.isdigit() and form.fields["site"].queryset.filter(pk=wanted).exists():
            form.initial["site"] = int(wanted)
    return render(
        request,
        "complaints/public/form.html",
        {
            "organisation": organisation,
            "form": form,
            "error_list": error_summary(form),
            "nav": "public",
        },
        status=status,
    )


# ----- the tracking page --------------------------------------------------------------------


def steps(complaint) -> list[dict]:
    """Where the case stands, in order: each step done (with its date), current or to come."""
    mediation = getattr(complaint, "mediation", None)
    status = complaint.status
    rows = [
        {"label": "Demande reçue", "at": complaint.received_at, "done": True},
        {
            "label": "Accusé de réception envoyé",
            "at": complaint.acknowledged_at,
            "done": bool(complaint.acknowledged_at),
        },
        {
            "label": "Demande en cours de traitement",
            "at": None,
            "done": bool(complaint.answered_at) or status in (Status.ANSWERED, Status.CLOSED),
            "current": status in (Status.IN_PROGRESS, Status.WAITING),
        },
        {
            "label": "Réponse envoyée",
            "at": complaint.answered_at,
            "done": bool(complaint.answered_at),
        },
    ]
    if complaint.kind == Kind.COMPLIMENT:
        rows = rows[:2]  # a thank-you calls for no answer
    if mediation is not None:
        rows.append(
            {
                "label": "Médiation demandée",
                "at": mediation.requested_at,
                "done": True,
                "current": mediation.status == MediationStatus.OPEN,
            }
        )
        rows.append(
            {
                "label": "Décision du médiateur",
                "at": mediation.decided_at,
                "done": mediation.status == MediationStatus.DECIDED,
            }
        )
    rows.append(
        {"label": "Demande close", "at": complaint.closed_at, "done": bool(complaint.closed_at)}
    )
    # the first step not done is the current one, unless one says it is
    if not any(row.get("current") and not row["done"] for row in rows):
        for row in rows:
            if not row["done"]:
                row["current"] = True
                break
    for row in rows:
        row["current"] = bool(row.get("current")) and not row["done"]
    return rows


def expected_answer(complaint):
    """The date the answer is due (from the contact clock), while it is still to come."""
    contact = complaint.contact
    if complaint.answered_at or complaint.closed_at or contact is None:
        return None
    return contact.answer_due_at


def _expired(request, error):
    """410: the link worked once; the page says how to get a new one."""
    complaint = getattr(error, "complaint", None)
    return render(
        request,
        "complaints/public/expired.html",
        {
            "organisation": complaint.organisation if complaint else None,
            "reference": complaint.reference if complaint else "",
            "message": str(error),
            "nav": "public",
        },
        status=410,
    )


def tracking(request, token):
    """/suivi-reclamation/<jeton>/: the requester's own view of the case."""
    now = timezone.now()
    try:
        complaint = services.complaint_for_token(token, now=now)
    except services.TrackingExpired as error:
        return _expired(request, error)
    satisfaction_form = SatisfactionForm(prefix="avis")
    mediation_form = MediationRequestForm(prefix="mediation")
    status = 200
    if request.method == "POST":
        if not antibot.hit(request, TRACKING_SCOPE, now):
            return antibot.too_many(request, what="le suivi des réclamations")
        action = request.POST.get("action")
        here = reverse("complaints:tracking", args=[token])
        if action == "satisfaction":
            satisfaction_form = SatisfactionForm(request.POST, prefix="avis")
            if satisfaction_form.is_valid():
                try:
                    services.record_satisfaction(
                        complaint, satisfaction_form.cleaned_data["score"], now=now
                    )
                except ValidationError as error:
                    errors_on_form(satisfaction_form, error)
                else:
                    messages.success(request, "Merci : votre avis sur la réponse est enregistré.")
                    return redirect(here + "#avis")
            mark_invalid(satisfaction_form)
        elif action == "mediation":
            mediation_form = MediationRequestForm(request.POST, prefix="mediation")
            if mediation_form.is_valid():
                try:
                    services.escalate_to_mediation(
                        None, complaint, reason=mediation_form.cleaned_data["reason"], now=now
                    )
                except ValidationError as error:
                    errors_on_form(mediation_form, error)
                else:
                    messages.success(
                        request,
                        "Votre demande de médiation est enregistrée. Le médiateur vous "
                        "répondra ; vous suivez sa décision sur cette page.",
                    )
                    return redirect(here + "#mediation")
            mark_invalid(mediation_form)
        else:
            raise Http404("Action inconnue.")
        status = 400
    mediation = getattr(complaint, "mediation", None)
    answered = bool(complaint.answered_at and complaint.answer)
    can_mediate = mediation is None and services.can_request_mediation(complaint, now=now)
    return render(
        request,
        "complaints/public/tracking.html",
        {
            "complaint": complaint,
            "organisation": complaint.organisation,
            "steps": steps(complaint),
            "expected": expected_answer(complaint),
            "waiting": complaint.status == Status.WAITING,
            "answered": answered,
            "letter": answered and complaint.answer_via == AnswerVia.LETTER,
            "mediation": mediation,
            "can_mediate": can_mediate,
            "ask_satisfaction": answered and complaint.satisfaction is None,
            "satisfaction_form": satisfaction_form,
            "satisfaction_errors": error_summary(satisfaction_form),
            "mediation_form": mediation_form,
            "mediation_errors": error_summary(mediation_form),
            "just_sent": request.GET.get("envoi") == "1",
            "tracking_link": services.tracking_url(complaint),
            "nav": "public",
        },
        status=status,
    )


def tracking_letter(request, token):
    """The answer letter (PDF), when the answer was sent by post."""
    try:
        complaint = services.complaint_for_token(token)
    except services.TrackingExpired as error:
        return _expired(request, error)
    if not (complaint.answered_at and complaint.answer_via == AnswerVia.LETTER):
        raise Http404("Aucune réponse par courrier pour cette demande.")
    response = HttpResponse(services.letter_pdf(complaint), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="reponse-{complaint.reference}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


urls = [
    path("reclamation/<slug:slug>/", public_form, name="public_form"),
    path("suivi-reclamation/<str:token>/", tracking, name="tracking"),
    path("suivi-reclamation/<str:token>/reponse.pdf", tracking_letter, name="tracking_letter"),
]

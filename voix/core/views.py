"""Pages of the core app: public home, staff home, administration, audit log."""

import csv
from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import forms, services, workdays
from .models import AuditEvent, Closure, Membership, Organisation, Role, Site, User
from .scoping import organisations_with_role, scope_for


def role_required(*roles):
    """Logged in and holding one of *roles* somewhere; otherwise the 403 page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not organisations_with_role(request.user, *roles).exists():
                raise PermissionDenied("Cette page est réservée aux administrateurs.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


admin_required = role_required(Role.ADMIN)


def administered(user):
    """Organisations *user* administers (a network admin administers its bodies too)."""
    return organisations_with_role(user, Role.ADMIN)


def form_errors_to_messages(request, error: ValidationError, form=None):
    """Show a service's ValidationError on the form (by field) or as a message."""
    if form is not None and hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    for message in error.messages:
        if form is not None:
            form.add_error(None, message)
        else:
            messages.error(request, message)


def submitted(request, form, action, success, next_url):
    """Run a form's action: validate, call the service, flash *success*, redirect.

    *action(cleaned_data)* calls one service; its ValidationError lands on the form.
    *success* and *next_url* may be callables of the action's result. Returns the
    redirect, or None when the page should be shown (again) with the form.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = action(form.cleaned_data)
    except ValidationError as error:
        form_errors_to_messages(request, error, form)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return redirect(next_url(result) if callable(next_url) else next_url)


def form_page(request, form, title, back, **extra):
    """The administration page that shows one form (title, cancel link)."""
    context = {"form": form, "title": title, "back": back, "nav": "admin", **extra}
    return render(request, "core/admin/form_page.html", context)


# ----- public pages ---------------------------------------------------------------------


def public_index(request):
    organisations = Organisation.objects.filter(is_public=True, kind="organisme").select_related(
        "parent"
    )
    return render(
        request, "core/public_index.html", {"organisations": organisations, "nav": "public"}
    )


def _opening_status(site, now):
    """« Ouvert » or the next opening, from the site's working-day calendar."""
    if not site.opening_hours.all():
        return None
    try:
        nxt = workdays.next_opening(site.calendar(), now)
    except ValueError:
        return None
    return {"open_now": nxt <= now, "next": nxt}


def organisation_public(request, slug):
    organisation = get_object_or_404(Organisation, slug=slug, is_public=True)
    sites = organisation.sites.filter(is_active=True).prefetch_related("opening_hours")
    today = timezone.localdate()
    closures = organisation.closures.filter(end_date__gte=today).select_related("site")[:20]
    return render(
        request,
        "core/organisation_public.html",
        {
            "organisation": organisation,
            "own_sites": [s for s in sites if not s.is_relay],
            "relays": [s for s in sites if s.is_relay],
            "closures": closures,
            "has_results": _has_results(organisation),
            "books_online": _books_online(organisation),
            "nav": "public",
        },
    )


def _has_results(organisation, site=None):
    from voix.commitments.publication import has_published_results

    return has_published_results(organisation, site)


def _books_online(organisation, site=None):
    from voix.appointments.models import Audience, Reason

    reasons = Reason.objects.filter(
        organisation=organisation, is_active=True, audience=Audience.PUBLIC
    )
    if site is not None:
        reasons = reasons.filter(sites=site)
    return reasons.exists()


def site_public(request, slug, site_slug):
    organisation = get_object_or_404(Organisation, slug=slug, is_public=True)
    site = get_object_or_404(
        organisation.sites.prefetch_related("opening_hours"), slug=site_slug, is_active=True
    )
    today = timezone.localdate()
    closures = Closure.objects.filter(
        Q(site=site) | Q(organisation=organisation, site__isnull=True), end_date__gte=today
    )[:20]
    calendar = site.calendar()
    holidays = sorted(
        (day, label)
        for year in (today.year, today.year + 1)
        for day, label in workdays.public_holidays(calendar.region, year).items()
        if today <= day <= today + timezone.timedelta(days=120)
    )
    return render(
        request,
        "core/site_public.html",
        {
            "organisation": organisation,
            "site": site,
            "hours": site.hours_by_day(),
            "closures": closures,
            "holidays": holidays,
            "status": _opening_status(site, timezone.now()),
            "has_results": _has_results(organisation, site),
            "books_online": _books_online(organisation, site),
            "nav": "public",
        },
    )


# ----- authentication ------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = forms.LoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "core/password_reset.html"
    form_class = forms.PasswordResetForm
    email_template_name = "core/email/password_reset.txt"
    subject_template_name = "core/email/password_reset_subject.txt"
    success_url = reverse_lazy("core:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "core/password_reset_confirm.html"
    form_class = forms.SetPasswordForm
    success_url = reverse_lazy("core:password_reset_complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "core/password_change.html"
    form_class = forms.PasswordChangeForm
    success_url = reverse_lazy("core:home")

    def form_valid(self, form):
        messages.success(self.request, "Votre mot de passe a été changé.")
        return super().form_valid(form)


# ----- staff home ----------------------------------------------------------------------


@login_required
def home(request):
    scope = scope_for(request.user)
    if scope.is_empty:
        return render(request, "core/no_membership.html", {"nav": "home"}, status=200)
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("organisation", "site")
        .order_by("organisation__name", "role")
    )
    roles = scope.all_roles() | ({Role.ADMIN} if scope.everything else set())
    relay_sites = Site.objects.filter(pk__in=scope.relay_site_ids).select_related("organisation")
    return render(
        request,
        "core/home.html",
        {
            "memberships": memberships,
            "roles": roles,
            "relay_sites": relay_sites,
            "organisations": Organisation.objects.filter(pk__in=scope.organisation_ids)
            if not scope.everything
            else Organisation.objects.all(),
            "nav": "home",
        },
    )


# ----- administration ------------------------------------------------------------------


@admin_required
def admin_index(request):
    organisations = administered(request.user).select_related("parent")
    return render(
        request,
        "core/admin/index.html",
        {
            "organisations": organisations,
            "site_count": Site.objects.filter(organisation__in=organisations).count(),
            "people_count": User.objects.filter(memberships__organisation__in=organisations)
            .distinct()
            .count(),
            "nav": "admin",
        },
    )


@admin_required
def admin_organisations(request):
    organisations = administered(request.user).select_related("parent").order_by("name")
    return render(
        request, "core/admin/organisations.html", {"organisations": organisations, "nav": "admin"}
    )


def _administered_or_404(request, pk):
    return get_object_or_404(administered(request.user), pk=pk)


@admin_required
def admin_organisation_create(request):
    parents = administered(request.user)
    form = forms.OrganisationForm(request.POST or None, parents=parents)
    if not request.user.is_superuser:
        form.fields["parent"].required = True
        form.fields[
            "parent"
        ].help_text = "Un nouvel organisme se place sous un réseau que vous administrez."
    done = submitted(
        request,
        form,
        lambda data: services.create_organisation(request.user, **data),
        lambda organisation: f"L'organisme « {organisation} » a été créé.",
        lambda organisation: reverse("core:admin_organisation_edit", args=[organisation.pk]),
    )
    return done or form_page(request, form, "Nouvel organisme", reverse("core:admin_organisations"))


@admin_required
def admin_organisation_edit(request, pk):
    organisation = _administered_or_404(request, pk)
    form = forms.OrganisationForm(
        request.POST or None, instance=organisation, parents=administered(request.user)
    )
    # The form validated into `organisation`; the service gets a fresh copy to diff against.
    done = submitted(
        request,
        form,
        lambda data: services.update_organisation(
            request.user, Organisation.objects.get(pk=pk), **data
        ),
        "Les informations de l'organisme sont enregistrées.",
        reverse("core:admin_organisation_edit", args=[pk]),
    )
    return done or render(
        request,
        "core/admin/organisation_edit.html",
        {
            "organisation": organisation,
            "form": form,
            "sites": organisation.sites.prefetch_related("opening_hours"),
            "closures": organisation.closures.select_related("site"),
            "nav": "admin",
        },
    )


@admin_required
def admin_site_create(request, pk):
    organisation = _administered_or_404(request, pk)
    form = forms.SiteForm(request.POST or None, instance=Site(organisation=organisation))
    done = submitted(
        request,
        form,
        lambda data: services.create_site(request.user, organisation, **data),
        lambda site: f"Le site « {site} » a été créé. Indiquez maintenant ses horaires.",
        lambda site: reverse("core:admin_site_hours", args=[site.pk]),
    )
    return done or form_page(
        request,
        form,
        f"Nouveau site — {organisation}",
        reverse("core:admin_organisation_edit", args=[organisation.pk]),
    )


def _administered_site_or_404(request, pk):
    return get_object_or_404(
        Site.objects.filter(organisation__in=administered(request.user)).select_related(
            "organisation"
        ),
        pk=pk,
    )


@admin_required
def admin_site_edit(request, pk):
    site = _administered_site_or_404(request, pk)
    form = forms.SiteForm(request.POST or None, instance=site)
    done = submitted(
        request,
        form,
        lambda data: services.update_site(request.user, Site.objects.get(pk=pk), **data),
        "Les informations du site sont enregistrées.",
        reverse("core:admin_organisation_edit", args=[site.organisation_id]),
    )
    return done or form_page(
        request,
        form,
        f"Site — {site}",
        reverse("core:admin_organisation_edit", args=[site.organisation_id]),
        extra_link=(
            reverse("core:admin_site_hours", args=[site.pk]),
            "Modifier les horaires",
        ),
    )


@admin_required
def admin_site_hours(request, pk):
    site = _administered_site_or_404(request, pk)
    form = forms.OpeningHoursForm(request.POST or None, site=site)
    done = submitted(
        request,
        form,
        lambda data: services.set_opening_hours(request.user, site, data["intervals"]),
        f"Les horaires de « {site} » sont enregistrés.",
        reverse("core:admin_organisation_edit", args=[site.organisation_id]),
    )
    return done or render(
        request, "core/admin/site_hours.html", {"site": site, "form": form, "nav": "admin"}
    )


@admin_required
def admin_closure_create(request, pk):
    organisation = _administered_or_404(request, pk)
    form = forms.ClosureForm(request.POST or None, organisation=organisation)
    done = submitted(
        request,
        form,
        lambda data: services.add_closure(request.user, organisation, **data),
        "La fermeture exceptionnelle est enregistrée.",
        reverse("core:admin_organisation_edit", args=[organisation.pk]),
    )
    return done or form_page(
        request,
        form,
        f"Fermeture exceptionnelle — {organisation}",
        reverse("core:admin_organisation_edit", args=[organisation.pk]),
    )


@admin_required
def admin_closure_delete(request, pk):
    closure = get_object_or_404(
        Closure.objects.filter(organisation__in=administered(request.user)), pk=pk
    )
    back = reverse("core:admin_organisation_edit", args=[closure.organisation_id])
    if request.method == "POST":
        services.remove_closure(request.user, closure)
        messages.success(request, f"La fermeture « {closure.label} » est supprimée.")
        return redirect(back)
    return render(
        request,
        "core/admin/confirm.html",
        {
            "title": "Supprimer une fermeture exceptionnelle",
            "question": (
                f"Supprimer la fermeture « {closure.label} » du {closure.start_date:%d/%m/%Y} "
                f"au {closure.end_date:%d/%m/%Y} ? "
                "Le site sera de nouveau annoncé ouvert ces jours-là."
            ),
            "confirm_label": "Supprimer la fermeture",
            "back": back,
            "nav": "admin",
        },
    )


def _home_organisation(person, organisations):
    """The organisation an administrator's action on *person* is recorded under."""
    membership = person.memberships.filter(organisation__in=organisations).first()
    return membership.organisation if membership else None


def _people_in(organisations):
    return User.objects.filter(memberships__organisation__in=organisations).distinct()


@admin_required
def admin_people(request):
    organisations = administered(request.user)
    people = _people_in(organisations).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(organisation__in=organisations).select_related(
                "organisation", "site"
            ),
        )
    )
    query = request.GET.get("q", "").strip()
    if query:
        people = people.filter(Q(full_name__icontains=query) | Q(email__icontains=query))
    page = Paginator(people.order_by("full_name"), 50).get_page(request.GET.get("page"))
    return render(request, "core/admin/people.html", {"page": page, "query": query, "nav": "admin"})


@admin_required
def admin_person_create(request):
    organisations = administered(request.user)
    form = forms.NewPersonForm(request.POST or None, organisations=organisations)
    done = submitted(
        request,
        form,
        lambda data: services.invite_person(request.user, **data),
        lambda person: (
            f"Le compte de {person} est créé. Un courriel d'invitation lui permet "
            "de choisir son mot de passe."
        ),
        lambda person: reverse("core:admin_person_edit", args=[person.pk]),
    )
    return done or form_page(request, form, "Nouvelle personne", reverse("core:admin_people"))


@admin_required
def admin_person_edit(request, pk):
    organisations = administered(request.user)
    person = get_object_or_404(_people_in(organisations), pk=pk)
    form = forms.PersonForm(
        request.POST if "save_person" in request.POST else None, instance=person
    )
    membership_form = forms.MembershipForm(
        request.POST if "add_membership" in request.POST else None, organisations=organisations
    )
    if request.method == "POST":
        if "save_person" in request.POST and form.is_valid():
            if person == request.user and not form.cleaned_data["is_active"]:
                form.add_error("is_active", "Vous ne pouvez pas désactiver votre propre compte.")
            else:
                try:
                    services.update_person(
                        request.user,
                        User.objects.get(pk=pk),
                        organisation=_home_organisation(person, organisations),
                        **form.cleaned_data,
                    )
                except ValidationError as error:
                    form_errors_to_messages(request, error, form)
                else:
                    messages.success(request, "Les informations de la personne sont enregistrées.")
                    return redirect("core:admin_person_edit", pk=pk)
        elif "add_membership" in request.POST and membership_form.is_valid():
            try:
                services.add_membership(request.user, person, **membership_form.cleaned_data)
            except ValidationError as error:
                form_errors_to_messages(request, error, membership_form)
            else:
                messages.success(request, "Le rôle est ajouté.")
                return redirect("core:admin_person_edit", pk=pk)
    return render(
        request,
        "core/admin/person_edit.html",
        {
            "person": person,
            "form": form,
            "membership_form": membership_form,
            "memberships": person.memberships.filter(organisation__in=organisations).select_related(
                "organisation", "site"
            ),
            "nav": "admin",
        },
    )


@admin_required
def admin_membership_delete(request, pk):
    membership = get_object_or_404(
        Membership.objects.filter(organisation__in=administered(request.user)).select_related(
            "user", "organisation", "site"
        ),
        pk=pk,
    )
    back = reverse("core:admin_person_edit", args=[membership.user_id])
    if request.method == "POST":
        try:
            services.remove_membership(request.user, membership)
        except ValidationError as error:
            form_errors_to_messages(request, error)
        else:
            messages.success(request, f"Le rôle « {membership} » est retiré à {membership.user}.")
        return redirect(back)
    return render(
        request,
        "core/admin/confirm.html",
        {
            "title": "Retirer un rôle",
            "question": f"Retirer à {membership.user} le rôle « {membership} » ? "
            "Cette personne n'aura plus accès à ce que ce rôle lui ouvrait.",
            "confirm_label": "Retirer le rôle",
            "back": back,
            "nav": "admin",
        },
    )


@admin_required
def audit_log(request):
    events = AuditEvent.objects.all()
    if not request.user.is_superuser:
        organisations = administered(request.user)
        events = events.filter(organisation__in=organisations)
    query = request.GET.get("q", "").strip()
    if query:
        events = events.filter(
            Q(actor_label__icontains=query)
            | Q(object_repr__icontains=query)
            | Q(action__icontains=query)
        )
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="journal-audit.csv"'
        response.write("\ufeff")
        writer = csv.writer(response, delimiter=";")
        writer.writerow(
            ["date", "auteur", "action", "type d'objet", "identifiant", "objet", "détail"]
        )
        for event in events.iterator():
            writer.writerow(
                [
                    timezone.localtime(event.at).strftime("%d/%m/%Y %H:%M:%S"),
                    event.actor_label,
                    event.action_label,
                    event.object_type,
                    event.object_id,
                    event.object_repr,
                    event.changes,
                ]
            )
        return response
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request, "core/admin/audit_log.html", {"page": page, "query": query, "nav": "admin"}
    )


@require_POST
@admin_required
def admin_person_invite(request, pk):
    person = get_object_or_404(_people_in(administered(request.user)), pk=pk)
    services.send_invitation(
        request.user, person, organisation=_home_organisation(person, administered(request.user))
    )
    messages.success(request, f"Un nouveau courriel d'invitation est envoyé à {person.email}.")
    return redirect("core:admin_person_edit", pk=pk)


# ----- error pages ---------------------------------------------------------------------


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    # No request context: the failure may come from the database the context needs.
    return HttpResponseServerError(loader.get_template("500.html").render())

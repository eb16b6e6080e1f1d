"""Pages of the reception queue: the kiosk and the waiting-room display (secret link per
site, no login), the counter page for agents, live figures and settings for managers."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from voix.core.models import Role, Site
from voix.core.scoping import get_scoped_or_404, has_role, visible_sites
from voix.core.views import role_required, submitted

from . import live, services
from .forms import CounterForm, KioskForm, QueueForm, ReceptionSettingsForm, TransferForm
from .models import AT_COUNTER_STATUSES, Counter, Queue, SiteReception, Ticket

COUNTER_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN, Role.PARTENAIRE)
FIGURES_ROLES = (Role.MANAGER, Role.QUALITE, Role.ADMIN, Role.PARTENAIRE)
SETTINGS_ROLES = (Role.MANAGER, Role.ADMIN)
ALL_ROLES = (*COUNTER_ROLES, Role.QUALITE)


def _site_for(request, pk, roles) -> Site:
    """A site in the person's scope (else 404) where they hold one of *roles* (else 403)."""
    site = get_scoped_or_404(visible_sites(request.user), request.user, site="pk", pk=pk)
    if not has_role(request.user, *roles, organisation=site.organisation):
        raise PermissionDenied("Cette page est réservée à d'autres rôles.")
    return site


# ----- index ---------------------------------------------------------------------------


@role_required(*ALL_ROLES)
def index(request):
    """The sites the person may serve or supervise, with their counters."""
    rows = []
    for site in (
        visible_sites(request.user)
        .prefetch_related("counters")
        .order_by("organisation__name", "name")
    ):
        organisation = site.organisation
        rows.append(
            {
                "site": site,
                "counters": [c for c in site.counters.all() if c.is_active]
                if has_role(request.user, *COUNTER_ROLES, organisation=organisation)
                else [],
                "figures": has_role(request.user, *FIGURES_ROLES, organisation=organisation),
                "settings": has_role(request.user, *SETTINGS_ROLES, organisation=organisation),
            }
        )
    rows = [r for r in rows if r["counters"] or r["figures"] or r["settings"]]
    return render(request, "reception/index.html", {"rows": rows, "nav": "accueil"})


# ----- kiosk (borne) -------------------------------------------------------------------


def _by_token(field, token) -> SiteReception:
    reception = (
        SiteReception.objects.select_related("site__organisation")
        .filter(**{field: token}, site__is_active=True)
        .first()
    )
    if reception is None:
        raise Http404("Lien inconnu ou renouvelé.")
    return reception


def kiosk(request, token):
    """The touch kiosk: one big button per reason; works without JavaScript."""
    reception = _by_token("kiosk_token", token)
    site = reception.site
    queues = site.queues.filter(is_active=True)
    form = KioskForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        queue = queues.filter(pk=form.cleaned_data["motif"]).first()
        if queue is None:
            error = "Ce motif n'est plus proposé : choisissez-en un autre."
        else:
            try:
                ticket = services.take_ticket(
                    site, queue, phone=form.cleaned_data["phone"] if reception.sms_enabled else ""
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                return redirect("reception:kiosk_ticket", token=token, pk=ticket.pk)
    elif request.method == "POST":
        error = "Choisissez un motif en touchant l'un des boutons."
    return render(
        request,
        "reception/kiosk.html",
        {"site": site, "reception": reception, "queues": queues, "form": form, "error": error},
        status=400 if error else 200,
    )


def kiosk_ticket(request, token, pk):
    """The ticket just taken: its number, the people before it; back to the kiosk soon."""
    reception = _by_token("kiosk_token", token)
    ticket = get_object_or_404(
        Ticket.objects.select_related("queue"),
        pk=pk,
        site=reception.site,
        day=timezone.localdate(),
    )
    return render(
        request,
        "reception/kiosk_ticket.html",
        {
            "site": reception.site,
            "ticket": ticket,
            "ahead": live.place_in_line(ticket),
            "token": token,
        },
    )


# ----- waiting-room display ------------------------------------------------------------


def display(request, token):
    """The waiting-room screen: last calls and their counters, refreshed by htmx (every
    5 s) or by a meta refresh without JavaScript; a sound and an aria-live announcement
    on each new call."""
    reception = _by_token("display_token", token)
    now = timezone.now()
    calls = live.last_calls(reception.site, now)
    latest = calls[0] if calls else None
    context = {
        "site": reception.site,
        "calls": calls,
        "latest": latest,
        "latest_key": f"{latest.pk}-{latest.recalls}-{latest.last_called_at:%H%M%S}"
        if latest
        else "",
        "now": now,
    }
    template = "reception/display.html"
    if request.htmx:
        template += "#calls"
    return render(request, template, context)


# ----- counter (guichet) ---------------------------------------------------------------


def _counter_for(request, pk) -> Counter:
    counter = get_scoped_or_404(
        Counter.objects.select_related("site__organisation"),
        request.user,
        organisation="site__organisation",
        site="site",
        pk=pk,
    )
    if not has_role(request.user, *COUNTER_ROLES, organisation=counter.site.organisation):
        raise PermissionDenied("Le guichet est réservé aux agents du site.")
    return counter


def _counter_context(counter, now, transfer_form=None):
    current = (
        Ticket.objects.filter(counter=counter, status__in=AT_COUNTER_STATUSES)
        .select_related("queue")
        .first()
    )
    waiting = services.callable_tickets(counter, now=now).select_related("queue")
    return {
        "counter": counter,
        "site": counter.site,
        "current": current,
        "waiting_count": waiting.count(),
        "next_tickets": list(waiting[:5]),
        "transfer_form": transfer_form or TransferForm(counter=counter),
        "nav": "accueil",
    }


@role_required(*COUNTER_ROLES)
def counter_page(request, pk):
    counter = _counter_for(request, pk)
    context = _counter_context(counter, timezone.now())
    template = "reception/counter.html"
    if request.htmx:
        template += "#desk"
    return render(request, template, context)


ACTIONS = {
    "appeler": ("Ticket {code} appelé.", None),
    "rappeler": ("Ticket {code} rappelé.", services.recall),
    "commencer": ("Entretien commencé avec le ticket {code}.", services.start_serving),
    "absent": ("Ticket {code} marqué absent.", services.mark_no_show),
    "terminer": ("Ticket {code} terminé.", services.finish),
    "transferer": ("Ticket {code} transféré.", None),
}


@require_POST
@role_required(*COUNTER_ROLES)
def counter_action(request, pk, action):
    """One button of the counter page; htmx gets the updated desk, others a redirect."""
    counter = _counter_for(request, pk)
    if action not in ACTIONS:
        raise Http404("Action inconnue.")
    success, service = ACTIONS[action]
    now = timezone.now()
    feedback, level = None, "success"
    transfer_form = None
    try:
        if action == "appeler":
            ticket = services.call_next(request.user, counter, now=now)
            if ticket is None:
                feedback, level = "Personne n'attend pour ce guichet.", "info"
        else:
            ticket = Ticket.objects.filter(counter=counter, status__in=AT_COUNTER_STATUSES).first()
            if ticket is None:
                raise ValidationError("Aucun ticket n'est en cours à ce guichet.")
            if action == "transferer":
                transfer_form = TransferForm(request.POST, counter=counter)
                if not transfer_form.is_valid():
                    raise ValidationError(transfer_form.non_field_errors() or "Transfert invalide.")
                ticket = services.transfer(
                    request.user,
                    ticket,
                    queue=transfer_form.cleaned_data["queue"],
                    counter=transfer_form.cleaned_data["counter"],
                    now=now,
                )
                transfer_form = None
            else:
                ticket = service(request.user, ticket, now=now)
        if feedback is None:
            feedback = success.format(code=ticket.code)
    except ValidationError as exc:
        feedback, level = " ".join(exc.messages), "error"
    if request.htmx:
        context = _counter_context(counter, now, transfer_form)
        context.update(feedback=feedback, feedback_level=level)
        return render(request, "reception/counter.html#desk", context)
    getattr(messages, level)(request, feedback)
    return redirect("reception:counter", pk=counter.pk)


# ----- live figures --------------------------------------------------------------------


@role_required(*FIGURES_ROLES)
def figures(request, pk):
    site = _site_for(request, pk, FIGURES_ROLES)
    now = timezone.now()
    total, per_queue = live.site_figures(site, now)
    context = {
        "site": site,
        "total": total,
        "per_queue": per_queue,
        "month": live.month_share(site, now),
        "now": now,
        "nav": "accueil",
        "can_configure": has_role(request.user, *SETTINGS_ROLES, organisation=site.organisation),
    }
    template = "reception/figures.html"
    if request.htmx:
        template += "#live"
    return render(request, template, context)


# ----- settings ------------------------------------------------------------------------


def form_page(request, form, title, back, **extra):
    """One settings form (title, cancel link back to the site's settings)."""
    context = {"form": form, "title": title, "back": back, **extra}
    return render(request, "reception/form_page.html", context)


@role_required(*SETTINGS_ROLES)
def site_settings(request, pk):
    site = _site_for(request, pk, SETTINGS_ROLES)
    reception = services.ensure_reception(site)
    base = request.build_absolute_uri("/")[:-1]
    return render(
        request,
        "reception/settings.html",
        {
            "site": site,
            "reception": reception,
            "queues": site.queues.all(),
            "counters": site.counters.prefetch_related("queues"),
            "kiosk_url": base + reverse("reception:kiosk", args=[reception.kiosk_token]),
            "display_url": base + reverse("reception:display", args=[reception.display_token]),
            "nav": "accueil",
        },
    )


def _settings_url(site):
    return reverse("reception:settings", args=[site.pk])


@role_required(*SETTINGS_ROLES)
def settings_edit(request, pk):
    site = _site_for(request, pk, SETTINGS_ROLES)
    reception = services.ensure_reception(site)
    form = ReceptionSettingsForm(request.POST or None, instance=reception)
    done = submitted(
        request,
        form,
        lambda data: services.update_reception_settings(request.user, site, **data),
        "Réglages enregistrés.",
        _settings_url(site),
    )
    return done or form_page(
        request, form, f"SMS de la file d'attente — {site}", _settings_url(site), nav="accueil"
    )


@role_required(*SETTINGS_ROLES)
def tokens_regenerate(request, pk):
    """Confirm, then give the kiosk and the display new links (the old ones stop)."""
    site = _site_for(request, pk, SETTINGS_ROLES)
    back = _settings_url(site)
    if request.method == "POST":
        services.regenerate_tokens(request.user, site)
        messages.success(
            request,
            "Nouveaux liens créés : ouvrez-les sur la borne et sur l'écran, les anciens ne "
            "fonctionnent plus.",
        )
        return redirect(back)
    return render(
        request,
        "reception/confirm.html",
        {
            "site": site,
            "title": f"Renouveler les liens de la borne et de l'écran — {site}",
            "question": "La borne et l'écran de la salle d'attente ouverts avec les liens "
            "actuels cesseront de fonctionner : il faudra y ouvrir les nouveaux liens. "
            "Continuer ?",
            "confirm_label": "Renouveler les deux liens",
            "back": back,
        },
    )


def _queue_form_page(request, site, queue=None):
    form = QueueForm(request.POST or None, instance=queue)
    done = submitted(
        request,
        form,
        lambda data: services.save_queue(request.user, site, queue, **data),
        lambda q: f"Motif « {q.label} » enregistré.",
        _settings_url(site),
    )
    title = f"Motif « {queue.label} »" if queue else f"Nouveau motif — {site}"
    return done or form_page(request, form, title, _settings_url(site), nav="accueil")


@role_required(*SETTINGS_ROLES)
def queue_create(request, pk):
    return _queue_form_page(request, _site_for(request, pk, SETTINGS_ROLES))


@role_required(*SETTINGS_ROLES)
def queue_edit(request, pk):
    queue = get_scoped_or_404(
        Queue.objects.select_related("site__organisation"),
        request.user,
        organisation="site__organisation",
        site="site",
        pk=pk,
    )
    site = _site_for(request, queue.site_id, SETTINGS_ROLES)
    return _queue_form_page(request, site, queue)


def _counter_form_page(request, site, counter=None):
    form = CounterForm(request.POST or None, instance=counter, site=site)

    def save(data):
        data = dict(data)
        queues = data.pop("queues", [])
        return services.save_counter(request.user, site, counter, queues=queues, **data)

    done = submitted(
        request,
        form,
        save,
        lambda c: f"« {c.label} » enregistré.",
        _settings_url(site),
    )
    title = f"« {counter.label} »" if counter else f"Nouveau guichet — {site}"
    return done or form_page(request, form, title, _settings_url(site), nav="accueil")


@role_required(*SETTINGS_ROLES)
def counter_create(request, pk):
    return _counter_form_page(request, _site_for(request, pk, SETTINGS_ROLES))


@role_required(*SETTINGS_ROLES)
def counter_edit(request, pk):
    counter = get_scoped_or_404(
        Counter.objects.select_related("site__organisation"),
        request.user,
        organisation="site__organisation",
        site="site",
        pk=pk,
    )
    site = _site_for(request, counter.site_id, SETTINGS_ROLES)
    return _counter_form_page(request, site, counter)

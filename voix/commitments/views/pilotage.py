"""Pilotage pages: results against targets for an organisation or a site, drill-down by
site, channel and period, messages, manual entry and import of measurements."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from voix.core.forms import DsfrFormMixin
from voix.core.models import Role, Site
from voix.core.scoping import (
    get_scoped_or_404,
    has_role,
    organisations_with_role,
    scope_for,
    visible_sites,
)
from voix.core.views import role_required, submitted

from .. import measures, periods
from ..charts import line_chart
from ..models import Commitment, Indicator, Measurement, Notice, PeriodKind, Target

READERS = (Role.AGENT, Role.MANAGER, Role.QUALITE, Role.MEDIATEUR, Role.ADMIN)
EDITORS = (Role.QUALITE, Role.ADMIN)
KINDS = {"mois": PeriodKind.MONTH, "trimestre": PeriodKind.QUARTER, "annee": PeriodKind.YEAR}
KIND_LABELS = {"mois": "Mois", "trimestre": "Trimestre", "annee": "Année"}
TREND_LENGTH = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 8, PeriodKind.YEAR: 5}

pilot_required = role_required(*READERS, Role.PARTENAIRE)
editor_required = role_required(*EDITORS)


def _reader_organisations(user):
    return organisations_with_role(user, *READERS).order_by("name")


def _organisation(request, roles=READERS):
    """The organisation the page is about (?organisme=<slug>), among those the user reads."""
    organisations = organisations_with_role(request.user, *roles).order_by("name")
    slug = request.GET.get("organisme") or request.POST.get("organisme")
    if slug:
        return get_object_or_404(organisations, slug=slug)
    return organisations.first()


def _kind(request):
    key = request.GET.get("periode", "mois")
    return (key if key in KINDS else "mois"), KINDS.get(key, PeriodKind.MONTH)


def _indicators_of(organisation, site=None):
    """Indicators the organisation measures or has a target for."""
    measured = Measurement.objects.filter(organisation=organisation)
    targeted = Target.objects.filter(organisation=organisation)
    if site is not None:
        measured = measured.filter(site=site)
    return (
        measures.indicators_for(organisation)
        .filter(Q(pk__in=measured.values("indicator")) | Q(pk__in=targeted.values("indicator")))
        .prefetch_related("commitments")
        .distinct()
    )


def _card(indicator, organisation, site, kind, channel="", *, chart=True):
    """Everything the page shows about one indicator in one scope."""
    last = measures.latest_start(indicator, organisation, kind, site=site, channel=channel)
    today = timezone.localdate()
    anchor = last or periods.period_start(kind, today)
    starts = periods.previous_periods(kind, anchor, TREND_LENGTH[kind])
    series = measures.results(indicator, organisation, kind, starts, site=site, channel=channel)
    current = series[-1] if last else None
    on = periods.period_end(kind, anchor) - timezone.timedelta(days=1)
    target = Target.objects.in_force(indicator, organisation, site, on=on)
    target_value = target.value if target else None
    state = ""
    if current is not None and current.significant:
        state = measures.state(indicator, current.value, target_value)
    card = {
        "indicator": indicator,
        "current": current,
        "shown": _shown(current, indicator),
        "target": target_value,
        "target_text": measures.format_value(target_value, indicator.unit)
        if target_value is not None
        else "aucune cible",
        "state": state,
        "state_label": measures.STATES[state][0] if state else "",
        "state_class": measures.STATES[state][1] if state else "",
    }
    if chart:
        chart_id = f"graphique-{indicator.pk}-{site.pk if site else 'org'}"
        card["chart"] = line_chart(
            chart_id,
            f"{indicator.label} — évolution",
            series,
            unit=indicator.unit,
            target=target_value,
        )
    return card


def _shown(result, indicator):
    if result is None or result.value is None:
        return "aucune donnée"
    if not result.significant:
        return f"résultat non significatif (n < {indicator.min_sample})"
    return measures.format_value(result.value, indicator.unit)


def _sections(organisation, site, kind):
    """Commitments with their indicators, then « Autres indicateurs »."""
    indicators = list(_indicators_of(organisation, site))
    commitments = (
        Commitment.objects.filter(indicators__in=indicators)
        .select_related("framework")
        .distinct()
        .order_by("framework__name", "position")
    )
    sections = []
    placed = set()
    for commitment in commitments:
        linked = [i for i in indicators if commitment in i.commitments.all()]
        placed.update(i.pk for i in linked)
        sections.append(
            {
                "title": f"{commitment.framework} — engagement {commitment.number}",
                "wording": commitment.wording,
                "cards": [_card(i, organisation, site, kind) for i in linked],
            }
        )
    others = [i for i in indicators if i.pk not in placed]
    if others:
        sections.append(
            {
                "title": "Autres indicateurs",
                "wording": "",
                "cards": [_card(i, organisation, site, kind) for i in others],
            }
        )
    return sections


def _dashboard(request, organisation, site, *, organisations=()):
    kind_key, kind = _kind(request)
    return render(
        request,
        "commitments/pilotage/dashboard.html",
        {
            "organisation": organisation,
            "site": site,
            "organisations": organisations,
            "sections": _sections(organisation, site, kind) if organisation else [],
            "kind_key": kind_key,
            "kinds": KIND_LABELS,
            "sites": organisation.sites.filter(is_active=True).order_by("name")
            if organisation and site is None
            else [],
            "can_edit": organisation is not None
            and has_role(request.user, *EDITORS, organisation=organisation),
            "unread": Notice.objects.filter(user=request.user, read_at__isnull=True).count(),
            "nav": "pilotage",
        },
    )


@pilot_required
def dashboard(request):
    organisation = _organisation(request)
    if organisation is None:
        # A relay advisor reads only their relay's own results.
        relay = Site.objects.filter(pk__in=scope_for(request.user).relay_site_ids).first()
        if relay is None:
            raise PermissionDenied("Aucun tableau de bord ne vous est ouvert.")
        return _dashboard(request, relay.organisation, relay)
    return _dashboard(
        request, organisation, None, organisations=_reader_organisations(request.user)
    )


@pilot_required
def site_dashboard(request, pk):
    site = get_scoped_or_404(visible_sites(request.user), request.user, site="pk", pk=pk)
    return _dashboard(request, site.organisation, site)


@pilot_required
def indicator_detail(request, pk):
    """One indicator: trend, then the same figures by site, by channel and by period."""
    site = None
    if request.GET.get("site"):
        try:
            site_pk = int(request.GET["site"])
        except ValueError as error:
            raise Http404("Site introuvable.") from error
        site = get_scoped_or_404(visible_sites(request.user), request.user, site="pk", pk=site_pk)
        organisation = site.organisation
    else:
        organisation = _organisation(request)
        if organisation is None:
            relay = Site.objects.filter(pk__in=scope_for(request.user).relay_site_ids).first()
            if relay is None:
                raise Http404("Indicateur introuvable.")
            organisation, site = relay.organisation, relay
    indicator = get_object_or_404(measures.indicators_for(organisation), pk=pk)
    kind_key, kind = _kind(request)
    card = _card(indicator, organisation, site, kind)
    by_site = []
    if site is None:
        for each in organisation.sites.filter(is_active=True).order_by("name"):
            row = _card(indicator, organisation, each, kind, chart=False)
            if row["current"] is not None:
                by_site.append({"site": each, **row})
    channels = (
        Measurement.objects.filter(indicator=indicator, organisation=organisation, site=site)
        .exclude(channel="")
        .values_list("channel", flat=True)
        .distinct()
        .order_by("channel")
    )
    by_channel = [
        {"channel": channel, **_card(indicator, organisation, site, kind, channel, chart=False)}
        for channel in channels
    ]
    return render(
        request,
        "commitments/pilotage/indicator.html",
        {
            "organisation": organisation,
            "site": site,
            "card": card,
            "indicator": indicator,
            "by_site": by_site,
            "by_channel": by_channel,
            "kind_key": kind_key,
            "kinds": KIND_LABELS,
            "nav": "pilotage",
        },
    )


# ----- messages ------------------------------------------------------------------------


@pilot_required
def notices(request):
    rows = Notice.objects.filter(user=request.user).select_related("organisation")[:200]
    return render(
        request, "commitments/pilotage/notices.html", {"notices": rows, "nav": "pilotage"}
    )


@require_POST
@pilot_required
def notice_read(request, pk):
    notice = get_object_or_404(Notice.objects.filter(user=request.user), pk=pk)
    measures.mark_notice_read(request.user, notice)
    messages.success(request, "Le message est marqué comme lu.")
    return redirect("commitments:pilotage_notices")


# ----- manual entry and import ---------------------------------------------------------


class EntryForm(DsfrFormMixin, forms.Form):
    indicator = forms.ModelChoiceField(label="Indicateur", queryset=Indicator.objects.none())
    period = forms.CharField(
        label="Période",
        help_text="Par ex. 2026-03 ou mars 2026 (mois), 2026-T1 (trimestre), 2026 (année).",
    )
    site = forms.ModelChoiceField(
        label="Site", queryset=Site.objects.none(), required=False, empty_label="Tout l'organisme"
    )
    channel = forms.CharField(label="Canal", required=False, help_text="Facultatif.")
    value = forms.DecimalField(
        label="Valeur",
        required=False,
        help_text="Laissez vide pour la calculer à partir du numérateur et du dénominateur.",
    )
    sample = forms.IntegerField(
        label="Effectif", required=False, min_value=0, help_text="Nombre de cas mesurés."
    )
    numerator = forms.DecimalField(label="Numérateur", required=False, min_value=0)
    denominator = forms.DecimalField(label="Dénominateur", required=False, min_value=0)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = measures.indicators_for(organisation)
        self.fields["site"].queryset = organisation.sites.order_by("name")


@editor_required
def entry(request):
    organisation = _organisation(request, EDITORS)
    form = EntryForm(request.POST or None, organisation=organisation)
    done = submitted(
        request,
        form,
        lambda data: measures.enter_measurement(
            request.user,
            data["indicator"],
            organisation,
            period=data["period"],
            value=data["value"],
            sample=data["sample"],
            numerator=data["numerator"],
            denominator=data["denominator"],
            site=data["site"],
            channel=data["channel"].strip(),
        ),
        lambda m: (
            f"La mesure de « {m.indicator} » pour "
            f"{periods.label(m.period_kind, m.period_start)} est enregistrée."
        ),
        reverse("commitments:pilotage"),
    )
    return done or render(
        request,
        "commitments/pilotage/entry.html",
        {"form": form, "organisation": organisation, "nav": "pilotage"},
    )


class ImportForm(DsfrFormMixin, forms.Form):
    file = forms.FileField(
        label="Fichier de mesures",
        help_text="CSV (séparateur ; ou ,) ou XLSX. Colonnes : indicateur, periode, site, canal, "
        "valeur, unite, effectif, numerateur, denominateur.",
    )


REPORT_SESSION_KEY = "commitments_import_report"


@editor_required
def import_file(request):
    organisation = _organisation(request, EDITORS)
    if request.method == "GET" and request.GET.get("rapport") == "csv":
        return _import_report(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = measures.import_measurements(
                request.user, organisation, upload.read(), upload.name
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            if result.ok:
                request.session.pop(REPORT_SESSION_KEY, None)
                messages.success(
                    request,
                    f"Import de « {result.filename} » réussi : {result.created} mesure(s) "
                    f"créée(s), {result.updated} modifiée(s), {result.unchanged} inchangée(s).",
                )
                return redirect("commitments:pilotage_import")
            request.session[REPORT_SESSION_KEY] = result.report_csv()
    return render(
        request,
        "commitments/pilotage/import.html",
        {"form": form, "organisation": organisation, "result": result, "nav": "pilotage"},
    )


def _import_report(request):
    """The last rejected import's report, as CSV (header only when there is none)."""
    content = request.session.get(REPORT_SESSION_KEY) or "fichier;ligne;colonne;motif\r\n"
    response = HttpResponse(content.encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rapport-import.csv"'
    return response


urlpatterns = [
    path("pilotage/", dashboard, name="pilotage"),
    path("pilotage/sites/<int:pk>/", site_dashboard, name="pilotage_site"),
    path("pilotage/indicateurs/<int:pk>/", indicator_detail, name="pilotage_indicator"),
    path("pilotage/messages/", notices, name="pilotage_notices"),
    path("pilotage/messages/<int:pk>/lu/", notice_read, name="pilotage_notice_read"),
    path("pilotage/saisie/", entry, name="pilotage_entry"),
    path("pilotage/import/", import_file, name="pilotage_import"),
]

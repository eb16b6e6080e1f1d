"""The questionnaire builder, the links page and the settings page, through the pages."""

from django.urls import reverse

from voix.core.models import AuditEvent
from voix.surveys import services
from voix.surveys.models import (
    LinkChannel,
    QuestionKind,
    Survey,
    SurveyLink,
    SurveySettings,
    SurveyStatus,
)


def codes(survey):
    return list(survey.questions.order_by("position").values_list("code", flat=True))


# ----- list -------------------------------------------------------------------------------------


def test_the_list_shows_counts_to_readers_and_only_open_surveys_to_agents(world, client_for):
    draft = services.create_survey(None, world.caf, title="Brouillon interne")
    reader = client_for("qualite").get(reverse("surveys:index"))
    rows = reader.context["rows"]
    assert [(s.title, total) for s, total, _recent in rows] == [
        ("Brouillon interne", 0),
        ("Votre avis sur notre accueil", 3),
    ]
    agent = client_for("agent").get(reverse("surveys:index"))
    assert [s.pk for s, _t, _r in agent.context["rows"]] == [world.survey.pk]
    assert draft.title not in agent.content.decode()
    assert "Réponses (total)" not in agent.content.decode()


def test_a_narrowed_manager_counts_only_its_sites_answers(world, client_for):
    relay_link = services.ensure_link(None, world.survey, site=world.relay, channel="relais")
    services.submit_response(
        link=relay_link, answers={"satisfaction": "moyen", "satisfaction_globale": "3"}, nonce="x"
    )
    rows = client_for("manager").get(reverse("surveys:index")).context["rows"]
    assert [total for _s, total, _r in rows] == [3]
    rows = client_for("qualite").get(reverse("surveys:index")).context["rows"]
    assert [total for _s, total, _r in rows] == [4]


# ----- create and edit ----------------------------------------------------------------------------


def test_creating_a_survey_starts_with_the_standard_questions_in_draft(world, client_for):
    response = client_for("qualite").post(
        reverse("surveys:create"),
        {"title": "Avis après rendez-vous", "standard": "on", "organisation": world.caf.pk},
    )
    survey = Survey.objects.get(title="Avis après rendez-vous")
    assert response.status_code == 302 and response["Location"] == reverse(
        "surveys:edit", args=[survey.pk]
    )
    assert survey.status == SurveyStatus.DRAFT and survey.organisation == world.caf
    assert codes(survey) == [
        "satisfaction",
        "comprehension",
        "contact_tried",
        "contact_reached",
        "contact_satisfaction",
        "satisfaction_globale",
        "verbatim",
    ]


def test_a_survey_without_standard_questions_starts_empty(world, client_for):
    client_for("admin").post(
        reverse("surveys:create"), {"title": "Questions libres", "organisation": world.caf.pk}
    )
    assert codes(Survey.objects.get(title="Questions libres")) == []


def test_an_empty_title_is_refused_on_the_form(world, client_for):
    response = client_for("qualite").post(
        reverse("surveys:create"), {"title": "  ", "organisation": world.caf.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["title"]


def test_an_editor_cannot_create_a_survey_for_another_organisation(world, client_for):
    response = client_for("qualite").post(
        reverse("surveys:create"), {"title": "Intrus", "organisation": world.other.pk}
    )
    assert response.status_code == 200
    assert not Survey.objects.filter(title="Intrus").exists()


def test_editing_the_title_and_texts(world, client_for):
    url = reverse("surveys:edit", args=[world.survey.pk])
    response = client_for("qualite").post(
        url, {"title": "Votre avis", "introduction": "Deux minutes.", "thanks": "Merci !"}
    )
    assert response.status_code == 302
    world.survey.refresh_from_db()
    assert (world.survey.title, world.survey.introduction, world.survey.thanks) == (
        "Votre avis",
        "Deux minutes.",
        "Merci !",
    )
    assert AuditEvent.objects.filter(action="enquête.modifiée").exists()


# ----- questions ----------------------------------------------------------------------------------


def test_adding_a_choice_question_with_one_option_per_line(world, client_for):
    url = reverse("surveys:question_add", args=[world.survey.pk])
    response = client_for("qualite").post(
        url,
        {
            "kind": QuestionKind.CHOICE,
            "label": "Comment êtes-vous venu ?",
            "choices": "À pied\nEn bus\nEn voiture",
            "required": "on",
        },
    )
    assert response.status_code == 302
    question = world.survey.questions.get(kind=QuestionKind.CHOICE)
    assert question.choices == ["À pied", "En bus", "En voiture"]
    assert question.required and codes(world.survey)[-1] == question.code


def test_a_choice_question_needs_two_options(world, client_for):
    url = reverse("surveys:question_add", args=[world.survey.pk])
    response = client_for("qualite").post(
        url, {"kind": QuestionKind.CHOICE, "label": "Comment ?", "choices": "Seule"}
    )
    assert response.status_code == 200
    assert "deux options" in str(response.context["form"].errors["choices"])


def test_a_standard_question_keeps_its_official_wording(world, client_for):
    question = world.survey.questions.get(kind=QuestionKind.JDMA_SATISFACTION)
    url = reverse("surveys:question_edit", args=[world.survey.pk, question.pk])
    client_for("qualite").post(
        url, {"kind": QuestionKind.JDMA_SATISFACTION, "label": "Autre chose ?", "required": "on"}
    )
    question.refresh_from_db()
    assert question.label == "De façon générale, comment ça s'est passé ?"


def test_deleting_a_question_asks_for_confirmation_first(world, client_for):
    question = world.survey.questions.get(code="comprehension")
    url = reverse("surveys:question_delete", args=[world.survey.pk, question.pk])
    page = client_for("qualite").get(url)
    assert page.status_code == 200
    assert "Supprimer la question" in page.content.decode()
    assert world.survey.questions.filter(pk=question.pk).exists()
    client_for("qualite").post(url)
    assert not world.survey.questions.filter(pk=question.pk).exists()


def test_moving_a_question_up_and_down(world, client_for):
    question = world.survey.questions.get(code="comprehension")
    url = reverse("surveys:question_move", args=[world.survey.pk, question.pk])
    client_for("qualite").post(url, {"direction": "up"})
    assert codes(world.survey)[:2] == ["comprehension", "satisfaction"]
    client_for("qualite").post(url, {"direction": "down"})
    client_for("qualite").post(url, {"direction": "down"})
    assert codes(world.survey)[:3] == ["satisfaction", "contact_tried", "comprehension"]


def test_a_question_of_another_survey_is_404(world, client_for):
    other = services.create_survey(None, world.caf, title="Autre")
    question = other.questions.first()
    url = reverse("surveys:question_edit", args=[world.survey.pk, question.pk])
    assert client_for("qualite").get(url).status_code == 404


# ----- status -------------------------------------------------------------------------------------


def test_closing_and_reopening_a_survey(world, client_for):
    url = reverse("surveys:status", args=[world.survey.pk])
    client_for("qualite").post(url, {"status": SurveyStatus.CLOSED})
    world.survey.refresh_from_db()
    assert world.survey.status == SurveyStatus.CLOSED
    client_for("qualite").post(url, {"status": SurveyStatus.OPEN})
    world.survey.refresh_from_db()
    assert world.survey.status == SurveyStatus.OPEN


def test_a_survey_with_answers_does_not_go_back_to_draft(world, client_for):
    url = reverse("surveys:status", args=[world.survey.pk])
    response = client_for("qualite").post(url, {"status": SurveyStatus.DRAFT}, follow=True)
    world.survey.refresh_from_db()
    assert world.survey.status == SurveyStatus.OPEN
    assert "ne revient pas en brouillon" in response.content.decode()


def test_a_manager_cannot_change_a_survey(world, client_for):
    url = reverse("surveys:status", args=[world.survey.pk])
    assert client_for("manager").post(url, {"status": SurveyStatus.CLOSED}).status_code == 403
    world.survey.refresh_from_db()
    assert world.survey.status == SurveyStatus.OPEN


# ----- links --------------------------------------------------------------------------------------


def test_creating_the_links_of_every_site(world, client_for):
    url = reverse("surveys:links", args=[world.survey.pk])
    client_for("qualite").post(url, {"action": "tous"})
    links = set(SurveyLink.objects.filter(survey=world.survey).values_list("site__slug", "channel"))
    assert {
        ("siege", LinkChannel.RECEPTION),
        ("siege", LinkChannel.KIOSK),
        ("fs", LinkChannel.RELAY),
        ("fs2", LinkChannel.RELAY),
        (None, LinkChannel.WEB),
    } == links
    client_for("qualite").post(url, {"action": "tous"})  # again: nothing new
    assert SurveyLink.objects.filter(survey=world.survey).count() == len(links)


def test_the_links_page_shows_url_qr_code_button_snippet_and_kiosk(world, client_for):
    services.ensure_link(None, world.survey, site=None, channel=LinkChannel.WEB)
    html = client_for("qualite").get(reverse("surveys:links", args=[world.survey.pk])).content
    html = html.decode()
    assert f"/avis/{world.survey_link.token}/" in html
    assert reverse("surveys:qr", args=[world.survey_link.token]) in html
    assert "Télécharger le QR code" in html
    assert "Code HTML du bouton" in html and "bouton.svg" in html
    assert "Ouvrir en mode tablette" in html


def test_one_link_for_a_site_and_a_channel(world, client_for):
    url = reverse("surveys:links", args=[world.survey.pk])
    response = client_for("qualite").post(
        url, {"site": world.relay.pk, "channel": LinkChannel.PHONE}
    )
    assert response.status_code == 302
    assert SurveyLink.objects.filter(
        survey=world.survey, site=world.relay, channel=LinkChannel.PHONE
    ).exists()


def test_agents_and_partners_read_the_links_but_cannot_create_them(world, client_for):
    url = reverse("surveys:links", args=[world.survey.pk])
    assert client_for("agent").post(url, {"action": "tous"}).status_code == 403
    assert client_for("partenaire").post(url, {"action": "tous"}).status_code == 403
    assert SurveyLink.objects.filter(survey=world.survey).count() == 2
    assert "Créer les liens" not in client_for("agent").get(url).content.decode()


def test_a_partner_sees_only_its_relays_links(world, client_for):
    relay_link = services.ensure_link(None, world.survey, site=world.relay, channel="relais")
    services.ensure_link(None, world.survey, site=world.other_relay, channel="relais")
    html = client_for("partenaire").get(reverse("surveys:links", args=[world.survey.pk]))
    html = html.content.decode()
    assert relay_link.token in html
    assert world.survey_link.token not in html
    assert "France Services voisin" not in html


def test_agents_do_not_see_the_links_of_a_closed_survey(world, client_for):
    services.set_survey_status(None, world.survey, SurveyStatus.CLOSED)
    url = reverse("surveys:links", args=[world.survey.pk])
    assert client_for("agent").get(url).status_code == 404
    assert client_for("qualite").get(url).status_code == 200


# ----- settings -----------------------------------------------------------------------------------


def test_saving_the_invitation_settings(world, client_for):
    response = client_for("qualite").post(
        reverse("surveys:settings"),
        {
            "invitation_survey": world.survey.pk,
            "after_appointment": "on",
            "period_days": 60,
            "delay_hours": 4,
        },
    )
    assert response.status_code == 302
    settings = SurveySettings.objects.get(organisation=world.caf)
    assert (settings.after_appointment, settings.after_contact, settings.after_complaint) == (
        True,
        False,
        False,
    )
    assert (settings.period_days, settings.delay_hours) == (60, 4)


def test_settings_refuse_a_period_out_of_bounds(world, client_for):
    response = client_for("qualite").post(
        reverse("surveys:settings"),
        {"invitation_survey": world.survey.pk, "period_days": 0, "delay_hours": 2},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["period_days"]


def test_settings_offer_only_the_organisations_surveys(world, client_for):
    other = services.create_survey(None, world.other, title="Questionnaire ailleurs")
    form = client_for("qualite").get(reverse("surveys:settings")).context["form"]
    assert other not in form.fields["invitation_survey"].queryset
    assert world.survey in form.fields["invitation_survey"].queryset

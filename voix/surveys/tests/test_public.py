"""Answering without an account: the form (accessible, no JavaScript), its checks (antibot,
one-use number, rate limits), the kiosk mode, the clear pages for links that cannot be
answered, the QR code and the website button."""

import re
from datetime import timedelta
from html import unescape
from xml.etree import ElementTree

from django.urls import reverse
from django.utils import timezone

from voix.core import antibot
from voix.surveys import services
from voix.surveys.models import LinkChannel, Response, SurveyStatus
from voix.surveys.views import public


def answer_url(token):
    return reverse("surveys:answer", args=[token])


def post_data(token, *, seconds_ago=30, nonce=None, **answers):
    data = {
        "satisfaction": "tres_bien",
        "comprehension": "4",
        "contact_tried": ["telephone"],
        "contact_reached": "oui",
        "contact_satisfaction": "4",
        "satisfaction_globale": "5",
        "verbatim": "Bien reçu.",
        antibot.STAMP_FIELD: antibot.stamp(timezone.now() - timedelta(seconds=seconds_ago)),
        antibot.HONEYPOT_FIELD: "",
        public.NONCE_FIELD: nonce or public.new_nonce(token),
    }
    data.update(answers)
    return {key: value for key, value in data.items() if value is not None}


def test_the_form_has_a_fieldset_and_legend_per_radio_group_and_needs_no_script(world, client):
    page = client.get(answer_url(world.survey_link.token))
    html = page.content.decode()
    assert page.status_code == 200
    form = html.split('<form method="post"')[1].split("</form>")[0]
    assert form.count("<fieldset") == 6  # 5 radio/checkbox groups + overall; text uses a label
    assert form.count("<legend") == 6
    assert "De façon générale, comment ça s&#x27;est passé ?" in html
    assert "<script" not in html.split('id="contenu"')[1].split("</main>")[0]
    assert 'name="nonce"' in html and 'name="horodatage"' in html
    assert "no-store" in page["Cache-Control"]
    assert "csrftoken" not in page.cookies and "sessionid" not in page.cookies


def test_nps_is_eleven_radios(world, client):
    services.save_question(
        None, world.survey, kind="nps", label="Recommanderiez-vous la Caf à un proche ?"
    )
    html = client.get(answer_url(world.survey_link.token)).content.decode()
    code = world.survey.questions.get(kind="nps").code
    assert len(re.findall(rf'type="radio" id="q-{code}-\d+" name="{code}"', html)) == 11


def test_an_answer_is_recorded_then_thanks(world, client):
    token = world.survey_link.token
    before = Response.objects.count()
    page = client.post(answer_url(token), post_data(token))
    assert page.status_code == 302
    assert page["Location"] == reverse("surveys:thanks", args=[token])
    assert Response.objects.count() == before + 1
    response = Response.objects.order_by("-pk").first()
    assert response.jdma_satisfaction == 10 and response.overall == 5
    assert response.link == world.survey_link and response.site == world.site
    thanks = client.get(page["Location"])
    assert "Merci pour votre avis" in thanks.content.decode()


def test_a_replayed_form_says_already_recorded_and_counts_once(world, client):
    token = world.survey_link.token
    data = post_data(token)
    assert client.post(answer_url(token), data).status_code == 302
    count = Response.objects.count()
    again = client.post(answer_url(token), data)
    assert again.status_code == 409
    assert "déjà enregistrée" in unescape(again.content.decode())
    assert Response.objects.count() == count


def test_a_forged_nonce_is_refused_and_the_answers_are_kept(world, client):
    token = world.survey_link.token
    data = post_data(token, nonce="faux:signature", verbatim="Mon commentaire gardé")
    page = client.post(answer_url(token), data)
    html = unescape(page.content.decode())
    assert page.status_code == 400
    assert "n'a pas pu être vérifié" in html
    assert "Mon commentaire gardé" in html
    # another link's nonce is not valid here either
    other = post_data(token, nonce=public.new_nonce(world.kiosk_link.token))
    assert client.post(answer_url(token), other).status_code == 400


def test_a_missing_required_answer_is_named_and_the_others_kept(world, client):
    token = world.survey_link.token
    page = client.post(answer_url(token), post_data(token, satisfaction=""))
    html = unescape(page.content.decode())
    assert page.status_code == 400
    assert "Une réponse est à corriger" in html
    assert "De façon générale, comment ça s'est passé ? : Choisissez une réponse" in html
    assert re.search(r'value="5"\s+checked', html)  # the overall answer stays ticked


def test_the_honeypot_refuses_robots(world, client):
    token = world.survey_link.token
    before = Response.objects.count()
    page = client.post(answer_url(token), post_data(token, site_internet="http://spam"))
    assert page.status_code == 400
    assert Response.objects.count() == before


def test_a_form_sent_too_fast_is_shown_again(world, client):
    token = world.survey_link.token
    page = client.post(answer_url(token), post_data(token, seconds_ago=0))
    assert page.status_code == 400
    assert "trop vite" in page.content.decode()


def test_rate_limit_per_connection(world, client, settings):
    settings.SURVEY_RATE_LIMIT = 2
    token = world.survey_link.token
    assert client.post(answer_url(token), post_data(token)).status_code == 302
    assert client.post(answer_url(token), post_data(token)).status_code == 302
    assert client.post(answer_url(token), post_data(token)).status_code == 429


def test_kiosk_has_a_per_link_limit_not_a_per_connection_one(world, client, settings):
    settings.SURVEY_RATE_LIMIT = 1
    settings.SURVEY_KIOSK_RATE_LIMIT = 3
    token = world.kiosk_link.token
    codes = [client.post(answer_url(token), post_data(token)).status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]


def test_kiosk_accepts_two_seconds_but_not_less(world, client):
    token = world.kiosk_link.token
    assert client.post(answer_url(token), post_data(token, seconds_ago=2)).status_code == 302
    assert client.post(answer_url(token), post_data(token, seconds_ago=0)).status_code == 400
    normal = world.survey_link.token
    assert client.post(answer_url(normal), post_data(normal, seconds_ago=2)).status_code == 400


def test_kiosk_thanks_returns_to_a_blank_form_and_keeps_nothing(world, client):
    token = world.kiosk_link.token
    form = client.get(answer_url(token))
    html = form.content.decode()
    assert 'autocomplete="off"' in html
    assert "no-store" in form["Cache-Control"]
    assert not form.cookies
    assert "fr-header" not in html  # no menu to wander off the kiosk
    thanks = client.get(reverse("surveys:thanks", args=[token]))
    html = thanks.content.decode()
    # back to the blank form after 10 s, by a countdown the person can stop
    assert "var left = 10," in html
    assert f'id="retour" class="fr-btn fr-btn--lg" href="{answer_url(token)}"' in html
    assert "Rester sur cette page" in html
    assert "no-store" in thanks["Cache-Control"]
    assert not thanks.cookies
    # an ordinary link's thanks page does not move by itself
    normal = client.get(reverse("surveys:thanks", args=[world.survey_link.token]))
    assert "Rester sur cette page" not in normal.content.decode()


def test_closed_survey_and_inactive_link_get_clear_pages(world, client):
    services.set_link_active(None, world.survey_link, False)
    page = client.get(answer_url(world.survey_link.token))
    assert page.status_code == 410
    assert "Ce lien n'est plus utilisé" in unescape(page.content.decode())
    services.set_survey_status(None, world.survey, SurveyStatus.CLOSED)
    page = client.get(answer_url(world.kiosk_link.token))
    assert page.status_code == 410
    assert "Ce questionnaire est terminé" in page.content.decode()
    token = world.kiosk_link.token
    assert client.post(answer_url(token), post_data(token)).status_code == 410


def test_draft_survey_is_not_found(world, client):
    draft = services.create_survey(None, world.caf, title="Brouillon")
    link = services.ensure_link(None, draft, site=world.site, channel=LinkChannel.WEB)
    page = client.get(answer_url(link.token))
    assert page.status_code == 404
    assert "pas encore ouvert" in page.content.decode()


def test_an_invitation_is_answered_once(world, client):
    token = world.invitation.token
    assert client.post(answer_url(token), post_data(token)).status_code == 302
    response = Response.objects.get(invitation=world.invitation)
    assert response.channel == LinkChannel.APPOINTMENT
    page = client.get(answer_url(token))
    assert "Vous avez déjà répondu" in page.content.decode()
    # a second form opened before the first was sent is refused too
    assert client.post(answer_url(token), post_data(token)).status_code == 200
    assert Response.objects.filter(invitation=world.invitation).count() == 1


def test_qr_code_is_a_valid_svg_of_the_public_address(world, client):
    page = client.get(reverse("surveys:qr", args=[world.survey_link.token]))
    assert page.status_code == 200
    assert page["Content-Type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(page.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert world.survey_link.token in page.content.decode()


def test_button_is_a_self_contained_accessible_svg(world, client):
    page = client.get(reverse("surveys:button", args=[world.survey_link.token]))
    assert page.status_code == 200
    body = page.content.decode()
    root = ElementTree.fromstring(page.content)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root.find(f"{ns}title").text == "Je donne mon avis"
    assert "http://" not in body.replace("http://www.w3.org/2000/svg", "")
    assert "@font-face" not in body and "<image" not in body
    snippet = public.embed_snippet(world.survey_link)
    assert 'alt="Je donne mon avis"' in snippet and "/bouton.svg" in snippet

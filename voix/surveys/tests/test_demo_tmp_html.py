import tests.pages  # noqa: F401
from django.urls import reverse
from voix.surveys.tests.pages_surveys_staff import wire_staff_urls

def test_dump(world, client_for):
    wire_staff_urls()
    c = client_for("qualite")
    for name, kw in [("surveys:results", {"pk": world.survey.pk}), ("surveys:links", {"pk": world.survey.pk}), ("surveys:edit", {"pk": world.survey.pk}), ("surveys:verbatims", {"pk": world.survey.pk}), ("surveys:index", {}), ("surveys:settings", {})]:
        html = c.get(reverse(name, kwargs=kw)).content.decode()
        start = html.index('id="contenu"')
        open(f"/tmp/h2_{name.split(':')[1]}.html", "w").write(html[start:start+20000])

import io, time
from voix.surveys.tests.test_demo import OTHER_DEMOS
import importlib.util
from contextlib import ExitStack
from unittest import mock
from django.core.management import call_command

def test_timing(db):
    with ExitStack() as stack:
        for name in OTHER_DEMOS + ["voix.surveys.demo"]:
            if importlib.util.find_spec(name) is not None:
                stack.enter_context(mock.patch(f"{name}.seed", lambda stdout: None))
        call_command("seed_demo", stdout=io.StringIO())
    from voix.surveys import demo
    out = io.StringIO()
    t = time.perf_counter()
    demo.seed(out)
    print("\nTIME", time.perf_counter() - t, out.getvalue())
    from voix.surveys import results
    from voix.surveys.models import Survey
    from django.utils import timezone
    s = Survey.objects.get()
    sel = results.Selection("12mois", *results.period_bounds("12mois", None, timezone.localdate())[1:])
    qs = results.responses(s, sel)
    t = time.perf_counter()
    keys = results.figure_keys(s)
    print(results.summary(qs, keys))
    for g in results.by_site(qs, keys, s.organisation): print(g.label, g.answers, [f.text for f in g.figures])
    for g in results.by_channel(qs, keys): print(g.label, g.answers, [f.text for f in g.figures])
    for g in results.by_month(qs, keys, sel, s.organisation): print(g.label, g.answers, [f.text for f in g.figures])
    for q in results.distributions(s, qs): print(q.question.code, q.answered, [(r.label, r.count, r.percent) for r in q.rows], [f.text for f in q.figures])
    print("RTIME", time.perf_counter() - t)

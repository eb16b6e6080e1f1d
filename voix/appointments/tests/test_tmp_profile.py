import io, time, importlib, cProfile, pstats
from contextlib import ExitStack
from unittest import mock

def test_profile(db):
    names = ["voix.contacts.demo", "voix.reception.demo", "voix.appointments.demo"]
    with ExitStack() as stack:
        for name in names:
            m = importlib.import_module(name)
            stack.enter_context(mock.patch.object(m, "seed", lambda stdout: None))
        from django.core.management import call_command
        call_command("seed_demo", stdout=io.StringIO())
    from voix.appointments import demo
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    demo.seed(io.StringIO())
    prof.disable()
    print("APPT", time.perf_counter() - t)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(45)

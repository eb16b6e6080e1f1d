import cProfile, pstats, time
from unittest import mock
import conftest

def test_p(db):
    with mock.patch("voix.complaints.tests.world.extend_world", lambda w: w):
        w = conftest.build_world()
    conftest.build_world  # warm
    from voix.complaints.tests import world as cw
    pr = cProfile.Profile(); pr.enable()
    t = time.time(); cw.extend_world(w); print("\nextend", time.time() - t)
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(40)

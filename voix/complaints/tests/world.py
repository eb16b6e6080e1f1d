"""Data of this app added to the test world (conftest.build_world)."""


def extend_world(w):
    return w

"""Data of the contacts app added to the test world (conftest.build_world)."""


def extend_world(w):
    return w

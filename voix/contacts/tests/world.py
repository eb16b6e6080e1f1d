"""Data of the contacts app added to the test world (conftest.build_world)."""


def extend_world(w):
    from .world_log import extend_world_log

    w = extend_world_log(w)
    return w

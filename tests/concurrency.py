"""Running work in several threads at once, each with its own database connection — for the
tests that prove that concurrent workers never duplicate or lose anything (PostgreSQL)."""

import threading

from django.db import connections


def run_together(*calls):
    """Start every call (a zero-argument function) in its own thread, release them together,
    and return (results, errors): what the calls returned, and what they raised."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except Exception as error:  # noqa: BLE001 - returned to the test, which asserts on it
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors

"""Data of the reception app added to the test world (conftest.build_world): queues and
counters at the siège, the relay and the other organisation's site, and one ticket."""

from voix.reception import services


def extend_world(w):
    w.queue = services.save_queue(None, w.site, label="Prestations", letter="A", position=1)
    w.queue_rdv = services.save_queue(None, w.site, label="Rendez-vous", letter="R", position=2)
    w.counter = services.save_counter(None, w.site, label="Guichet 1")
    w.visio_counter = services.save_counter(None, w.site, label="Visio-guichet", kind="visio")
    w.reception = services.ensure_reception(w.site)
    w.relay_queue = services.save_queue(None, w.relay, label="Démarches en ligne", letter="D")
    w.relay_counter = services.save_counter(None, w.relay, label="Bureau 1")
    w.relay_reception = services.ensure_reception(w.relay)
    w.other_queue = services.save_queue(None, w.other_site, label="Accueil", letter="A")
    w.other_counter = services.save_counter(None, w.other_site, label="Guichet Metz")
    w.other_reception = services.ensure_reception(w.other_site)
    w.ticket = services.take_ticket(w.site, w.queue)
    return w

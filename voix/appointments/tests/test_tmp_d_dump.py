from voix.appointments import ics
def test_dump(world):
    a = world.appointment
    a.full_name = "Éloïse, Bérénice; \"Test\" " * 4
    a.reason.label = "Droits; aides, logement \\ « APL »\nligne"
    open("/tmp/d_test.ics", "w", newline="").write(ics.appointment_ics(a))
    open("/tmp/d_cancel.ics", "w", newline="").write(ics.appointment_ics(a, method="CANCEL"))

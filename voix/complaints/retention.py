"""Retention of the complaints' personal data (found by ``voix.core.retention``).

Data type « reclamations »: by default **5 years after the case was closed** (ASSUMPTION:
no period is given in the sources; the usual practice for complaint files is the current
year plus five; each organisation changes it on the page « Conservation des données »).
A case never closed is never purged (close it first).

The purge blanks the requester's name, e-mail, phone, postal address and file number,
replaces the subject, message and answer by « [effacé] », empties the internal notes and
the mediation's reasons and decision text, deletes the attachments (rows now, files once
the transaction commits: a dry run deletes nothing), and sets ``purged_at``. The case
itself stays (dates, status, theme, causes, deadlines), so the indicators do not change.
Idempotent: a purged case is not counted again.
"""

from django.db import transaction
from django.db.models import Case, Value, When

from voix.core.retention import register_data_type

from .models import Attachment, Complaint, Mediation, Note

KEY = "reclamations"
DEFAULT_DAYS = 5 * 365
ERASED = "[effacé]"


def _erased_unless_empty(field):
    return Case(When(**{field: ""}, then=Value("")), default=Value(ERASED))


def purge_complaints(organisation, cutoff, now) -> int:
    """Erase the personal data of the cases of *organisation* closed before *cutoff*;
    returns how many cases were purged."""
    ids = list(
        Complaint.objects.filter(
            organisation=organisation, closed_at__lt=cutoff, purged_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    attachments = Attachment.objects.filter(complaint_id__in=ids)
    files = [name for name in attachments.values_list("file", flat=True) if name]
    storage = Attachment._meta.get_field("file").storage
    attachments.delete()
    Note.objects.filter(complaint_id__in=ids).update(text=ERASED)
    Mediation.objects.filter(complaint_id__in=ids).update(
        reason=ERASED, decision_text=_erased_unless_empty("decision_text")
    )
    Complaint.objects.filter(pk__in=ids).update(
        full_name="",
        email="",
        phone="",
        postal_address="",
        file_number="",
        subject=ERASED,
        body=ERASED,
        answer=_erased_unless_empty("answer"),
        purged_at=now,
    )

    def delete_files():
        for name in files:
            storage.delete(name)

    if files:
        transaction.on_commit(delete_files)
    return len(ids)


register_data_type(
    KEY,
    "Réclamations, suggestions et médiations",
    DEFAULT_DAYS,
    purge_complaints,
    description=(
        "Nom, coordonnées, numéro d'allocataire, message, réponse, notes et pièces jointes, "
        "comptés à partir de la clôture du dossier."
    ),
)

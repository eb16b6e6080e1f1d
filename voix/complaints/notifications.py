"""Messages to the requester: acknowledgement, answer, mediation acknowledgement and
decision — by e-mail (Django's e-mail backend) or SMS (``voix.core.sms``), sent by a task
on commit, each recorded in the delivery log (:class:`~voix.complaints.models.Message`).

Who gets what:

- acknowledgement (and the mediation's): the e-mail address, else a mobile number (SMS);
- answer: by e-mail when the answer goes by e-mail (the full text); when it goes by post,
  an SMS to a mobile number says the letter is on its way (the tracking page shows it);
- mediation decision: the e-mail address (with the decision), else an SMS.

Every message gives the reference and the private tracking link. Sent once even when the
task runs twice: the worker first inserts the message's row, unique on (complaint, kind,
via); a worker whose insert fails skips.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from voix.core import sms

from .models import AnswerVia, Complaint, Mediation, Message

logger = logging.getLogger(__name__)

Kind = Message.Kind
Via = Message.Via

SUBJECTS = {
    Kind.ACK: "Votre demande {reference} est bien reçue",
    Kind.ANSWER: "Réponse à votre demande {reference}",
    Kind.MEDIATION_ACK: "Votre demande de médiation ({reference}) est bien reçue",
    Kind.MEDIATION_DECISION: "Décision du médiateur sur votre demande {reference}",
}


def recipients(c: Complaint, kind: str) -> list[tuple[str, str]]:
    """The (via, address) pairs the message of *kind* goes to."""
    from .services import mobile_number

    mobile = mobile_number(c.phone)
    if kind == Kind.ANSWER:
        if c.answer_via == AnswerVia.EMAIL and c.email:
            return [(Via.EMAIL, c.email)]
        return [(Via.SMS, mobile)] if mobile else []
    if c.email:
        return [(Via.EMAIL, c.email)]
    return [(Via.SMS, mobile)] if mobile else []


def context(c: Complaint) -> dict:
    from .services import MEDIATION_WINDOW_MONTHS, tracking_url

    mediation = Mediation.objects.filter(complaint=c).first()
    return {
        "c": c,
        "organisation": c.organisation,
        "reference": c.reference,
        "tracking_url": tracking_url(c),
        "mediation": mediation,
        "mediation_months": MEDIATION_WINDOW_MONTHS,
        "received_on": timezone.localtime(c.received_at).strftime("%d/%m/%Y"),
    }


def render(c: Complaint, kind: str, via: str) -> tuple[str, str]:
    """(subject, text) of one message."""
    suffix = "_sms" if via == Via.SMS else ""
    text = render_to_string(f"complaints/emails/{kind}{suffix}.txt", context(c)).strip()
    return SUBJECTS[kind].format(reference=c.reference), text


def _claim(c, kind, via) -> Message | None:
    try:
        with transaction.atomic():
            return Message.objects.create(complaint=c, kind=kind, via=via)
    except IntegrityError:
        return None


def send_message(complaint_id: int, kind: str) -> int:
    """Send the message of *kind* on its channel(s); returns the messages sent (0 when
    already sent, or when the case's personal data were purged)."""
    c = (
        Complaint.objects.select_related("organisation", "site")
        .filter(pk=complaint_id, purged_at__isnull=True)
        .first()
    )
    if c is None or kind not in Kind.values:
        return 0
    sent = 0
    for via, to in recipients(c, kind):
        row = _claim(c, kind, via)
        if row is None:
            continue
        subject, text = render(c, kind, via)
        try:
            if via == Via.EMAIL:
                EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [to]).send()
            else:
                sms.send_sms(to, text)
        except Exception as exc:  # noqa: BLE001 - recorded in the delivery log
            logger.warning("Message %s de %s non envoyé : %s", kind, c.reference, exc)
            row.state = Message.State.FAILED
            row.error = str(exc)[:300]
            row.save(update_fields=["state", "error"])
            continue
        row.state = Message.State.SENT
        row.sent_at = timezone.now()
        row.save(update_fields=["state", "sent_at"])
        sent += 1
    return sent


def queue(complaint_id: int, kind: str) -> None:
    """Enqueue the message (the services call this on commit)."""
    from .tasks import send_complaint_message

    try:
        send_complaint_message.enqueue(complaint_id, str(kind))
    except Exception:  # the case is committed: a queue failure must not undo the page
        logger.exception("Message %s de la réclamation %s non mis en file", kind, complaint_id)

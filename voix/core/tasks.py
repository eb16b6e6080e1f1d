"""Background jobs of the core app (Django Tasks API; run by `manage.py db_worker`)."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from .models import User


@task()
def send_invitation_email(user_id: int) -> str:
    """E-mail a new person a link to choose their password (valid PASSWORD_RESET_TIMEOUT)."""
    user = User.objects.get(pk=user_id)
    link = settings.BASE_URL + reverse(
        "core:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    body = render_to_string("core/email/invitation.txt", {"user": user, "link": link})
    send_mail("Votre accès à Voix", body, None, [user.email])
    return user.email

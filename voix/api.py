"""The read-only API (django-ninja), mounted at /api/v1/.

Authentication: `Authorization: Bearer <jeton>` (a token made with `create_api_token`).
Documentation: /api/v1/docs (a page of Voix itself, no external script) and the OpenAPI
description at /api/v1/openapi.json.
"""

import hashlib

from django.shortcuts import render
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as SchemaError
from ninja.openapi.docs import DocsBase
from ninja.security import HttpBearer

from voix.appointments.api import router as appointments_router
from voix.commitments.api import router as commitments_router
from voix.commitments.models import ApiToken
from voix.contacts.api import router as contacts_router
from voix.core.api_errors import REFUSED, refused, schema_error_lines
from voix.reception.api import router as reception_router


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class BearerToken(HttpBearer):
    """Finds the person behind a token; queries then use that person's scope."""

    def authenticate(self, request, token):
        row = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if row is None:
            return None
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        return row.user


class VoixDocs(DocsBase):
    """The API documentation as a page of Voix (DSFR, accessible, no CDN)."""

    def render_page(self, request, api, **kwargs):
        schema = api.get_openapi_schema(path_prefix=request.path.rsplit("docs", 1)[0].rstrip("/"))
        operations = []
        for route, methods in schema["paths"].items():
            for method, operation in methods.items():
                operations.append(
                    {
                        "method": method.upper(),
                        "path": route,
                        "summary": operation.get("summary", ""),
                        "description": operation.get("description", ""),
                        "parameters": operation.get("parameters", []),
                    }
                )
        context = {
            "operations": operations,
            "openapi_url": self.get_openapi_url(api, kwargs),
            "nav": "public",
        }
        return render(request, "commitments/public/api_docs.html", context)


api = NinjaAPI(
    title="API de Voix",
    version="1",
    description=(
        "Lecture : indicateurs, mesures et résultats publiés. Écriture idempotente : "
        "contacts, appels, tickets d'accueil. Rendez-vous : motifs, créneaux libres et "
        "réservation, pour les outils des relais partenaires et des organismes."
    ),
    urls_namespace="api",
    auth=BearerToken(),
    docs=VoixDocs(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request,
        {
            "detail": (
                "Authentification requise : envoyez un jeton valide dans l'en-tête "
                "« Authorization: Bearer <jeton> »."
            )
        },
        status=401,
    )


@api.exception_handler(SchemaError)
def malformed(request, exc):
    """Input that doesn't fit the schema (a text where a number is expected…), in French."""
    body = refused(schema_error_lines(exc.errors), "Requête mal formée")
    return api.create_response(request, body, status=REFUSED)


api.add_router("/", commitments_router)
api.add_router("/", contacts_router)
api.add_router("/", reception_router)
api.add_router("/", appointments_router)

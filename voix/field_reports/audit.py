"""Labels of this app's audit actions (voix.core.models.AUDIT_ACTIONS is extended with them)."""

ACTIONS = {
    "remontée.déposée": "Remontée de terrain déposée",
    "remontée.acceptée": "Remontée de terrain acceptée",
    "remontée.fusionnée": "Remontée de terrain fusionnée avec une autre",
    "remontée.déclinée": "Remontée de terrain déclinée",
    "remontée.thème_enregistré": "Thème de remontée enregistré",
}

"""Labels of this app's audit actions (voix.core.models.AUDIT_ACTIONS is extended with them)."""

ACTIONS = {}

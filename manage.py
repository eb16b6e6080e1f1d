#!/usr/bin/env python
"""Django's command-line utility for Voix."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voix.settings")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        # A database that cannot be reached is an environment problem: say so plainly.
        sys.stderr.write(
            f"Base de données injoignable — vérifiez DATABASE_URL et que le serveur tourne.\n"
            f"Détail : {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}\n"
        )
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()

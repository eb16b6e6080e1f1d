from django.db import migrations

from voix.core.audit_guard import install_guards, remove_guards


def install(apps, schema_editor):
    install_guards(schema_editor.connection)


def uninstall(apps, schema_editor):
    remove_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]

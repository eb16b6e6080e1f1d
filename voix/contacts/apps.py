from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "voix.contacts"
    label = "contacts"
    verbose_name = "Contacts et délais"

    def ready(self):
        from . import indicators

        indicators.register()

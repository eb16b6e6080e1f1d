"""Django's technical admin (superusers only). Day-to-day administration uses /administration/."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AuditEvent, Closure, Membership, OpeningHours, Organisation, Site, User


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "departement"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "kind", "commune"]
    list_filter = ["kind", "organisation"]
    search_fields = ["name", "commune"]
    inlines = [OpeningHoursInline]


admin.site.register(Closure)
admin.site.register(Membership)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_superuser"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "full_name", "password"]}),
        ("Droits", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "full_name", "password1", "password2"]})]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_repr"]
    search_fields = ["actor_label", "object_repr", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

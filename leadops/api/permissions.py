from rest_framework.permissions import BasePermission


class IsIntegrationOrStaff(BasePermission):
    """An integration key, or a staff user's session (browsable API)."""

    message = "Use an integration key (Authorization: Token <key>) or log in as staff."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (getattr(user, "integration", None) or user.is_staff))

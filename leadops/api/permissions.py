from rest_framework.permissions import BasePermission

# What a logged-in user (the browsable API's session) needs, per method; a view may change it
# (posting an event changes a lead). Staff status alone opens nothing.
READ = "leadops.view_lead"
SESSION_PERMISSIONS = {"GET": READ, "HEAD": READ, "OPTIONS": READ, "POST": "leadops.add_lead"}


class IsIntegrationOrPermittedUser(BasePermission):
    """An integration key; or a logged-in user holding the lead model permission for the method:
    view to read, add to post leads, change to post events (the view's `session_permissions`)."""

    message = "Use an integration key (Authorization: Token <key>) or log in as a user allowed to do this with leads."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if getattr(user, "integration", None) is not None:
            return True
        needed = getattr(view, "session_permissions", SESSION_PERMISSIONS).get(request.method)
        return needed is not None and user.has_perm(needed)

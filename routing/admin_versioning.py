"""The admin hook that records a routing version per page save (rules, territories, skills, teams, reps).

Kept out of leadops/admin_common.py, which imports nothing of ours; admins of any app may use it.
"""

from routing.services.rule_set import routing_change


class RoutingVersionMixin:
    """A page save (object and inlines), a list-page save, an action or a delete of a routing
    object is one change to the set-up: recorded as one routing version (or none, when it changed
    nothing) by routing.services.rule_set.routing_change, which also moves the rule-set version.

    For the admins of the routing set-up (rules, territories, skills, teams, reps, the rule set).
    """

    def _recorded(self, request, view, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        with routing_change(who=request.user.get_username(), user=request.user):
            return view(request, *args, **kwargs)

    def changeform_view(self, request, *args, **kwargs):
        return self._recorded(request, super().changeform_view, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        return self._recorded(request, super().changelist_view, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._recorded(request, super().delete_view, *args, **kwargs)

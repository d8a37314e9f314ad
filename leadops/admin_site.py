"""The LeadOps admin site: "LeadOps" as header and title, the index grouped by what ops do.

Groups: routing set-up, leads, people, monitoring. A model no group names (a new app's) is
listed under "More", so nothing disappears. Engine state (rotation cursors, daily counts) is
only for superusers (routing/admin.py EngineStateAdmin).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

GROUPS = [
    ("Routing set-up", ["routing.Rule", "routing.Territory", "reps.Team", "reps.SkillTag", "routing.RuleSet"]),
    ("Leads", ["leadops.Lead", "leadops.ImportRun", "leadops.Account", "leadops.LeadEvent"]),
    ("People", ["reps.Rep", "auth.User", "auth.Group", "leadops.Integration"]),
    ("Monitoring", ["routing.Assignment", "routing.RotationCursor", "routing.RepDailyCount"]),
]


class LeadOpsAdminSite(admin.AdminSite):
    site_header = site_title = "LeadOps"
    index_title = "Routing operations"
    # The lists need the width at 1,400 px: the app list is one click away (breadcrumbs, header).
    enable_nav_sidebar = False

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label:
            return apps
        models = {f"{app['app_label']}.{m['object_name']}": m for app in apps for m in app["models"]}
        grouped, used = [], set()
        for name, keys in [*GROUPS, ("More", sorted(set(models) - {k for _, ks in GROUPS for k in ks}))]:
            rows = [models[key] for key in keys if key in models and key not in used]
            used.update(keys)
            if rows:
                label = name.lower().replace(" ", "-")
                url = rows[0].get("admin_url") or ""
                grouped.append(
                    {"name": name, "app_label": label, "app_url": url, "has_module_perms": True, "models": rows}
                )
        return grouped


class LeadOpsAdminConfig(AdminConfig):
    default_site = "leadops.admin_site.LeadOpsAdminSite"

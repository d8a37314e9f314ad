"""Writes for reps that are not routing set-up: giving a rep a login for their own page (/queue/)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from leadops.errors import DomainError
from reps.models import Rep


@dataclass(frozen=True)
class RepLogin:
    rep: Rep
    username: str
    password: str  # shown once; only its hash is stored


def _free_username(base: str) -> str:
    User = get_user_model()
    base = re.sub(r"[^\w.@+-]", "", base)[:140] or "rep"
    taken = set(User.objects.filter(username__startswith=base).values_list("username", flat=True))
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    return name


def rep_login_create(*, rep_id: int, username: str | None = None, password: str | None = None) -> RepLogin:
    """Make a (non-staff) user for the rep, linked to them, so they can log in to /queue/.

    The username defaults to the part of the rep's e-mail before the @ (made unique); the
    password, unless given, is a fresh random one returned here and nowhere stored in clear.
    A rep who already has a login keeps it.
    """
    with transaction.atomic():
        rep = Rep.objects.select_for_update().filter(id=rep_id).first()
        if rep is None:
            raise DomainError({"rep": ["No such rep."]})
        if rep.user_id is not None:
            raise DomainError({"rep": [f"{rep.name} has a login already ({rep.user.get_username()})."]})
        User = get_user_model()
        name = username or _free_username(rep.email.partition("@")[0])
        password = password or secrets.token_urlsafe(12)
        first, _, last = rep.name.partition(" ")
        user = User(username=name, email=rep.email, first_name=first[:150], last_name=last[:150], is_staff=False)
        user.set_password(password)
        user.save()
        rep.user = user
        rep.save(update_fields=["user", "updated_at"])
    return RepLogin(rep=rep, username=name, password=password)

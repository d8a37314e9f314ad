"""Log-in throttling (issue 13, defect 9): after a few wrong passwords the admin and the reports log-in
refuse that username, even with the right password, and say so; after the window it works again."""

import uuid

import pytest
from django.core.cache import cache

from leadops.login_throttle import _keys

pytestmark = pytest.mark.django_db
PASSWORD = "right-Horse-battery-9"
LOGINS = {"admin": "/admin/login/", "reports": "/reports/login/", "queue": "/queue/login/"}


@pytest.fixture
def user(django_user_model, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast: this is not about hashing
    name = f"ops-{uuid.uuid4().hex[:8]}"  # counters live in the shared cache (Redis on CI): a name of its own
    user = django_user_model.objects.create_superuser(name, password=PASSWORD)
    yield user
    cache.delete_many(list(_keys(name, "127.0.0.1")))


def log_in(client, where, username, password):
    return client.post(LOGINS[where], {"username": username, "password": password, "next": "/"})


@pytest.mark.parametrize("where", LOGINS)
def test_after_five_wrong_passwords_even_the_right_one_is_refused_with_a_clear_message(client, user, where):
    for _ in range(5):
        response = log_in(client, where, user.username, "wrong")
        assert response.status_code == 200 and "Too many failed log-ins" not in response.content.decode()
    response = log_in(client, where, user.username, PASSWORD)
    assert response.status_code == 200
    assert "Too many failed log-ins. Log-in is paused for up to 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("where", LOGINS)
def test_the_right_password_works_again_once_the_window_has_passed(client, user, where):
    for _ in range(5):
        log_in(client, where, user.username, "wrong")
    cache.delete(_keys(user.username, "127.0.0.1")[0])  # what the cache does when the window ends
    assert log_in(client, where, user.username, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_successful_log_in_clears_the_count(client, user):
    for _ in range(4):
        log_in(client, "admin", user.username, "wrong")
    assert log_in(client, "admin", user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        log_in(client, "admin", user.username, "wrong")
    assert log_in(client, "admin", user.username, PASSWORD).status_code == 302


def test_usernames_are_counted_whatever_their_case(client, user):
    for name in [user.username.upper(), user.username, user.username.title(), user.username, user.username.upper()]:
        log_in(client, "reports", name, "wrong")
    assert "Too many failed log-ins" in log_in(client, "reports", user.username, PASSWORD).content.decode()


def test_when_the_cache_is_down_log_ins_go_on(client, user, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "add", down)
    for _ in range(6):
        log_in(client, "admin", user.username, "wrong")
    assert log_in(client, "admin", user.username, PASSWORD).status_code == 302

"""Issue 17, "Found when tried as each role": the admin's and every account's rough edges.

Deactivation asks first, the invitation e-mail says what it is, /manage/ refuses a nurse instead
of looping, every role can change its password (audited), the phone header is one line.
"""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from facility.models import AccessEvent, User
from tests.conftest import PASSWORD, ROLES

NEW = {
    "username": "jrivera",
    "full_name": "Jamie Rivera",
    "email": "jamie.rivera@example.test",
    "initials": "jr",
    "credentials": "BHT",
    "role": "technician",
}


def _messages(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


# ---------------------------------------------------------------- deactivation asks first


@pytest.mark.django_db
def test_deactivate_is_a_page_naming_the_person_and_what_happens(client, cast):
    member = cast["nurse"]
    client.force_login(cast["admin"])
    listing = client.get(reverse("staff_list")).content.decode()
    url = reverse("staff_deactivate", args=[member.public_id])
    # The list links to the confirmation; it holds no one-tap form any more.
    assert f'href="{url}"' in listing
    assert f'action="{url}"' not in listing
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert f"Deactivate {member.full_name}?" in text
    assert "ends at once" in text
    assert 'name="confirm" value="yes"' in text
    assert User.objects.get(pk=member.pk).is_active


@pytest.mark.django_db
def test_a_post_without_the_confirmation_does_nothing_and_says_so(client, cast):
    member = cast["nurse"]
    signed_in = Client()
    signed_in.force_login(member)
    client.force_login(cast["admin"])
    url = reverse("staff_deactivate", args=[member.public_id])
    response = client.post(url, {})
    assert response.status_code == 302 and response["Location"] == url
    assert any("was not deactivated" in m for m in _messages(response))
    assert User.objects.get(pk=member.pk).is_active
    assert not AccessEvent.objects.filter(action="deactivate").exists()
    assert signed_in.get(reverse("clients:census")).status_code == 200


@pytest.mark.django_db
def test_the_confirmed_post_deactivates_and_ends_the_sessions_at_once(client, cast):
    member = cast["nurse"]
    signed_in = Client()
    signed_in.force_login(member)
    client.force_login(cast["admin"])
    response = client.post(
        reverse("staff_deactivate", args=[member.public_id]), {"confirm": "yes"}, follow=True
    )
    assert f"{member.full_name} is deactivated" in response.content.decode()
    assert not User.objects.get(pk=member.pk).is_active
    assert AccessEvent.objects.filter(action="deactivate", what__contains=member.username).exists()
    assert signed_in.get(reverse("clients:census")).status_code == 302


@pytest.mark.django_db
def test_an_admin_cannot_reach_their_own_deactivation_page(client, cast):
    client.force_login(cast["admin"])
    response = client.get(reverse("staff_deactivate", args=[cast["admin"].public_id]), follow=True)
    assert "cannot deactivate your own account" in response.content.decode()
    assert User.objects.get(pk=cast["admin"].pk).is_active


# ---------------------------------------------------------------- the invitation e-mail


@pytest.mark.django_db
def test_the_invitation_has_its_own_subject_and_text(client, cast, facility):
    client.force_login(cast["admin"])
    client.post(reverse("staff_create"), {**NEW, "facilities": [facility.pk]})
    message = mail.outbox[-1]
    assert message.to == ["jamie.rivera@example.test"]
    assert message.subject == f"Your Haven account at {facility.name}: set your password"
    assert "Password Reset" not in message.subject
    assert "created a Haven account for you" in message.body
    assert "Your username: jrivera" in message.body
    assert "requested a password reset" not in message.body
    assert re.search(r"https?://\S+/accounts/password/reset/key/\S+", message.body)


@pytest.mark.django_db
def test_a_forgotten_password_still_gets_the_reset_e_mail(client, cast):
    client.post(reverse("account_reset_password"), {"email": cast["nurse"].email})
    assert mail.outbox, "no reset e-mail"
    assert "set your password" not in mail.outbox[-1].subject
    assert "password reset" in mail.outbox[-1].body.lower()


# ---------------------------------------------------------------- /manage/ without a loop


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["nurse", "technician", "clinician", "supervisor"])
def test_manage_refuses_a_signed_in_non_admin_without_a_redirect_loop(client, cast, role):
    client.force_login(cast[role])
    response = client.get("/manage/", follow=True)  # the test client raises on a loop
    assert response.status_code == 403
    assert len(response.redirect_chain) <= 1


@pytest.mark.django_db
def test_manage_still_sends_the_anonymous_to_sign_in_and_admins_in(client, cast):
    response = client.get("/manage/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    client.force_login(cast["admin"])
    assert client.get("/manage/").status_code == 200


# ---------------------------------------------------------------- change password


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_role_finds_change_password_in_the_account_menu(client, cast, role):
    client.force_login(cast[role])
    home = client.get(reverse("home"), follow=True).content.decode()
    menu = home[home.index('class="account-menu"') : home.index("</details>")]
    assert f'href="{reverse("account_change_password")}"' in menu
    page = client.get(reverse("account_change_password"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Change your password" in text and "At least 12 characters" in text
    assert 'class="topbar"' in text  # Haven's page, with its header, not allauth's bare form


@pytest.mark.django_db
@pytest.mark.parametrize(
    "new, message",
    [
        ("short-pw-1", "at least 12 characters"),
        ("123456789012345", "entirely numeric"),
        ("password1234", "too common"),
    ],
)
def test_the_password_rules_hold_at_change(client, cast, new, message):
    nurse = cast["nurse"]
    client.force_login(nurse)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_password_change_works_and_is_audited(client, cast):
    nurse = cast["nurse"]
    client.force_login(nurse)
    new = "harbor-lantern-quiet-1729"
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.check_password(new)
    event = AccessEvent.objects.filter(
        user=nurse, action="password_change", what__contains="changed their own password"
    )
    assert event.exists()
    # Still signed in here; the new password signs in elsewhere.
    assert client.get(reverse("clients:census")).status_code == 200
    other = Client()
    signed_in = other.post(reverse("account_login"), {"login": "nurse", "password": new})
    assert signed_in.status_code == 302


@pytest.mark.django_db
def test_a_wrong_current_password_is_refused_and_audited(client, cast):
    nurse = cast["nurse"]
    client.force_login(nurse)
    new = "harbor-lantern-quiet-1729"
    client.post(
        reverse("account_change_password"),
        {"oldpassword": "not-the-password", "password1": new, "password2": new},
    )
    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)
    assert AccessEvent.objects.filter(action="login_failed", username="nurse").exists()


# ---------------------------------------------------------------- the phone header


@pytest.mark.django_db
def test_the_header_has_a_menu_button_and_the_facility(client, cast, facility):
    client.force_login(cast["nurse"])
    text = client.get(reverse("clients:census")).content.decode()
    header = text[text.index('<header class="topbar">') : text.index("</header>")]
    assert 'aria-controls="topbar-menu"' in header and 'aria-expanded="false"' in header
    assert f'<span class="topbar-facility">{facility.name}</span>' in header
    assert 'id="topbar-menu"' in header


# ---------------------------------------------------------------- start-up banner, once


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int, status: int, headers: dict | None = None, body: bytes = b""):
    """A one-answer HTTP server on 127.0.0.1:port, in a thread; returns it (shutdown() it)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _haven(port: int):
    return _serve(port, 302, {"Location": "/accounts/login/?next=/ping/"})


def test_the_web_server_is_up_only_when_haven_answers(monkeypatch):
    from facility.launcher import _web_is_up

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    # A proxy in the environment answering for everything does not count.
    proxy = _serve(_free_port(), 200, body=b"ok proxy")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    try:
        assert not _web_is_up(url)
        other = _serve(port, 404)  # something else on the port
        assert not _web_is_up(url)
        other.shutdown()
        other.server_close()
        haven = _haven(port)
        assert _web_is_up(url)
        haven.shutdown()
        haven.server_close()
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_the_banner_prints_once_after_redis_and_the_web_server_answer():
    import io
    import threading
    import time

    from facility.launcher import _announce_when_up

    port = _free_port()
    out = io.StringIO()
    redis = {"up": False}
    stop = threading.Event()
    thread = threading.Thread(
        target=_announce_when_up,
        args=(f"http://127.0.0.1:{port}/", "  Haven is running", lambda: redis["up"], stop),
        kwargs={"out": out},
        daemon=True,
    )
    thread.start()
    time.sleep(0.7)
    assert out.getvalue() == ""  # nothing answers yet
    web = _haven(port)
    try:
        time.sleep(1.2)
        assert out.getvalue() == ""  # the web server answers, Redis does not
        redis["up"] = True
        thread.join(timeout=5)
        assert not thread.is_alive()
    finally:
        stop.set()
        web.shutdown()
        web.server_close()
    assert out.getvalue().count("Haven is running") == 1


def test_redis_from_the_environment_is_checked_too(tmp_path):
    from facility.launcher import redis_ready_check

    closed = _free_port()
    assert not redis_ready_check(f"redis://127.0.0.1:{closed}/0", None)()
    assert not redis_ready_check(f"unix://{tmp_path}/missing.sock", None)()
    assert not redis_ready_check("redis://ignored", tmp_path / "embedded.sock")()

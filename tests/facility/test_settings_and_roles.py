"""Settings fail loudly on bad values; production settings pass `check --deploy`; roles sync."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from facility.roles import ROLE_PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": "k" * 20 + "production-secret-for-the-deploy-check-0123456789",
    "DEBUG": "0",
    "HAVEN_TESTING": "0",
    "ALLOWED_HOSTS": "haven.example.org",
    # The audit chain's anchor key (issue 16): production refuses to pass without one.
    "HAVEN_AUDIT_ANCHOR_KEY": "a" * 16 + "anchor-key-for-the-deploy-check-0123456789",
}


def run_manage(*args, **env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"DATABASE_URL": "mysql://root@localhost/haven"}, "PostgreSQL only"),
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "at least 50 characters"),
        ({"HAVEN_IDLE_TIMEOUT_MINUTES": "90"}, "between 5 and 30"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL must be"),
    ],
)
def test_bad_settings_stop_start_up_with_a_message(overrides, message):
    result = run_manage("check", **{**PRODUCTION, **overrides})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_without_an_anchor_key_fail_the_deploy_check():
    result = run_manage("check", "--deploy", **{**PRODUCTION, "HAVEN_AUDIT_ANCHOR_KEY": ""})
    assert result.returncode != 0
    assert "haven.E016" in result.stdout + result.stderr


@pytest.mark.django_db
def test_sync_roles_makes_groups_match_the_matrix_and_is_idempotent(capsys):
    Group.objects.all().delete()  # the suite's databases start with the groups (tests/conftest.py)
    call_command("sync_roles")
    first = capsys.readouterr().out
    assert "created group technician" in first
    call_command("sync_roles")
    assert "(0 changes)" in capsys.readouterr().out
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert have == perms
    # A permission granted by hand is taken away again: the file is the truth.
    from django.contrib.auth.models import Permission

    extra = Permission.objects.get(codename="manage_staff")
    Group.objects.get(name="technician").permissions.add(extra)
    call_command("sync_roles")
    assert not Group.objects.get(name="technician").permissions.filter(pk=extra.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, perm, allowed",
    [
        ("technician", "facility.record_administration", True),
        ("technician", "facility.verify_order", False),
        ("nurse", "facility.verify_order", True),
        ("clinician", "facility.order_observation_level", True),
        ("clinician", "facility.record_administration", False),
        ("supervisor", "facility.resolve_alert", True),
        ("supervisor", "facility.manage_staff", False),
        ("admin", "facility.manage_staff", True),
        ("admin", "facility.view_census", False),
    ],
)
def test_role_matrix_rows(cast, role, perm, allowed):
    assert cast[role].has_perm(perm) is allowed

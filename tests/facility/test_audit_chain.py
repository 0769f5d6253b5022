"""The audit chain covers data changes and is anchored outside the database (issue 16 item 7).

Each form of tampering has its own test and verify names the first broken link. To tamper, the
test turns the append-only triggers off as the tables' owner (facility/migrations/0002, 0004),
the way an operator with database rights could.
"""

import json
from datetime import timedelta

import pytest
import time_machine
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from facility import audit_chain
from facility.models import AccessAction, AccessEvent, Alert
from facility.services import GENESIS_HASH, access_log

KEY = "test-anchor-key-" + "k" * 40


@pytest.fixture
def anchors(settings, tmp_path):
    settings.HAVEN_AUDIT_ANCHOR_PATH = str(tmp_path / "anchors" / "audit-anchors.jsonl")
    settings.HAVEN_AUDIT_ANCHOR_KEY = KEY
    settings.HAVEN_AUDIT_SEAL_GRACE_SECONDS = 0
    return tmp_path / "anchors" / "audit-anchors.jsonl"


def tamper(table: str, sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        # The test's transaction holds deferred foreign-key checks; ALTER TABLE wants none.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def views(cast, admission, n: int, start: int = 0) -> list[AccessEvent]:
    return [
        access_log(action="view", actor=cast["nurse"], client=admission.client, what=f"chart {i}")
        for i in range(start, start + n)
    ]


def rename(admission, actor, name: str) -> None:
    with set_actor(actor):
        admission.client.preferred_name = name
        admission.client.save()


def position_of(event_id: int) -> int:
    return AccessEvent.objects.filter(id__lte=event_id).count()


@pytest.mark.django_db
def test_data_changes_are_sealed_into_the_chain(anchors, cast, admission):
    rename(admission, cast["nurse"], "Sunny")
    seal = audit_chain.seal_data_changes()
    parsed = audit_chain.Seal.parse(seal.what)
    assert seal.action == AccessAction.DATA_SEAL
    assert parsed.low == 1 and parsed.high == LogEntry.objects.latest("id").pk
    assert parsed.count == LogEntry.objects.count()
    assert audit_chain.seal_data_changes() is None  # nothing new
    rename(admission, cast["nurse"], "Sol")
    again = audit_chain.Seal.parse(audit_chain.seal_data_changes().what)
    assert (again.low, again.count) == (parsed.high + 1, 1)
    assert audit_chain.chain_check().intact


@pytest.mark.django_db
def test_changes_younger_than_the_grace_are_sealed_next_time(anchors, settings, cast, admission):
    audit_chain.seal_data_changes()  # what the fixtures (and the database's set-up) wrote
    settings.HAVEN_AUDIT_SEAL_GRACE_SECONDS = 120
    rename(admission, cast["nurse"], "Sunny")
    assert audit_chain.seal_data_changes() is None
    later = timezone.now() + timedelta(minutes=3)
    seal = audit_chain.seal_data_changes(now=later)
    assert audit_chain.Seal.parse(seal.what).high == LogEntry.objects.latest("id").pk


@pytest.mark.django_db
def test_verify_seals_checks_and_anchors_an_intact_chain(anchors, cast, admission, capsys):
    views(cast, admission, 3)
    call_command("verify_audit_chain")
    assert "Audit chain intact" in capsys.readouterr().out
    lines = anchors.read_text().splitlines()
    anchor = json.loads(lines[-1])
    assert set(anchor) == {"at", "length", "head_id", "head_hash", "hmac"}
    assert anchor["length"] == AccessEvent.objects.count()
    head = AccessEvent.objects.latest("id")
    assert (anchor["head_id"], anchor["head_hash"]) == (head.pk, head.row_hash)
    assert head.action == AccessAction.CHAIN_VERIFY and head.outcome == "ok"
    assert AccessEvent.objects.filter(action=AccessAction.DATA_SEAL).exists()
    assert KEY not in anchors.read_text()
    call_command("verify_audit_chain")
    assert len(anchors.read_text().splitlines()) == 2
    assert not Alert.objects.filter(kind="audit_chain").exists()


@pytest.mark.django_db
def test_an_altered_row_is_named(anchors, cast, admission):
    events = views(cast, admission, 6)
    audit_chain.verify()
    tamper(
        "facility_accessevent",
        "UPDATE facility_accessevent SET what = 'nothing to see' WHERE id = %s",
        [events[2].pk],
    )
    report = audit_chain.verify()
    assert report.first.kind == "altered"
    assert report.first.event_id == events[2].pk
    assert f"access event {events[2].pk}" in report.first.message
    with pytest.raises(SystemExit):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_a_deleted_tail_is_named_against_the_anchor(anchors, cast, admission):
    views(cast, admission, 6)
    audit_chain.verify()
    length = AccessEvent.objects.count()
    last_three = list(AccessEvent.objects.order_by("-id").values_list("id", flat=True)[:3])
    tamper(
        "facility_accessevent",
        "DELETE FROM facility_accessevent WHERE id = ANY(%s)",
        [last_three],
    )
    report = audit_chain.chain_check()
    assert [p.kind for p in report.problems] == ["tail_deleted"]
    assert report.first.position == length - 2
    assert f"rows {length - 2}–{length} are missing" in report.first.message


@pytest.mark.django_db
def test_a_rewrite_with_recomputed_hashes_is_named_after_the_last_good_anchor(
    anchors, cast, admission
):
    views(cast, admission, 4)
    audit_chain.verify()  # anchor 1
    good_length = AccessEvent.objects.count()
    later = views(cast, admission, 5, start=4)
    audit_chain.verify()  # anchor 2
    # Rewrite one row after anchor 1 and recompute its hash and every later one: the chain
    # alone looks intact.
    target = later[2]
    prev = AccessEvent.objects.filter(id__lt=target.pk).order_by("-id").first().row_hash
    for event in AccessEvent.objects.filter(id__gte=target.pk).order_by("id"):
        if event.pk == target.pk:
            event.what = "a different story"
        event.prev_hash = prev
        event.row_hash = event.content_digest(prev)
        tamper(
            "facility_accessevent",
            "UPDATE facility_accessevent SET what = %s, prev_hash = %s, row_hash = %s "
            "WHERE id = %s",
            [event.what, event.prev_hash, event.row_hash, event.pk],
        )
        prev = event.row_hash
    from facility.services import access_chain_verify

    assert access_chain_verify() is None  # what the chain alone would say
    report = audit_chain.verify()
    assert report.first.kind == "rewritten"
    first_after_anchor = AccessEvent.objects.order_by("id")[good_length]
    assert report.first.event_id == first_after_anchor.pk
    assert report.first.position == good_length + 1
    assert first_after_anchor.pk <= target.pk


@pytest.mark.django_db
def test_an_altered_data_change_row_breaks_its_seal(anchors, cast, admission):
    rename(admission, cast["nurse"], "Sunny")
    audit_chain.verify()
    seal = AccessEvent.objects.filter(action=AccessAction.DATA_SEAL).latest("id")
    entry = LogEntry.objects.get_for_object(admission.client).latest("id")
    tamper(
        "auditlog_logentry",
        "UPDATE auditlog_logentry SET changes = %s WHERE id = %s",
        [json.dumps({"preferred_name": ["", "Nobody"]}), entry.pk],
    )
    report = audit_chain.verify()
    assert report.first.kind == "data_change"
    assert report.first.event_id == seal.pk
    assert "a row was altered" in report.first.message
    assert f"access event {seal.pk}" in report.first.message


@pytest.mark.django_db
def test_a_deleted_or_inserted_data_change_row_breaks_its_seal(anchors, cast, admission):
    rename(admission, cast["nurse"], "Sunny")
    audit_chain.verify()
    entry = LogEntry.objects.get_for_object(admission.client).latest("id")
    tamper("auditlog_logentry", "DELETE FROM auditlog_logentry WHERE id = %s", [entry.pk])
    report = audit_chain.chain_check()
    assert report.first.kind == "data_change"
    assert "rows were deleted or inserted" in report.first.message


@pytest.mark.django_db
def test_a_forged_anchor_line_is_reported(anchors, cast, admission):
    views(cast, admission, 2)
    audit_chain.verify()
    forged = json.loads(anchors.read_text().splitlines()[-1])
    forged["length"] = 1
    with anchors.open("a") as out:
        out.write(json.dumps(forged) + "\n")
    report = audit_chain.chain_check()
    assert report.first.kind == "anchor"
    assert "line 2" in report.first.message


@pytest.mark.django_db
def test_a_broken_link_alerts_every_facilitys_supervisors(anchors, cast, admission):
    events = views(cast, admission, 3)
    audit_chain.verify()
    tamper(
        "facility_accessevent",
        "UPDATE facility_accessevent SET ip = '10.9.9.9' WHERE id = %s",
        [events[0].pk],
    )
    audit_chain.verify()
    alerts = Alert.objects.filter(kind="audit_chain", severity="critical")
    assert {a.facility.name for a in alerts} == {"Alder House", "Birch House"}
    assert all(a.audience == "supervisor" for a in alerts)
    assert all(f"access event {events[0].pk}" in a.message for a in alerts)
    audit_chain.verify()  # a second night: the open alert is not raised twice
    assert alerts.count() == 2
    head = AccessEvent.objects.latest("id")
    assert head.action == AccessAction.CHAIN_VERIFY and head.outcome == "broken"


@pytest.mark.django_db
def test_a_missing_anchor_log_alerts(anchors, cast, admission):
    views(cast, admission, 2)
    audit_chain.verify()
    anchors.unlink()
    report = audit_chain.verify()
    assert "is gone while the chain has rows" in report.missing_anchor
    assert (
        Alert.objects.filter(kind="audit_chain", message__contains="anchors missing").count() == 2
    )


@pytest.mark.django_db
def test_no_anchor_for_26_hours_alerts(anchors, cast, admission):
    views(cast, admission, 2)
    audit_chain.verify()
    with time_machine.travel(timezone.now() + timedelta(hours=27), tick=False):
        report = audit_chain.verify()
    assert report.missing_anchor == "no anchor in the last 26 hours"
    assert report.intact
    assert Alert.objects.filter(kind="audit_chain", message__contains="26 hours").exists()


@pytest.mark.django_db
def test_the_first_verification_of_an_unanchored_chain_does_not_cry_wolf(anchors, cast, admission):
    views(cast, admission, 2)
    report = audit_chain.verify()
    assert report.intact and not report.missing_anchor
    assert anchors.exists()


@pytest.mark.django_db
def test_the_anchor_task_and_the_genesis(anchors):
    from facility.tasks import anchor_audit_chain

    assert anchor_audit_chain() == 0
    anchor = json.loads(anchors.read_text())
    assert anchor["head_hash"] == GENESIS_HASH and anchor["head_id"] is None
    assert audit_chain.chain_check().intact


def test_deploy_check_refuses_a_missing_key(settings):
    settings.HAVEN_AUDIT_ANCHOR_KEY = ""
    assert [e.id for e in audit_chain.anchor_key_check()] == ["haven.E016"]
    settings.HAVEN_AUDIT_ANCHOR_KEY = KEY
    assert audit_chain.anchor_key_check() == []


def test_beat_seals_every_minute_and_verifies_nightly():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "facility.tasks.seal_audit_changes",
        "facility.tasks.anchor_audit_chain",
        "facility.tasks.verify_audit_chain",
    } <= tasks


def test_run_makes_one_development_key_and_keeps_it(tmp_path):
    from facility.launcher import dev_anchor_key

    key = dev_anchor_key(tmp_path)
    assert len(key) >= 32
    assert (tmp_path / "audit-anchor.key").stat().st_mode & 0o777 == 0o600
    assert dev_anchor_key(tmp_path) == key

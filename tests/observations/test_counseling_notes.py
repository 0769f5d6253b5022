"""SUD counseling notes (issue 16 item 8; specs/privacy.md "SUD counseling notes"): kept apart
from the rest of the chart, read only by their author and the colleagues the author grants (a
revocation takes effect at once), every read audited, 404 for everyone else (supervisors
included), saved is signed (the database refuses changes), never in the shift report, the survey
bundle, the timeline or any other record category, and hostile input refused on its field."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from facility.models import AccessAction, AccessEvent, Role
from facility.registry import registry
from observations.counseling import (
    counseling_addendum_add,
    counseling_grant,
    counseling_grant_revoke,
    counseling_note_record,
    counseling_note_strike,
)
from observations.counseling_forms import CounselingNoteForm
from observations.models import CounselingAddendum, CounselingNote, CounselingNoteGrant
from tests.conftest import form_time, make_user

SECRET = "Talked through the shame about relapse with the brother"


def page(response) -> str:
    return response.content.decode()


def without_tokens(text: str) -> str:
    return re.sub(r'"X-CSRFToken": "[^"]*"|name="csrfmiddlewaretoken" value="[^"]*"', "", text)


@pytest.fixture
def counselor(facility):
    return make_user("counselor", "clinician", facility)


@pytest.fixture
def note(counselor, admission):
    return counseling_note_record(
        actor=counselor,
        admission=admission,
        occurred_at=timezone.now() - timedelta(minutes=30),
        body=f"{SECRET}; plan: call sponsor daily.",
    )


def note_url(note) -> str:
    return reverse("observations:counseling_note", args=[note.public_id])


def list_url(admission) -> str:
    return reverse("observations:counseling_notes", args=[admission.client.public_id])


# ---------------------------------------------------------------- who reads


@pytest.mark.django_db
def test_the_author_writes_through_the_form_reads_it_and_the_read_is_audited(
    client, counselor, admission, facility
):
    client.force_login(counselor)
    chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert "Write a counseling note" in chart and "Counseling notes" in chart
    new = reverse("observations:counseling_note_new", args=[admission.public_id])
    assert client.get(new).status_code == 200
    when = timezone.now() - timedelta(minutes=20)
    response = client.post(new, {"occurred_at": form_time(when, facility), "body": SECRET})
    assert response.status_code == 302
    note = CounselingNote.objects.get()
    assert note.author == counselor and note.body == SECRET and note.recorded_at >= note.occurred_at
    before = AccessEvent.objects.filter(what="counseling note").count()
    shown = page(client.get(note_url(note)))
    assert SECRET in shown
    read = AccessEvent.objects.filter(what="counseling note").order_by("-pk")
    assert read.count() == before + 1
    assert (
        read[0].action == AccessAction.VIEW
        and read[0].client_public_id == admission.client.public_id
    )
    assert SECRET in page(client.get(list_url(admission)))


@pytest.mark.django_db
def test_a_grantee_reads_until_revoked_then_404_at_once(client, cast, counselor, note, admission):
    nurse = cast["nurse"]
    client.force_login(nurse)
    assert client.get(note_url(note)).status_code == 404
    # The author grants through the list page.
    author = client.__class__()
    author.force_login(counselor)
    response = author.post(
        reverse("observations:counseling_grant", args=[admission.client.public_id]),
        {"grantee": str(nurse.public_id)},
    )
    assert response.status_code == 302
    grant = CounselingNoteGrant.objects.get(grantee=nurse)
    assert grant.author == counselor and grant.granted_by == counselor
    assert SECRET in page(client.get(note_url(note)))
    chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert "Counseling notes" in chart and "Write a counseling note" not in chart
    assert SECRET in page(client.get(list_url(admission)))
    # A grantee reads; only the author adds to or strikes it.
    with pytest.raises(PermissionDenied):
        counseling_addendum_add(actor=nurse, note=note, text="Not mine to add.")
    assert (
        author.post(
            reverse("observations:counseling_grant_revoke", args=[grant.public_id])
        ).status_code
        == 302
    )
    grant.refresh_from_db()
    assert grant.revoked_by == counselor and grant.revoked_at is not None
    assert client.get(note_url(note)).status_code == 404
    assert SECRET not in page(client.get(list_url(admission)))
    chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert "Counseling notes" not in chart


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["clinician", "nurse", "technician", "supervisor", "other_clinician", "other_supervisor"]
)
def test_everyone_else_gets_404_and_no_hint(client, cast, note, admission, who):
    """Another clinician, a supervisor, another facility: the note's page is the 404 of a note
    that does not exist; the chart shows no entry (for non-writers) and no text or count."""
    client.force_login(cast[who])
    response = client.get(note_url(note))
    missing = client.get(reverse("observations:counseling_note", args=[CounselingNote().public_id]))
    assert response.status_code == 404 and missing.status_code == 404
    assert without_tokens(page(response)) == without_tokens(page(missing))
    assert SECRET not in page(client.get(list_url(admission)))
    if not who.startswith("other_"):
        chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
        assert SECRET not in chart
        if who != "clinician":
            assert "Counseling notes" not in chart
    for name in ("counseling_note_addendum", "counseling_note_strike"):
        posted = client.post(reverse(f"observations:{name}", args=[note.public_id]), {"text": "x"})
        assert posted.status_code in (403, 404)
    assert not CounselingAddendum.objects.exists()


@pytest.mark.django_db
def test_the_grant_list_names_role_and_name_sorted_by_role_never_the_author(
    client, cast, counselor, admission, facility
):
    dana = make_user("dana_whitfield", "supervisor", facility)
    dana.credentials = "RN"
    dana.save()
    make_user("aaron_nurse", "nurse", facility)
    client.force_login(counselor)
    html = page(client.get(list_url(admission)))
    options = re.findall(r'<option value="[^"]+">([^<]+)</option>', html)
    assert "Dana Whitfield, RN — Supervisor" in options
    assert "Aaron Nurse, RN — Nurse" in options
    assert not any(o.startswith(counselor.signature) for o in options)  # never oneself
    roles = [o.rsplit(" — ", 1)[1] for o in options]
    order = {label: rank for rank, label in enumerate(Role.labels)}
    assert roles == sorted(roles, key=order.__getitem__)
    assert options == sorted(options, key=lambda o: (order[o.rsplit(" — ", 1)[1]], o))
    # The author's own id, posted by hand, is refused with the field's message.
    response = client.post(
        reverse("observations:counseling_grant", args=[admission.client.public_id]),
        {"grantee": str(counselor.public_id)},
    )
    assert response.status_code == 400
    assert response.context["grant_form"].errors["grantee"] == ["Colleague: choose from the list."]
    assert not CounselingNoteGrant.objects.exists()
    # A grant given is listed with the role too.
    client.post(
        reverse("observations:counseling_grant", args=[admission.client.public_id]),
        {"grantee": str(dana.public_id)},
    )
    assert 'Dana Whitfield, RN</strong> <span class="meta">Supervisor · since' in page(
        client.get(list_url(admission))
    )


@pytest.mark.django_db
def test_an_admin_or_a_grant_to_someone_outside_reads_nothing(client, cast, counselor, note):
    client.force_login(cast["admin"])
    assert client.get(note_url(note)).status_code in (403, 404)
    assert SECRET not in page(client.get(note_url(note)))
    # Only census readers of the client's facility may be granted; never oneself.
    for grantee in (cast["admin"], cast["other_nurse"], counselor):
        with pytest.raises(ValidationError) as refused:
            counseling_grant(actor=counselor, client=note.admission.client, grantee=grantee)
        assert "grantee" in refused.value.error_dict
    # A grantee who later leaves the facility reads nothing more.
    nurse = cast["nurse"]
    counseling_grant(actor=counselor, client=note.admission.client, grantee=nurse)
    client.force_login(nurse)
    assert client.get(note_url(note)).status_code == 200
    nurse.facilities.clear()
    nurse._facility_ids = None
    assert client.get(note_url(note)).status_code == 404


@pytest.mark.django_db
def test_only_the_author_revokes_and_only_clinicians_write(client, cast, counselor, note):
    grant = counseling_grant(actor=counselor, client=note.admission.client, grantee=cast["nurse"])
    with pytest.raises(PermissionDenied):
        counseling_grant_revoke(actor=cast["clinician"], grant=grant)
    client.force_login(cast["clinician"])
    revoke = reverse("observations:counseling_grant_revoke", args=[grant.public_id])
    assert client.post(revoke).status_code == 404
    for who in ("nurse", "supervisor", "technician"):
        with pytest.raises(PermissionDenied):
            counseling_note_record(
                actor=cast[who], admission=note.admission, occurred_at=timezone.now(), body="x"
            )
    counseling_grant_revoke(actor=counselor, grant=grant)
    with pytest.raises(ValidationError):
        counseling_grant_revoke(actor=counselor, grant=grant)


# ---------------------------------------------------------------- signed for good


@pytest.mark.django_db
def test_signed_notes_never_change_in_the_database(counselor, note):
    for change in ({"body": "Rewritten."}, {"occurred_at": note.occurred_at - timedelta(hours=1)}):
        with pytest.raises(IntegrityError), transaction.atomic():
            CounselingNote.objects.filter(pk=note.pk).update(**change)
    with pytest.raises(IntegrityError), transaction.atomic():
        CounselingNote.objects.filter(pk=note.pk).delete()
    addendum = counseling_addendum_add(actor=counselor, note=note, text="Sponsor called back.")
    with pytest.raises(IntegrityError), transaction.atomic():
        CounselingAddendum.objects.filter(pk=addendum.pk).update(text="Changed.")
    # The strike, once, by the author; then nothing at all.
    counseling_note_strike(actor=counselor, note=note, reason="Wrong client.")
    note.refresh_from_db()
    assert note.struck_reason == "Wrong client." and note.body.startswith(SECRET)
    with pytest.raises(IntegrityError), transaction.atomic():
        CounselingNote.objects.filter(pk=note.pk).update(struck_reason="Another reason.")
    with pytest.raises(ValidationError):
        counseling_addendum_add(actor=counselor, note=note, text="Too late.")
    grant = counseling_grant(
        actor=counselor,
        client=note.admission.client,
        grantee=make_user("n2", "nurse", note.admission.facility),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CounselingNoteGrant.objects.filter(pk=grant.pk).update(granted_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        CounselingNoteGrant.objects.filter(pk=grant.pk).delete()


@pytest.mark.django_db
def test_the_author_adds_an_addendum_and_strikes_through_the_page(client, counselor, note):
    client.force_login(counselor)
    response = client.post(
        reverse("observations:counseling_note_addendum", args=[note.public_id]),
        {"text": "Sponsor confirmed."},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("observations:counseling_note_strike", args=[note.public_id]), {"reason": ""}
    )
    assert response.status_code == 400 and "Reason: say why" in page(response)
    client.post(
        reverse("observations:counseling_note_strike", args=[note.public_id]),
        {"reason": "Charted on the wrong client."},
    )
    shown = page(client.get(note_url(note)))
    assert "Sponsor confirmed." in shown and "Charted on the wrong client." in shown
    assert "entered in error" in shown and "Add an addendum" not in shown


# ---------------------------------------------------------------- kept apart


@pytest.mark.django_db
def test_not_in_the_timeline_report_bundle_census_dashboard_or_other_categories(
    client, cast, counselor, note, admission, facility
):
    """Rendered for a client with a counseling note, by its author and by a supervisor: the
    note's text is in none of them."""
    now = timezone.now()
    for who in (counselor, cast["supervisor"]):
        client.force_login(who)
        for url in (
            reverse("observations:timeline", args=[admission.public_id]),
            reverse("clients:chart", args=[admission.client.public_id]),
            reverse("clients:census"),
            reverse("dashboard"),
            reverse("shift_report"),
        ):
            response = client.get(url)
            if response.status_code == 403 and who == counselor:
                continue  # a clinician has no dashboard or shift report; the supervisor does
            assert response.status_code == 200, url
            assert SECRET not in page(response), url
    # The timeline's sources, the report's sections and the bundle's sections, called directly.
    entries = registry.timeline(
        admission, since=now - timedelta(days=1), until=now + timedelta(hours=1), user=counselor
    )
    assert not any(SECRET in f"{e.title} {e.text} {e.details}" for e in entries)
    for section in registry.bundle_sections:
        context = section.render(
            facility=facility, unit=None, start=now - timedelta(days=1), end=now, now=now,
            user=cast["supervisor"],
        )  # fmt: skip
        assert SECRET not in render_to_string(section.template, context)
    from facility.registry import ReportScope

    scope = ReportScope(
        facility=facility, unit=None, start=now - timedelta(hours=8), end=now, now=now,
        admission_ids=(admission.pk,),
    )  # fmt: skip
    for section in registry.report_sections:
        lines = [*(section.facility(scope) if section.facility else [])]
        if section.clients:
            lines += [i for items in section.clients(scope).values() for i in items]
        assert not any(SECRET in item.text for item in lines), section.key
    # Every record category but its own leaves it out; its own carries it, and only a
    # "counseling" consent covers it.
    start, end = now - timedelta(days=2), now + timedelta(hours=1)
    for category in registry.record_categories:
        context = category.render(client=admission.client, start=start, end=end, user=counselor)
        text = render_to_string(category.template, context)
        if category.key == "counseling_notes":
            assert SECRET in text
            assert category.own_consent == "counseling"
            assert category.label == "SUD counseling notes"
        else:
            assert SECRET not in text, category.key


@pytest.mark.django_db
def test_the_audit_trail_keeps_the_note_without_its_text(counselor, note):
    from auditlog.models import LogEntry

    entries = LogEntry.objects.filter(
        content_type__app_label="observations", content_type__model="counselingnote"
    )
    assert entries.exists()
    assert not any(SECRET in str(e.changes) for e in entries)


# ---------------------------------------------------------------- hostile input


def post_note(client, admission, **fields):
    body = {"occurred_at": form_time(timezone.now() - timedelta(minutes=5), admission.facility),
            "body": "Session on triggers."}  # fmt: skip
    body.update(fields)
    return client.post(
        reverse("observations:counseling_note_new", args=[admission.public_id]), body
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields, message",
    [
        ({"body": "Session\x00 on triggers"}, "Note"),
        ({"body": "Session \u202e on triggers"}, "Note"),
        ({"body": "x" * 20000}, "Note: at most 8000 characters"),
        ({"body": "   "}, "Note: write the text."),
        (
            {"occurred_at": "1850-01-01T10:00"},
            "Session time: cannot be before the client was admitted.",
        ),
        ({"occurred_at": "9999-12-31T23:59"}, "Session time: cannot be in the future."),
        ({"occurred_at": "not a date"}, "Session time: enter a valid date and time."),
        ({"occurred_at": "\x00"}, "Session time"),
        ({"occurred_at": "FUTURE"}, "Session time: cannot be in the future."),
        ({"occurred_at": "BEFORE"}, "Session time: cannot be before the client was admitted."),
    ],
)
def test_hostile_note_input_is_refused_on_its_field(client, counselor, admission, fields, message):
    tz_now = timezone.now()
    if fields.get("occurred_at") == "FUTURE":
        fields = {"occurred_at": form_time(tz_now + timedelta(hours=2), admission.facility)}
    elif fields.get("occurred_at") == "BEFORE":
        fields = {
            "occurred_at": form_time(admission.admitted_at - timedelta(hours=3), admission.facility)
        }
    client.force_login(counselor)
    response = post_note(client, admission, **fields)
    assert response.status_code == 400
    assert message in page(response)
    assert "enter a date between" not in page(response)  # one rule, stated once
    assert not CounselingNote.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "grantee", ["", "not-a-uuid", "\x00", "00000000-0000-0000-0000-000000000000", "OTHER"]
)
def test_hostile_grant_input_is_refused(client, cast, counselor, admission, grantee):
    if grantee == "OTHER":
        grantee = str(cast["other_nurse"].public_id)
    client.force_login(counselor)
    response = client.post(
        reverse("observations:counseling_grant", args=[admission.client.public_id]),
        {"grantee": grantee},
    )
    assert response.status_code == 400 and "Colleague:" in page(response)
    assert not CounselingNoteGrant.objects.exists()


@pytest.mark.django_db
def test_hostile_addendum_and_strike_input(client, counselor, note):
    client.force_login(counselor)
    for name, field, value in (
        ("counseling_note_addendum", "text", "a\u2066b"),
        ("counseling_note_addendum", "text", "y" * 20000),
        ("counseling_note_strike", "reason", "z" * 400),
        ("counseling_note_strike", "reason", "bad\x00"),
    ):
        response = client.post(
            reverse(f"observations:{name}", args=[note.public_id]), {field: value}
        )
        assert response.status_code == 400, (name, value[:5])
    note.refresh_from_db()
    assert note.struck_at is None and not note.addenda.exists()


def test_the_form_alone_names_the_field():
    form = CounselingNoteForm({"occurred_at": "2026-01-01T10:00", "body": "a\u202eb"})
    assert not form.is_valid() and "body" in form.errors


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_nurse", "other_clinician", "admin"])
def test_break_the_glass_opens_the_chart_but_never_a_counseling_note(client, cast, note, who):
    from facility import glass

    user = cast[who]
    glass.glass_open(actor=user, mrn=note.admission.client.mrn, reason="Called by the ER at 02:10.")
    client.force_login(user)
    chart = client.get(reverse("clients:chart", args=[note.admission.client.public_id]))
    assert chart.status_code == 200
    assert SECRET not in page(chart) and "Counseling notes" not in page(chart)
    assert client.get(note_url(note)).status_code in (403, 404)
    listed = client.get(list_url(note.admission))
    assert SECRET not in page(listed)


@pytest.mark.django_db
def test_the_record_category_renders_in_a_fixed_number_of_queries(counselor, note, admission):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    category = registry.record_category("counseling_notes")
    now = timezone.now()

    def rendered() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            context = category.render(
                client=admission.client, start=now - timedelta(days=1), end=now, user=counselor
            )
            html = render_to_string(category.template, context)
        return html, len(queries)

    counseling_addendum_add(actor=counselor, note=note, text="First addendum.")
    _html, one = rendered()
    for n in range(3):
        later = counseling_note_record(
            actor=counselor, admission=admission, occurred_at=now - timedelta(minutes=5 + n),
            body=f"Session {n}.",
        )  # fmt: skip
        counseling_addendum_add(actor=counselor, note=later, text=f"Addendum {n}.")
    html, four = rendered()
    assert one == four
    assert "Session 2." in html and "Addendum 2." in html and SECRET in html

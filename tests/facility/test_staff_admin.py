"""Admins manage staff in the app: create (set-password e-mail), edit, deactivate, reset MFA."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse

from facility.models import AccessEvent, User

NEW = {
    "username": "jrivera",
    "full_name": "Jamie Rivera",
    "email": "jamie.rivera@example.test",
    "initials": "jr",
    "credentials": "BHT",
    "role": "technician",
}


@pytest.mark.django_db
def test_admin_creates_a_technician_who_sets_a_password_and_signs_in(client, cast, facility):
    client.force_login(cast["admin"])
    response = client.post(reverse("staff_create"), {**NEW, "facilities": [facility.pk]})
    assert response.status_code == 302
    user = User.objects.get(username="jrivera")
    assert user.initials == "JR" and user.role == "technician"
    assert list(user.facilities.all()) == [facility]
    assert list(user.groups.values_list("name", flat=True)) == ["technician"]
    assert not user.has_usable_password()
    assert AccessEvent.objects.filter(action="role_change", what__contains="jrivera").exists()
    # The e-mailed link lets the person choose a password.
    assert mail.outbox[-1].to == ["jamie.rivera@example.test"]
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    path = "/" + link.group(0).split("/", 3)[3]
    newcomer = client.__class__()
    form_page = newcomer.get(path, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else path
    newcomer.post(set_url, {"password1": "harbor-lantern-1729", "password2": "harbor-lantern-1729"})
    user.refresh_from_db()
    assert user.has_usable_password()
    signed_in = newcomer.post(
        "/accounts/login/", {"login": "jrivera", "password": "harbor-lantern-1729"}
    )
    assert signed_in.status_code == 302
    assert newcomer.get(reverse("clients:census")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("username", "JR", "Username: use 3–40 lower-case letters"),
        ("username", "nurse", "Username: this username is taken."),
        ("email", "nurse@example.test", "Email: another staff account uses this address."),
        ("initials", "J", "Initials: 2 to 4 letters."),
        ("role", "superuser", "Select a valid choice"),
    ],
)
def test_bad_staff_input_names_the_field_and_saves_nothing(
    client, cast, facility, field, value, message
):
    client.force_login(cast["admin"])
    before = User.objects.count()
    response = client.post(
        reverse("staff_create"), {**NEW, field: value, "facilities": [facility.pk]}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == before


@pytest.mark.django_db
def test_admin_cannot_assign_a_facility_they_do_not_manage(client, cast, other_facility):
    client.force_login(cast["admin"])
    response = client.post(reverse("staff_create"), {**NEW, "facilities": [other_facility.pk]})
    assert "Facilities: choose facilities you administer." in response.content.decode()
    assert not User.objects.filter(username="jrivera").exists()


@pytest.mark.django_db
def test_changing_a_role_changes_permissions_and_is_audited(client, cast, facility):
    nurse = cast["nurse"]
    client.force_login(cast["admin"])
    response = client.post(
        reverse("staff_edit", args=[nurse.public_id]),
        {
            "username": nurse.username,
            "full_name": nurse.full_name,
            "email": nurse.email,
            "initials": nurse.initials,
            "credentials": "RN",
            "role": "supervisor",
            "facilities": [facility.pk],
        },
    )
    assert response.status_code == 302
    nurse = User.objects.get(pk=nurse.pk)
    assert nurse.role == "supervisor"
    assert nurse.has_perm("facility.resolve_alert")
    assert not nurse.has_perm("facility.record_administration")
    event = AccessEvent.objects.get(action="role_change")
    assert "nurse → supervisor" in event.what and event.user == cast["admin"]


@pytest.mark.django_db
def test_admin_cannot_deactivate_themselves(client, cast):
    client.force_login(cast["admin"])
    response = client.post(reverse("staff_deactivate", args=[cast["admin"].public_id]), follow=True)
    assert "cannot deactivate your own account" in response.content.decode()
    assert User.objects.get(pk=cast["admin"].pk).is_active


@pytest.mark.django_db
def test_reset_mfa_removes_the_authenticator(client, cast):
    client.force_login(cast["admin"])
    supervisor = cast["supervisor"]
    assert Authenticator.objects.filter(user=supervisor).exists()
    client.post(reverse("staff_reset_mfa", args=[supervisor.public_id]))
    assert not Authenticator.objects.filter(user=supervisor).exists()
    assert AccessEvent.objects.filter(action="mfa_reset").exists()


@pytest.mark.django_db
def test_admin_does_not_see_staff_of_other_facilities(client, cast):
    client.force_login(cast["admin"])
    body = client.get(reverse("staff_list")).content.decode()
    assert "Other Nurse" not in body and "Nurse" in body
    assert (
        client.get(reverse("staff_edit", args=[cast["other_nurse"].public_id])).status_code == 404
    )


@pytest.mark.django_db
def test_admins_do_not_read_charts(client, cast, admission):
    client.force_login(cast["admin"])
    assert (
        client.get(reverse("clients:chart", args=[admission.client.public_id])).status_code == 403
    )
    assert client.get(reverse("clients:census")).status_code == 403


@pytest.mark.django_db
def test_admin_cannot_change_someone_who_also_works_elsewhere(
    client, cast, facility, other_facility
):
    float_nurse = cast["nurse"]
    float_nurse.facilities.add(other_facility)
    client.force_login(cast["admin"])
    assert client.post(reverse("staff_reset_mfa", args=[float_nurse.public_id])).status_code == 403
    assert client.post(reverse("staff_deactivate", args=[float_nurse.public_id])).status_code == 403
    assert set(float_nurse.facilities.all()) == {facility, other_facility}
    assert User.objects.get(pk=float_nurse.pk).is_active


@pytest.mark.django_db
def test_django_admin_shows_only_the_admins_facilities(client, cast, facility, other_facility):
    client.force_login(cast["admin"])
    page = client.get(reverse("admin:facility_facility_changelist")).content.decode()
    assert "Alder House" in page and "Birch House" not in page
    foreign = other_facility.units.first()
    assert client.get(reverse("admin:facility_unit_change", args=[foreign.pk])).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["East\u202eWing", "East\x00Wing", "x" * 500], ids=["bidi", "nul", "long"]
)
def test_setup_pages_refuse_hostile_names_with_a_field_message(client, cast, facility, name):
    """Unit names print on the MAR and the observation sheet: the admin's forms get the same
    input checks as every other form (issue 7)."""
    from facility.models import Unit

    client.force_login(cast["admin"])
    before = Unit.objects.count()
    response = client.post(
        reverse("admin:facility_unit_add"), {"facility": facility.pk, "name": name}
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert Unit.objects.count() == before


@pytest.mark.django_db
def test_a_quantity_with_too_many_decimals_is_refused_naming_the_field(facility):
    """Django's default says 'Ensure that there are no more than 2 decimal places.' without
    naming the field (review of issue 7)."""
    from medications.forms import OrderForm

    form = OrderForm(data={"dose_units": "1.123456"}, facility=facility)
    assert form.errors["dose_units"] == ["Units per dose: at most 2 decimal places."]

"""Client photos are PHI: stored under random names and served only by the scoped view (issue 7)."""

import importlib
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve, reverse
from PIL import Image

from clients.models import Client
from facility.models import Bed
from tests.clients.test_admission import admit_form


def png_upload(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def photographed(client, cast, facility, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bed = Bed.objects.filter(unit__facility=facility).first()
    client.force_login(cast["nurse"])
    data = admit_form(facility, bed, photo=png_upload("Morgan_Tillbury_DOB_1988.png"))
    assert client.post(reverse("clients:admit"), data).status_code == 302
    client.logout()
    return Client.objects.get(legal_last_name="Tillbury")


@pytest.mark.django_db
def test_an_uploaded_photo_is_stored_under_a_random_name(photographed, tmp_path):
    name = photographed.photo.name
    assert re.fullmatch(r"client-photos/[0-9a-f]{32}\.png", name), name
    stored = tmp_path / name
    assert stored.exists() and stored.stat().st_mode & 0o077 == 0  # not readable by others


@pytest.mark.django_db
def test_no_url_serves_the_media_folder_even_in_debug_mode(client, photographed):
    import facility.urls

    path = f"/media/{photographed.photo.name}"
    try:
        with override_settings(DEBUG=True):
            importlib.reload(facility.urls)
            clear_url_caches()
            with pytest.raises(Resolver404):
                resolve(path)
    finally:
        importlib.reload(facility.urls)
        clear_url_caches()
    assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_the_scoped_view_serves_the_photo_to_staff_of_the_facility_only(client, cast, photographed):
    url = reverse("clients:photo", args=[photographed.public_id])
    assert client.get(url).status_code == 302  # anonymous: to sign-in
    client.force_login(cast["nurse"])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    for stranger in ("other_nurse", "admin"):
        client.force_login(cast[stranger])
        assert client.get(url).status_code in (403, 404), stranger

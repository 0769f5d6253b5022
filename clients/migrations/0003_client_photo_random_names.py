# Photos get random storage names (issue 7): new uploads through photo_storage_name, and the
# photos already on disk are renamed so their upload names (often the client's name) are gone.

import uuid
from pathlib import Path

from django.db import migrations, models

import clients.models


def rename_stored_photos(apps, schema_editor):
    from django.core.files.storage import default_storage

    Client = apps.get_model("clients", "Client")
    for client in Client.objects.exclude(photo="").iterator():
        old = client.photo.name
        if not default_storage.exists(old):
            continue
        suffix = Path(old).suffix.lower()
        if suffix not in clients.models.PHOTO_TYPES:
            suffix = ".jpg"
        with default_storage.open(old, "rb") as handle:
            new = default_storage.save(f"client-photos/{uuid.uuid4().hex}{suffix}", handle)
        Client.objects.filter(pk=client.pk).update(photo=new)
        default_storage.delete(old)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="client",
            name="photo",
            field=models.ImageField(blank=True, upload_to=clients.models.photo_storage_name),
        ),
        migrations.RunPython(rename_stored_photos, migrations.RunPython.noop, elidable=True),
    ]

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("saleor_aftersales", "0012_photos"),
    ]

    operations = [
        migrations.AddField(
            model_name="aftersalesphoto",
            name="thumbnail",
            field=models.FileField(
                blank=True, max_length=255, upload_to="aftersales/photos/thumbnails/"
            ),
        ),
    ]

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="Photo",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                ("image", models.ImageField(upload_to="photos/%Y/%m/")),
                ("thumbnail", models.ImageField(blank=True, upload_to="thumbs/")),
                ("uploaded", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]

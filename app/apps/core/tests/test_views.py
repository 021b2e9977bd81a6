import pytest
from django.test import Client

from apps.core.models import Item, Visit


@pytest.mark.django_db
def test_home_page_records_a_visit_and_shows_the_count(client: Client) -> None:
    client.get("/")
    response = client.get("/")
    assert response.status_code == 200
    assert Visit.objects.count() == 2
    assert b'<strong id="visits">2</strong>' in response.content


@pytest.mark.django_db
def test_item_view_reads_one_row_by_slug(client: Client) -> None:
    Item.objects.create(slug="first", title="First item")
    response = client.get("/items/first/")
    assert response.status_code == 200
    assert response.json()["item"] == {"slug": "first", "title": "First item"}
    assert client.get("/items/missing/").status_code == 404

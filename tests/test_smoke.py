from django.urls import reverse


def test_home_renders_published_story(client, article) -> None:
    response = client.get(reverse("articles:home"))
    assert response.status_code == 200
    assert article.title in response.content.decode()

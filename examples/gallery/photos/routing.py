from django.urls import path

from .consumers import PhotoFeed

websocket_urlpatterns = [path("ws/photos/", PhotoFeed.as_asgi())]

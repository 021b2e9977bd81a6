from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("items/<slug:slug>/", views.item, name="item"),
]

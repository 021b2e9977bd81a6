from catalog import views
from django.urls import path

urlpatterns = [
    path("", views.index),
    path("-/alive", views.alive),
    path("-/ready", views.ready),
]

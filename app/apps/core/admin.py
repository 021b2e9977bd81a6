from django.contrib import admin

from .models import Item, Visit

admin.site.register(Visit)
admin.site.register(Item)

"""The root URLconf: the behaviour app's routes (tests/behaviour/common.py), the token
strategies' routes (tests/behaviour/tokens.py) and the admin."""

from __future__ import annotations

from behaviour.django_app import urlpatterns as behaviour_urls
from behaviour.tokens import urlpatterns as token_urls
from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls), *behaviour_urls, *token_urls]

"""The download API for phones, under /v1/keys/ (DESIGN.md 7)."""

from django.urls import path, re_path

from authority.keys import api

app_name = "keys_api"

urlpatterns = [
    path("index", api.KeysIndexView.as_view(), name="index"),
    path("index.txt", api.KeysIndexTextView.as_view(), name="index_txt"),
    path("public-keys", api.PublicKeysView.as_view(), name="public_keys"),
    path("public-key.pem", api.PublicKeyPemView.as_view(), name="public_key_pem"),
    # Any integer, so that 0 and negative numbers get the API's 400 instead of a bare 404.
    re_path(r"^(?P<index>-?[0-9]{1,12})$", api.BatchFileView.as_view(), name="batch"),
]

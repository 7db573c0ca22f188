"""The download API for phones, under /v1/keys/ (DESIGN.md 7)."""

from django.urls import path, re_path

from authority.keys import api

app_name = "keys_api"

urlpatterns = [
    path("index", api.KeysIndexView.as_view(), name="index"),
    path("index.txt", api.KeysIndexTextView.as_view(), name="index_txt"),
    path("public-keys", api.PublicKeysView.as_view(), name="public_keys"),
    path("public-key.pem", api.PublicKeyPemView.as_view(), name="public_key_pem"),
    # Any integer, however long: 0 and negative numbers get the API's 400 (1001) and numbers
    # with no batch its 404 (1300), never the bare 404 (1002) of an unknown path.
    re_path(r"^(?P<index>-?[0-9]+)$", api.BatchFileView.as_view(), name="batch"),
]

"""The download API for phones, under /v1/keys/ (DESIGN.md 7)."""

from django.urls import path, re_path

from authority.keys import api

app_name = "keys_api"

urlpatterns = [
    path("index", api.KeysIndexView.as_view(), name="index"),
    path("index.txt", api.KeysIndexTextView.as_view(), name="index_txt"),
    path("public-keys", api.PublicKeysView.as_view(), name="public_keys"),
    path("public-key.pem", api.PublicKeyPemView.as_view(), name="public_key_pem"),
    # Other countries' batches, which the apps ask for each country of interest.
    re_path(r"^eu/(?P<country>[^/]+)/index$", api.EuKeysIndexView.as_view(), name="eu_index"),
    re_path(
        r"^eu/(?P<country>[^/]+)/(?P<index>[^/]+)$", api.EuBatchFileView.as_view(), name="eu_batch"
    ),
    # Anything else in one segment is a batch number, as Immuni read it: a number with no
    # batch is 404 (1300), anything that is not a number from 1 up 400 (1001), never the bare
    # 404 (1002) of an unknown path.
    re_path(r"^(?P<index>[^/]+)$", api.BatchFileView.as_view(), name="batch"),
]

from django.urls import path

from authority.ingestion import views

app_name = "ingestion"

urlpatterns = [
    path("check-otp", views.CheckOtpView.as_view(), name="check_otp"),
    path("upload", views.UploadView.as_view(), name="upload"),
]

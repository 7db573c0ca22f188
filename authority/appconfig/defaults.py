"""Immuni's published defaults, per platform: the values each app ships with (Android's
`defaultSettings` in `ConfigurationSettingsService.kt`, iOS' `Configuration.init` defaults in
`Configuration.swift`), which the first settings version serves until the authority changes
them.

Differences from the apps' own copies, each for a reason:
- the Spanish list of countries names Austria `AT` (the Android app's copy says `EN`, which is
  no country, and every language must list the same codes here);
- the guidance after a risky exposure and the certificate validity texts are short texts of
  our own, pointing to the health authority: the apps' texts are Italy's rules of 2022;
- the certificate texts agree with `eu_dcc_deadlines` (the apps' copies had drifted apart);
- no support contact on either platform (the apps then show none): the iOS app's copy names
  Immuni's Italian help line and address, which are not this authority's.
The links are still Immuni's pages: the settings pages flag them (validation.immuni_leftovers)
until the authority gives its own.

Plain data, no Django: the tests import it, and so does the data migration that published
version 1 (0002) on a fresh installation: a change here changes what a new installation starts
from, so it comes with a data migration for installed ones (as 0003 for the contacts).
"""

from __future__ import annotations

import copy
from typing import Any

LANGUAGES = ("it", "en", "de", "fr", "es")

_COUNTRY_NAMES = {
    "it": {
        "AT": "AUSTRIA",
        "HR": "CROAZIA",
        "DK": "DANIMARCA",
        "EE": "ESTONIA",
        "DE": "GERMANIA",
        "IE": "IRLANDA",
        "LV": "LETTONIA",
        "NL": "PAESI BASSI",
        "PL": "POLONIA",
        "CZ": "REPUBBLICA CECA",
        "ES": "SPAGNA",
    },
    "en": {
        "AT": "AUSTRIA",
        "HR": "CROATIA",
        "DK": "DENMARK",
        "EE": "ESTONIA",
        "DE": "GERMANY",
        "IE": "IRELAND",
        "LV": "LATVIA",
        "NL": "NETHERLANDS",
        "PL": "POLAND",
        "CZ": "CZECH REPUBLIC",
        "ES": "SPAIN",
    },
    "de": {
        "AT": "ÖSTERREICH",
        "HR": "KROATIEN",
        "DK": "DÄNEMARK",
        "EE": "ESTLAND",
        "DE": "DEUTSCHLAND",
        "IE": "IRLAND",
        "LV": "LETTLAND",
        "NL": "NIEDERLANDE",
        "PL": "POLEN",
        "CZ": "TSCHECHIEN",
        "ES": "SPANIEN",
    },
    "fr": {
        "AT": "AUTRICHE",
        "HR": "CROATIE",
        "DK": "DANEMARK",
        "EE": "ESTONIE",
        "DE": "ALLEMAGNE",
        "IE": "IRLANDE",
        "LV": "LETTONIE",
        "NL": "PAYS-BAS",
        "PL": "POLOGNE",
        "CZ": "RÉPUBLIQUE TCHÈQUE",
        "ES": "ESPAGNE",
    },
    "es": {
        "AT": "AUSTRIA",
        "HR": "CROACIA",
        "DK": "DINAMARCA",
        "EE": "ESTONIA",
        "DE": "ALEMANIA",
        "IE": "IRLANDA",
        "LV": "LETONIA",
        "NL": "PAÍSES BAJOS",
        "PL": "POLONIA",
        "CZ": "REPÚBLICA CHECA",
        "ES": "ESPAÑA",
    },
}

_RISK_EXPOSURE = {
    "it": (
        "Il tuo telefono ha registrato un'esposizione a rischio. Segui le indicazioni della tua "
        "azienda sanitaria o del tuo medico: ti diranno se e come fare un test e quali "
        "precauzioni prendere nei prossimi giorni."
    ),
    "en": (
        "Your phone recorded a risky exposure. Follow the instructions of your local health "
        "authority or your doctor: they will tell you whether and how to get tested and which "
        "precautions to take in the coming days."
    ),
    "de": (
        "Ihr Telefon hat eine Risikobegegnung erfasst. Folgen Sie den Anweisungen Ihres "
        "Gesundheitsamts oder Ihrer Ärztin bzw. Ihres Arztes: Dort erfahren Sie, ob und wie Sie "
        "sich testen lassen und welche Vorsichtsmaßnahmen Sie in den nächsten Tagen treffen."
    ),
    "fr": (
        "Votre téléphone a enregistré une exposition à risque. Suivez les instructions de votre "
        "autorité sanitaire locale ou de votre médecin : ils vous diront si et comment vous "
        "faire tester et quelles précautions prendre dans les prochains jours."
    ),
    "es": (
        "Su teléfono ha registrado una exposición de riesgo. Siga las indicaciones de su "
        "autoridad sanitaria local o de su médico: le dirán si debe hacerse una prueba, cómo "
        "hacerla y qué precauciones tomar en los próximos días."
    ),
}

# Hours for tests, days for the other kinds, as the apps read them.
_DEADLINES = {
    "cbis": 540,
    "molecular_test": 72,
    "rapid_test": 48,
    "vaccine_first_dose": 43,
    "vaccine_fully_completed": 180,
    "vaccine_booster": 540,
    "healing_certificate": 180,
    "exemption": 540,
}

_VALIDITY_TEXTS = {
    "it": {
        "molecular_test": "Valida 72 ore dall'ora del prelievo",
        "rapid_test": "Valida 48 ore dall'ora del prelievo",
        "vaccine_first_dose": "Valida fino alla dose successiva (al massimo 43 giorni)",
        "vaccine_fully_completed": "Valida 180 giorni dall'ultima somministrazione",
        "healing_certificate": "Valida 180 giorni dall'inizio della validità",
        "vaccine_booster": "Valida 540 giorni dall'ultima somministrazione",
        "cbis": "Valida 540 giorni dall'inizio della validità",
    },
    "en": {
        "molecular_test": "Valid for 72 hours from the time of the sample",
        "rapid_test": "Valid for 48 hours from the time of the sample",
        "vaccine_first_dose": "Valid until the next dose (at most 43 days)",
        "vaccine_fully_completed": "Valid for 180 days from the last dose",
        "healing_certificate": "Valid for 180 days from the start of validity",
        "vaccine_booster": "Valid for 540 days from the last dose",
        "cbis": "Valid for 540 days from the start of validity",
    },
    "de": {
        "molecular_test": "Gültig 72 Stunden ab der Probenahme",
        "rapid_test": "Gültig 48 Stunden ab der Probenahme",
        "vaccine_first_dose": "Gültig bis zur nächsten Dosis (höchstens 43 Tage)",
        "vaccine_fully_completed": "Gültig 180 Tage ab der letzten Dosis",
        "healing_certificate": "Gültig 180 Tage ab Beginn der Gültigkeit",
        "vaccine_booster": "Gültig 540 Tage ab der letzten Dosis",
        "cbis": "Gültig 540 Tage ab Beginn der Gültigkeit",
    },
    "fr": {
        "molecular_test": "Valable 72 heures à compter du prélèvement",
        "rapid_test": "Valable 48 heures à compter du prélèvement",
        "vaccine_first_dose": "Valable jusqu'à la dose suivante (43 jours au plus)",
        "vaccine_fully_completed": "Valable 180 jours à compter de la dernière dose",
        "healing_certificate": "Valable 180 jours à compter du début de validité",
        "vaccine_booster": "Valable 540 jours à compter de la dernière dose",
        "cbis": "Valable 540 jours à compter du début de validité",
    },
    "es": {
        "molecular_test": "Válido 72 horas desde la toma de la muestra",
        "rapid_test": "Válido 48 horas desde la toma de la muestra",
        "vaccine_first_dose": "Válido hasta la siguiente dosis (43 días como máximo)",
        "vaccine_fully_completed": "Válido 180 días desde la última dosis",
        "healing_certificate": "Válido 180 días desde el inicio de la validez",
        "vaccine_booster": "Válido 540 días desde la última dosis",
        "cbis": "Válido 540 días desde el inicio de la validez",
    },
}


def _per_language(address: str) -> dict[str, str]:
    return {language: address.format(language=language) for language in LANGUAGES}


_COMMON: dict[str, Any] = {
    "faq_url": _per_language("https://get.immuni.gov.it/docs/faq-{language}.json"),
    "tou_url": _per_language("https://www.immuni.italia.it/app-tou.html"),
    "pn_url": _per_language("https://www.immuni.italia.it/app-pn.html"),
    "exposure_detection_period": 4 * 3600,
    "service_not_active_notification_period": 86400,
    "onboarding_not_completed_notification_period": 86400,
    "required_update_notification_period": 86400,
    "risk_reminder_notification_period": 86400,
    "dummy_teks_average_opportunity_waiting_time": 60 * 86400,
    "dummy_teks_average_request_waiting_time": 10,
    "dummy_teks_request_probabilities": [0.95, 0.1],
    "teks_max_summary_count": 6 * 14,
    "teks_max_info_count": 600,
    "teks_packet_size": 110_000,
    "support_phone_opening_time": "7",
    "support_phone_closing_time": "22",
    "operational_info_with_exposure_sampling_rate": 1.0,
    "operational_info_without_exposure_sampling_rate": 0.6,
    "dummy_analytics_waiting_time": 2_592_000,
    "countries": _COUNTRY_NAMES,
    "eudcc_expiration": _VALIDITY_TEXTS,
    "risk_exposure": _RISK_EXPOSURE,
    "eu_dcc_deadlines": _DEADLINES,
}

_SCORES_OF_ONE = [1, 1, 1, 1, 1, 1, 1, 1]
_DURATION_SCORES = [0, 0, 0, 0, 5, 5, 5, 5]  # from 16 minutes on

ANDROID: dict[str, Any] = {
    **_COMMON,
    "minimum_build_version": 0,
    "exposure_configuration": {
        "attenuation_thresholds": [50, 70],
        "attenuation_bucket_scores": [0, 0, 5, 5, 5, 5, 5, 5],
        "days_since_last_exposure_bucket_scores": _SCORES_OF_ONE,
        "duration_bucket_scores": _DURATION_SCORES,
        "transmission_risk_bucket_scores": _SCORES_OF_ONE,
        "minimum_risk_score": 1,
    },
    "exposure_info_minimum_risk_score": 20,
    "support_phone": None,
    "support_email": None,
    "experimental_phase": False,
    "reopen_reminder": True,
}

IOS: dict[str, Any] = {
    **_COMMON,
    "minimum_build_version": 1,
    "exposure_configuration": {
        "attenuation_thresholds": [50, 70],
        "attenuation_bucket_scores": [0, 0, 3, 3, 3, 3, 3, 3],
        "attenuation_weight": 1,
        "days_since_last_exposure_bucket_scores": _SCORES_OF_ONE,
        "days_since_last_exposure_weight": 1,
        "duration_bucket_scores": _DURATION_SCORES,
        "duration_weight": 1,
        "transmission_risk_bucket_scores": _SCORES_OF_ONE,
        "transmission_risk_weight": 1,
        "minimum_risk_score": 1,
    },
    "exposure_info_minimum_risk_score": 12,
    "maximum_exposure_detection_waiting_time": 86400,
    "dummy_teks_window_duration": 14 * 86400,
    "dummy_teks_average_start_waiting_time": 15,
    "support_phone": None,
    "support_email": None,
    "allowed_regions_self_upload": [
        "Abruzzo",
        "Basilicata",
        "Calabria",
        "Campania",
        "Emilia-Romagna",
        "Friuli-Venezia Giulia",
        "Lazio",
        "Liguria",
        "Lombardia",
        "Marche",
        "Molise",
        "Piemonte",
        "Puglia",
        "Sardegna",
        "Sicilia",
        "Toscana",
        "Trentino-Alto Adige",
        "Umbria",
        "Valle d'Aosta",
        "Veneto",
    ],
}


def immuni_defaults(platform: str) -> dict[str, Any]:
    """A fresh copy of the platform's defaults (callers may change it)."""
    return copy.deepcopy({"android": ANDROID, "ios": IOS}[platform])

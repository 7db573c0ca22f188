"""Default regions and provinces of Italy, loaded by a data migration and editable afterwards."""

from typing import Any

# Italy's regional health authorities: 19 regions and the 2 autonomous provinces (ISTAT codes),
# with the two-letter codes of their provinces as the app reports them. Sardinia keeps the
# codes of its pre-2016 provinces too, since older app builds may still send them.
ITALY = [
    (
        "01",
        "Piemonte",
        [
            ("AL", "Alessandria"),
            ("AT", "Asti"),
            ("BI", "Biella"),
            ("CN", "Cuneo"),
            ("NO", "Novara"),
            ("TO", "Torino"),
            ("VB", "Verbano-Cusio-Ossola"),
            ("VC", "Vercelli"),
        ],
    ),
    ("02", "Valle d'Aosta / Vallée d'Aoste", [("AO", "Aosta")]),
    (
        "03",
        "Lombardia",
        [
            ("BG", "Bergamo"),
            ("BS", "Brescia"),
            ("CO", "Como"),
            ("CR", "Cremona"),
            ("LC", "Lecco"),
            ("LO", "Lodi"),
            ("MB", "Monza e della Brianza"),
            ("MI", "Milano"),
            ("MN", "Mantova"),
            ("PV", "Pavia"),
            ("SO", "Sondrio"),
            ("VA", "Varese"),
        ],
    ),
    ("041", "Provincia autonoma di Bolzano / Bozen", [("BZ", "Bolzano / Bozen")]),
    ("042", "Provincia autonoma di Trento", [("TN", "Trento")]),
    (
        "05",
        "Veneto",
        [
            ("BL", "Belluno"),
            ("PD", "Padova"),
            ("RO", "Rovigo"),
            ("TV", "Treviso"),
            ("VE", "Venezia"),
            ("VI", "Vicenza"),
            ("VR", "Verona"),
        ],
    ),
    (
        "06",
        "Friuli-Venezia Giulia",
        [("GO", "Gorizia"), ("PN", "Pordenone"), ("TS", "Trieste"), ("UD", "Udine")],
    ),
    ("07", "Liguria", [("GE", "Genova"), ("IM", "Imperia"), ("SP", "La Spezia"), ("SV", "Savona")]),
    (
        "08",
        "Emilia-Romagna",
        [
            ("BO", "Bologna"),
            ("FC", "Forlì-Cesena"),
            ("FE", "Ferrara"),
            ("MO", "Modena"),
            ("PC", "Piacenza"),
            ("PR", "Parma"),
            ("RA", "Ravenna"),
            ("RE", "Reggio Emilia"),
            ("RN", "Rimini"),
        ],
    ),
    (
        "09",
        "Toscana",
        [
            ("AR", "Arezzo"),
            ("FI", "Firenze"),
            ("GR", "Grosseto"),
            ("LI", "Livorno"),
            ("LU", "Lucca"),
            ("MS", "Massa-Carrara"),
            ("PI", "Pisa"),
            ("PO", "Prato"),
            ("PT", "Pistoia"),
            ("SI", "Siena"),
        ],
    ),
    ("10", "Umbria", [("PG", "Perugia"), ("TR", "Terni")]),
    (
        "11",
        "Marche",
        [
            ("AN", "Ancona"),
            ("AP", "Ascoli Piceno"),
            ("FM", "Fermo"),
            ("MC", "Macerata"),
            ("PU", "Pesaro e Urbino"),
        ],
    ),
    (
        "12",
        "Lazio",
        [("FR", "Frosinone"), ("LT", "Latina"), ("RI", "Rieti"), ("RM", "Roma"), ("VT", "Viterbo")],
    ),
    ("13", "Abruzzo", [("AQ", "L'Aquila"), ("CH", "Chieti"), ("PE", "Pescara"), ("TE", "Teramo")]),
    ("14", "Molise", [("CB", "Campobasso"), ("IS", "Isernia")]),
    (
        "15",
        "Campania",
        [
            ("AV", "Avellino"),
            ("BN", "Benevento"),
            ("CE", "Caserta"),
            ("NA", "Napoli"),
            ("SA", "Salerno"),
        ],
    ),
    (
        "16",
        "Puglia",
        [
            ("BA", "Bari"),
            ("BR", "Brindisi"),
            ("BT", "Barletta-Andria-Trani"),
            ("FG", "Foggia"),
            ("LE", "Lecce"),
            ("TA", "Taranto"),
        ],
    ),
    ("17", "Basilicata", [("MT", "Matera"), ("PZ", "Potenza")]),
    (
        "18",
        "Calabria",
        [
            ("CS", "Cosenza"),
            ("CZ", "Catanzaro"),
            ("KR", "Crotone"),
            ("RC", "Reggio Calabria"),
            ("VV", "Vibo Valentia"),
        ],
    ),
    (
        "19",
        "Sicilia",
        [
            ("AG", "Agrigento"),
            ("CL", "Caltanissetta"),
            ("CT", "Catania"),
            ("EN", "Enna"),
            ("ME", "Messina"),
            ("PA", "Palermo"),
            ("RG", "Ragusa"),
            ("SR", "Siracusa"),
            ("TP", "Trapani"),
        ],
    ),
    (
        "20",
        "Sardegna",
        [
            ("CA", "Cagliari"),
            ("NU", "Nuoro"),
            ("OR", "Oristano"),
            ("SS", "Sassari"),
            ("SU", "Sud Sardegna"),
            ("CI", "Carbonia-Iglesias"),
            ("OG", "Ogliastra"),
            ("OT", "Olbia-Tempio"),
            ("VS", "Medio Campidano"),
        ],
    ),
]


def load_regions(region_model: Any, province_model: Any) -> None:
    """Create what is missing; used by the data migration (with historical models) and tests."""
    for code, name, provinces in ITALY:
        region, _ = region_model.objects.get_or_create(code=code, defaults={"name": name})
        for province_code, province_name in provinces:
            province_model.objects.get_or_create(
                code=province_code, defaults={"name": province_name, "region": region}
            )

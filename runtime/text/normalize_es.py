"""Spanish spoken forms of what a screen shows (conventions; rules in `normalize_common`).

"14:35" -> catorce y treinta y cinco, "14:00" -> catorce en punto, "1:00" -> una en punto; "25/11/2026" ->
veinticinco de noviembre de dos mil veintiséis; "12,50 €" -> doce euros con cincuenta céntimos; "1 km" ->
un kilómetro, "21 km" -> veintiún kilómetros, "21 horas" -> veintiuna horas; "3.ª salida" -> tercera salida,
"1.er piso" / "1er" -> primer; "20 %" -> veinte por ciento; "AP-7" -> A P siete; "Sra." -> señora.
"""

from __future__ import annotations

from . import numbers_es as nums
from .normalize_common import Kit, Rules

MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
          "noviembre", "diciembre")


def _day(d: int, prev: str = "") -> str:
    return nums.cardinal(d, "n")


def _date(d: int, m: int, y: int | None, prev: str) -> str:
    return f"{_day(d)} de {MONTHS[m - 1]}" + (f" de {nums.year(y)}" if y is not None else "")


def _time(h: int, m: int) -> str:
    hour = nums.cardinal(h, "f") if h else "cero"
    if m == 0:
        return f"{hour} en punto"
    return f"{hour} y {nums.cardinal(m, 'n')}"


_KM_H = ("kilómetro por hora", "kilómetros por hora", "m")
_UNITS = {
    "km/h": _KM_H, "kmh": _KM_H, "m/s": ("metro por segundo", "metros por segundo", "m"),
    "l/100 km": ("litro cada cien kilómetros", "litros cada cien kilómetros", "m"),
    "l/100km": ("litro cada cien kilómetros", "litros cada cien kilómetros", "m"),
    "kWh/100 km": ("kilovatio hora cada cien kilómetros", "kilovatios hora cada cien kilómetros", "m"),
    "km": ("kilómetro", "kilómetros", "m"), "m": ("metro", "metros", "m"), "cm": ("centímetro", "centímetros", "m"),
    "mm": ("milímetro", "milímetros", "m"), "m²": ("metro cuadrado", "metros cuadrados", "m"),
    "kg": ("kilo", "kilos", "m"), "g": ("gramo", "gramos", "m"), "t": ("tonelada", "toneladas", "f"),
    "l": ("litro", "litros", "m"), "L": ("litro", "litros", "m"), "ml": ("mililitro", "mililitros", "m"),
    "h": ("hora", "horas", "f"), "min": ("minuto", "minutos", "m"), "s": ("segundo", "segundos", "m"),
    "seg": ("segundo", "segundos", "m"), "kW": ("kilovatio", "kilovatios", "m"),
    "kWh": ("kilovatio hora", "kilovatios hora", "m"), "W": ("vatio", "vatios", "m"), "V": ("voltio", "voltios", "m"),
    "°C": ("grado", "grados", "m"), "° C": ("grado", "grados", "m"), "°": ("grado", "grados", "m"),
    "%": ("por ciento", "por ciento", "m"), "GB": ("gigabyte", "gigabytes", "m"), "CV": ("caballo", "caballos", "m"),
}
_CURRENCIES = {
    "€": ("euro", "euros", "céntimo", "céntimos", "m"), "EUR": ("euro", "euros", "céntimo", "céntimos", "m"),
    "$": ("dólar", "dólares", "centavo", "centavos", "m"), "USD": ("dólar", "dólares", "centavo", "centavos", "m"),
    "£": ("libra", "libras", "penique", "peniques", "f"), "MXN": ("peso", "pesos", "centavo", "centavos", "m"),
}
_ABBREVIATIONS = {
    "Sr.": "Señor", "Sra.": "Señora", "Srta.": "Señorita", "Dr.": "Doctor", "Dra.": "Doctora", "D.": "Don",
    "Dña.": "Doña", "Avda.": "avenida", "Av.": "avenida", "C/": "calle", "Pza.": "plaza", "Pl.": "plaza",
    "Ctra.": "carretera", "ctra.": "carretera", "aprox.": "aproximadamente", "Aprox.": "aproximadamente", "etc.": "etcétera", "p. ej.": "por ejemplo",
    "n.º": "número", "nº": "número", "Nº": "número", "núm.": "número", "tel.": "teléfono", "Tel.": "teléfono",
    "pág.": "página", "izq.": "izquierda", "dcha.": "derecha", "S.A.": "sociedad anónima",
    "EE. UU.": "Estados Unidos", "EE.UU.": "Estados Unidos", "GPS": "ge pe ese", "DGT": "de ge te",
   
}
# Words after a number that are not the noun it counts ("1 para 2"): the number keeps its counting form.
_NOT_NOUNS = frozenset("para pero como entre hasta desde sobre según durante contra menos más".split())
KIT = Kit(
    lang="es", cardinal=nums.cardinal, ordinal=nums.ordinal, year=nums.year, digits=nums.DIGITS, point="coma",
    minus="menos", range_word="a", months=MONTHS, date=_date, time=_time, units=_UNITS, currencies=_CURRENCIES,
    money_format="{main} con {cents} {sub}", count_gender="n", day=_day,
    month_abbr={"ene": 1, "feb": 2, "mar": 3, "abr": 4, "jun": 6, "jul": 7, "ago": 8, "sept": 9, "sep": 9,
                "oct": 10, "nov": 11, "dic": 12},
    ordinal_suffixes={".º": ("m", False), "º": ("m", False), ".ª": ("f", False), "ª": ("f", False),
                      ".er": ("m", True), "er": ("m", True), ".o": ("m", False), ".a": ("f", False)},
    abbreviations=_ABBREVIATIONS, final_abbreviations=frozenset({"etc."}),
    feminine_nouns=frozenset("hora horas persona personas plaza plazas salida salidas semana semanas calle "
                             "calles estación estaciones vez veces parada paradas noche noches".split()),
    noun_gender=lambda w: "m" if len(w) > 3 and w.isalpha() and w.lower() not in _NOT_NOUNS else None,
    symbols={"&": "y", "+": "más", "%": "por ciento", "°": "grados", "=": "igual a"},
)
normalize_es = Rules(KIT)

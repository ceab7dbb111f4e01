"""Portuguese spoken forms of what a screen shows, Brazilian by default (rules in `normalize_common`).

"14:35" / "14h35" -> catorze e trinta e cinco, "14h" / "14:00" -> catorze horas, "1:00" -> uma hora;
"25/11/2026" -> vinte e cinco de novembro de dois mil e vinte e seis, "1º de maio" -> primeiro de maio;
"R$ 12,50" -> doze reais e cinquenta centavos; "22 horas" -> vinte e duas horas; "3ª saída" -> terceira saída;
"130 km/h" -> cento e trinta quilômetros por hora; "BR-116" -> B R cento e dezesseis; "Av." -> avenida.
"""

from __future__ import annotations

from . import numbers_pt as nums
from .normalize_common import Kit, Rules

MONTHS = ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
          "novembro", "dezembro")


def _day(d: int, prev: str = "") -> str:
    return "primeiro" if d == 1 else nums.cardinal(d)


def _date(d: int, m: int, y: int | None, prev: str) -> str:
    return f"{_day(d)} de {MONTHS[m - 1]}" + (f" de {nums.year(y)}" if y is not None else "")


def _time(h: int, m: int) -> str:
    if m == 0:
        return f"{nums.cardinal(h, 'f')} hora" + ("s" if h != 1 else "")
    return f"{nums.cardinal(h, 'f')} e {nums.cardinal(m)}"


_KM_H = ("quilômetro por hora", "quilômetros por hora", "m")
_UNITS = {
    "km/h": _KM_H, "m/s": ("metro por segundo", "metros por segundo", "m"),
    "l/100 km": ("litro por cem quilômetros", "litros por cem quilômetros", "m"),
    "km/l": ("quilômetro por litro", "quilômetros por litro", "m"),
    "kWh/100 km": ("quilowatt-hora por cem quilômetros", "quilowatts-hora por cem quilômetros", "m"),
    "km": ("quilômetro", "quilômetros", "m"), "m": ("metro", "metros", "m"), "cm": ("centímetro", "centímetros", "m"),
    "mm": ("milímetro", "milímetros", "m"), "m²": ("metro quadrado", "metros quadrados", "m"),
    "kg": ("quilo", "quilos", "m"), "g": ("grama", "gramas", "m"), "t": ("tonelada", "toneladas", "f"),
    "l": ("litro", "litros", "m"), "L": ("litro", "litros", "m"), "ml": ("mililitro", "mililitros", "m"),
    "h": ("hora", "horas", "f"), "min": ("minuto", "minutos", "m"), "s": ("segundo", "segundos", "m"),
    "kW": ("quilowatt", "quilowatts", "m"), "kWh": ("quilowatt-hora", "quilowatts-hora", "m"),
    "W": ("watt", "watts", "m"), "V": ("volt", "volts", "m"), "°C": ("grau", "graus", "m"),
    "° C": ("grau", "graus", "m"), "°": ("grau", "graus", "m"), "%": ("por cento", "por cento", "m"),
    "cv": ("cavalo", "cavalos", "m"), "GB": ("gigabyte", "gigabytes", "m"),
}
_CURRENCIES = {
    "R$": ("real", "reais", "centavo", "centavos", "m"), "BRL": ("real", "reais", "centavo", "centavos", "m"),
    "€": ("euro", "euros", "cêntimo", "cêntimos", "m"), "EUR": ("euro", "euros", "cêntimo", "cêntimos", "m"),
    "US$": ("dólar", "dólares", "centavo", "centavos", "m"), "$": ("dólar", "dólares", "centavo", "centavos", "m"),
    "USD": ("dólar", "dólares", "centavo", "centavos", "m"), "£": ("libra", "libras", "pêni", "pence", "f"),
}
_ABBREVIATIONS = {
    "Sr.": "Senhor", "Sra.": "Senhora", "Dr.": "Doutor", "Dra.": "Doutora", "Av.": "avenida", "av.": "avenida",
    "R.": "rua", "Pç.": "praça", "Pça.": "praça", "Rod.": "rodovia", "Est.": "estrada", "aprox.": "aproximadamente", "Aprox.": "aproximadamente",
    "etc.": "etcétera", "p. ex.": "por exemplo", "nº": "número", "n.º": "número", "Nº": "número", "tel.": "telefone",
    "Tel.": "telefone", "pág.": "página", "S.A.": "sociedade anônima", "Ltda.": "limitada",
    "Sto.": "Santo", "Sta.": "Santa", "GPS": "gê pê esse",
}
KIT = Kit(
    lang="pt", cardinal=nums.cardinal, ordinal=lambda n, g="m", short=False: nums.ordinal(n, g), year=nums.year,
    digits=nums.DIGITS, point="vírgula", minus="menos", range_word="a", months=MONTHS, date=_date, time=_time,
    units=_UNITS, currencies=_CURRENCIES, money_format="{main} e {cents} {sub}", count_gender="m", day=_day,
    month_abbr={"jan": 1, "fev": 2, "mar": 3, "abr": 4, "mai": 5, "jun": 6, "jul": 7, "ago": 8, "set": 9,
                "out": 10, "nov": 11, "dez": 12},
    clock_patterns=(r"(?<![\w:.,])(?P<h>[01]?[0-9]|2[0-4]) ?h ?(?P<m>[0-5][0-9])?(?:min)?(?!\w)",),
    ordinal_suffixes={".º": ("m", False), "º": ("m", False), ".ª": ("f", False), "ª": ("f", False),
                      "°": ("m", False), ".o": ("m", False), ".a": ("f", False)},
    abbreviations=_ABBREVIATIONS, final_abbreviations=frozenset({"etc."}),
    feminine_nouns=frozenset("hora horas pessoa pessoas saída saídas semana semanas rua ruas vez vezes vaga vagas "
                             "estação estações parada paradas noite noites faixa faixas mensagem mensagens".split()),
    symbols={"&": "e", "+": "mais", "%": "por cento", "°": "graus", "=": "igual a"},
)
normalize_pt = Rules(KIT)

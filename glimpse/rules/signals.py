"""The signal-list parser: text pasted from a signal channel into signals.

Brazilian signal channels post lists in many shapes (see
tests/fixtures/signals/corpus.json for the corpus and where each shape was
seen): `M5;EURUSD-OTC;14:30;CALL`, `🇪🇺🇺🇸 EUR/USD - 14:30 - 🔼 COMPRA
(proteção 1 gale)`, blocks of `Ativo:` / `Horário:` / `Direção:` lines,
headers, footers and results already appended. Every line of the text ends
up in exactly one place:

- in a signal (`ParseResult.signals`; a signal written over several lines
  names them all in `lines`);
- in a rejection with a code (stable, English, shared with the app) and a
  reason in pt-BR (`ParseResult.rejected`);
- or ignored as decoration: blank lines, headers, footers, hashtags,
  emoji-only lines, and notes that set the list's defaults
  (`ParseResult.ignored`).

How a line is read. The line is upper-cased and stripped of accents, then
cut into tokens: pairs, times, dates, expiries, gale hints, directions,
time-zone notes, result marks, and words. A line that names at least one of
the three core fields (pair, time, direction) takes part in a signal; lines
that name only some of them are joined with the next lines until the three
are known (multi-line signals). A line without core fields that names an
expiry, a gale cap, a date, OTC or a time zone is a note: it sets that
default for the signals below it (a header `LISTA M5 27/11` makes the
following lines 5-minute signals of that day). A line giving a gale's entry
time under a signal (`Gale 1: 10:01`, `1ª proteção - 10:01`) raises that
signal's gale cap instead of starting a signal. Blank lines end a one-line
signal but not a signal still being written over several lines (messages
space their lines out). A result mark (✅, WIN, LOSS...) is ignored, and so
is the gale level written after it (`✅ G1` is a result, not a cap).

The rules are pure: the caller passes `today` and `now` (wall-clock time in
the market's zone); nothing here reads a clock. The app keeps a TypeScript
port of these rules for its preview (apps/web/src/lib/signals.ts), held to
the same corpus file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from glimpse.rules.pairs import PAIRS

Direction = Literal["call", "put"]

#: The expiries (minutes) the bots trade; a line naming another is rejected.
SUPPORTED_EXPIRIES: tuple[int, ...] = (1, 5, 15)
#: Brasília's offset from UTC, in minutes (no daylight saving since 2019).
BRASILIA_OFFSET = -180
MAX_GALE = 9

# Reason codes: the app maps them to its messages (apps/web/src/lib/signals.ts).
UNRECOGNIZED = "unrecognized"
BAD_TIME = "badTime"
UNKNOWN_PAIR = "unknownPair"
EXPIRY = "expiry"
NO_PAIR = "noPair"
NO_TIME = "noTime"
NO_DIRECTION = "noDirection"
MANY_PAIRS = "manyPairs"
MANY_TIMES = "manyTimes"
MANY_DIRECTIONS = "manyDirections"
DUPLICATE = "duplicate"

# Kinds of ignored lines.
BLANK = "blank"
DECORATION = "decoration"
NOTE = "note"

_CURRENCIES = frozenset(
    "EUR USD GBP JPY CHF CAD AUD NZD BRL MXN CNY CNH HKD SGD INR ZAR TRY SEK NOK DKK PLN RUB "
    "XAU XAG BTC ETH LTC XRP".split()
)
_FLAG_CURRENCY = {
    "EU": "EUR",
    "US": "USD",
    "GB": "GBP",
    "JP": "JPY",
    "CH": "CHF",
    "CA": "CAD",
    "AU": "AUD",
    "NZ": "NZD",
    "BR": "BRL",
    "MX": "MXN",
}
_WORD_DIRECTIONS: dict[str, Direction] = {
    "CALL": "call",
    "PUT": "put",
    "COMPRA": "call",
    "VENDA": "put",
    "ACIMA": "call",
    "ABAIXO": "put",
    "UP": "call",
    "DOWN": "put",
    "BUY": "call",
    "SELL": "put",
}
# After accents are stripped the emoji variation selector (U+FE0F) is gone too.
_EMOJI_DIRECTIONS: dict[str, Direction] = {
    "\U0001f53c": "call",  # 🔼
    "\u2b06": "call",  # ⬆
    "\u2197": "call",  # ↗
    "\u2191": "call",  # ↑
    "\u23eb": "call",  # ⏫
    "\U0001f53a": "call",  # 🔺
    "\U0001f7e2": "call",  # 🟢
    "\U0001f7e9": "call",  # 🟩
    "\U0001f4c8": "call",  # 📈
    "\U0001f53d": "put",  # 🔽
    "\u2b07": "put",  # ⬇
    "\u2198": "put",  # ↘
    "\u2193": "put",  # ↓
    "\u23ec": "put",  # ⏬
    "\U0001f53b": "put",  # 🔻
    "\U0001f534": "put",  # 🔴
    "\U0001f7e5": "put",  # 🟥
    "\U0001f4c9": "put",  # 📉
}
_RESULT_MARKS = frozenset("\u2705 \u2714 \u2611 \u274c \u2716 \u274e".split())  # ✅ ✔ ☑ ❌ ✖ ❎
_RESULT_WORDS = frozenset("WIN WINS LOSS LOSE GREEN RED HIT DOJI EMPATE GAIN SG".split())
_CANCEL_WORDS = frozenset(
    "CANCELADO CANCELADA CANCELAR CANCELED CANCELLED ANULADO ANULADA EVITAR EVITE".split()
)
# Labels and connecting words of signal lines: neither a field nor a sign the line is prose.
_FILLER = frozenset(
    """
    A AS AO ATE E O OS NO NA NOS NAS EM DE DO DA DOS DAS PARA PRA POR COM MAX MAXIMO MAXIMA
    ATIVO ATIVOS PAR PARES PARIDADE MOEDA HORARIO HORARIOS HORA HORAS ENTRADA ENTRADAS
    DIRECAO ORDEM OPERACAO OPERACOES EXPIRACAO EXPIRA PERIODO TIMEFRAME TF TEMPO VELA VELAS
    PROTECAO PROTECOES GALE GALES MARTINGALE MARTINGALES MG SINAL SINAIS LISTA LISTAS VIP FREE
    OPCAO OPCOES BINARIA BINARIAS DIGITAL TURBO HOJE DIA DATA MINUTO MINUTOS MIN FUSO
    OFICIAL BRASIL ENTRAR ENTRE OPERAR NOVO NOVA CONFIRMADO CONFIRMADA AGORA
    UTILIZAR USAR USE FAZER FACA EXP CASO SE NECESSARIO NECESSARIA
    ASSET PAIR TIME DIRECTION EXPIRY EXPIRATION ENTRY SIGNAL SIGNALS AT ON THE LIST NEW
    IQ OPTION IQOPTION CATALOGACAO CATALOGADOR CATALOGADA RESULTADO RESULTADOS
    """.split()
)

_TZ_RE = re.compile(r"(?:UTC|GMT)\s?([+\-\u2212])\s?([0-9]{1,2})(?::?([0-9]{2}))?(?![0-9])")
_TZ_ZERO_RE = re.compile(r"(?:UTC|GMT)(?![A-Z0-9+\-\u2212])")
_BRASILIA_RE = re.compile(r"(?:HORA(?:RIO)?\s(?:OFICIAL\s)?DE\s)?BRASILIA(?![A-Z0-9])|BRT(?![A-Z0-9])")
_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?![0-9])")
_DMY_RE = re.compile(
    r"([0-9]{1,2})/([0-9]{1,2})(?:/([0-9]{4}|[0-9]{2}))?(?![0-9/])|([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})(?![0-9])"
)
_TIME_RE = re.compile(r"([0-9]{1,2})[:H]([0-9]{2})(?::([0-9]{2}))?(?![0-9])")
# "às 14h": a whole hour (1H to 4H are expiries)
_HOUR_RE = re.compile(r"([0-9]{1,2})H(?![A-Z0-9])")
_DOT_TIME_RE = re.compile(r"[0-9]{1,2}\.[0-9]{2}(?![0-9.])")
_EXPIRY_RE = re.compile(
    r"M([0-9]{1,3})(?![A-Z0-9])|H([1-4])(?![A-Z0-9])"
    r"|([0-9]{1,3})\s?(?:MINUTOS|MINUTO|MINS|MIN|M)(?![A-Z0-9])|([1-4])\s?(?:HORAS|HORA|H)(?![A-Z0-9])"
)
_GALE_RE = re.compile(
    r"(?:MARTINGALES|MARTINGALE|GALES|GALE|MG|G|PROTECOES|PROTECAO)\s?:?\s?(?:ATE\s)?([0-9])(?![0-9A-Z])"
    r"|([0-9])\s?[\u00aa\u00ba\u00b0]?\s?(?:MARTINGALES|MARTINGALE|GALES|GALE|MG|G|PROTECOES|PROTECAO"
    r"|POSICOES|POSICAO|REENTRADAS|REENTRADA)(?![A-Z0-9])"
    r"|(SEM)\s(?:MARTINGALES|MARTINGALE|GALES|GALE|PROTECOES|PROTECAO)(?![A-Z0-9])"
)
_PAIR_RE = re.compile(
    r"([A-Z]{3})(?:\s?/\s?)?([A-Z]{3})(\s?[\-_]\s?OTC|\s?\(\s?OTC\s?\)|\s(?:OTC))?(?![A-Z0-9])"
)
_FLAG_RE = re.compile("([\U0001f1e6-\U0001f1ff])([\U0001f1e6-\U0001f1ff])")
_WORD_RE = re.compile(r"[A-Z0-9]+")
_SEPARATORS = frozenset(" \t;,|:=>*_-\u2013\u2014~.()[]{}\"'`!?#@/\\+")


@dataclass(frozen=True)
class ParsedSignal:
    line: int  # the first line of the signal, 1-based
    ativo: str
    hora: str  # "HH:MM" in the market's time zone
    operacao: Direction
    expiry: int | None = None  # minutes; None when the list names none
    gale: int | None = None  # the signal's own gale cap; None when it names none
    date: date | None = None
    past: bool = False  # its minute has already begun at `now`
    utc_offset: int | None = None  # minutes, as the list declared it (UTC-3: -180)
    lines: tuple[int, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "lines": list(self.lines or (self.line,)),
            "ativo": self.ativo,
            "hora": self.hora,
            "operacao": self.operacao,
            "expiry": self.expiry,
            "gale": self.gale,
            "date": None if self.date is None else self.date.isoformat(),
            "past": self.past,
            "utc_offset": self.utc_offset,
        }


@dataclass(frozen=True)
class Rejection:
    line: int
    text: str  # the line (lines joined by " / ") as written
    code: str  # stable English code (module constants)
    reason: str  # what a trader reads, pt-BR
    detail: str | None = None  # the text at fault (upper-cased, without accents)
    first_line: int | None = None  # for duplicates: the line kept
    lines: tuple[int, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "lines": list(self.lines or (self.line,)),
            "text": self.text,
            "code": self.code,
            "reason": self.reason,
            "detail": self.detail,
            "first_line": self.first_line,
        }


@dataclass(frozen=True)
class IgnoredLine:
    line: int
    kind: str  # BLANK, DECORATION or NOTE (a header that set defaults)

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "kind": self.kind}


@dataclass
class ParseResult:
    signals: list[ParsedSignal] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    ignored: list[IgnoredLine] = field(default_factory=list)

    def to_json(self) -> dict[str, list[dict[str, object]]]:
        return {
            "signals": [s.to_json() for s in self.signals],
            "rejected": [r.to_json() for r in self.rejected],
            "ignored": [i.to_json() for i in self.ignored],
        }


# ---------------------------------------------------------------- one line


@dataclass
class _Line:
    """The fields one line names (values are already checked unless noted)."""

    number: int
    text: str
    pairs: list[str] = field(default_factory=list)
    bad_pairs: list[str] = field(default_factory=list)  # pair-shaped, not traded
    flags: list[str] = field(default_factory=list)  # currencies of flag emoji, in order
    times: list[str] = field(default_factory=list)
    bad_times: list[str] = field(default_factory=list)
    word_dirs: list[Direction] = field(default_factory=list)
    emoji_dirs: list[Direction] = field(default_factory=list)
    expiries: list[int] = field(default_factory=list)
    gales: list[int] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    bad_dates: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    otc: bool = False
    cancel: str | None = None
    unknown: list[str] = field(default_factory=list)
    gale_steps: list[int] = field(default_factory=list)  # "Gale 1: 10:01", "1ª proteção - 10:01"

    def pair_values(self) -> list[str]:
        named = _unique(self.pairs + self.bad_pairs)
        if named:
            return named
        if len(self.flags) >= 2:
            return [self.flags[0] + self.flags[1]]
        return []

    def directions(self) -> list[Direction]:
        chosen = self.word_dirs or self.emoji_dirs
        return [d for d in ("call", "put") if d in chosen]

    def core(self) -> set[str]:
        kinds = set()
        if self.pair_values():
            kinds.add("pair")
        if self.times or self.bad_times:
            kinds.add("time")
        if self.directions():
            kinds.add("dir")
        return kinds

    def has_context(self) -> bool:
        return bool(self.expiries or self.gales or self.dates or self.bad_dates or self.otc or self.offsets)


def _unique(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M")).upper()


def _day_of(day: int, month: int, year: int | None, today: date | None) -> date | None:
    """The date, or None when it does not exist. A day without a year is the one nearest `today`."""
    try:
        if year is not None:
            return date(year, month, day)
        if today is None:
            return None
        candidates = []
        for y in (today.year - 1, today.year, today.year + 1):
            try:
                candidates.append(date(y, month, day))
            except ValueError:
                continue
        return min(candidates, key=lambda d: abs((d - today).days)) if candidates else None
    except ValueError:
        return None


def _read_line(number: int, raw: str, known: Collection[str], today: date | None) -> _Line:
    s = _normalize(raw)
    out = _Line(number=number, text=raw.strip())
    in_result = False
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace() or c in _SEPARATORS:
            i += 1
            continue
        m = _TZ_RE.match(s, i)
        if m:
            sign = -1 if m.group(1) in "-\u2212" else 1
            out.offsets.append(sign * (int(m.group(2)) * 60 + int(m.group(3) or 0)))
            i = m.end()
            continue
        m = _TZ_ZERO_RE.match(s, i)
        if m:
            out.offsets.append(0)
            i = m.end()
            continue
        m = _BRASILIA_RE.match(s, i)
        if m:
            out.offsets.append(BRASILIA_OFFSET)
            i = m.end()
            continue
        m = _ISO_DATE_RE.match(s, i)
        if m:
            d = _day_of(int(m.group(3)), int(m.group(2)), int(m.group(1)), today)
            (out.dates.append(d) if d else out.bad_dates.append(m.group(0)))
            i = m.end()
            continue
        m = _DMY_RE.match(s, i)
        if m:
            if m.group(1) is not None:
                year_text = m.group(3)
                year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
                d = _day_of(int(m.group(1)), int(m.group(2)), year, today)
            else:
                d = _day_of(int(m.group(4)), int(m.group(5)), int(m.group(6)), today)
            (out.dates.append(d) if d else out.bad_dates.append(m.group(0)))
            i = m.end()
            continue
        m = _TIME_RE.match(s, i)
        if m:
            h, mi, sec = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
            if h > 23 or mi > 59 or sec > 59:
                out.bad_times.append(m.group(0))
            else:
                out.times.append(f"{h:02d}:{mi:02d}")
            in_result = False
            i = m.end()
            continue
        m = _DOT_TIME_RE.match(s, i)
        if m:
            out.bad_times.append(m.group(0))
            i = m.end()
            continue
        m = _GALE_RE.match(s, i)
        if m:
            if not in_result:
                value = 0 if m.group(3) else int(m.group(1) or m.group(2))
                out.gales.append(value)
            i = m.end()
            continue
        m = _EXPIRY_RE.match(s, i)
        if m:
            if m.group(1) or m.group(3):
                out.expiries.append(int(m.group(1) or m.group(3)))
            else:
                out.expiries.append(int(m.group(2) or m.group(4)) * 60)
            i = m.end()
            continue
        m = _HOUR_RE.match(s, i)
        if m:
            if int(m.group(1)) > 23:
                out.bad_times.append(m.group(0))
            else:
                out.times.append(f"{int(m.group(1)):02d}:00")
            in_result = False
            i = m.end()
            continue
        m = _PAIR_RE.match(s, i)
        if m and m.group(1) in _CURRENCIES and m.group(2) in _CURRENCIES:
            name = m.group(1) + m.group(2) + ("-OTC" if m.group(3) else "")
            (out.pairs if name in known else out.bad_pairs).append(name)
            in_result = False
            i = m.end()
            continue
        m = _FLAG_RE.match(s, i)
        if m:
            country = chr(ord(m.group(1)) - 0x1F1E6 + 65) + chr(ord(m.group(2)) - 0x1F1E6 + 65)
            currency = _FLAG_CURRENCY.get(country)
            if currency:
                out.flags.append(currency)
            i = m.end()
            continue
        m = _WORD_RE.match(s, i)
        if m:
            word = m.group(0)
            i = m.end()
            if word in _WORD_DIRECTIONS:
                out.word_dirs.append(_WORD_DIRECTIONS[word])
                in_result = False
            elif word in _RESULT_WORDS:
                in_result = True
            elif word == "OTC":
                out.otc = True
            elif word in _CANCEL_WORDS:
                out.cancel = out.cancel or word
            elif word.isdigit() or word in _FILLER:
                pass
            else:
                out.unknown.append(word)
            continue
        if c in _EMOJI_DIRECTIONS:
            out.emoji_dirs.append(_EMOJI_DIRECTIONS[c])
        elif c in _RESULT_MARKS:
            in_result = True
        i += 1
    if out.otc and out.pairs + out.bad_pairs:
        # "OTC EURUSD", "EURUSD ... OTC": the word belongs to the line's pair
        out.pairs, out.bad_pairs = _with_otc(out.pairs + out.bad_pairs, known)
        out.otc = False
    return out


def _with_otc(pairs: list[str], known: Collection[str]) -> tuple[list[str], list[str]]:
    good: list[str] = []
    bad: list[str] = []
    for p in pairs:
        name = p if p.endswith("-OTC") else p + "-OTC"
        (good if name in known else bad).append(name)
    return good, bad


# ------------------------------------------------------- lines into signals


@dataclass
class _Defaults:
    expiry: int | None = None
    gale: int | None = None
    date: date | None = None
    otc: bool = False
    offset: int | None = None


@dataclass
class _Block:
    lines: list[_Line] = field(default_factory=list)

    def values(self, name: str) -> list[object]:
        found: list[object] = []
        for line in self.lines:
            if name == "pair":
                found += line.pair_values()
            elif name == "time":
                found += line.times + line.bad_times
            elif name == "dir":
                found += line.directions()
            elif name == "expiry":
                found += line.expiries
            elif name == "gale":
                found += line.gales
            elif name == "date":
                found += [*line.dates, *line.bad_dates]
        return found

    def complete(self) -> bool:
        return all(self.values(k) for k in ("pair", "time", "dir"))

    def takes(self, line: _Line) -> bool:
        """Whether `line` adds fields this block lacks, and none it already has."""
        for name, mine in (
            ("pair", line.pair_values()),
            ("time", line.times + line.bad_times),
            ("dir", line.directions()),
            ("expiry", line.expiries),
            ("gale", line.gales),
            ("date", [*line.dates, *line.bad_dates]),
        ):
            if mine and self.values(name):
                return False
        return True


def _line_conflict(line: _Line) -> tuple[str, str | None] | None:
    """The reason a line cannot be one signal by itself, if any."""
    if len(line.pair_values()) > 1:
        return MANY_PAIRS, None
    if len(_unique(line.times + line.bad_times)) > 1:
        return MANY_TIMES, None
    if len(line.directions()) > 1:
        return MANY_DIRECTIONS, None
    if len(set(line.expiries)) > 1:
        return EXPIRY, " / ".join(f"M{e}" for e in _unique_ints(line.expiries))
    if len(set(line.gales)) > 1:
        return UNRECOGNIZED, " / ".join(f"G{g}" for g in _unique_ints(line.gales))
    days = _unique([d.isoformat() for d in line.dates] + line.bad_dates)
    if len(days) > 1:
        return UNRECOGNIZED, " / ".join(days)
    return None


def _is_gale_step(line: _Line) -> bool:
    """A line giving a gale's entry time under its signal ("Gale 1: 10:01")."""
    return bool(
        line.gales and (line.times or line.bad_times) and not line.pair_values() and not line.directions()
    )


def _unique_ints(values: Iterable[int]) -> list[int]:
    seen: list[int] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _reason(
    code: str, detail: str | None = None, first_line: int | None = None, *, opposite: bool = False
) -> str:
    if code == UNRECOGNIZED:
        if detail in _CANCEL_WORDS:
            return f"sinal marcado como «{detail}»"
        if detail and " / " in detail:
            return f"informações que se contradizem ({detail})"
        return f"não entendi «{detail}»"
    if code == BAD_TIME:
        return f"horário inválido «{detail}» (use HH:MM, de 00:00 a 23:59)"
    if code == UNKNOWN_PAIR:
        return f"o ativo «{detail}» não é operado pelo Glimpse"
    if code == EXPIRY:
        if detail:
            if " / " in detail:
                return f"mais de uma expiração no mesmo sinal ({detail})"
            return f"expiração {detail} não é operada (use M1, M5 ou M15)"
        return "expiração não operada (use M1, M5 ou M15)"
    if code == NO_PAIR:
        return "falta o ativo (ex.: EURUSD)"
    if code == NO_TIME:
        return "falta o horário (ex.: 14:30)"
    if code == NO_DIRECTION:
        return "falta a direção (CALL ou PUT)"
    if code == MANY_PAIRS:
        return "mais de um ativo no mesmo sinal"
    if code == MANY_TIMES:
        return "mais de um horário no mesmo sinal"
    if code == MANY_DIRECTIONS:
        return "direções diferentes no mesmo sinal"
    if code == DUPLICATE:
        if opposite:
            return f"contradiz o sinal da linha {first_line} (mesmo ativo e horário, direção oposta)"
        return f"sinal repetido (igual ao da linha {first_line})"
    return code


def _shift(hora: str, day: date | None, minutes: int) -> tuple[str, date | None]:
    h, m = int(hora[:2]), int(hora[3:])
    total = h * 60 + m + minutes
    days, rest = divmod(total, 24 * 60)
    return f"{rest // 60:02d}:{rest % 60:02d}", None if day is None else day + timedelta(days=days)


def parse_signals(
    text: str,
    *,
    today: date | None = None,
    now: datetime | None = None,
    known_pairs: Collection[str] | None = None,
    expiries: Collection[int] = SUPPORTED_EXPIRIES,
    market_utc_offset: int | None = None,
) -> ParseResult:
    """Read a pasted signal list.

    `now` is the wall-clock time in the market's zone (naive): a signal whose
    minute has begun is marked `past`. `today` (default: `now`'s date) gives
    the year of dates written without one. `known_pairs` defaults to the pairs
    Glimpse trades. `market_utc_offset` (minutes, -180 for Brasília): when
    given, times of a list that declares another zone ("UTC-5") are moved to
    the market's clock; when None, the declared zone is only reported.
    """
    known: Collection[str] = PAIRS if known_pairs is None else frozenset(known_pairs)
    if today is None and now is not None:
        today = now.date()
    result = ParseResult()
    defaults = _Defaults()
    seen: dict[tuple[date | None, str, str], ParsedSignal] = {}
    pending = _Block()

    def reject(lines: list[_Line], code: str, detail: str | None = None) -> None:
        result.rejected.append(
            Rejection(
                line=lines[0].number,
                text=" / ".join(line.text for line in lines),
                code=code,
                reason=_reason(code, detail),
                detail=detail,
                lines=tuple(line.number for line in lines),
            )
        )

    def flush() -> None:
        nonlocal pending
        block, pending = pending, _Block()
        if block.lines:
            _finish(block)

    def _finish(block: _Block) -> None:
        lines = block.lines
        for line in lines:
            if line.bad_times:
                return reject(lines, BAD_TIME, line.bad_times[0])
        for line in lines:
            if line.bad_dates:
                return reject(lines, UNRECOGNIZED, line.bad_dates[0])
        pairs = [str(p) for p in block.values("pair")]
        times = [str(t) for t in block.values("time")]
        dirs = block.values("dir")
        if not pairs:
            return reject(lines, NO_PAIR)
        if not times:
            return reject(lines, NO_TIME)
        if not dirs:
            return reject(lines, NO_DIRECTION)
        cancel = next((line.cancel for line in lines if line.cancel), None)
        if cancel:
            return reject(lines, UNRECOGNIZED, cancel)
        ativo = pairs[0]
        otc = any(line.otc for line in lines) or defaults.otc
        if otc and not ativo.endswith("-OTC"):
            ativo += "-OTC"
        if ativo not in known:
            return reject(lines, UNKNOWN_PAIR, ativo)
        expiry_values = block.values("expiry")
        expiry = int(str(expiry_values[0])) if expiry_values else defaults.expiry
        if expiry is not None and expiry not in expiries:
            return reject(lines, EXPIRY, f"M{expiry}")
        gale_values = block.values("gale")
        steps = [g for line in lines for g in line.gale_steps]
        if gale_values:
            gale: int | None = int(str(gale_values[0]))
        elif steps:
            gale = max(steps)
        else:
            gale = defaults.gale
        day_values = [d for line in lines for d in line.dates]
        day = day_values[0] if day_values else defaults.date
        offsets = [o for line in lines for o in line.offsets]
        offset = offsets[0] if offsets else defaults.offset
        hora = times[0]
        if market_utc_offset is not None and offset is not None and offset != market_utc_offset:
            hora, day = _shift(hora, day, market_utc_offset - offset)
        past = False
        if now is not None:
            start = datetime.combine(day or now.date(), datetime.strptime(hora, "%H:%M").time())
            past = start <= now.replace(tzinfo=None)
        signal = ParsedSignal(
            line=lines[0].number,
            ativo=ativo,
            hora=hora,
            operacao="call" if dirs[0] == "call" else "put",
            expiry=expiry,
            gale=gale,
            date=day,
            past=past,
            utc_offset=offset,
            lines=tuple(line.number for line in lines),
        )
        key = (day, ativo, hora)
        first = seen.get(key)
        if first is not None:
            result.rejected.append(
                Rejection(
                    line=signal.line,
                    text=" / ".join(line.text for line in lines),
                    code=DUPLICATE,
                    reason=_reason(
                        DUPLICATE, first_line=first.line, opposite=first.operacao != signal.operacao
                    ),
                    first_line=first.line,
                    lines=signal.lines,
                )
            )
            return None
        seen[key] = signal
        result.signals.append(signal)
        return None

    def set_defaults(line: _Line) -> None:
        if line.expiries:
            defaults.expiry = line.expiries[-1]
        if line.gales:
            defaults.gale = line.gales[-1]
        if line.dates:
            defaults.date = line.dates[-1]
        if line.otc:
            defaults.otc = True
        if line.offsets:
            defaults.offset = line.offsets[-1]

    for index, raw in enumerate(re.split(r"\r\n|\r|\n", text)):
        number = index + 1
        if not raw.strip():
            # a message may space out the lines of one signal; a one-line signal ends here
            if pending.complete() and len(pending.lines) == 1:
                flush()
            result.ignored.append(IgnoredLine(number, BLANK))
            continue
        line = _read_line(number, raw, known, today)
        if _is_gale_step(line) and pending.values("time"):
            # the time on this line is the gale's entry, not a signal's
            line.gale_steps, line.gales, line.times, line.bad_times = line.gales, [], [], []
            pending.lines.append(line)
            continue
        if _is_gale_step(line) and not pending.lines:
            result.ignored.append(IgnoredLine(number, DECORATION))  # gale times of no signal
            continue
        core = line.core()
        # "🟢🟢🟢" is a ruler, but "Direção: 🔼" completes the signal being written
        only_emoji_dir = (
            core == {"dir"}
            and not line.word_dirs
            and not (pending.lines and not pending.complete() and pending.takes(line))
        )
        prose = len(core) == 1 and bool(line.unknown)
        conflict = _line_conflict(line)
        if not core or only_emoji_dir or prose or (conflict is not None and len(core) < 2):
            if line.offsets and not core:
                defaults.offset = line.offsets[-1]
            if core or not line.has_context() or line.unknown or line.cancel:
                result.ignored.append(IgnoredLine(number, DECORATION))
                continue
            # a note: it completes the signal being written, or sets the list's defaults
            if pending.lines and (not pending.complete() or len(pending.lines) > 1) and pending.takes(line):
                pending.lines.append(line)
                continue
            flush()
            set_defaults(line)
            result.ignored.append(IgnoredLine(number, NOTE))
            continue
        if conflict is not None:
            flush()
            reject([line], conflict[0], conflict[1])
            continue
        if pending.lines and (pending.complete() or not pending.takes(line)):
            flush()
        pending.lines.append(line)
    flush()
    return result


def render_table(result: ParseResult) -> str:
    """The result as a plain table, for the command line."""
    rows = [f"{'line':>4}  {'ativo':<11} {'hora':<5} {'op':<4} {'exp':>3} {'gale':>4} {'date':<10} note"]
    for s in result.signals:
        rows.append(
            f"{s.line:>4}  {s.ativo:<11} {s.hora:<5} {s.operacao:<4} {s.expiry or '-':>3} "
            f"{'-' if s.gale is None else s.gale:>4} {s.date.isoformat() if s.date else '-':<10} "
            f"{'past' if s.past else ''}".rstrip()
        )
    if result.rejected:
        rows.append("")
        rows.append("rejected:")
        for r in result.rejected:
            rows.append(f"{r.line:>4}  {r.code:<14} {r.reason}: {r.text}")
    return "\n".join(rows)

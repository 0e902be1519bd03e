"""The signal-list parser against the shared corpus, the CLI, and generated lists."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glimpse.cli.main import main
from glimpse.rules import signals
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.rules.signals import ParseResult, parse_signals

CORPUS_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "signals" / "corpus.json"
CORPUS: dict[str, Any] = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = CORPUS["cases"]
TODAY = date.fromisoformat(CORPUS["options"]["today"])
MARKET_OFFSET: int = CORPUS["options"]["market_utc_offset"]


def run_case(case: dict[str, Any]) -> ParseResult:
    now = datetime.fromisoformat(case["now"]) if "now" in case else None
    return parse_signals(case["input"], today=TODAY, now=now, market_utc_offset=MARKET_OFFSET)


def expected_signal(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "line": spec["line"],
        "lines": spec.get("lines", [spec["line"]]),
        "ativo": spec["ativo"],
        "hora": spec["hora"],
        "operacao": spec["operacao"],
        "expiry": spec.get("expiry"),
        "gale": spec.get("gale"),
        "date": spec.get("date"),
        "past": spec.get("past", False),
        "utc_offset": spec.get("utc_offset"),
    }


def expected_rejection(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "line": spec["line"],
        "lines": spec.get("lines", [spec["line"]]),
        "code": spec["code"],
        "detail": spec.get("detail"),
        "first_line": spec.get("first_line"),
    }


def accounted_lines(result: ParseResult) -> list[int]:
    found = [n for s in result.signals for n in s.lines]
    found += [n for r in result.rejected for n in r.lines]
    found += [i.line for i in result.ignored]
    return sorted(found)


def line_count(text: str) -> int:
    return len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def test_the_corpus_is_big_and_sourced():
    assert len(CASES) >= 60
    assert {c["family"] for c in CASES} <= set(CORPUS["sources"])
    assert CORPUS["pairs"] == list(PAIR_NAMES)  # the app's copy of the pair names cannot drift


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus(case: dict[str, Any]):
    result = run_case(case)
    got_signals = [s.to_json() for s in result.signals]
    got_rejected = [
        {k: r.to_json()[k] for k in ("line", "lines", "code", "detail", "first_line")}
        for r in result.rejected
    ]
    assert got_signals == [expected_signal(s) for s in case["signals"]]
    assert got_rejected == [expected_rejection(r) for r in case["rejected"]]
    # every line is a signal's, a rejection's or ignored, exactly once
    assert accounted_lines(result) == list(range(1, line_count(case["input"]) + 1))


def test_rejections_speak_portuguese_and_name_the_fault():
    result = parse_signals(
        "M1;EURUSD;25:30;PUT\nEURUSD CALL\nEURUSD 10:00 PUT\nEURUSD 10:00 PUT", today=TODAY
    )
    reasons = {r.code: r.reason for r in result.rejected}
    assert reasons["badTime"] == "horário inválido «25:30» (use HH:MM, de 00:00 a 23:59)"
    assert reasons["noTime"] == "falta o horário (ex.: 14:30)"
    assert reasons["duplicate"] == "sinal repetido (igual ao da linha 3)"


def test_the_issue_15_lines_that_were_rejected_are_accepted():
    text = "EURUSD 10:00 🔼\nGBPUSD 10:05 ⬆️\nUSDJPY 10:10 ACIMA\nAUDCAD 10:15 PUT (proteção 1 gale)\nM5;EURJPY;10:20;CALL\nEvitem"
    result = parse_signals(text, today=TODAY)
    assert [(s.ativo, s.operacao, s.expiry, s.gale) for s in result.signals] == [
        ("EURUSD", "call", None, None),
        ("GBPUSD", "call", None, None),
        ("USDJPY", "call", None, None),
        ("AUDCAD", "put", None, 1),
        ("EURJPY", "call", 5, None),
    ]
    assert result.rejected == []
    assert [(i.line, i.kind) for i in result.ignored] == [(6, signals.DECORATION)]


def test_known_pairs_and_expiries_are_the_callers():
    assert parse_signals("EURUSD 09:30 PUT", known_pairs=["GBPUSD"]).rejected[0].detail == "EURUSD"
    assert parse_signals("M30 EURUSD 09:30 PUT", expiries=(1, 30)).signals[0].expiry == 30


def test_without_a_market_zone_declared_zones_are_only_reported():
    result = parse_signals("UTC-4\nEURUSD 10:00 CALL")
    assert (result.signals[0].hora, result.signals[0].utc_offset) == ("10:00", -240)


def test_a_date_without_a_year_needs_today():
    assert parse_signals("27/11 EURUSD 10:00 CALL").rejected[0].detail == "27/11"
    assert parse_signals("27/11 EURUSD 10:00 CALL", now=datetime(2026, 11, 27, 9)).signals[0].date == TODAY


def test_the_rule_reads_no_clock():
    source = Path(signals.__file__).read_text(encoding="utf-8")
    for call in ("datetime.now", "date.today", "time.time", "utcnow"):
        assert call not in source


# ------------------------------------------------------------------ the CLI


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "lista.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = write(tmp_path, "LISTA M5\nEURUSD 10:00 🔼 (proteção 1 gale)\nXAUUSD 10:05 PUT\n")
    assert main(["signals", "parse", path, "--json", "--now", "2026-11-27T09:00"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["signals"] == [
        {
            "line": 2,
            "lines": [2],
            "ativo": "EURUSD",
            "hora": "10:00",
            "operacao": "call",
            "expiry": 5,
            "gale": 1,
            "date": None,
            "past": False,
            "utc_offset": None,
        }
    ]
    assert [(r["line"], r["code"], r["detail"]) for r in out["rejected"]] == [(3, "unknownPair", "XAUUSD")]


def test_cli_table_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = write(tmp_path, "EURUSD 10:00 CALL\nEURUSD CALL\n")
    assert main(["signals", "parse", path, "--now", "2026-11-27T11:00"]) == 0
    out = capsys.readouterr().out
    assert "EURUSD" in out and "past" in out
    assert "noTime" in out and "falta o horário" in out
    assert main(["signals", "parse", path, "--strict", "--now", "2026-11-27T09:00"]) == 1
    clean = write(tmp_path, "EURUSD 10:00 CALL\n")
    assert main(["signals", "parse", clean, "--strict", "--now", "2026-11-27T09:00"]) == 0


def test_cli_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["signals", "parse", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("EURUSD 10:00 CALL proteção".encode("latin-1"))
    assert main(["signals", "parse", str(bad)]) == 2
    assert main(["signals", "parse", str(bad), "--now", "yesterday"]) == 2


def test_cli_reads_the_market_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = write(tmp_path, "UTC-4\nEURUSD 10:00 CALL\n")
    assert (
        main(["signals", "parse", path, "--json", "--tz", "America/Sao_Paulo", "--now", "2026-11-27T09:00"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["signals"][0]["hora"] == "11:00"
    assert main(["signals", "parse", path, "--tz", "Mars/Olympus"]) == 2


# ------------------------------------------------------------ generated lists

OTC_CAPABLE = sorted({p.removesuffix("-OTC") for p in PAIR_NAMES if p.endswith("-OTC")})


@st.composite
def a_signal(draw: st.DrawFn) -> dict[str, Any]:
    ativo = draw(st.sampled_from(PAIR_NAMES))
    return {
        "ativo": ativo,
        "hora": f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}",
        "operacao": draw(st.sampled_from(["call", "put"])),
        "expiry": draw(st.sampled_from([None, 1, 5, 15])),
        "gale": draw(st.sampled_from([None, 0, 1, 2, 3])),
        "date": draw(st.one_of(st.none(), st.dates(date(2026, 6, 1), date(2027, 5, 31)))),
    }


def render_pair(ativo: str, style: int) -> str:
    base, otc = ativo.removesuffix("-OTC"), ativo.endswith("-OTC")
    slash = f"{base[:3]}/{base[3:]}"
    if not otc:
        return [base, slash, base.lower(), slash][style % 4]
    return [f"{base}-OTC", f"{slash} (OTC)", f"{base}_otc", f"{base} OTC", f"{slash}-OTC"][style % 5]


CALLS = ["CALL", "COMPRA", "ACIMA", "UP", "BUY", "🔼", "⬆️", "↗️", "🟢", "📈", "call", "Compra"]
PUTS = ["PUT", "VENDA", "ABAIXO", "DOWN", "SELL", "🔽", "⬇️", "↘️", "🔴", "📉", "put", "Venda"]


def render_expiry(minutes: int, style: int) -> str:
    return [f"M{minutes}", f"{minutes}M", f"{minutes}MIN", f"{minutes} minutos", f"m{minutes}"][style % 5]


def render_gale(gale: int, style: int) -> str:
    if gale == 0:
        return ["(sem gale)", "sem gales", "G0"][style % 3]
    return [f"G{gale}", f"(proteção {gale} gale)", f"até {gale} gales", f"{gale}G", f"Gale: {gale}"][
        style % 5
    ]


def render_time(hora: str, style: int) -> str:
    h, m = hora.split(":")
    return [hora, f"{hora}:00", f"{h}h{m}", f"{int(h)}:{m}", f"às {hora}"][style % 5]


def render_date(day: date, style: int) -> str:
    return [day.isoformat(), day.strftime("%d/%m/%Y"), day.strftime("%d/%m/%y")][style % 3]


def render(signal: dict[str, Any], order: list[int], sep: str, styles: list[int]) -> str:
    fields = [
        render_pair(signal["ativo"], styles[0]),
        render_time(signal["hora"], styles[1]),
        (CALLS if signal["operacao"] == "call" else PUTS)[styles[2] % len(CALLS)],
    ]
    if signal["expiry"] is not None:
        fields.append(render_expiry(signal["expiry"], styles[3]))
    if signal["date"] is not None:
        fields.append(render_date(signal["date"], styles[4]))
    ordered = [fields[i] for i in order if i < len(fields)] + [
        f for i, f in enumerate(fields) if i not in order
    ]
    line = sep.join(ordered)
    if signal["gale"] is not None:
        line += " " + render_gale(signal["gale"], styles[5])
    return line


def as_parsed(signal: dict[str, Any]) -> tuple[Any, ...]:
    return (
        signal["ativo"],
        signal["hora"],
        signal["operacao"],
        signal["expiry"],
        signal["gale"],
        signal["date"],
    )


STYLES = st.lists(st.integers(0, 59), min_size=6, max_size=6)
ORDERS = st.permutations(range(5))
SEPARATORS = st.sampled_from([";", ",", " | ", " - ", " ", "\t", " ; "])


@settings(max_examples=300, deadline=None)
@given(a_signal(), ORDERS, SEPARATORS, STYLES, st.sampled_from(["", "✅", "❌ LOSS", "WIN G1", "✅ WIN SG"]))
def test_a_rendered_signal_parses_back(
    signal: dict[str, Any], order: list[int], sep: str, styles: list[int], result_mark: str
):
    line = render(signal, order, sep, styles)
    if result_mark:
        line += " " + result_mark
    result = parse_signals(line, today=TODAY)
    assert result.rejected == [], line
    assert [(s.ativo, s.hora, s.operacao, s.expiry, s.gale, s.date) for s in result.signals] == [
        as_parsed(signal)
    ], line


@settings(max_examples=150, deadline=None)
@given(a_signal(), STYLES, st.booleans())
def test_a_signal_written_over_several_lines_parses_back(
    signal: dict[str, Any], styles: list[int], blank_after: bool
):
    rows = [f"📊 Ativo: {render_pair(signal['ativo'], styles[0])}"]
    if signal["expiry"] is not None:
        rows.append(f"⏰ Período: {render_expiry(signal['expiry'], styles[3])}")
    rows.append(f"⏱ Horário: {render_time(signal['hora'], styles[1])}")
    rows.append(f"Direção: {(CALLS if signal['operacao'] == 'call' else PUTS)[styles[2] % len(CALLS)]}")
    if signal["date"] is not None:
        rows.append(f"📅 {render_date(signal['date'], styles[4])}")
    if signal["gale"] is not None:
        rows.append(f"Proteção: {render_gale(signal['gale'], styles[5])}")
    text = "🎯 Sinal 🎯\n" + "\n".join(rows) + ("\n\n" if blank_after else "\n") + "Bons trades!"
    result = parse_signals(text, today=TODAY)
    assert result.rejected == [], text
    assert [(s.ativo, s.hora, s.operacao, s.expiry, s.gale, s.date) for s in result.signals] == [
        as_parsed(signal)
    ], text
    assert result.signals[0].lines == tuple(range(2, 2 + len(rows)))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(a_signal(), min_size=1, max_size=12, unique_by=lambda s: (s["ativo"], s["hora"], s["date"])),
    STYLES,
)
def test_a_list_parses_back_in_order(items: list[dict[str, Any]], styles: list[int]):
    text = (
        "🔥 LISTA VIP 🔥\n\n"
        + "\n".join(render(s, [0, 1, 2, 3, 4], ";", styles) for s in items)
        + "\n\nEvitem notícias"
    )
    result = parse_signals(text, today=TODAY)
    assert result.rejected == []
    assert [(s.ativo, s.hora, s.operacao, s.expiry, s.gale, s.date) for s in result.signals] == [
        as_parsed(s) for s in items
    ]
    assert [s.line for s in result.signals] == list(range(3, 3 + len(items)))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([c["input"] for c in CASES]),
            st.text(
                alphabet=st.sampled_from(list("EURUSDGBPJY/:;-|()0123456789 CALLPUTMGh✅🔼🔴🇪🇺\t")),
                max_size=30,
            ),
        ),
        max_size=8,
    )
)
def test_every_line_is_accounted_for_once(chunks: list[str]):
    text = "\n".join(chunks)
    result = parse_signals(text, today=TODAY, now=datetime(2026, 11, 27, 12), market_utc_offset=MARKET_OFFSET)
    assert accounted_lines(result) == list(range(1, line_count(text) + 1))
    assert all(s.ativo in PAIR_NAMES and len(s.hora) == 5 for s in result.signals)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from([None, -180, 60]))
def test_any_text_is_read_without_error(text: str, offset: int | None):
    result = parse_signals(text, today=TODAY, now=datetime(2026, 11, 27, 12), market_utc_offset=offset)
    assert accounted_lines(result) == list(range(1, line_count(text) + 1))
    json.dumps(result.to_json())


# --------------------------------------------- the app's port reads the same

WEB = Path(__file__).resolve().parents[2] / "apps" / "web"
NODE_RUNNER = r"""
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
const [source, web] = process.argv.slice(2);
const ts = createRequire(join(web, "package.json"))("typescript");
const js = ts.transpileModule(readFileSync(source, "utf8"), {
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
}).outputText;
const file = join(mkdtempSync(join(tmpdir(), "signals-")), "signals.mjs");
writeFileSync(file, js);
const { parseSignalList } = await import(pathToFileURL(file).href);
const job = JSON.parse(readFileSync(0, "utf8"));
const out = job.texts.map((text) => {
  const r = parseSignalList(text, job.pairs, job.options);
  return {
    signals: r.signals.map((s) => [s.line, s.lines, s.ativo, s.hora, s.operacao, s.expiry, s.gale, s.date, s.past, s.utcOffset]),
    rejected: r.rejected.map((x) => [x.line, x.lines, x.text, x.reason.code,
      "text" in x.reason ? x.reason.text : null, "line" in x.reason ? x.reason.line : null]),
    ignored: r.ignored.map((i) => [i.line, i.kind]),
  };
});
process.stdout.write(JSON.stringify(out));
"""


def python_view(result: ParseResult) -> dict[str, Any]:
    data = result.to_json()
    return {
        "signals": [
            [
                s["line"],
                s["lines"],
                s["ativo"],
                s["hora"],
                s["operacao"],
                s["expiry"],
                s["gale"],
                s["date"],
                s["past"],
                s["utc_offset"],
            ]
            for s in data["signals"]
        ],
        "rejected": [
            [r["line"], r["lines"], r["text"], r["code"], r["detail"], r["first_line"]]
            for r in data["rejected"]
        ],
        "ignored": [[i["line"], i["kind"]] for i in data["ignored"]],
    }


def mutated_texts(count: int, seed: int) -> list[str]:
    """Lists stitched from corpus lines, with separators, case and field order shuffled."""
    import random

    rng = random.Random(seed)
    pool = [line for c in CASES for line in c["input"].splitlines()] + [
        "",
        "  ",
        "UTC-5",
        "LISTA OTC M5 28/11",
    ]
    texts = []
    for _ in range(count):
        rows = []
        for _ in range(rng.randint(1, 10)):
            line = rng.choice(pool)
            if rng.random() < 0.4:
                parts = line.replace(";", " ").split()
                rng.shuffle(parts)
                line = rng.choice([";", " ", " - ", "|", ","]).join(parts)
            if rng.random() < 0.2:
                line = line.lower()
            rows.append(line)
        texts.append(rng.choice(["\n", "\r\n"]).join(rows))
    return texts


@pytest.mark.skipif(
    shutil.which("node") is None or not (WEB / "node_modules" / "typescript").is_dir(),
    reason="needs node and apps/web/node_modules (npm ci in apps/web)",
)
def test_the_app_port_reads_lists_like_the_core(tmp_path: Path):
    texts = [c["input"] for c in CASES] + mutated_texts(600, seed=15)
    options = {"today": "2026-11-27", "now": "2026-11-27T12:00:00", "marketUtcOffset": MARKET_OFFSET}
    runner = tmp_path / "run.mjs"
    runner.write_text(NODE_RUNNER, encoding="utf-8")
    done = subprocess.run(
        ["node", str(runner), str(WEB / "src" / "lib" / "signals.ts"), str(WEB)],
        input=json.dumps({"texts": texts, "pairs": list(PAIR_NAMES), "options": options}),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    from_app = json.loads(done.stdout)
    now = datetime(2026, 11, 27, 12)
    for text, app_view in zip(texts, from_app, strict=True):
        core_view = python_view(parse_signals(text, today=TODAY, now=now, market_utc_offset=MARKET_OFFSET))
        assert app_view == core_view, text

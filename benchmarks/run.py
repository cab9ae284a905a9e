"""`make bench`: reproducible benchmarks, each against its baseline in the same run.

Every measured step runs in a fresh Python process (so its peak memory is its own)
and reports wall seconds and peak RSS. Inputs are generated deterministically into
benchmarks/.data/ (kept between runs; delete it to regenerate). Results are printed
and written to docs/performance.md.

    python benchmarks/run.py                 # everything
    python benchmarks/run.py --only whatsapp --messages 200000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
PERFORMANCE_MD = ROOT / "docs" / "performance.md"

# Imports are not timed, on either side: whatstk's module is imported in its setup,
# and shequn's lazily imported modules (the importer registry, DuckDB) in this warm-up.
WARM_SHEQUN = (
    "import duckdb\n"
    "import adbc_driver_sqlite.dbapi\n"
    "from shequn.importers import registry\n"
    "registry()\n"
)

_PROBE = """
import json, sys, time
sys.path.insert(0, {benchmarks!r})
{setup}
t0 = time.perf_counter()
{body}
seconds = time.perf_counter() - t0
from peak import peak_mb
peak_mb = peak_mb()
print(json.dumps({{"seconds": seconds, "peak_mb": peak_mb, "extra": locals().get("extra")}}))
"""


@dataclass
class Step:
    seconds: float
    peak_mb: float
    extra: object = None


def measure(setup: str, body: str, repeat: int = 1) -> Step:
    """Run `body` after `setup` in a fresh interpreter; the best of `repeat` runs."""
    code = _PROBE.format(
        benchmarks=str(HERE), setup=textwrap.dedent(setup), body=textwrap.dedent(body)
    )
    best: Step | None = None
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"benchmark step failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        step = Step(result["seconds"], result["peak_mb"], result.get("extra"))
        if best is None or step.seconds < best.seconds:
            best = step
    assert best is not None
    return best


def bench_whatsapp(messages: int, repeat: int) -> list[dict]:
    """Import of an N-message WhatsApp export (parse + store) vs whatstk's parse alone."""
    path = DATA / f"whatsapp-{messages}.txt"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        from whatsapp_gen import write_export

        write_export(path, messages, seed=0)
    size_mb = path.stat().st_size / 1e6
    whatstk = measure(
        "from whatstk import WhatsAppChat\nfrom whatsapp_gen import WHATSTK_HFORMAT",
        f"df = WhatsAppChat.from_source(filepath={str(path)!r}, hformat=WHATSTK_HFORMAT, "
        "max_size=None).df\nextra = len(df)",
        repeat,
    )
    parse = measure(
        WARM_SHEQUN + "from pathlib import Path\nfrom shequn.importers.pipeline import read_frame",
        f"extra = read_frame(Path({str(path)!r}), 'whatsapp').height",
        repeat,
    )
    ws_root = DATA / "ws-whatsapp"
    full = measure(
        WARM_SHEQUN
        + textwrap.dedent(f"""
        import shutil
        from pathlib import Path
        from shequn.services.workspace import init_workspace
        from shequn.services.imports import import_path
        shutil.rmtree({str(ws_root)!r}, ignore_errors=True)
        ws = init_workspace(Path({str(ws_root)!r}))
        ws.engine
        """),
        f"extra = import_path(ws, Path({str(path)!r}), community='bench').added",
        repeat,
    )
    return [
        row(
            f"WhatsApp {messages:,} messages ({size_mb:.0f} MB): whatstk parse only (baseline)",
            whatstk,
            f"{whatstk.extra:,} rows",
        ),
        row(
            "  shequn parse only (read_frame)",
            parse,
            f"{whatstk.seconds / parse.seconds:.1f}× whatstk",
        ),
        row(
            "  shequn import: parse + validate + store (SQLite)",
            full,
            f"**{whatstk.seconds / full.seconds:.2f}× whatstk** (target ≥ 3×), "
            f"{full.extra:,} events",
        ),
    ]


def bench_telegram(messages: int, repeat: int) -> list[dict]:
    """Decode of a Telegram result.json: msgspec typed structs vs json.loads."""
    path = DATA / f"telegram-{messages}.json"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        from telegram_gen import write_export

        write_export(path, messages, seed=0)
    size_mb = path.stat().st_size / 1e6
    data = f"data = open({str(path)!r}, 'rb').read()"
    baseline = measure(f"import json\n{data}", "json.loads(data)", repeat)
    decode = measure(
        f"from shequn.importers.telegram.importer import decode_export\n{data}",
        "decode_export(data, 'bench')",
        repeat,
    )
    full = measure(
        WARM_SHEQUN + "from pathlib import Path\nfrom shequn.importers.pipeline import read_frame",
        f"extra = read_frame(Path({str(path)!r}), 'telegram').height",
        repeat,
    )
    return [
        row(
            f"Telegram result.json {size_mb:.0f} MB: json.loads (baseline)",
            baseline,
            f"{size_mb / baseline.seconds:.0f} MB/s",
        ),
        row(
            "  shequn decode (msgspec typed structs)",
            decode,
            f"**{size_mb / decode.seconds:.0f} MB/s** (target ≥ 200), "
            f"{baseline.seconds / decode.seconds:.1f}× json.loads",
        ),
        row(
            "  shequn read: decode + events frame + validate",
            full,
            f"{size_mb / full.seconds:.0f} MB/s, {full.extra:,} events",
        ),
    ]


def row(name: str, step: Step, note: str) -> dict:
    return {"name": name, "seconds": step.seconds, "peak_mb": step.peak_mb, "note": note}


def write_report(rows: list[dict], args: argparse.Namespace) -> None:
    lines = [
        "# Performance",
        "",
        "Figures from `make bench` (`python benchmarks/run.py`), each step in a fresh",
        "process, best of the repeats; every target is a ratio against a baseline",
        "measured in the same run, so the machine's speed cancels out.",
        "",
        f"- measured: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        f"- command: `python benchmarks/run.py {' '.join(sys.argv[1:])}`".rstrip(),
        "",
        "| step | seconds | peak memory | result |",
        "|---|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['seconds']:.2f} | {r['peak_mb']:.0f} MB | {r['note']} |")
    lines += ["", (HERE / "NOTES.md").read_text() if (HERE / "NOTES.md").exists() else ""]
    PERFORMANCE_MD.write_text("\n".join(lines).rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["whatsapp", "telegram"], action="append")
    parser.add_argument("--messages", type=int, default=1_000_000, help="WhatsApp messages")
    parser.add_argument("--telegram-messages", type=int, default=250_000, help="~100 MB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-write", action="store_true", help="do not rewrite docs/performance.md"
    )
    args = parser.parse_args()
    chosen = args.only or ["whatsapp", "telegram"]
    rows: list[dict] = []
    if "whatsapp" in chosen:
        rows += bench_whatsapp(args.messages, args.repeat)
    if "telegram" in chosen:
        rows += bench_telegram(args.telegram_messages, args.repeat)
    for r in rows:
        print(f"{r['name']:<72} {r['seconds']:7.2f} s {r['peak_mb']:7.0f} MB  {r['note']}")
    if not args.no_write:
        write_report(rows, args)
        print(f"wrote {PERFORMANCE_MD}")


if __name__ == "__main__":
    main()

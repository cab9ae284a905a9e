"""Benchmark of an import's in-pass analytics copy (issue 13: the first dashboard
after importing a large history).

The simulated history (a year of three communities) is generated once into a Parquet
file of validated frames under benchmarks/.data/ (the simulator takes minutes at 10M
events: it is not what is timed). Then, each step in a fresh process with a fresh
workspace, the frames are imported through the same sink as `shequn import`
(`services.sink.open_sink`):

- `inpass`: the analytics copy built during the import (the default);
- `plain`: without it (the code before this round): the copy is built by the first sync.

Each step reports the import's wall and CPU seconds (the copy's finish included; the
CPU of both threads), its phases, and the wait of the first `sync()` afterwards, which
is what the first dashboard waits for. Reading the Parquet frames is inside the timed
import (as an importer's parse would be, but much cheaper); generating them is not.

    python benchmarks/import_copy_bench.py --events 2000000
    python benchmarks/import_copy_bench.py --events 10000000 --order plain,inpass
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from peak import peak_mb  # noqa: E402

DATA = HERE / ".data"


def frames_path(events: int) -> Path:
    return DATA / f"import-copy-{events}.parquet"


def generate(events: int) -> Path:
    """The validated frames of a simulated year, written once."""
    import pyarrow.parquet as pq

    from shequn.importers.pipeline import frames
    from shequn.simulate import default_spec, simulate

    path = frames_path(events)
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    spec = default_spec(n_communities=3, days=365, seed=7, target_events=events)
    draft = path.with_suffix(".part")
    writer = None
    for frame in frames(simulate(spec), "simulate"):
        table = frame.to_arrow()
        writer = writer or pq.ParquetWriter(draft, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    draft.rename(path)
    return path


def _cpu_seconds() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def step(mode: str, frames_file: Path, root: Path) -> dict:
    """Import the frames into a fresh workspace at `root`, then sync once."""
    import polars as pl
    import pyarrow.parquet as pq

    from shequn.analytics import sync
    from shequn.services.sink import open_sink
    from shequn.services.workspace import init_workspace

    shutil.rmtree(root, ignore_errors=True)
    ws = init_workspace(root, name="import-copy-bench")
    parquet = pq.ParquetFile(frames_file)
    started, cpu = time.perf_counter(), _cpu_seconds()
    with open_sink(ws, in_pass=mode == "inpass") as sink:
        for index in range(parquet.num_row_groups):
            frame = pl.from_arrow(parquet.read_row_group(index))
            assert isinstance(frame, pl.DataFrame)
            sink.add(frame, "simulate")
        staged = time.perf_counter()
        with sink.commit():
            pass
        committed = time.perf_counter()
    imported, import_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    stage, merge = staged - started, committed - staged
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = sync(ws)
    return {
        "mode": mode,
        "events": sink.added,
        "import_s": round(imported, 2),
        "import_cpu_s": round(import_cpu, 2),
        # Phases: staging (the reading above included), the store's merge and commit,
        # then what follows the commit (the copy's finish, the staging file's removal).
        "stage_s": round(stage, 2),
        "merge_s": round(merge, 2),
        "after_commit_s": round(imported - stage - merge, 2),
        "first_sync_s": round(time.perf_counter() - started, 2),
        "first_sync_cpu_s": round(_cpu_seconds() - cpu, 2),
        "sync_read": result.events_read,
    }


def run_step(mode: str, frames_file: Path) -> dict:
    """One step in a fresh interpreter; its result with peak RSS in MB."""
    root = DATA / f"import-copy-ws-{mode}"
    command = [sys.executable, __file__, "--step", mode, "--frames", str(frames_file)]
    done = subprocess.run([*command, "--root", str(root)], capture_output=True, text=True)
    shutil.rmtree(root, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"step {mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--order", default="plain,inpass", help="steps to run, in order")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--step", choices=("plain", "inpass"))
    parser.add_argument("--frames", type=Path)
    parser.add_argument("--root", type=Path)
    args = parser.parse_args()
    if args.step:
        result = step(args.step, args.frames, args.root)
        result["peak_mb"] = round(peak_mb())
        print(json.dumps(result))
        return
    started = time.perf_counter()
    frames_file = generate(args.events)
    print(f"frames {frames_file} ready in {time.perf_counter() - started:.1f} s", flush=True)
    if args.generate_only:
        return
    for mode in args.order.split(","):
        print(json.dumps(run_step(mode, frames_file)), flush=True)


if __name__ == "__main__":
    main()

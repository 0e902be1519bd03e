"""Memory per connected IQ Option user: a zygote's forked servers against separate processes.

For each user count N, a fresh cluster (the fault harness's: fake MongoDB
wire server, fake IQ Option server on loopback, lister, candle streams,
assigner, fast clock) runs N IQ Option users, served by N operational
servers in one of two layouts:

- zygote: `python -m operational_server --zygote N` (one parent, N forked children);
- separate: N processes `python -m operational_server --name ...` (the layout
  before the zygote: one process per IQ Option connection), the baseline.

Once every user operates (logged in to the fake IQ Option server) and has a
settled trade, plus `--settle` wall seconds, the PSS (proportional set size:
shared pages divided among the processes sharing them) of every server
process, the zygote's parent included, is read from /proc/<pid>/smaps_rollup.

Figures, in MB (2**20 bytes):
- pss_total: the servers' processes together;
- pss_per_user: pss_total / N;
- pss_per_additional_user: (pss_total(N) - pss_total(smallest N)) / (N - smallest N),
  the cost of one more user (goal: <= 15 MB with the zygote);
- pss_anon_total and pss_anon_per_additional_user: the same for anonymous memory alone (Pss_Anon).
  The rest, Pss_File, is the shared libraries' and modules' page cache, which every Python process
  of the machine shares: a group's share of it grows with its number of processes while the pages
  themselves do not (one more user adds no file page), and it moves with what else runs;
- private_per_child: mean Private_Clean + Private_Dirty of a server process;
- threads_per_child: mean threads of a server process; new_memory_per_child (zygote): what a child
  wrote in anonymous mappings made after its fork (thread stacks, per-thread malloc arenas, new
  allocator arenas), the part of its private memory that is not a copy of the parent's pages;
- ratio_vs_separate (pss_per_user) and ratio_vs_separate_per_additional_user: separate's
  figure / the zygote's, for the same N (above 1: the zygote uses less).

A child's private memory grows with what it has run (see deploy/README.md): the larger runs,
which wait longer for every user's first settled trade, trade more before the reading.

    .venv/bin/python bench/memory.py [--users 1 10 50] [--layouts zygote separate] [--settle 5]
                                     [--separate-max 10]

Prints one JSON object. Linux only (smaps_rollup).
"""

from __future__ import annotations

import argparse
import array
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and its api.py would hide the api package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from tests.faults.harness import Cluster, wait_for  # noqa: E402
from tests.test_zygote import ZygoteCluster, children_of  # noqa: E402

MB = 2**20
PAGE = os.sysconf("SC_PAGE_SIZE")
GOAL_MB = 15.0
ROLLUP_FIELDS = (
    "Rss",
    "Pss",
    "Pss_Anon",
    "Pss_File",
    "Private_Clean",
    "Private_Dirty",
    "Shared_Clean",
    "Shared_Dirty",
)


def rollup(pid: int) -> dict[str, int]:
    """/proc/<pid>/smaps_rollup's sizes in bytes."""
    sizes: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ROLLUP_FIELDS:
                sizes[key] = int(rest.split()[0]) * 1024
    return sizes


def threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


def _writable_anonymous(pid: int) -> list[tuple[int, int]]:
    """(start, end) of the process's writable anonymous mappings and its heap."""
    ranges = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            if fields[1].startswith("rw") and (len(fields) == 5 or fields[5] == "[heap]"):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                ranges.append((start, end))
    return ranges


def _present(pid: int, start: int, end: int) -> array.array:
    """The pagemap entries of [start, end) (bit 63: the page is in memory; 0 where nothing is mapped)."""
    entries = array.array("Q")
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(start // PAGE * 8)
        entries.frombytes(f.read((end - start) // PAGE * 8))
    return entries


def new_since_fork(parent: int, child: int) -> int:
    """Bytes of the child's anonymous memory at addresses where the parent has no page: thread stacks,
    per-thread malloc arenas, new allocator arenas, the heap grown past the parent's (its own memory,
    not a copy of the parent's pages). Page by page (/proc/<pid>/pagemap), as the kernel merges a
    new mapping into an adjacent one the parent already had."""
    present = 1 << 63
    pages = 0
    for start, end in _writable_anonymous(child):
        ours, theirs = _present(child, start, end), _present(parent, start, end)
        pages += sum(1 for i, entry in enumerate(ours) if entry & present and not theirs[i] & present)
    return pages * PAGE


def server_pids(cluster: Cluster, layout: str) -> list[int]:
    """The processes that serve the users: the zygote and its children, or every server process."""
    assert cluster.processes is not None
    running = cluster.processes.running
    if layout == "zygote":
        parent = running["zygote"].pid
        return [parent, *sorted(children_of(parent))]
    return [running[name].pid for name in cluster.server_names]


def _settled(cluster: Cluster, user: Any) -> bool:
    return bool(cluster.trades(user, {"status": "closed", "result": {"$in": ["win", "loss", "doji"]}}))


def measure(layout: str, users: int, settle: float, workdir: Path) -> dict[str, Any]:
    tmp = workdir / f"{layout}-{users}"
    tmp.mkdir()
    cls = ZygoteCluster if layout == "zygote" else Cluster
    started = time.monotonic()
    # The cluster prints its notes on stdout, where only the JSON report goes.
    with (
        contextlib.redirect_stdout(sys.stderr),
        cls(tmp, broker="iqoption", users=users, servers=users) as cluster,
    ):
        ready_s = time.monotonic() - started
        for user in cluster.accounts:
            wait_for(partial(_settled, cluster, user), 120, f"{user.email}: a settled trade")
        time.sleep(settle)
        pids = server_pids(cluster, layout)
        sizes = [rollup(pid) for pid in pids]
        children = sizes[1:] if layout == "zygote" else sizes
        child_pids = pids[1:] if layout == "zygote" else pids
        zygote_extra: dict[str, Any] = {}
        if layout == "zygote":
            zygote_extra["new_memory_per_child_mb"] = round(
                sum(new_since_fork(pids[0], pid) for pid in child_pids) / len(child_pids) / MB, 2
            )
        total_pss = sum(s["Pss"] for s in sizes)
        return {
            "processes": len(pids),
            "pss_total_mb": round(total_pss / MB, 2),
            "pss_anon_total_mb": round(sum(s.get("Pss_Anon", 0) for s in sizes) / MB, 2),
            "pss_file_total_mb": round(sum(s.get("Pss_File", 0) for s in sizes) / MB, 2),
            "pss_per_user_mb": round(total_pss / users / MB, 2),
            "private_per_child_mb": round(
                sum(s["Private_Clean"] + s["Private_Dirty"] for s in children) / len(children) / MB, 2
            ),
            "rss_per_child_mb": round(sum(s["Rss"] for s in children) / len(children) / MB, 2),
            "threads_per_child": round(sum(threads(pid) for pid in child_pids) / len(child_pids), 1),
            **zygote_extra,
            "parent_pss_mb": round(sizes[0]["Pss"] / MB, 2) if layout == "zygote" else None,
            "startup_s": round(ready_s, 1),
            "trades": sum(len(cluster.trades(u)) for u in cluster.accounts),
        }


def additional(per_n: dict[int, dict[str, Any]], key: str = "pss_total_mb") -> dict[str, float]:
    """MB per user beyond the smallest N, for each larger N."""
    if not per_n:
        return {}
    base = min(per_n)
    return {
        str(n): round((r[key] - per_n[base][key]) / (n - base), 2)
        for n, r in sorted(per_n.items())
        if n > base
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument(
        "--layouts", nargs="+", choices=("zygote", "separate"), default=["zygote", "separate"]
    )
    parser.add_argument("--settle", type=float, default=5.0, help="wall seconds after the first trades")
    parser.add_argument(
        "--separate-max",
        type=int,
        default=10,
        help="largest N run as separate processes (default 10: 50 separate processes take longer "
        "to start on 2 cores than the cluster waits for them)",
    )
    args = parser.parse_args(argv)
    results: dict[str, dict[int, dict[str, Any]]] = {layout: {} for layout in args.layouts}
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="glimpse-memory-") as workdir:
        for users in sorted(set(args.users)):
            for layout in args.layouts:
                if layout == "separate" and users > args.separate_max:
                    continue
                results[layout][users] = measure(layout, users, args.settle, Path(workdir))
                print(f"{layout} N={users}: {results[layout][users]}", file=sys.stderr, flush=True)
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
        "unit": "MB (2**20 bytes) of PSS from /proc/<pid>/smaps_rollup",
        "layouts": {layout: {str(n): r for n, r in per_n.items()} for layout, per_n in results.items()},
        "pss_per_additional_user_mb": {layout: additional(per_n) for layout, per_n in results.items()},
        "pss_anon_per_additional_user_mb": {
            layout: additional(per_n, "pss_anon_total_mb") for layout, per_n in results.items()
        },
        "goal_pss_per_additional_user_mb": GOAL_MB,
    }
    if "zygote" in results and "separate" in results:
        report["ratio_vs_separate"] = {
            str(n): {
                "pss_per_user": round(
                    results["separate"][n]["pss_per_user_mb"] / results["zygote"][n]["pss_per_user_mb"], 2
                )
            }
            for n in results["zygote"]
            if n in results["separate"]
        }
        extra = report["pss_per_additional_user_mb"]
        report["ratio_vs_separate_per_additional_user"] = {
            n: round(extra["separate"][n] / extra["zygote"][n], 2)
            for n in extra["zygote"]
            if n in extra["separate"] and extra["zygote"][n] > 0
        }
    zygote_extra = report["pss_per_additional_user_mb"].get("zygote") or {}
    if zygote_extra:
        report["goal_met"] = all(v <= GOAL_MB for v in zygote_extra.values())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

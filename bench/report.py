#!/usr/bin/env python3
"""The report of bench/run.sh: reads the run's raw output from its work directory, writes
bench/results/latest.json and prints the markdown tables: CPU time per request (the app server's
and the store server's, and their sum) as the headline, req/s and latency beside it, and the
overhead ratios against actix-session and no middleware with their targets (issue 21).
bench/test_report.py checks it on canned output.

    report.py <work dir> <seconds> <reps> <json out> <setup>...

For each run `<setup>.<route>.<rep>` the work directory holds wrk's output (`.wrk`) and the CPU
clock ticks, user + system, of the app server (`.ticks`) and of the store's server processes
(`.store_ticks`: redis-server, or every process of the PostgreSQL cluster; 0 for none).
"""
import datetime
import json
import os
import re
import subprocess
import sys
from statistics import median

work, secs, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out_path, setups = sys.argv[4], sys.argv[5:]
ROUTES = ["plain", "read", "incr", "big", "incr_new"]
TITLES = {"plain": "/plain", "read": "/read", "incr": "/incr", "big": "/big (2 KB)",
          "incr_new": "new session"}
OURS = ["ours-memory", "ours-cookie", "ours-redis", "ours-postgres"]
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The targets: (column, route, threshold); every one is "at most".
TARGETS = [("every store ÷ none", "plain", 1.02)] + [
    (column, route, threshold)
    for column, thresholds in [
        ("Redis: ours ÷ actix-session", (0.70, 0.60, 0.80, 0.70)),
        ("cookie: overhead ours ÷ actix-session", (0.80, 0.70, 0.90, 0.60)),
        ("memory ÷ none", (1.10, 1.15, 1.30, 1.10)),
    ]
    for route, threshold in zip(["read", "incr", "incr_new", "big"], thresholds)
]


def read(name, default=""):
    try:
        with open(os.path.join(work, name)) as f:
            return f.read()
    except FileNotFoundError:
        return default


def latency_us(text):
    """wrk's `1.50ms` or `200.00us` in µs."""
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)] if m else None


def run(label):
    """One run: its requests, req/s, latency percentiles, errors and CPU per request (µs)."""
    text = read(f"{label}.wrk")
    done = re.search(r"(\d+) requests in", text)
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    p50 = re.search(r"^\s*50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", text, re.M)
    requests = int(done.group(1)) if done else 0

    def per_request(name):
        ticks = read(f"{label}.{name}", "0").strip() or "0"
        return int(ticks) / CLK_TCK * 1e6 / requests if requests else None

    return {
        "requests": requests,
        "rps": float(rps.group(1)) if rps else None,
        "p50_us": latency_us(p50.group(1)) if p50 else None,
        "p99_us": latency_us(p99.group(1)) if p99 else None,
        "errors": (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0),
        "app_us": per_request("ticks"),
        "store_us": per_request("store_ticks"),
    }


def middle(values):
    known = [v for v in values if v is not None]
    return round(median(known), 2) if known else None


def cell(setup, route):
    """The medians over the runs of one cell, each run's figures kept beside them."""
    runs = [run(f"{setup}.{route}.{rep}") for rep in range(1, reps + 1)]
    for r in runs:
        r["total_us"] = r["app_us"] + r["store_us"] if r["app_us"] is not None else None
    figures = {key: middle(r[key] for r in runs)
               for key in ["total_us", "app_us", "store_us", "rps", "p50_us", "p99_us"]}
    return {**figures, "errors": sum(r["errors"] for r in runs), "runs": runs}


results = {setup: {"routes": {route: cell(setup, route) for route in ROUTES},
                   "peak_rss_kib": int(read(f"{setup}.rss_kib", "0").strip() or 0)}
           for setup in setups}


def total(setup, route):
    return results[setup]["routes"][route]["total_us"]


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def measure(column, route):
    """The figure a target judges, per setup it covers."""
    if column == "every store ÷ none":
        return {s: ratio(total(s, route), total("none", route)) for s in OURS}
    if column.startswith("Redis"):
        return {"ours-redis": ratio(total("ours-redis", route), total("actix-redis", route))}
    if column.startswith("cookie"):
        none = total("none", route)
        ours, actix = total("ours-cookie", route), total("actix-cookie", route)
        if None in (none, ours, actix):
            return {"ours-cookie": None}
        return {"ours-cookie": ratio(ours - none, actix - none)}
    return {"ours-memory": ratio(total("ours-memory", route), total("none", route))}


targets = []
for column, route, threshold in TARGETS:
    measured = measure(column, route)
    worst = max((v for v in measured.values() if v is not None), default=None)
    targets.append({"column": column, "route": TITLES[route], "threshold": threshold,
                    "measured": measured, "worst": worst,
                    "pass": worst is not None and worst <= threshold})

overhead = {s: {r: (round(total(s, r) - total("none", r), 2)
                    if None not in (total(s, r), total("none", r)) else None)
                for r in ROUTES} for s in OURS}

git_rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
git_dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip())
report = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "command": f"bench/run.sh {secs}" if reps == 5 else f"BENCH_REPS={reps} bench/run.sh {secs}",
    "git": git_rev + ("-dirty" if git_dirty else ""),
    "machine": {"cores": os.cpu_count(), "loadavg_at_start": read("loadavg").strip()},
    "load": (f"wrk -t1 -c32 -d{secs}s --latency on loopback, {reps} interleaved runs per cell, "
             "medians; app server: 1 worker, release; nothing pinned to a CPU"),
    "unit": "µs of CPU (user + system) per request",
    "results": results,
    "overhead_over_none_us": overhead,
    "targets": targets,
}
with open(out_path, "w") as f:
    json.dump(report, f, indent=1)
    f.write("\n")


def fmt(v, spec=".2f"):
    return format(v, spec) if v is not None else "n/a"


def table(title, header, rows):
    return [title, "", "| " + " | ".join(header) + " |",
            "|---|" + "---:|" * (len(header) - 1)] + ["| " + " | ".join(row) + " |" for row in rows] + [""]


def flagged(setup, route, text):
    return text + (" (errors!)" if results[setup]["routes"][route]["errors"] else "")


lines = [f"Run {report['date']}, `{report['command']}` at {report['git']}, "
         f"{os.cpu_count()} cores (load average at start {report['machine']['loadavg_at_start']}); "
         f"{report['load']}.", ""]
header = ["setup"] + [TITLES[r] for r in ROUTES]
lines += table("CPU per request, µs: app and store server together, then app + store (each part its own median over the runs, so the parts need not add up to the total):", header, [
    [s] + [flagged(s, r, f"{fmt(c['total_us'])} ({fmt(c['app_us'])} + {fmt(c['store_us'])})"
                   if c["store_us"] else fmt(c["total_us"]))
           for r in ROUTES for c in [results[s]["routes"][r]]]
    for s in setups])
lines += table("req/s (median) and latency p50 / p99 in µs:", header + ["peak RSS"], [
    [s] + [f"{fmt(c['rps'], ',.0f')}, {fmt(c['p50_us'], '.0f')} / {fmt(c['p99_us'], '.0f')}"
           for r in ROUTES for c in [results[s]["routes"][r]]]
    + [f"{results[s]['peak_rss_kib'] / 1024:.1f} MiB"]
    for s in setups])
lines += table("Overhead over no middleware, µs of CPU per request:", header,
               [[s] + [fmt(overhead[s][r]) for r in ROUTES] for s in OURS])
rows = []
for column in dict.fromkeys(t["column"] for t in targets):
    row = [column]
    for route in ROUTES:
        t = next((t for t in targets if t["column"] == column and t["route"] == TITLES[route]), None)
        if t is None:
            row.append("")
            continue
        shown = fmt(t["worst"])
        if len(t["measured"]) > 1 and t["worst"] is not None:
            shown += f" ({max(t['measured'], key=lambda s: t['measured'][s] or 0)})"
        row.append(f"{shown} ≤ {t['threshold']:.2f} **{'PASS' if t['pass'] else 'MISS'}**")
    rows.append(row)
lines += table("Targets, on total CPU per request (cookie: of the overhead over none):",
               ["target"] + [TITLES[r] for r in ROUTES], rows)
lines.append(f"{sum(t['pass'] for t in targets)}/{len(targets)} targets met. JSON: {out_path}")
errors = [f"{s} {r}" for s in setups for r in ROUTES if results[s]["routes"][r]["errors"]]
if errors:
    lines.append("")
    lines.append("WARNING: non-2xx responses or socket errors in: " + ", ".join(errors))
print("\n".join(lines))

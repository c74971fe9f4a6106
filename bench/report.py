#!/usr/bin/env python3
"""The report of bench/run.sh: reads the run's raw output from its work directory, writes
bench/results/latest.json and prints the markdown tables (req/s, CPU per request, ratios,
ceilings and issue 7's targets). bench/test_report.py checks it on canned output.

    report.py <work dir> <seconds> <reps> <pinned: 0|n> <json out> <setup>...
"""
import datetime
import json
import os
import platform
import re
import subprocess
import sys

work, secs, reps, pinned = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] != "0"
out_path, setups = sys.argv[5], sys.argv[6:]
ROUTES = ["plain", "read", "incr", "big", "incr_new"]
ROUTE_TITLES = {"plain": "/plain", "read": "/read", "incr": "/incr", "big": "/big",
                "incr_new": "/incr new session"}
OURS = ["ours-memory", "ours-cookie", "ours-redis", "ours-postgres"]
ACTIX_MATCH = {"ours-cookie": "actix-cookie", "ours-redis": "actix-redis"}


def read(name):
    with open(os.path.join(work, name)) as f:
        return f.read()


def parse_wrk(text):
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    p50 = re.search(r"^\s*50%\s+([\d.]+\w+)", text, re.M)
    p99 = re.search(r"^\s*99%\s+([\d.]+\w+)", text, re.M)
    return {
        "rps": float(rps.group(1)) if rps else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, sock.groups())) if sock else 0,
        "latency_p50": p50.group(1) if p50 else None,
        "latency_p99": p99.group(1) if p99 else None,
    }


def ratio(a, b):
    return round(a / b, 3) if a and b else None


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_us_per_request(label, text):
    """The server's CPU time (user + system) per request over one run, in microseconds."""
    done = re.search(r"(\d+) requests in", text)
    ticks = read(f"{label}.ticks").strip()
    if not done or not ticks or int(done.group(1)) == 0:
        return None
    return round(int(ticks) / CLK_TCK * 1e6 / int(done.group(1)), 2)


def best_cell(setup, route):
    """The sample with the highest req/s, with every sample's req/s kept beside it, and the
    median of the server's CPU time per request over the runs."""
    labels = [f"{setup}.{route}.{rep}" for rep in range(1, reps + 1)]
    texts = [read(f"{label}.wrk") for label in labels]
    samples = [parse_wrk(text) for text in texts]
    cpu = [cpu_us_per_request(label, text) for label, text in zip(labels, texts)]
    measured = sorted((s for s in samples if s["rps"] is not None), key=lambda s: s["rps"])
    cell = dict(measured[-1]) if measured else parse_wrk("")
    cell["samples_rps"] = [s["rps"] for s in samples]
    known = sorted(c for c in cpu if c is not None)
    cell["cpu_us_per_request"] = known[len(known) // 2] if known else None
    cell["samples_cpu_us_per_request"] = cpu
    cell["non_2xx"] = sum(s["non_2xx"] for s in samples)
    cell["socket_errors"] = sum(s["socket_errors"] for s in samples)
    return cell


results = {}
for setup in setups:
    routes = {route: best_cell(setup, route) for route in ROUTES}
    results[setup] = {
        "routes": routes,
        "peak_rss_kib": int(read(f"{setup}.rss_kib").strip() or 0),
        "cookie_bytes": int(read(f"{setup}.cookie_len").strip() or 0),
        "big_cookie_bytes": int(read(f"{setup}.big_cookie_len").strip() or 0),
    }


def rps(setup, route):
    return results[setup]["routes"][route]["rps"]


ceilings = {}
for name, value in re.findall(r"^\s*(GET|SET): ([\d.]+) requests per second", read("redis-benchmark.txt").replace("\r", "\n"), re.M):
    ceilings[f"redis-benchmark {name}"] = float(value)
for flag in ["S", "N"]:
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", read(f"pgbench-{flag}.txt"))
    ceilings[f"pgbench -{flag}"] = float(m.group(1)) if m else None

ratios = {}
for setup in OURS:
    entry = {"vs_none": {r: ratio(rps(setup, r), rps("none", r)) for r in ROUTES}}
    if setup in ACTIX_MATCH:
        entry["vs_actix"] = {r: ratio(rps(setup, r), rps(ACTIX_MATCH[setup], r)) for r in ROUTES}
    ratios[setup] = entry
ratios["ours-redis"]["vs_ceiling"] = {
    "/read vs redis-benchmark GET": ratio(rps("ours-redis", "read"), ceilings.get("redis-benchmark GET")),
    "/incr vs redis-benchmark SET": ratio(rps("ours-redis", "incr"), ceilings.get("redis-benchmark SET")),
    "/incr new session vs redis-benchmark SET": ratio(rps("ours-redis", "incr_new"), ceilings.get("redis-benchmark SET")),
}
ratios["ours-postgres"]["vs_ceiling"] = {
    "/read vs pgbench -S": ratio(rps("ours-postgres", "read"), ceilings.get("pgbench -S")),
    "/incr vs pgbench -N": ratio(rps("ours-postgres", "incr"), ceilings.get("pgbench -N")),
    "/incr new session vs pgbench -N": ratio(rps("ours-postgres", "incr_new"), ceilings.get("pgbench -N")),
}

# The targets: (route, column, setups compared, threshold).
TARGETS = [
    ("plain", "vs none", OURS, 0.97),
    ("plain", "redis vs actix-redis", ["ours-redis"], 2.0),
    ("plain", "cookie vs actix-cookie", ["ours-cookie"], 1.3),
    ("read", "vs none", ["ours-memory"], 0.90),
    ("read", "redis vs actix-redis", ["ours-redis"], 1.3),
    ("read", "cookie vs actix-cookie", ["ours-cookie"], 1.2),
    ("incr", "vs none", ["ours-memory"], 0.85),
    ("incr", "redis vs actix-redis", ["ours-redis"], 1.6),
    ("incr", "cookie vs actix-cookie", ["ours-cookie"], 1.2),
    ("incr_new", "redis vs actix-redis", ["ours-redis"], 1.2),
    ("incr_new", "cookie vs actix-cookie", ["ours-cookie"], 1.2),
]
targets = []
for route, column, compared, threshold in TARGETS:
    key = "vs_none" if column == "vs none" else "vs_actix"
    measured = {s: ratios[s][key][route] for s in compared}
    worst = min((v for v in measured.values() if v is not None), default=None)
    # A setup with middleware cannot beat the same server without it, so a ratio to
    # actix-session is bounded by none / actix-session on that route, in this run.
    bound = 1.0 if key == "vs_none" else ratio(rps("none", route), rps(ACTIX_MATCH[compared[0]], route))
    targets.append({
        "route": ROUTE_TITLES[route], "column": column, "threshold": threshold,
        "measured": measured, "pass": worst is not None and worst >= threshold,
        "bound": bound,
    })

git_rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
git_dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip())
now = datetime.datetime.now(datetime.timezone.utc)
report = {
    "date": now.strftime("%Y-%m-%d %H:%M UTC"),
    "command": f"bench/run.sh {secs}",
    "git": git_rev + ("-dirty" if git_dirty else ""),
    "machine": {"cores": os.cpu_count(), "kernel": platform.release(),
                "loadavg_at_start": read("loadavg").strip()},
    "load": (f"wrk -t1 -c32 -d{secs}s, loopback, cookies from /seed (/big: /seed-big); server: 1 worker, release; "
             f"best of {reps} interleaved runs per cell"
             + ("; server pinned to CPU 0, wrk to CPU 1" if pinned else "")),
    "results": results,
    "ceilings": ceilings,
    "ratios": ratios,
    "targets": targets,
}
with open(out_path, "w") as f:
    json.dump(report, f, indent=2)
    f.write("\n")


def fmt_rps(v):
    return f"{v:,.0f}" if v is not None else "n/a"


def fmt_ratio(v):
    return f"{v:.2f}" if v is not None else "n/a"


lines = []
lines.append(f"Run {report['date']}, `{report['command']}` at {report['git']}, "
             f"{os.cpu_count()} cores (load average at start {report['machine']['loadavg_at_start']}); "
             f"{report['load']}.")
lines.append("")
lines.append("| setup | " + " | ".join(ROUTE_TITLES[r] for r in ROUTES) + " | peak RSS |")
lines.append("|---|" + "---:|" * (len(ROUTES) + 1))
for setup in setups:
    cells = []
    for r in ROUTES:
        cell = results[setup]["routes"][r]
        note = " (errors!)" if cell["non_2xx"] or cell["socket_errors"] else ""
        cells.append(fmt_rps(cell["rps"]) + note)
    rss = results[setup]["peak_rss_kib"] / 1024
    lines.append(f"| {setup} | " + " | ".join(cells) + f" | {rss:.1f} MiB |")
lines.append("")
lines.append("Server CPU time per request, user + system, in µs (median of the runs; it varies far "
             "less than req/s with other load on the machine):")
lines.append("")
lines.append("| setup | " + " | ".join(ROUTE_TITLES[r] for r in ROUTES) + " |")
lines.append("|---|" + "---:|" * len(ROUTES))
for setup in setups:
    cells = [results[setup]["routes"][r]["cpu_us_per_request"] for r in ROUTES]
    lines.append(f"| {setup} | " + " | ".join(f"{c:.2f}" if c is not None else "n/a" for c in cells) + " |")
lines.append("")
lines.append("Ratios (req/s of ours ÷ req/s of the other):")
lines.append("")
lines.append("| ours | vs | " + " | ".join(ROUTE_TITLES[r] for r in ROUTES) + " |")
lines.append("|---|---|" + "---:|" * len(ROUTES))
for setup in OURS:
    lines.append(f"| {setup} | none | " + " | ".join(fmt_ratio(ratios[setup]["vs_none"][r]) for r in ROUTES) + " |")
    if setup in ACTIX_MATCH:
        lines.append(f"| {setup} | {ACTIX_MATCH[setup]} | " + " | ".join(fmt_ratio(ratios[setup]["vs_actix"][r]) for r in ROUTES) + " |")
lines.append("")
lines.append("Raw ceilings, same machine, same run (32 clients): " + ", ".join(
    f"{name} {fmt_rps(v)}/s" for name, v in ceilings.items()) + ".")
lines.append("")
lines.append("| ours vs ceiling | ratio |")
lines.append("|---|---:|")
for setup in ["ours-redis", "ours-postgres"]:
    for name, v in ratios[setup]["vs_ceiling"].items():
        lines.append(f"| {setup} {name} | {fmt_ratio(v)} |")
lines.append("")
lines.append("Targets (issue 7):")
lines.append("")
columns = ["vs none", "redis vs actix-redis", "cookie vs actix-cookie"]
lines.append("| route | ours vs no middleware | ours Redis vs actix-session Redis | ours cookie vs actix-session cookie |")
lines.append("|---|---|---|---|")
for route in ["plain", "read", "incr", "incr_new"]:
    cells = []
    for column in columns:
        t = next((t for t in targets if t["route"] == ROUTE_TITLES[route] and t["column"] == column), None)
        if t is None:
            cells.append("")
            continue
        measured = t["measured"]
        if len(measured) == 1:
            shown = fmt_ratio(next(iter(measured.values())))
        else:
            worst = min(measured, key=lambda s: measured[s] if measured[s] is not None else -1)
            shown = f"min {fmt_ratio(measured[worst])} ({worst})"
        bound = "" if t["column"] == "vs none" else f" (bound {fmt_ratio(t['bound'])})"
        cells.append(f"{shown} >= {t['threshold']:.2f}{bound} **{'PASS' if t['pass'] else 'MISS'}**")
    lines.append(f"| {ROUTE_TITLES[route]} | " + " | ".join(cells) + " |")
passed = sum(t["pass"] for t in targets)
lines.append("")
lines.append(f"{passed}/{len(targets)} targets met. A bound is none ÷ actix-session on that route: "
             "the most any middleware could reach against it in this run. JSON: bench/results/latest.json")
errors = [f"{s} {r}" for s in setups for r in ROUTES
          if results[s]["routes"][r]["non_2xx"] or results[s]["routes"][r]["socket_errors"]]
if errors:
    lines.append("")
    lines.append("WARNING: non-2xx responses or socket errors in: " + ", ".join(errors))
print("\n".join(lines))

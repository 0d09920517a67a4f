#!/usr/bin/env python3
"""Table of Scripts/bench/gateway's wrk runs, and the fnrt/nginx ratios.

usage: gateway-report.py LABEL=RESULT[,RESULT...]... (the first two labels
are fnrt and nginx, one result file per round, rounds in the same order;
any further labels are extra rows, not part of the ratios). Each file holds
the line Scripts/bench/gateway's wrk script prints in done(). Each round's
ratios compare the fnrt and nginx runs of that round (seconds apart); the
verdict is the median round's. Exits 0 whatever the numbers; prints "met"
or "MISSED" per target.
"""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        line = next((l for l in f if l.startswith("WRK-JSON ")), None)
    if line is None:
        sys.exit(f"gateway-report: no wrk result in {path}")
    result = json.loads(line[len("WRK-JSON "):])
    try:  # CPU seconds of the proxy and of the containers during the run (Scripts/bench/gateway's measure)
        with open(path + ".cpu") as f:
            result["proxy_cpu"], result["containers_cpu"] = map(float, f.read().split())
    except (OSError, ValueError):
        pass
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


rows = []
for argument in sys.argv[1:]:
    label, _, paths = argument.partition("=")
    rows.append((label, [load(p) for p in paths.split(",")]))


def errors(r):
    parts = [f"{k} {r[k]}" for k in ("connect", "read", "write", "timeout") if r[k]]
    if r["status"]:
        parts.append(f"non-2xx {r['status']}")
    return ", ".join(parts) or "none"


def cpu(r, key):
    return f"{r[key] / r['requests'] * 1e6:.0f}" if key in r and r["requests"] else "?"


rounds = max(len(results) for _, results in rows)
print(f"{'':40} {'requests/s':>11} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'requests':>9} "
      f"{'proxy CPU':>10} {'fn CPU':>7}  errors")
for index in range(rounds):
    for label, results in rows:
        if index >= len(results):
            continue
        r = results[index]
        name = f"{label} #{index + 1}" if rounds > 1 else label
        print(f"{name:40} {r['rps']:11.0f} {r['p50_us'] / 1000:8.3f} {r['p90_us'] / 1000:8.3f} {r['p99_us'] / 1000:8.3f} "
              f"{r['max_us'] / 1000:8.2f} {r['requests']:9d} {cpu(r, 'proxy_cpu'):>10} {cpu(r, 'containers_cpu'):>7}  {errors(r)}")
print("(proxy CPU, fn CPU: microseconds of CPU per request used by the proxy's processes and by the function containers)")

if len(rows) >= 2:
    pairs = list(zip(rows[0][1], rows[1][1]))
    throughput = [f["rps"] / n["rps"] for f, n in pairs]
    p99 = [f["p99_us"] / n["p99_us"] for f, n in pairs]
    p50 = [f["p50_us"] / n["p50_us"] for f, n in pairs]
    for index, (t, p, m) in enumerate(zip(throughput, p99, p50)):
        if len(pairs) > 1:
            print(f"round {index + 1}: fnrt/nginx throughput {t:.2f}x, p99 {p:.2f}x, p50 {m:.2f}x")
    t, p, m = statistics.median(throughput), statistics.median(p99), statistics.median(p50)
    over = f" (median of {len(pairs)} rounds)" if len(pairs) > 1 else ""
    print(f"fnrt/nginx{over}: throughput {t:.2f}x ({'met' if t >= 1.0 else 'MISSED'}), "
          f"p99 {p:.2f}x ({'met' if p <= 1.2 else 'MISSED'}), p50 {m:.2f}x")
    print("target: throughput >= 1.0x, p99 <= 1.2x")
    if any(errors(f) != "none" or errors(n) != "none" for f, n in pairs):
        print("WARNING: a side had errors or non-2xx answers: the ratios do not compare like with like")

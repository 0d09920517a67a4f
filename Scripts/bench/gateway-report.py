#!/usr/bin/env python3
"""Table of Scripts/bench/gateway's wrk runs, and the fnrt/nginx ratios.

usage: gateway-report.py LABEL=RESULT.json... (the first two are fnrt and
nginx; any further ones are extra rows, not part of the ratios). Each file
holds the line Scripts/bench/gateway's wrk script prints in done(). Exits 0
whatever the numbers; prints "met" or "MISSED" per target.
"""
import json
import sys

rows = []
for argument in sys.argv[1:]:
    label, _, path = argument.partition("=")
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
    rows.append((label, result))


def errors(r):
    parts = [f"{k} {r[k]}" for k in ("connect", "read", "write", "timeout") if r[k]]
    if r["status"]:
        parts.append(f"non-2xx {r['status']}")
    return ", ".join(parts) or "none"


def cpu(r, key):
    return f"{r[key] / r['requests'] * 1e6:.0f}" if key in r and r["requests"] else "?"


print(f"{'':34} {'requests/s':>11} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'requests':>9} "
      f"{'proxy CPU':>10} {'fn CPU':>7}  errors")
for label, r in rows:
    rps = r["requests"] / (r["duration_us"] / 1e6)
    r["rps"] = rps
    print(f"{label:34} {rps:11.0f} {r['p50_us'] / 1000:8.3f} {r['p90_us'] / 1000:8.3f} {r['p99_us'] / 1000:8.3f} "
          f"{r['max_us'] / 1000:8.2f} {r['requests']:9d} {cpu(r, 'proxy_cpu'):>10} {cpu(r, 'containers_cpu'):>7}  {errors(r)}")
print("(proxy CPU, fn CPU: microseconds of CPU per request used by the proxy's processes and by the function containers)")

if len(rows) >= 2:
    fnrt, nginx = rows[0][1], rows[1][1]
    throughput = fnrt["rps"] / nginx["rps"]
    p99 = fnrt["p99_us"] / nginx["p99_us"]
    p50 = fnrt["p50_us"] / nginx["p50_us"]
    print(f"fnrt/nginx: throughput {throughput:.2f}x ({'met' if throughput >= 1.0 else 'MISSED'}), "
          f"p99 {p99:.2f}x ({'met' if p99 <= 1.2 else 'MISSED'}), p50 {p50:.2f}x")
    print("target: throughput >= 1.0x, p99 <= 1.2x")
    if errors(fnrt) != "none" or errors(nginx) != "none":
        print("WARNING: a side had errors or non-2xx answers: the ratios do not compare like with like")

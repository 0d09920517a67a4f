#!/usr/bin/env python3
"""Runs a command and prints the seconds until the first byte of its standard
output, then the seconds until it exited: `first-byte.py CMD ARGS...`.
Standard input is passed through. Exits with the command's status."""
import os, subprocess, sys, time

start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
first = process.stdout.read(1)
first_at = time.perf_counter() - start
rest = process.stdout.read()
code = process.wait()
end = time.perf_counter() - start
sys.stderr.write((first + rest).decode(errors="replace"))
print(f"{first_at:.4f} {end:.4f}")
sys.exit(code)

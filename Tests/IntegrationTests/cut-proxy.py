#!/usr/bin/env python3
"""A TCP proxy in front of a registry that cuts one blob download short.

A fake fault, for what a real registry cannot be made to do on cue: the
first GET of a path containing --match (without a Range header) gets its
response headers and --cut-after body bytes, then the connection closes.
Every request is logged to stdout as `REQ <method> <path> range=<Range>`.
Prints `PORT <n>` first. Loopback only; exits after --lifetime seconds.
"""
import argparse, socket, sys, threading

p = argparse.ArgumentParser()
p.add_argument("--target-port", type=int, required=True)
p.add_argument("--match", required=True)
p.add_argument("--cut-after", type=int, required=True)
p.add_argument("--lifetime", type=float, default=120)
a = p.parse_args()
state = {"cut": False}
lock = threading.Lock()


def log(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def handle(client):
    try:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split(" ")[:2]
        headers = [l for l in lines[1:] if not l.lower().startswith("connection:")]
        rng = next((l.split(":", 1)[1].strip() for l in headers if l.lower().startswith("range:")), "")
        log(f"REQ {method} {path} range={rng}")
        cut = False
        with lock:
            if method == "GET" and a.match in path and not rng and not state["cut"]:
                state["cut"] = cut = True
        upstream = socket.create_connection(("127.0.0.1", a.target_port))
        upstream.sendall(("\r\n".join([lines[0]] + headers + ["Connection: close", "", ""])).encode("latin-1") + rest)
        body_sent, header_done, buf = 0, False, b""
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                break
            if not cut:
                client.sendall(chunk)
                continue
            if not header_done:
                buf += chunk
                if b"\r\n\r\n" not in buf:
                    continue
                h, chunk = buf.split(b"\r\n\r\n", 1)
                client.sendall(h + b"\r\n\r\n")
                header_done = True
            take = chunk[: max(0, a.cut_after - body_sent)]
            client.sendall(take)
            body_sent += len(take)
            if body_sent >= a.cut_after:
                log(f"CUT {path} after {body_sent}")
                break
        upstream.close()
    except OSError:
        pass
    finally:
        client.close()


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(16)
log(f"PORT {server.getsockname()[1]}")
threading.Timer(a.lifetime, lambda: __import__("os")._exit(0)).start()
while True:
    conn, _ = server.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()

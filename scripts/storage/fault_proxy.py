#!/usr/bin/env python3
"""A tiny fault-injecting HTTP/1.1 proxy for mediad's S3 retry tests.

It forwards every request to one upstream server (the moto server) unless a queued
fault matches it. Faults are queued through a control API on the same port:

  POST   /__proxy__/faults   JSON list of faults to append
  DELETE /__proxy__/faults   clear faults and the request log
  GET    /__proxy__/stats    {"requests": [[method, path, range], ...], "injected": n}

A fault: {"action": ..., "method": "PUT", "match": ["bucket", "partNumber=3"], "times": 1}
("method", "match" (substrings that must all be in the path and query) and "times"
are optional). Tests match on their own bucket name, so parallel tests never take
each other's faults.
Actions:
  "status"     answer with {"status": 503, "code": "SlowDown"} as an S3 XML error
  "reset"      read the request, then reset the connection (TCP RST) with no answer
  "reset-body" forward, send the headers and half of the body, then reset
  "delay"      wait {"seconds": 3} before forwarding (client read timeouts)

Run standalone: fault_proxy.py LISTEN_PORT UPSTREAM_PORT (0 picks a free port). It prints
its address, then runs until its standard input closes (a test that started it ended or
died) or, from a terminal, until interrupted.
"""
import http.client
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "transfer-encoding", "upgrade"}
CONTROL = "/__proxy__/"


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []
        self.requests = []
        self.injected = 0

    def take_fault(self, method, path, range_header):
        with self.lock:
            if not path.startswith(CONTROL):
                self.requests.append([method, path, range_header or ""])
            for fault in self.faults:
                if fault.get("method") not in (None, method):
                    continue
                match = fault.get("match") or []
                if isinstance(match, str):
                    match = [match]
                if not all(part in path for part in match):
                    continue
                fault["times"] = fault.get("times", 1) - 1
                if fault["times"] <= 0:
                    self.faults.remove(fault)
                self.injected += 1
                return fault
            return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status, body, content_type="application/xml", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self):
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _control(self, body):
        state = self.server.state
        if self.command == "POST":
            with state.lock:
                state.faults.extend(json.loads(body or b"[]"))
        elif self.command == "DELETE":
            with state.lock:
                state.faults.clear()
                state.requests.clear()
                state.injected = 0
        with state.lock:
            stats = {"requests": list(state.requests), "injected": state.injected,
                     "pending": len(state.faults)}
        self._reply(200, json.dumps(stats).encode(), "application/json")

    def _handle(self):
        body = self._body()
        if self.path.startswith(CONTROL):
            return self._control(body)
        fault = self.server.state.take_fault(self.command, self.path, self.headers.get("Range"))
        action = fault and fault["action"]
        if action == "status":
            code = fault.get("code", "InternalError")
            request_id = f"FAULT{self.server.state.injected}"
            xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                   f"<Message>injected by fault_proxy</Message><RequestId>{request_id}</RequestId></Error>")
            return self._reply(int(fault.get("status", 500)), xml.encode(),
                               extra=[("x-amz-request-id", request_id)])
        if action == "reset":
            return self._reset()
        if action == "delay":
            time.sleep(float(fault.get("seconds", 3)))
        self._forward(body, cut_body=(action == "reset-body"))

    def _forward(self, body, cut_body):
        upstream = http.client.HTTPConnection(*self.server.upstream, timeout=60)
        try:
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    upstream.putheader(name, value)
            if body or self.command in ("PUT", "POST"):
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body)
            response = upstream.getresponse()
            payload = response.read()
            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                lower = name.lower()
                if lower in HOP_BY_HOP or (lower == "content-length" and self.command != "HEAD"):
                    continue
                self.send_header(name, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if cut_body:
                self.wfile.write(payload[: len(payload) // 2])
                return self._reset()
            self.wfile.write(payload)
        finally:
            upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that gave up (timeouts) or connections we reset on purpose are
        # expected here; nobody reads our stderr during a test run.
        pass


def start(host, port, upstream_host, upstream_port):
    """Start the proxy on a daemon thread and return the server (its port in server_address)."""
    server = QuietServer((host, port), Handler)
    server.state = State()
    server.upstream = (upstream_host, upstream_port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    proxy = start("127.0.0.1", int(sys.argv[1]), "127.0.0.1", int(sys.argv[2]))
    print(f"fault proxy on 127.0.0.1:{proxy.server_address[1]} -> 127.0.0.1:{sys.argv[2]}", flush=True)
    if sys.stdin.isatty():
        threading.Event().wait()
    while sys.stdin.buffer.read(65536):
        pass

#!/usr/bin/env python3
"""model-deploy serving gateway: the front of every serving image (Python 3 standard library only).

Listens on $PORT (8080) and proxies to the engine on 127.0.0.1:8081:
  GET  /ping         -> upstream $MODEL_DEPLOY_UPSTREAM_HEALTH_PATH (default /health), no key needed
  POST /invocations  -> upstream $MODEL_DEPLOY_INVOCATIONS_PATH (default /v1/chat/completions)
  anything else      -> the same path upstream (OpenAI routes), responses streamed as they arrive.
API keys (ec2, ecs) are required when MODEL_DEPLOY_API_KEY_A / _B or MODEL_DEPLOY_API_KEY_FILE
({"keys": [...]}) are set; the file is re-read when it changes, without restarting anything.
"""
import hmac
import http.client
import json
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "proxy-connection",
}
# Never sent upstream: the engine has no business seeing the client's key.
CREDENTIAL_HEADERS = {"authorization", "x-api-key"}
UNAUTHORIZED = b'{"error":"unauthorized"}'


class KeyStore:
    """The accepted keys: env A/B plus the key file, re-read when its identity (inode, size, mtime) changes."""

    def __init__(self, env):
        self.env_keys = [k for k in (env.get("MODEL_DEPLOY_API_KEY_A"), env.get("MODEL_DEPLOY_API_KEY_B")) if k]
        self.path = env.get("MODEL_DEPLOY_API_KEY_FILE") or None
        self.required = bool(self.env_keys or self.path)
        self._lock = threading.Lock()
        self._stamp = None
        self._file_keys = []

    def _load(self):
        try:
            st = os.stat(self.path)
        except OSError:
            # Missing file: fail closed (no file keys) rather than open.
            self._stamp, self._file_keys = None, []
            return
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._stamp:
            return
        try:
            with open(self.path, "rb") as f:
                data = json.loads(f.read().decode("utf-8"))
            keys = [k for k in data.get("keys", []) if isinstance(k, str) and k]
        except (OSError, ValueError, AttributeError):
            # A half-written or broken file keeps the last good keys (refresh-keys.sh renames atomically).
            return
        self._stamp, self._file_keys = stamp, keys
        log("keys loaded from file: %d key(s)" % len(keys))

    def keys(self):
        if self.path:
            with self._lock:
                self._load()
                return self.env_keys + self._file_keys
        return self.env_keys


def key_matches(candidate, keys):
    """Constant time: every key is compared in full, with no early exit, whatever matches."""
    given = candidate.encode("utf-8")
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, key.encode("utf-8"))
    return found


def presented_key(headers):
    auth = headers.get("Authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return headers.get("x-api-key")


def log(message):
    sys.stderr.write("gateway: %s\n" % message)
    sys.stderr.flush()


class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "model-deploy-gateway"
    sys_version = ""
    # Idle keep-alive connections close after this (longer than a load balancer's 60 s idle timeout).
    timeout = float(os.environ.get("MODEL_DEPLOY_CLIENT_IDLE_SECONDS", "75"))

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        if os.environ.get("MODEL_DEPLOY_ACCESS_LOG", "1") != "0":
            # The path without its query string: nothing a client sends in it is logged.
            log("%s %s %s" % (self.command, self.path.split("?", 1)[0], args[1] if len(args) > 1 else "-"))

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def handle_any(self):
        cfg = self.server.config
        path = self.path.split("?", 1)[0]
        upstream_path = self.path
        health = path in ("/ping", cfg["health_path"])
        if path == "/ping":
            upstream_path = cfg["health_path"]
        elif path == "/invocations":
            upstream_path = cfg["invocations_path"]
        if not health and cfg["keys"].required:
            key = presented_key(self.headers)
            if not key or not key_matches(key, cfg["keys"].keys()):
                self.read_body()  # keep the connection usable
                return self.reply(401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
        body = self.read_body()
        if body is None:
            return self.reply(400, b'{"error":"bad request"}')
        self.proxy(upstream_path, body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            return self.rfile.read(int(length))
        except ValueError:
            self.close_connection = True
            return None

    def reply(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def proxy(self, upstream_path, body):
        cfg = self.server.config
        conn = http.client.HTTPConnection(cfg["upstream_host"], cfg["upstream_port"], timeout=cfg["upstream_timeout"])
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() not in CREDENTIAL_HEADERS}
        headers["Content-Length"] = str(len(body))
        headers["X-Forwarded-For"] = self.client_address[0]
        try:
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.request(self.command, upstream_path, body=body if body or self.command not in ("GET", "HEAD") else None, headers=headers)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            log("upstream unavailable: %s" % err.__class__.__name__)
            return self.reply(502, b'{"error":"upstream unavailable"}')
        try:
            self.relay(resp)
        finally:
            conn.close()

    def relay(self, resp):
        self.send_response(resp.status, resp.reason)
        length = resp.getheader("Content-Length")
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        chunked = not no_body and length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if no_body:
            return
        try:
            while True:
                # read1 returns what has arrived (one SSE event, one chunk) instead of waiting to fill the buffer.
                data = resp.read1(65536)
                if not data:
                    break
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
                self.wfile.flush()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (OSError, http.client.HTTPException):
            # Client gone or upstream broke mid-stream: this connection cannot be reused.
            self.close_connection = True


def make_server(env=None):
    env = os.environ if env is None else env
    upstream = env.get("MODEL_DEPLOY_UPSTREAM", "127.0.0.1:8081")
    host, _, port = upstream.rpartition(":")
    server = ThreadingHTTPServer((env.get("MODEL_DEPLOY_LISTEN_HOST", "0.0.0.0"), int(env.get("PORT", "8080"))), Gateway)
    server.daemon_threads = True
    server.config = {
        "upstream_host": host or "127.0.0.1",
        "upstream_port": int(port),
        "upstream_timeout": float(env.get("MODEL_DEPLOY_UPSTREAM_TIMEOUT", "3600")),
        "health_path": env.get("MODEL_DEPLOY_UPSTREAM_HEALTH_PATH", "/health"),
        "invocations_path": env.get("MODEL_DEPLOY_INVOCATIONS_PATH", "/v1/chat/completions"),
        "keys": KeyStore(env),
    }
    return server


def main():
    server = make_server()
    cfg = server.config
    log("listening on %s:%d, upstream %s:%d, API key %s" % (
        server.server_address[0], server.server_address[1], cfg["upstream_host"], cfg["upstream_port"],
        "required" if cfg["keys"].required else "not required"))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

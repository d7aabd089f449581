#!/usr/bin/env python3
"""model-deploy serving gateway: the front of every serving image (Python 3 standard library only).

Listens on $PORT (8080) and proxies to the engine on 127.0.0.1:8081:
  GET  /ping         -> upstream $MODEL_DEPLOY_UPSTREAM_HEALTH_PATH (default /health), no key needed
  POST /invocations  -> upstream $MODEL_DEPLOY_INVOCATIONS_PATH (default /v1/chat/completions)
  anything else      -> the same path upstream (OpenAI routes), responses streamed as they arrive.
API keys (ec2, ecs) are required when MODEL_DEPLOY_API_KEY_A / _B or MODEL_DEPLOY_API_KEY_FILE
({"keys": [...]}) are set; the file is re-read when it changes, without restarting anything.

Hardening (the load balancer in front is internet-facing):
  - the key is checked from the request head alone; a request without a valid key gets 401 with
    Connection: close and its body is never read (at most briefly discarded so the 401 arrives);
  - framing follows RFC 9112 section 6: Content-Length only as plain digits and only once, never together with
    Transfer-Encoding (400, connection closed), no transfer coding but a lone "chunked" (501);
  - bodies are capped at MODEL_DEPLOY_MAX_BODY_BYTES (default 25 MiB, SageMaker's own payload limit): 413;
  - the request head must arrive within MODEL_DEPLOY_HEADER_TIMEOUT_SECONDS (default 10);
  - at most MODEL_DEPLOY_MAX_CONNECTIONS (default 256) connections at once; more get 503 and are closed;
  - the health route's upstream call gives up after MODEL_DEPLOY_HEALTH_TIMEOUT_SECONDS (default 5).
"""
import hmac
import http.client
import json
import os
import re
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "proxy-connection",
}
# Set by the gateway itself from the body it forwards: the client's own (any case) never goes upstream.
LENGTH_HEADERS = {"content-length"}
DIGITS = re.compile(r"[0-9]{1,18}")
CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(;[^\r\n]*)?\r?\n")
# After a refusal the rest of the request is discarded (into one 64 KiB scratch buffer, never kept) for at
# most this long, so the client reads the answer before the close: closing a socket with unread data sends a
# reset, and a reset can make the client's TCP stack drop the answer it had not read yet.
LINGER_SECONDS = 2.0
# ... and takes at most this many bytes (on a fast link two seconds is hundreds of MiB); past it the gateway only
# waits for the client to close, so a client that writes its whole body before reading still gets its answer.
LINGER_MAX_BYTES = 16 * 1024 * 1024
MAX_TRAILER_LINES = 32
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


class BadRequest(Exception):
    """A request the gateway refuses: status, JSON body; the connection is always closed after it."""

    def __init__(self, status, error):
        super().__init__(error)
        self.status = status
        self.body = json.dumps({"error": error}).encode("utf-8")


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
            path = getattr(self, "path", "") or ""
            log("%s %s %s" % (getattr(self, "command", "") or "-", path.split("?", 1)[0], args[1] if len(args) > 1 else "-"))

    def handle_one_request(self):
        cfg = self.server.config
        # Wait for the next request under the idle timeout; from its first byte on, the whole head must
        # arrive before the header deadline (a watchdog shuts the socket down otherwise: no slowloris).
        try:
            self.connection.settimeout(self.timeout)
            if not self.rfile.peek(1):
                self.close_connection = True
                return
        except OSError:
            self.close_connection = True
            return
        self.connection.settimeout(cfg["header_timeout"])
        self.server.watch(self.connection, cfg["header_timeout"])
        try:
            super().handle_one_request()
        finally:
            self.server.unwatch(self.connection)

    def handle_expect_100(self):
        # 100 Continue only once the head has been checked (key, framing, size): see handle_any.
        return True

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def handle_any(self):
        cfg = self.server.config
        if self.server.unwatch(self.connection):
            # The watchdog cut the head short: what was parsed is not a whole request. Nothing is answered.
            self.close_connection = True
            return
        self.connection.settimeout(cfg["body_timeout"])
        path = self.path.split("?", 1)[0]
        upstream_path = self.path
        health = path in ("/ping", cfg["health_path"])
        if path == "/ping":
            upstream_path = cfg["health_path"]
        elif path == "/invocations":
            upstream_path = cfg["invocations_path"]
        try:
            framing = self.framing()
            if not health and cfg["keys"].required:
                key = presented_key(self.headers)
                if not key or not key_matches(key, cfg["keys"].keys()):
                    return self.refuse(401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
            limit = cfg["health_max_body"] if health else cfg["max_body"]
            if framing[0] == "length" and framing[1] > limit:
                raise BadRequest(413, "request body too large")
            if framing[0] != "none" and self.headers.get("Expect", "").lower() == "100-continue":
                self.send_response_only(100)
                self.end_headers()
            body = self.read_body(framing, limit)
        except BadRequest as err:
            return self.refuse(err.status, err.body)
        self.proxy(upstream_path, body, cfg["health_timeout"] if health else cfg["upstream_timeout"])

    def framing(self):
        """How the body is delimited, from the head alone (RFC 9112 section 6): ("none"|"length"|"chunked", n)."""
        if self.headers.defects:
            # e.g. a header line without a colon, or a name followed by a space ("Transfer-Encoding : chunked").
            raise BadRequest(400, "bad request")
        lengths = self.headers.get_all("Content-Length") or []
        codings = self.headers.get_all("Transfer-Encoding") or []
        if codings:
            if lengths:
                raise BadRequest(400, "bad request")
            names = [c.strip().lower() for c in ",".join(codings).split(",")]
            if names != ["chunked"]:
                raise BadRequest(501, "transfer coding not implemented")
            return ("chunked", 0)
        if not lengths:
            return ("none", 0)
        if len(lengths) != 1 or not DIGITS.fullmatch(lengths[0].strip(" \t")):
            raise BadRequest(400, "bad request")
        n = int(lengths[0].strip(" \t"))
        return ("length", n) if n else ("none", 0)

    def read_body(self, framing, limit):
        """Reads at most `limit` bytes of body into one buffer; more is refused before it is buffered."""
        kind, n = framing
        if kind == "none":
            return b""
        if kind == "length":
            body = self.rfile.read(n)
            if len(body) != n:
                raise BadRequest(400, "incomplete body")
            return body
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            m = CHUNK_SIZE.fullmatch(line)
            if not m:
                raise BadRequest(400, "bad chunk")
            size = int(m.group(1), 16)
            if size == 0:
                break
            if len(body) + size > limit:
                raise BadRequest(413, "request body too large")
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadRequest(400, "bad chunk")
            body += data
        for _ in range(MAX_TRAILER_LINES):
            line = self.rfile.readline(8193)
            if line in (b"\r\n", b"\n"):
                return body
            if not line or len(line) > 8192:
                break
        raise BadRequest(400, "bad trailer")

    def reply(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def refuse(self, status, body, headers=None):
        """Answers from the head alone and closes: the body is never read into memory."""
        self.close_connection = True
        self.reply(status, body, dict(headers or {}, Connection="close"))
        linger(self.connection)

    def proxy(self, upstream_path, body, timeout):
        cfg = self.server.config
        conn = http.client.HTTPConnection(cfg["upstream_host"], cfg["upstream_port"], timeout=timeout)
        # Hop-by-hop headers, those the client names in Connection, the client's own length and the key stay here.
        named = {t.strip().lower() for v in (self.headers.get_all("Connection") or []) for t in v.split(",")}
        drop = HOP_BY_HOP | LENGTH_HEADERS | CREDENTIAL_HEADERS | named
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in drop and k.lower() != "x-forwarded-for"]
        if not any(k.lower() == "host" for k, _ in headers):
            headers.append(("Host", "%s:%d" % (cfg["upstream_host"], cfg["upstream_port"])))
        headers.append(("Content-Length", str(len(body))))
        headers.append(("X-Forwarded-For", self.client_address[0]))
        try:
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.putrequest(self.command, upstream_path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            # A memoryview goes out as is: no copy of a body of up to the limit.
            conn.endheaders(message_body=memoryview(body) if body else None)
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


def linger(sock):
    """Half-closes, then discards what the client still sends (bounded in time and bytes, never kept)."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        buf = bytearray(65536)
        discarded = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            if discarded < LINGER_MAX_BYTES:
                n = sock.recv_into(buf)
                if not n:
                    break
                discarded += n
            elif not sock.recv(1, socket.MSG_PEEK):
                break  # the client closed: its slot is free at once
            else:
                # Past the byte cap: take no more (its sending stalls on a full window) until it closes or time is up.
                time.sleep(min(0.05, left))
    except OSError:
        pass


BUSY = b'{"error":"too many connections"}'


class GatewayServer(ThreadingHTTPServer):
    """One thread per connection, at most `max_connections` of them; a watchdog enforces header deadlines."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, max_connections):
        super().__init__(address, Gateway)
        self.slots = threading.BoundedSemaphore(max_connections)
        self._deadlines = {}
        self._expired = set()
        self._deadline_lock = threading.Lock()
        threading.Thread(target=self._watchdog, name="header-deadlines", daemon=True).start()

    def watch(self, sock, seconds):
        with self._deadline_lock:
            self._deadlines[sock] = time.monotonic() + seconds

    def unwatch(self, sock):
        """Stops watching; True when the deadline had passed (the socket was shut down)."""
        with self._deadline_lock:
            self._deadlines.pop(sock, None)
            if sock in self._expired:
                self._expired.discard(sock)
                return True
            return False

    def _watchdog(self):
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            with self._deadline_lock:
                late = [s for s, t in self._deadlines.items() if t <= now]
                for s in late:
                    del self._deadlines[s]
                    self._expired.add(s)
            for s in late:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            try:
                request.settimeout(1)
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s" % (len(BUSY), BUSY))
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def make_server(env=None):
    env = os.environ if env is None else env
    upstream = env.get("MODEL_DEPLOY_UPSTREAM", "127.0.0.1:8081")
    host, _, port = upstream.rpartition(":")
    server = GatewayServer((env.get("MODEL_DEPLOY_LISTEN_HOST", "0.0.0.0"), int(env.get("PORT", "8080"))),
                           max(1, int(env.get("MODEL_DEPLOY_MAX_CONNECTIONS", "256"))))
    server.config = {
        "upstream_host": host or "127.0.0.1",
        "upstream_port": int(port),
        "upstream_timeout": float(env.get("MODEL_DEPLOY_UPSTREAM_TIMEOUT", "3600")),
        "health_timeout": float(env.get("MODEL_DEPLOY_HEALTH_TIMEOUT_SECONDS", "5")),
        "header_timeout": float(env.get("MODEL_DEPLOY_HEADER_TIMEOUT_SECONDS", "10")),
        "body_timeout": float(env.get("MODEL_DEPLOY_BODY_TIMEOUT_SECONDS", "60")),
        "max_body": int(env.get("MODEL_DEPLOY_MAX_BODY_BYTES", str(25 * 1024 * 1024))),
        "health_max_body": 64 * 1024,
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

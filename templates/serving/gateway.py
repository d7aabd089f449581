#!/usr/bin/env python3
"""model-deploy serving gateway: the front of every serving image (Python 3 standard library only).

Listens on $PORT (8080) and proxies to the engine on 127.0.0.1:8081:
  GET  /ping         -> upstream $MODEL_DEPLOY_UPSTREAM_HEALTH_PATH (default /health), no key needed
  POST /invocations  -> upstream $MODEL_DEPLOY_INVOCATIONS_PATH (default /v1/chat/completions)
  anything else      -> the same path upstream (OpenAI routes), responses streamed as they arrive.
API keys (ec2, ecs) are required when MODEL_DEPLOY_API_KEY_A / _B or MODEL_DEPLOY_API_KEY_FILE
({"keys": [...]}) are set; the file is re-read when it changes, without restarting anything.

Hardening (the load balancer in front is internet-facing):
  - routes are an allowlist: the health routes (/ping and the upstream health path: GET or HEAD, no body, no key),
    POST /invocations and the engines' OpenAI inference routes (ROUTES); anything else is 404, another method 405;
  - the key is checked from the request head alone; a request without a valid key gets 401 with
    Connection: close and its body is never read (at most briefly discarded so the 401 arrives);
  - the head is read by the gateway itself (RFC 9112 sections 2-5): CRLF line ends only, no bare CR, no obs-fold,
    no control character, field names are tokens with the colon right after them, at most
    MODEL_DEPLOY_MAX_HEAD_BYTES (default 32 KiB) and 100 fields (431 past either);
  - framing follows RFC 9112 section 6: Content-Length only as plain digits and only once, never together with
    Transfer-Encoding, no Transfer-Encoding on HTTP/1.0 (400, connection closed), no transfer coding but a lone
    "chunked" (501);
  - bodies are capped at MODEL_DEPLOY_MAX_BODY_BYTES (default 25 MiB, SageMaker's own payload limit): 413;
  - deadlines: the first request's head must be complete MODEL_DEPLOY_HEADER_TIMEOUT_SECONDS (default 10) after
    the connection was accepted (later heads: after their first byte); a body must be complete
    MODEL_DEPLOY_BODY_GRACE_SECONDS (default 10) plus one second per MODEL_DEPLOY_BODY_MIN_BYTES_PER_SECOND
    (default 16 KiB) received after the head: a trickle is cut off however steady it is;
  - slots: at most MODEL_DEPLOY_MAX_CONNECTIONS (default 2048) connections, at most
    MODEL_DEPLOY_MAX_CONNECTIONS_PER_PEER (default half of them) from one address. When a new connection finds
    them full, the oldest connection that holds no request (an answered refusal, an idle keep-alive connection, a
    fresh one still silent, then an unfinished head) is closed to make room; connections with a request in
    progress are never closed for that. Only when none can be closed, the new one gets 503;
  - an upstream answer whose framing is broken (shorter than its Content-Length, Content-Length together with
    Transfer-Encoding, an invalid Content-Length) closes the client's connection after it, so no later answer on
    that connection can be misread;
  - the health route's upstream call gives up after MODEL_DEPLOY_HEALTH_TIMEOUT_SECONDS (default 5).

Streaming: a thread per connection reads and checks the request (the defences above), then hands the answer's
body to one "streams" thread that relays every stream on one epoll (recv, frame, send), and waits. Connections
to the engine are kept alive and reused. docs/benchmark.md has the measurements behind this design.
"""
import hmac
import http.client
import json
import os
import re
import select
import selectors
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

# The routes a client may call, by path (the query string aside) and method: SageMaker's /invocations and the
# OpenAI routes the engines serve (vLLM, TGI's Messages API). The health routes are apart: GET or HEAD only.
ROUTES = {
    "/invocations": ("POST",),
    "/v1/chat/completions": ("POST",),
    "/v1/completions": ("POST",),
    "/v1/embeddings": ("POST",),
    "/v1/models": ("GET", "HEAD"),
}
HEALTH_METHODS = ("GET", "HEAD")
# RFC 9110 section 5.6.2 token; a field value is visible ASCII, obs-text, space and tab (section 5.5): no CR, LF,
# NUL or other control character.
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
# origin-form only (a proxy's absolute-form or OPTIONS * reach no route here), HTTP/1.0 or 1.1.
REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (/[\x21-\x7e]*) HTTP/(1\.[01])")
MAX_HEADER_FIELDS = 100
STATUS_LINE = re.compile(rb"(HTTP/1\.[01]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")
MAX_UPSTREAM_HEAD = 64 * 1024
# Request bodies up to this size go out in one send with the head.
COALESCE_BODY_BYTES = 64 * 1024
# Empty lines a client may send before a request line (after a body, RFC 9112 section 2.2): a few, not a stream.
MAX_LEADING_EMPTY_LINES = 4


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


class Fields:
    """Header fields as received (already checked): case-insensitive lookup, order kept."""

    __slots__ = ("pairs",)

    def __init__(self, pairs):
        self.pairs = pairs

    def get_all(self, name):
        name = name.lower()
        found = [v for k, v in self.pairs if k.lower() == name]
        return found or None

    def get(self, name, default=None):
        name = name.lower()
        for k, v in self.pairs:
            if k.lower() == name:
                return v
        return default

    def items(self):
        return list(self.pairs)


class UpstreamAnswer:
    """The engine's answer head, read from its socket (RFC 9112 sections 4-6): status, fields, framing; `early`
    holds the body bytes that came with the head."""

    def __init__(self, sock, head_request):
        buf = b""
        while True:
            end = buf.find(b"\r\n\r\n")
            while end < 0:
                if len(buf) > MAX_UPSTREAM_HEAD:
                    raise UpstreamError("upstream answer head too large")
                data = sock.recv(65536)
                if not data:
                    raise http.client.RemoteDisconnected("upstream closed before answering") if not buf else UpstreamError("upstream answer cut short")
                buf += data
                end = buf.find(b"\r\n\r\n")
            lines = buf[:end].split(b"\r\n")
            buf = buf[end + 4:]
            m = STATUS_LINE.fullmatch(lines[0])
            if not m:
                raise UpstreamError("upstream status line unreadable")
            status = int(m.group(2))
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer (100 Continue): the final one follows
            break
        self.version = m.group(1).decode("ascii")
        self.status = status
        self.reason = m.group(3).decode("latin-1")
        pairs = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not TOKEN.fullmatch(name):
                raise UpstreamError("upstream header field unreadable")
            pairs.append((name.decode("ascii"), value.strip(b" \t").decode("latin-1")))
        self.msg = Fields(pairs)
        self.early = buf
        coding = self.msg.get("Transfer-Encoding")
        self.chunked = coding is not None and coding.lower() == "chunked"
        length = self.msg.get("Content-Length")
        self.length = None
        if not self.chunked and length is not None and DIGITS.fullmatch(length.strip(" \t")):
            self.length = int(length.strip(" \t"))
        if head_request or status in (204, 304):
            self.length = 0
        tokens = {t.strip().lower() for v in (self.msg.get_all("Connection") or []) for t in v.split(",")}
        self.will_close = "close" in tokens or (self.version == "HTTP/1.0" and "keep-alive" not in tokens)

    def getheaders(self):
        return self.msg.items()


class UpstreamError(Exception):
    """The engine's answer head is broken: 502."""


class BadRequest(Exception):
    """A request the gateway refuses: status, JSON body; the connection is always closed after it."""

    def __init__(self, status, error, headers=None):
        super().__init__(error)
        self.status = status
        self.body = json.dumps({"error": error}).encode("utf-8")
        self.headers = headers


class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "model-deploy-gateway"
    sys_version = ""
    # Idle keep-alive connections close after this (longer than a load balancer's 60 s idle timeout); the slot
    # of an idle one goes to a new connection that needs it before then.
    timeout = float(os.environ.get("MODEL_DEPLOY_CLIENT_IDLE_SECONDS", "75"))

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.served = 0
        self.command = ""
        self.path = ""
        self.requestline = ""
        self.request_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if os.environ.get("MODEL_DEPLOY_ACCESS_LOG", "1") != "0":
            # The path without its query string: nothing a client sends in it is logged.
            path = getattr(self, "path", "") or ""
            log("%s %s %s" % (getattr(self, "command", "") or "-", path.split("?", 1)[0], args[1] if len(args) > 1 else "-"))

    def handle_one_request(self):
        srv = self.server
        sock = self.connection
        cfg = srv.config
        self.close_connection = True
        try:
            if self.served == 0:
                # The first head is due header_timeout after accept, whether or not a byte of it came: a silent
                # connection holds its slot no longer than a slow one.
                deadline = srv.accepted_at(sock) + cfg["header_timeout"]
                srv.watch(sock, deadline)
                sock.settimeout(max(0.001, deadline - time.monotonic()))
            else:
                # Between requests: idle (evictable) until the next request's first byte, then its own deadline.
                srv.set_state(sock, "wait")
                sock.settimeout(self.timeout)
            if not self.rfile.peek(1):
                return
            if not srv.set_state(sock, "head"):
                return  # evicted while idle
            if self.served:
                srv.watch(sock, time.monotonic() + cfg["header_timeout"])
            sock.settimeout(cfg["header_timeout"])
            self.read_head()
        except (OSError, ValueError):
            # Timed out, reset, or the watchdog / an eviction shut the socket: not a request, nothing to answer.
            srv.unwatch(sock)
            return
        except BadRequest as err:
            if srv.unwatch(sock) or not srv.set_state(sock, "closing"):
                return  # a head cut short by the deadline or an eviction is not a request
            return self.refuse(err.status, err.body, err.headers)
        if srv.unwatch(sock) or not srv.set_state(sock, "busy"):
            return
        self.served += 1
        try:
            self.handle_any()
            self.wfile.flush()
        except (OSError, ValueError):
            self.close_connection = True

    def read_head(self):
        """Reads and checks the request head (RFC 9112 sections 2-5) into command, path, version and headers."""
        budget = self.server.config["max_head"]
        line, budget = self.head_line(budget)
        for _ in range(MAX_LEADING_EMPTY_LINES):
            if line:
                break
            line, budget = self.head_line(budget)
        self.requestline = line.decode("latin-1")
        m = REQUEST_LINE.fullmatch(line)
        if not m:
            raise BadRequest(400, "bad request line")
        self.command = m.group(1).decode("ascii")
        self.path = m.group(2).decode("ascii")
        self.request_version = "HTTP/" + m.group(3).decode("ascii")
        fields = []
        while True:
            line, budget = self.head_line(budget)
            if not line:
                break
            if len(fields) >= MAX_HEADER_FIELDS:
                raise BadRequest(431, "too many header fields")
            if line[:1] in (b" ", b"\t"):
                raise BadRequest(400, "obsolete line folding")
            name, colon, value = line.partition(b":")
            if not colon or not TOKEN.fullmatch(name):
                raise BadRequest(400, "bad header field name")
            value = value.strip(b" \t")
            if not FIELD_VALUE.fullmatch(value):
                raise BadRequest(400, "control character in a header field")
            fields.append((name.decode("ascii"), value.decode("latin-1")))
        # Checked line by line above; no email parser (a third of a request's CPU in the gateway).
        self.headers = Fields(fields)
        if self.request_version == "HTTP/1.1":
            tokens = {t.strip().lower() for v in (self.headers.get_all("Connection") or []) for t in v.split(",")}
            self.close_connection = "close" in tokens
        else:
            # No HTTP/1.0 keep-alive: one request, then the connection closes.
            self.close_connection = True

    def head_line(self, budget):
        """One head line without its CRLF, and what is left of the head's byte budget."""
        line = self.rfile.readline(budget + 1)
        if not line:
            raise OSError("connection closed in the request head")
        if len(line) > budget:
            raise BadRequest(431, "request head too large")
        if not line.endswith(b"\r\n"):
            if not line.endswith(b"\n"):
                raise OSError("connection closed in the request head")
            raise BadRequest(400, "bare LF in the request head")
        line = line[:-2]
        if b"\r" in line:
            raise BadRequest(400, "bare CR in the request head")
        return line, budget - len(line) - 2

    def handle_any(self):
        cfg = self.server.config
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
            if health:
                if self.command not in HEALTH_METHODS:
                    raise BadRequest(405, "method not allowed", {"Allow": ", ".join(HEALTH_METHODS)})
                if framing[0] != "none":
                    raise BadRequest(400, "the health route takes no body")
            else:
                if cfg["keys"].required:
                    key = presented_key(self.headers)
                    if not key or not key_matches(key, cfg["keys"].keys()):
                        return self.refuse(401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
                methods = ROUTES.get(path)
                if methods is None:
                    raise BadRequest(404, "no such route")
                if self.command not in methods:
                    raise BadRequest(405, "method not allowed", {"Allow": ", ".join(methods)})
            limit = cfg["max_body"]
            if framing[0] == "length" and framing[1] > limit:
                raise BadRequest(413, "request body too large")
            if framing[0] != "none" and self.headers.get("Expect", "").lower() == "100-continue":
                self.send_response_only(100)
                self.end_headers()
            body = self.read_body(framing, limit)
        except BadRequest as err:
            return self.refuse(err.status, err.body, err.headers)
        if body is None:
            return  # cut off by the body deadline: the socket is shut, nothing can be answered
        self.proxy(upstream_path, body, cfg["health_timeout"] if health else cfg["upstream_timeout"])

    def framing(self):
        """How the body is delimited, from the head alone (RFC 9112 section 6): ("none"|"length"|"chunked", n)."""
        lengths = self.headers.get_all("Content-Length") or []
        codings = self.headers.get_all("Transfer-Encoding") or []
        if codings:
            # HTTP/1.0 has no transfer codings: a 1.0 message that names one has faulty framing (RFC 9112 6.1).
            if lengths or self.request_version == "HTTP/1.0":
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
        """The body, read piece by piece into one buffer under the body deadline; None when the deadline cut it.

        The deadline grows with what arrived (grace + received / minimum rate), so a large body at a decent rate
        has all the time it needs while a trickle is cut off; the watchdog enforces it even inside one read.
        """
        kind, n = framing
        if kind == "none":
            return b""
        srv, sock, cfg = self.server, self.connection, self.server.config
        started = time.monotonic()
        body = bytearray()

        def arrived():
            srv.watch(sock, started + cfg["body_grace"] + len(body) / cfg["body_min_rate"])

        def take(count):
            # At most one read from the socket per piece, so the deadline moves only with real progress.
            while count:
                data = self.rfile.read1(min(count, 1 << 20))
                if not data:
                    raise OSError("body ended early")
                body.extend(data)
                count -= len(data)
                arrived()

        arrived()
        try:
            if kind == "length":
                take(n)
            else:
                self.read_chunks(take, body, limit)
        except (OSError, ValueError):
            if not srv.unwatch(sock):
                raise BadRequest(400, "incomplete body")
        except BadRequest:
            if not srv.unwatch(sock):
                raise
        else:
            if not srv.unwatch(sock):
                return body
        # The watchdog shut the socket at the deadline: nothing can be answered any more.
        log("request body cut off by its deadline (%d bytes in %.1f s)" % (len(body), time.monotonic() - started))
        self.close_connection = True
        return None

    def read_chunks(self, take, body, limit):
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise OSError("body ended early")
            m = CHUNK_SIZE.fullmatch(line)
            if not m:
                raise BadRequest(400, "bad chunk")
            size = int(m.group(1), 16)
            if size == 0:
                break
            if len(body) + size > limit:
                raise BadRequest(413, "request body too large")
            take(size)
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadRequest(400, "bad chunk")
        for _ in range(MAX_TRAILER_LINES):
            line = self.rfile.readline(8193)
            if line in (b"\r\n", b"\n"):
                return
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
        # Answered: from now on the connection holds no request, and its slot goes first to a new client.
        self.server.set_state(self.connection, "closing")
        try:
            self.reply(status, body, dict(headers or {}, Connection="close"))
            self.wfile.flush()
        except OSError:
            return
        linger(self.connection)

    def proxy(self, upstream_path, body, timeout):
        cfg = self.server.config
        # Hop-by-hop headers, those the client names in Connection, the client's own length and the key stay here.
        named = {t.strip().lower() for v in (self.headers.get_all("Connection") or []) for t in v.split(",")}
        drop = HOP_BY_HOP | LENGTH_HEADERS | CREDENTIAL_HEADERS | named
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in drop and k.lower() != "x-forwarded-for"]
        if not any(k.lower() == "host" for k, _ in headers):
            headers.append(("Host", "%s:%d" % (cfg["upstream_host"], cfg["upstream_port"])))
        headers.append(("Content-Length", str(len(body))))
        headers.append(("X-Forwarded-For", self.client_address[0]))
        pool = self.server.upstreams
        head = ["%s %s HTTP/1.1\r\n" % (self.command, upstream_path)]
        for k, v in headers:
            head.append("%s: %s\r\n" % (k, v))
        head.append("\r\n")
        head = "".join(head).encode("latin-1")
        # One send for head and body (two sends meet Nagle and delayed ACK); a large body goes as it is.
        message = head + body if len(body) <= COALESCE_BODY_BYTES else None
        # A kept-alive connection the engine closed meanwhile fails before any answer: then once more on a new one.
        for attempt in (0, 1):
            sock = pool.take() if attempt == 0 else None
            reused = sock is not None
            try:
                if sock is None:
                    sock = socket.create_connection((cfg["upstream_host"], cfg["upstream_port"]), timeout=timeout)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                else:
                    sock.settimeout(timeout)
                if message is not None:
                    sock.sendall(message)
                else:
                    sock.sendall(head)
                    sock.sendall(memoryview(body))
                resp = UpstreamAnswer(sock, self.command == "HEAD")
                break
            except (OSError, UpstreamError, http.client.HTTPException) as err:
                if sock is not None:
                    sock.close()
                if reused and isinstance(err, (ConnectionError, http.client.RemoteDisconnected)):
                    continue
                log("upstream unavailable: %s" % err.__class__.__name__)
                return self.reply(502, b'{"error":"upstream unavailable"}')
        reusable = False
        try:
            reusable = self.relay(resp, sock, timeout)
        finally:
            if reusable and not resp.will_close:
                pool.give(sock)
            else:
                sock.close()

    def relay(self, resp, up, timeout):
        """Sends the answer's head, then hands its body to the streams thread; True when the upstream
        connection ended its answer cleanly (it may serve the next request)."""
        lengths = resp.msg.get_all("Content-Length") or []
        codings = resp.msg.get_all("Transfer-Encoding") or []
        # The upstream's own framing is never copied: the gateway frames what it sends. When that framing was
        # ambiguous or broken, this answer is the connection's last, so nothing after it can be misread.
        valid_length = len(lengths) == 1 and DIGITS.fullmatch(lengths[0].strip(" \t")) is not None
        ambiguous = (lengths and codings) or (lengths and not valid_length) or (codings and not resp.chunked)
        if ambiguous:
            log("upstream answer with ambiguous framing: the client connection closes after it")
            self.close_connection = True
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        length = resp.length if not resp.chunked and valid_length and not codings else None
        # HTTP/1.0 clients know no chunked coding: an answer of unknown length ends with the connection.
        chunked = not no_body and length is None and self.request_version == "HTTP/1.1"
        if not no_body and length is None and not chunked:
            self.close_connection = True
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() not in LENGTH_HEADERS:
                self.send_header(k, v)
        if no_body:
            if valid_length and not codings:
                self.send_header("Content-Length", lengths[0].strip(" \t"))
        elif length is not None:
            self.send_header("Content-Length", str(length))
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if no_body:
            # After an interim or switching answer the connection is not plain HTTP any more: never reused.
            return not ambiguous and resp.status >= 200
        # What came with the head goes first.
        up.setblocking(False)
        early = resp.early
        if resp.chunked:
            source = ChunkedSource()
        elif length is not None:
            source = LengthSource(length)
        else:
            source = CloseSource()
        stream = Stream(self.connection, up, source, chunked, timeout, early)
        self.server.streams.run(stream)
        if stream.failure:
            log(stream.failure)
        if not stream.clean:
            self.close_connection = True
        return stream.clean and not ambiguous and not isinstance(source, CloseSource)


class BadUpstream(Exception):
    """The upstream's body framing is broken: the client connection closes after what was relayed."""


class LengthSource:
    """A body of known length: passes bytes through until the length is reached."""

    def __init__(self, length):
        self.left = length
        self.done = length == 0

    def feed(self, data):
        if len(data) > self.left:
            data = data[:self.left]  # anything past the length is not this answer's
        self.left -= len(data)
        self.done = self.left == 0
        return [data] if data else []

    def eof(self):
        if not self.done:
            raise BadUpstream("upstream answer shorter than its Content-Length: closing the client connection")


class CloseSource:
    """A body that ends with the upstream connection."""

    done = False

    def feed(self, data):
        return [data]

    def eof(self):
        self.done = True


class ChunkedSource:
    """The upstream's chunked coding, decoded incrementally (RFC 9112 section 7.1): the pieces of data."""

    def __init__(self):
        self.buf = b""
        self.left = 0  # data bytes of the current chunk still to come
        self.state = "size"  # size | data | crlf | trailer
        self.done = False

    def feed(self, data):
        out = []
        buf = self.buf + data if self.buf else data
        pos = 0
        n = len(buf)
        while pos < n and not self.done:
            if self.state == "data":
                take = min(self.left, n - pos)
                out.append(buf[pos:pos + take])
                pos += take
                self.left -= take
                if self.left == 0:
                    self.state = "crlf"
                continue
            nl = buf.find(b"\n", pos)
            if nl < 0:
                if n - pos > 4096:
                    raise BadUpstream("upstream chunk line too long: closing the client connection")
                break
            line = buf[pos:nl + 1]
            pos = nl + 1
            if self.state == "crlf":
                if line not in (b"\r\n", b"\n"):
                    raise BadUpstream("upstream chunk without its line end: closing the client connection")
                self.state = "size"
            elif self.state == "size":
                m = CHUNK_SIZE.fullmatch(line)
                if not m:
                    raise BadUpstream("upstream chunk size unreadable: closing the client connection")
                self.left = int(m.group(1), 16)
                self.state = "data" if self.left else "trailer"
            elif line in (b"\r\n", b"\n"):  # trailer fields end with an empty line; they are not relayed
                self.done = True
        self.buf = buf[pos:] if pos < n and not self.done else b""
        return out

    def eof(self):
        if not self.done:
            raise BadUpstream("upstream chunked answer cut short: closing the client connection")


class Stream:
    """One answer's body on its way from the upstream socket to the client's, on the streams thread."""

    __slots__ = ("client", "up", "source", "chunked", "timeout", "pending", "last", "done", "clean", "failure", "early")

    def __init__(self, client, up, source, chunked, timeout, early):
        self.client, self.up, self.source, self.chunked, self.timeout = client, up, source, chunked, timeout
        self.pending = b""  # framed bytes the client's socket has not taken yet
        self.early = early
        self.last = time.monotonic()
        self.done = threading.Event()
        self.clean = False
        self.failure = None


class Streams:
    """Every answer body, relayed by one thread on one epoll: a token costs a recv, a frame and a send, with
    no thread hand-off per token (with a thread per connection each token woke a thread that had to win the
    GIL first, which at 128 streams added ~10 ms at p99 and ~40 ms to the first token)."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.incoming = []
        self.r, self.w = socket.socketpair()
        self.r.setblocking(False)
        self.w.setblocking(False)
        self.sel.register(self.r, selectors.EVENT_READ, None)
        threading.Thread(target=self.loop, name="streams", daemon=True).start()

    def run(self, stream):
        """Relays `stream` and returns when its body ended (or failed); the calling thread only waits."""
        timeout = stream.client.gettimeout()
        stream.client.setblocking(False)
        try:
            with self.lock:
                self.incoming.append(stream)
            try:
                self.w.send(b"x")
            except BlockingIOError:
                pass  # a wake-up is already pending
            stream.done.wait()
        finally:
            try:
                stream.client.settimeout(timeout)
            except OSError:
                pass
            try:
                stream.up.setblocking(True)
            except OSError:
                pass

    def loop(self):
        sel = self.sel
        while True:
            for key, mask in sel.select(1.0):
                stream = key.data
                try:
                    if stream is None:
                        self.admit()
                    elif mask & selectors.EVENT_WRITE:
                        self.drain(stream)
                    else:
                        self.pump(stream)
                except Exception as err:  # noqa: BLE001 - one stream's fault must not stop every other stream
                    if stream is not None:
                        self.finish(stream, "stream relay error: %s" % err.__class__.__name__)
            self.expire()

    def admit(self):
        try:
            while self.r.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self.lock:
            new, self.incoming = self.incoming, []
        for stream in new:
            try:
                self.sel.register(stream.up, selectors.EVENT_READ, stream)
            except (OSError, ValueError):
                self.finish(stream, "upstream connection lost")
                continue
            if stream.early:
                data, stream.early = stream.early, b""
                self.deliver(stream, data)

    def pump(self, stream):
        try:
            data = stream.up.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self.deliver(stream, data)

    def deliver(self, stream, data):
        stream.last = time.monotonic()
        source = stream.source
        try:
            if data:
                pieces = source.feed(data)
            else:
                source.eof()
                pieces = []
        except BadUpstream as err:
            return self.finish(stream, str(err))
        out = b""
        for piece in pieces:
            if piece:
                out += b"%x\r\n%s\r\n" % (len(piece), piece) if stream.chunked else piece
        if source.done and stream.chunked:
            out += b"0\r\n\r\n"
        if out and not self.send(stream, out):
            return
        if source.done and not stream.pending:  # with bytes pending, it ends once the client took them (drain)
            self.finish(stream, None, clean=True)

    def send(self, stream, out):
        """Writes to the client; on a full socket, waits for it (the upstream is not read meanwhile)."""
        if stream.pending:
            stream.pending += out
            return True
        try:
            n = stream.client.send(out)
        except BlockingIOError:
            n = 0
        except OSError:
            self.finish(stream, None)  # the client went away
            return False
        if n < len(out):
            stream.pending = out[n:]
            self.sel.unregister(stream.up)
            self.sel.register(stream.client, selectors.EVENT_WRITE, stream)
        return True

    def drain(self, stream):
        try:
            n = stream.client.send(stream.pending)
        except BlockingIOError:
            return
        except OSError:
            return self.finish(stream, None)
        stream.pending = stream.pending[n:]
        stream.last = time.monotonic()
        if stream.pending:
            return
        self.sel.unregister(stream.client)
        if stream.source.done:
            return self.finish(stream, None, clean=True)
        self.sel.register(stream.up, selectors.EVENT_READ, stream)

    def expire(self):
        now = time.monotonic()
        for key in list(self.sel.get_map().values()):
            stream = key.data
            if stream is not None and now - stream.last > stream.timeout:
                self.finish(stream, "upstream answer stalled past its timeout: closing the client connection")

    def finish(self, stream, failure, clean=False):
        for sock in (stream.up, stream.client):
            try:
                self.sel.unregister(sock)
            except (KeyError, ValueError, OSError):
                pass
        stream.clean = clean
        stream.failure = failure
        stream.done.set()


class UpstreamPool:
    """Idle kept-alive connections to the engine (a new TCP connection per request cost the first token a
    connect and the engine an accept)."""

    def __init__(self, size):
        self.size = size
        self.idle = []
        self.lock = threading.Lock()

    def take(self):
        while True:
            with self.lock:
                if not self.idle:
                    return None
                sock = self.idle.pop()
            # Readable while idle means the engine closed it (or sent what nobody asked for): not reused.
            try:
                if not select.select([sock], [], [], 0)[0]:
                    return sock
            except (OSError, ValueError):
                pass
            sock.close()

    def give(self, sock):
        with self.lock:
            if len(self.idle) < self.size:
                self.idle.append(sock)
                return
        sock.close()


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
# Which connection makes room first when the slots are full: one already answered (lingering after a refusal),
# then, oldest first, one holding no request: idle keep-alive, still silent since accept, or an unfinished head
# (oldest first, so a newcomer that sends its head at once is never the one closed). A request in progress
# ("busy") is never closed for a newcomer.
EVICTION_ORDER = {"closing": 0, "wait": 1, "head": 1}


class Slot:
    __slots__ = ("sock", "peer", "state", "since", "accepted")

    def __init__(self, sock, peer, now):
        self.sock, self.peer, self.state, self.since, self.accepted = sock, peer, "wait", now, now


class GatewayServer(ThreadingHTTPServer):
    """One thread per connection, in at most `max_connections` slots (`max_per_peer` per address); idle ones are
    evicted for new connections; a watchdog enforces head and body deadlines."""

    daemon_threads = True
    # 1024 clients may connect at once (a load balancer's burst) without their SYNs waiting a second to retry.
    request_queue_size = 1024

    def __init__(self, address, max_connections, max_per_peer):
        super().__init__(address, Gateway)
        self.streams = Streams()
        # As many idle engine connections as streams may end at once; the engine's own limit is higher.
        self.upstreams = UpstreamPool(256)
        self.max_connections = max_connections
        self.max_per_peer = max_per_peer
        self._slots = {}
        self._per_peer = {}
        self._slot_lock = threading.Lock()
        self._deadlines = {}
        self._expired = set()
        self._deadline_lock = threading.Lock()
        threading.Thread(target=self._watchdog, name="deadlines", daemon=True).start()

    # Slots -----------------------------------------------------------------------------------------------

    def _admit(self, sock, peer):
        """Takes a slot for `sock`: (True, a connection to close to make room, or None), or (False, None)."""
        now = time.monotonic()
        with self._slot_lock:
            victim = None
            if self._per_peer.get(peer, 0) >= self.max_per_peer:
                # A peer at its cap makes room only from its own connections.
                victim = self._oldest_evictable(lambda s: s.peer == peer)
                if victim is None:
                    return False, None
            elif len(self._slots) >= self.max_connections:
                victim = self._oldest_evictable(lambda s: True)
                if victim is None:
                    return False, None
            if victim is not None:
                self._release(victim.sock)
            self._slots[sock] = Slot(sock, peer, now)
            self._per_peer[peer] = self._per_peer.get(peer, 0) + 1
            return True, victim

    def _oldest_evictable(self, match):
        best = None
        for slot in self._slots.values():
            rank = EVICTION_ORDER.get(slot.state)
            if rank is None or not match(slot):
                continue
            if best is None or (rank, slot.since) < (EVICTION_ORDER[best.state], best.since):
                best = slot
        return best

    def _release(self, sock):
        slot = self._slots.pop(sock, None)
        if slot is not None:
            left = self._per_peer[slot.peer] - 1
            if left:
                self._per_peer[slot.peer] = left
            else:
                del self._per_peer[slot.peer]

    def set_state(self, sock, state):
        """Records what the connection is doing; False when it was evicted (it must stop: its socket is shut)."""
        with self._slot_lock:
            slot = self._slots.get(sock)
            if slot is None:
                return False
            if slot.state != state:
                slot.state, slot.since = state, time.monotonic()
            return True

    def accepted_at(self, sock):
        with self._slot_lock:
            slot = self._slots.get(sock)
            return slot.accepted if slot else 0.0

    # Deadlines -------------------------------------------------------------------------------------------

    def watch(self, sock, deadline):
        """Shuts `sock` down at `deadline` (time.monotonic()) unless unwatched before; a later call moves it."""
        with self._deadline_lock:
            self._deadlines[sock] = deadline

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

    # socketserver ----------------------------------------------------------------------------------------

    def process_request(self, request, client_address):
        admitted, victim = self._admit(request, client_address[0])
        if victim is not None:
            # Its thread sees the shutdown, stops, and never answers on it again (set_state says it was evicted).
            try:
                victim.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if not admitted:
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
            self._forget(request)
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._forget(request)

    def _forget(self, sock):
        with self._slot_lock:
            self._release(sock)
        with self._deadline_lock:
            self._deadlines.pop(sock, None)
            self._expired.discard(sock)

    def handle_error(self, request, client_address):
        # A client that vanished mid-answer is routine; anything else gets one line, never a request's content.
        err = sys.exc_info()[1]
        if not isinstance(err, OSError):
            log("error on a connection: %s" % err.__class__.__name__)


def make_server(env=None):
    env = os.environ if env is None else env
    upstream = env.get("MODEL_DEPLOY_UPSTREAM", "127.0.0.1:8081")
    host, _, port = upstream.rpartition(":")
    max_connections = max(1, int(env.get("MODEL_DEPLOY_MAX_CONNECTIONS", "2048")))
    # One address gets half the slots by default: the load balancer's nodes are a few addresses each.
    max_per_peer = max(1, int(env.get("MODEL_DEPLOY_MAX_CONNECTIONS_PER_PEER", str(max(1, max_connections // 2)))))
    server = GatewayServer((env.get("MODEL_DEPLOY_LISTEN_HOST", "0.0.0.0"), int(env.get("PORT", "8080"))),
                           max_connections, max_per_peer)
    server.config = {
        "upstream_host": host or "127.0.0.1",
        "upstream_port": int(port),
        "upstream_timeout": float(env.get("MODEL_DEPLOY_UPSTREAM_TIMEOUT", "3600")),
        "health_timeout": float(env.get("MODEL_DEPLOY_HEALTH_TIMEOUT_SECONDS", "5")),
        "header_timeout": float(env.get("MODEL_DEPLOY_HEADER_TIMEOUT_SECONDS", "10")),
        "body_timeout": float(env.get("MODEL_DEPLOY_BODY_TIMEOUT_SECONDS", "60")),
        "body_grace": float(env.get("MODEL_DEPLOY_BODY_GRACE_SECONDS", "10")),
        "body_min_rate": max(1.0, float(env.get("MODEL_DEPLOY_BODY_MIN_BYTES_PER_SECOND", str(16 * 1024)))),
        "max_body": int(env.get("MODEL_DEPLOY_MAX_BODY_BYTES", str(25 * 1024 * 1024))),
        "max_head": max(1024, int(env.get("MODEL_DEPLOY_MAX_HEAD_BYTES", str(32 * 1024)))),
        "health_path": env.get("MODEL_DEPLOY_UPSTREAM_HEALTH_PATH", "/health"),
        "invocations_path": env.get("MODEL_DEPLOY_INVOCATIONS_PATH", "/v1/chat/completions"),
        "keys": KeyStore(env),
    }
    return server


def main():
    # A thread back from a socket call waits for the GIL up to this long while another runs Python code;
    # the default 5 ms showed in every request's first token (issue 26.1).
    sys.setswitchinterval(float(os.environ.get("MODEL_DEPLOY_SWITCH_INTERVAL_SECONDS", "0.0005")))
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

"""Lab runtime shared by client.py and server.py: oslo.messaging transports,
OpenStack-like contexts, the per-process event log, and the runtime patches
that let the truth file name the identifiers oslo.messaging generates inside
its driver (msg_id, reply_q, unique_id, message_id).

Why patches: oslo picks _msg_id/_unique_id inside AMQPDriverBase._send, after
the caller hands over the message.  We wrap amqp.pack_context (called there
with the ids already set), Connection._publish (the instant the request left),
ReplyWaiter.__call__ (the instant a reply arrived) and, on servers,
AMQPIncomingMessage (receive and every reply sent).  The ids are cross-checked
against the driver's own DEBUG log lines ("CALL msg_id: ...", "CAST unique_id:
..."), which is the source the shared captures name ("amqpdriver-debug-log").
Each process writes its own JSONL event file; run.py merges them.
"""
import json
import logging
import re
import threading
import time
import uuid

import oslo_messaging
from oslo_config import cfg
from oslo_messaging._drivers import amqp as rpc_amqp
from oslo_messaging._drivers import amqpdriver
from oslo_messaging._drivers import impl_rabbit
from oslo_messaging._metrics import client as metrics_client

TOKEN_PREFIX = "HARNESSFAKETOKEN"
EXCHANGE = "openstack"
DEFAULT_URL = "rabbit://guest:guest@127.0.0.1:5672/"


class EventLog:
    """Append-only JSONL event file, one per process, safe across threads."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._f = open(path, "a", buffering=1)

    def emit(self, ev):
        line = json.dumps(ev, sort_keys=True, default=str)
        with self._lock:
            self._f.write(line + "\n")

    def close(self):
        with self._lock:
            self._f.flush()
            self._f.close()


def tls_setup():
    """TLS for the lab's TLS captures, from the environment run.py sets:
    LAB_TLS_CA (the lab CA: TLS on, the broker verified), LAB_TLS_MAX=1.2
    (maximum_version on every client context), LAB_TLS_CIPHERS (TLS 1.2
    suites, OpenSSL names).  TLS 1.3 suites come from OPENSSL_CONF.  The key
    log itself is written by tools/tls-keylog/sitecustomize.py (SSLKEYLOGFILE),
    exactly as docs/tls.md tells operators to do."""
    import os
    import ssl
    ca = os.environ.get("LAB_TLS_CA")
    if not ca:
        return None
    tmax = os.environ.get("LAB_TLS_MAX")
    ciphers = os.environ.get("LAB_TLS_CIPHERS")
    if (tmax or ciphers) and not getattr(ssl, "_lab_tls_patched", False):
        ssl._lab_tls_patched = True
        orig = ssl.SSLContext.wrap_socket

        def wrap_socket(self, *a, **kw):
            if tmax == "1.2":
                self.maximum_version = ssl.TLSVersion.TLSv1_2
            if ciphers:
                self.set_ciphers(ciphers)
            return orig(self, *a, **kw)
        ssl.SSLContext.wrap_socket = wrap_socket
    return ca


def make_conf(compression=None, response_timeout=30):
    """A private ConfigOpts (no global CONF), optionally with kombu compression
    and TLS (tls_setup)."""
    conf = cfg.ConfigOpts()
    conf([], project="oslotrace-lab", default_config_files=[], default_config_dirs=[])
    conf.register_opts(impl_rabbit.rabbit_opts, group="oslo_messaging_rabbit")
    # RPCClient reads [oslo_messaging_metrics]; oslo registers it on cfg.CONF only.
    conf.register_opts(metrics_client.oslo_messaging_metrics, group="oslo_messaging_metrics")
    oslo_messaging.set_transport_defaults(EXCHANGE)
    if compression:
        conf.set_override("kombu_compression", compression, group="oslo_messaging_rabbit")
    ca = tls_setup()
    if ca:
        conf.set_override("ssl", True, group="oslo_messaging_rabbit")
        conf.set_override("ssl_ca_file", ca, group="oslo_messaging_rabbit")
    return conf


def rpc_transport(url, compression=None):
    conf = make_conf(compression)
    tr = oslo_messaging.get_rpc_transport(conf, url=url,
                                          allowed_remote_exmods=["harness_endpoints"])
    return conf, tr


def notification_transport(url, compression=None):
    conf = make_conf(compression)
    return conf, oslo_messaging.get_notification_transport(conf, url=url)


def make_context(tag=""):
    """An OpenStack-like context with a unique request_id and a fake token."""
    return {
        "request_id": "req-" + str(uuid.uuid4()),
        "global_request_id": None,
        "user_id": "u-lab", "user_name": "lab-user",
        "project_id": "p-lab", "project_name": "lab-project",
        "domain_id": None, "user_domain_id": "default", "project_domain_id": "default",
        "is_admin": False, "read_only": False, "show_deleted": False,
        "roles": ["member", "reader"],
        "auth_token": TOKEN_PREFIX + uuid.uuid4().hex,
        "remote_address": "127.0.0.1",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def summarize(v, limit=64):
    """Keep truth files small: long strings become {head, str_len}."""
    if isinstance(v, str) and len(v) > limit:
        return {"head": v[:16], "str_len": len(v)}
    if isinstance(v, dict):
        return {k: summarize(x, limit) for k, x in v.items()}
    if isinstance(v, list):
        if len(v) > 16:
            return {"list_len": len(v), "head": [summarize(x, limit) for x in v[:4]]}
        return [summarize(x, limit) for x in v]
    return v


def json_bytes(v):
    return len(json.dumps(v).encode())


# ---------------------------------------------------------------- client side

_LOG_CALL = re.compile(r"CALL msg_id: ([0-9a-f]{32})")
_LOG_CAST = re.compile(r"CAST unique_id: ([0-9a-f]{32})")


class ClientProbe:
    """Per-thread record of what the driver did for the operation in flight."""

    def __init__(self, rec):
        self.rec = rec
        self.local = threading.local()
        self.unbound_log_lines = 0
        self._lock = threading.Lock()

    def begin(self):
        self.local.cur = {}
        return self.local.cur

    def end(self):
        cur = getattr(self.local, "cur", None)
        self.local.cur = None
        return cur or {}

    def current(self):
        return getattr(self.local, "cur", None)

    def unbound(self):
        with self._lock:
            self.unbound_log_lines += 1


class _DriverLogHandler(logging.Handler):
    def __init__(self, probe):
        super().__init__(logging.DEBUG)
        self.probe = probe

    def emit(self, record):
        try:
            text = record.getMessage()
        except Exception:
            return
        m_call, m_cast = _LOG_CALL.search(text), _LOG_CAST.search(text)
        if not (m_call or m_cast):
            return
        cur = self.probe.current()
        if cur is None:
            self.probe.unbound()
            return
        if m_call:
            cur["log_msg_id"] = m_call.group(1)
        else:
            cur["log_unique_id"] = m_cast.group(1)


def install_client_patches(rec):
    """Wrap the driver so each operation learns its ids and publish time."""
    probe = ClientProbe(rec)

    orig_pack = rpc_amqp.pack_context

    def pack_context(msg, context):
        orig_pack(msg, context)
        cur = probe.current()
        if cur is not None and "unique_id" not in cur:
            cur["msg_id"] = msg.get("_msg_id")
            cur["reply_q"] = msg.get("_reply_q")
            cur["unique_id"] = msg.get("_unique_id")
            cur["cm_timeout_field"] = msg.get("_timeout")
            tok = (context or {}).get("auth_token") if isinstance(context, dict) else None
            cur["auth_token_on_wire"] = bool(tok) and msg.get("_context_auth_token") == tok
            if "message_id" in msg:
                cur["message_id"] = msg["message_id"]
                cur["priority_field"] = msg.get("priority")
                cur["notif_timestamp"] = msg.get("timestamp")
    rpc_amqp.pack_context = pack_context

    orig_publish = impl_rabbit.Connection._publish

    def _publish(self, exchange, msg, routing_key=None, timeout=None, transport_options=None):
        r = orig_publish(self, exchange, msg, routing_key=routing_key, timeout=timeout,
                         transport_options=transport_options)
        cur = probe.current()
        if cur is not None and "t_publish" not in cur:
            cur["t_publish"] = time.time()
            cur["wire_exchange"] = getattr(exchange, "name", None)
            cur["wire_routing_key"] = routing_key or ""
        return r
    impl_rabbit.Connection._publish = _publish

    orig_reply_call = amqpdriver.ReplyWaiter.__call__

    def reply_call(self, message):
        t = time.time()
        try:
            rec.emit({"ev": "reply_recv", "msg_id": message.get("_msg_id"),
                      "ending": bool(message.get("ending")), "t": t})
        except Exception:
            pass
        return orig_reply_call(self, message)
    amqpdriver.ReplyWaiter.__call__ = reply_call

    lg = logging.getLogger("oslo_messaging._drivers.amqpdriver")
    lg.setLevel(logging.DEBUG)
    lg.addHandler(_DriverLogHandler(probe))
    lg.propagate = False
    return probe


# ---------------------------------------------------------------- server side

def install_server_patches(rec, server_name):
    """Record every request a server receives and every reply it sends."""
    orig_init = amqpdriver.AMQPIncomingMessage.__init__

    def init(self, listener, ctxt, message, unique_id, msg_id, reply_q, *a, **kw):
        orig_init(self, listener, ctxt, message, unique_id, msg_id, reply_q, *a, **kw)
        rec.emit({"ev": "recv", "server": server_name, "t": time.time(),
                  "request_id": (ctxt or {}).get("request_id"), "msg_id": msg_id,
                  "unique_id": unique_id, "method": (message or {}).get("method")})
    amqpdriver.AMQPIncomingMessage.__init__ = init

    orig_send_reply = amqpdriver.AMQPIncomingMessage._send_reply

    def send_reply(self, conn, reply=None, failure=None, ending=True):
        orig_send_reply(self, conn, reply, failure, ending)
        ev = {"ev": "reply", "server": server_name, "t": time.time(),
              "request_id": (self.ctxt or {}).get("request_id"), "msg_id": self.msg_id,
              "ending": bool(ending), "elapsed": self.stopwatch.elapsed()}
        if failure:
            exc = failure[1]
            ev["failure_class"] = type(exc).__name__
            ev["failure_module"] = type(exc).__module__
        rec.emit(ev)
    amqpdriver.AMQPIncomingMessage._send_reply = send_reply


def quiet_logging():
    """oslo logs at WARNING/ERROR for expected scenario errors; keep stderr clean."""
    logging.basicConfig(level=logging.CRITICAL)

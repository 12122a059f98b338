"""RPC and notification endpoints served by the lab's servers (host-a, host-b)
and listener.  The module name `harness_endpoints` is on the wire: it is the
`module` of the custom exceptions in a reply's failure, and clients allow it in
allowed_remote_exmods so those errors come back as `<Class>_Remote`.

Every endpoint method records what it did (server, topic, endpoint, t_begin,
t_end, raised) into the process's event log, keyed by the context's
request_id, so the truth file can say who served each operation.
"""
import functools
import time

import oslo_messaging


class HarnessError(Exception):
    """A project-specific error class (not in oslo, not a builtin)."""


class QuotaExceeded(Exception):
    """Raised through @expected_exceptions: the server logs no traceback."""


def _served(fn):
    """Wrap an endpoint method: record begin/end/raised for the truth file."""
    @functools.wraps(fn)
    def wrapper(self, ctxt, **kwargs):
        t_begin = time.time()
        raised = None
        try:
            return fn(self, ctxt, **kwargs)
        except Exception as e:  # recorded, then re-raised for oslo to reply
            raised = type(e).__name__
            if isinstance(e, oslo_messaging.ExpectedException):
                raised = type(e.exc_info[1]).__name__
            raise
        finally:
            ev = {"ev": "served", "request_id": (ctxt or {}).get("request_id"),
                  "server": self.server, "topic": self.topic,
                  "endpoint": type(self).__name__, "method": fn.__name__,
                  "t_begin": t_begin, "t_end": time.time()}
            if raised:
                ev["raised"] = raised
            self.rec.emit(ev)
    return wrapper


class _Base:
    def __init__(self, rec, server, topic):
        self.rec = rec
        self.server = server
        self.topic = topic


class ComputeEndpoint(_Base):
    """Default namespace, API version 2.4."""
    target = oslo_messaging.Target(version="2.4")

    @_served
    def echo(self, ctxt, value=None):
        return value

    @_served
    def sleep(self, ctxt, seconds=0, value=None):
        time.sleep(float(seconds))
        return value

    @_served
    def slow_fail(self, ctxt, seconds=0, msg="slow failure"):
        time.sleep(float(seconds))
        raise ValueError(msg)

    @_served
    def make_result(self, ctxt, size=0, value=None):
        # A result of `size` characters: large replies span many body frames.
        return {"value": value, "blob": "r" * int(size)}

    @_served
    def get_info(self, ctxt):
        return {"server": self.server, "topic": self.topic, "version": "2.4"}

    @_served
    def fail_builtin(self, ctxt, msg="bad value"):
        raise ValueError(msg)

    @_served
    def fail_keyerror(self, ctxt, key="k"):
        raise KeyError(key)

    @_served
    def fail_custom(self, ctxt, msg="custom failure"):
        raise HarnessError(msg)

    @_served
    @oslo_messaging.expected_exceptions(QuotaExceeded)
    def fail_expected(self, ctxt, msg="quota"):
        raise QuotaExceeded(msg)

    @_served
    def cast_sink(self, ctxt, **kwargs):
        return None

    @_served
    def fanout_event(self, ctxt, **kwargs):
        return None


class BaseAPIEndpoint(_Base):
    """Namespace `baseapi`, API version 1.3."""
    target = oslo_messaging.Target(namespace="baseapi", version="1.3")

    @_served
    def get_info(self, ctxt):
        return {"server": self.server, "topic": self.topic, "version": "1.3"}

    @_served
    def ping(self, ctxt, value=None):
        return {"pong": value}


class NotificationEndpoint:
    """Listener endpoint: one method per priority, records each delivery."""

    def __init__(self, rec, name):
        self.rec = rec
        self.name = name

    def _got(self, ctxt, publisher_id, event_type, payload, metadata, priority):
        self.rec.emit({"ev": "notif_recv", "listener": self.name,
                       "message_id": metadata.get("message_id"),
                       "request_id": (ctxt or {}).get("request_id"),
                       "event_type": event_type, "priority": priority,
                       "t": time.time()})

    def audit(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got(ctxt, publisher_id, event_type, payload, metadata, "audit")

    def debug(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got(ctxt, publisher_id, event_type, payload, metadata, "debug")

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got(ctxt, publisher_id, event_type, payload, metadata, "info")

    def warn(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got(ctxt, publisher_id, event_type, payload, metadata, "warn")

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got(ctxt, publisher_id, event_type, payload, metadata, "error")

    def critical(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got(ctxt, publisher_id, event_type, payload, metadata, "critical")

    def sample(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got(ctxt, publisher_id, event_type, payload, metadata, "sample")

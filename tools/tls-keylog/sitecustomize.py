"""sitecustomize.py: make every Python ssl.SSLContext write a TLS key log.

Why: Python's ssl module honours SSLKEYLOGFILE only in
ssl.create_default_context(); py-amqp (used by kombu and oslo.messaging)
builds its own ssl.SSLContext, so the variable alone writes nothing.  Python
imports a module named `sitecustomize` at start-up from sys.path; put the
directory holding this file first in PYTHONPATH and set SSLKEYLOGFILE, and
every SSLContext created in the process appends its secrets (NSS key log
format) to that file.  Without SSLKEYLOGFILE it does nothing.

The key log is a secret: anyone holding it and a capture reads the traffic,
tokens and passwords included.  See docs/tls.md.
"""
import os

_path = os.environ.get("SSLKEYLOGFILE")
if _path:
    import ssl

    _orig_new = ssl.SSLContext.__new__

    def _new_with_keylog(cls, protocol=None, *args, **kwargs):
        if protocol is None:
            ctx = _orig_new(cls, *args, **kwargs)
        else:
            ctx = _orig_new(cls, protocol, *args, **kwargs)
        try:
            ctx.keylog_filename = _path
        except (OSError, AttributeError):
            pass  # unwritable file or an ssl without key logging: run on
        return ctx

    ssl.SSLContext.__new__ = _new_with_keylog

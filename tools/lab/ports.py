"""Free loopback ports for the lab's brokers and listeners, shared by the
lab's own scripts (cluster.py) and the tests (tests/e2e/common.py), so two
runs on one machine never pick a fixed port."""
import socket


def free_port(also_free=()):
    """A free 127.0.0.1 port p whose p + d (for d in also_free) is free too."""
    for _ in range(200):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p + max(also_free or (0,)) > 65535:
            continue
        ok = True
        for d in also_free:
            t = socket.socket()
            try:
                t.bind(("127.0.0.1", p + d))
            except OSError:
                ok = False
            finally:
                t.close()
        if ok:
            return p
    raise RuntimeError("no free port")

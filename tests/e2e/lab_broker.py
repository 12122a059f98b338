"""A private lab broker for the live end-to-end tests: RabbitMQ from
tools/lab/broker.sh on free loopback ports, with its files, its epmd and its
node name of its own, so two test runs (or a test and the lab) can share a
machine, and stopped by its pid whatever happens.

    with PrivateBroker("live") as b:   # b.port, b.env, b.dir
        ...

run_lab_scenario() is the whole set-up of a test that checks one of
tools/lab's scenario scripts (which capture themselves) against its truth.
"""
import os
import shutil
import subprocess
import tempfile

from common import BIN, SRC, Checker, free_port, skip

BROKER_SH = os.path.join(SRC, "tools", "lab", "broker.sh")


def require_live_lab(modules=("oslo_messaging",)):
    """Skips the test where a live lab cannot run here: live capture on lo needs
    root, the broker needs rabbitmq-server, the clients need these modules."""
    if os.geteuid() != 0:
        skip("live capture on lo needs root (CAP_NET_RAW)")
    if not os.path.exists("/usr/lib/rabbitmq/bin/rabbitmq-server"):
        skip("rabbitmq-server is not installed")
    if subprocess.run(["/usr/bin/python3", "-c", "import " + ", ".join(modules)]).returncode != 0:
        skip("python3 cannot import %s (Debian: python3-oslo.messaging, python3-pika)"
             % ", ".join(modules))


class PrivateBroker:
    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="oslotrace-%s-" % name)
        # broker.sh puts the Erlang distribution port at AMQP port + 20000
        self.port = free_port(also_free=(20000,))
        self.env = dict(os.environ, LAB_PORT=str(self.port),
                        LAB_DIR=os.path.join(self.dir, "broker"),
                        LAB_EPMD_PORT=str(free_port()),
                        LAB_NODE="oslotrace-%s-%d@localhost" % (name, os.getpid()))
        self.oslo_url = "rabbit://guest:guest@127.0.0.1:%d/" % self.port
        self.amqp_url = "amqp://guest:guest@127.0.0.1:%d/%%2F" % self.port

    def __enter__(self):
        try:
            subprocess.run(["sh", BROKER_SH, "start"], env=self.env, check=True, timeout=180,
                           stdout=subprocess.DEVNULL)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["sh", BROKER_SH, "stop"], env=self.env, timeout=180,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def run_lab_scenario(name, script, timeout, check):
    """Runs tools/lab/<script> --port P --out DIR on a PrivateBroker(name),
    DIR private to this run, where the script leaves its capture(s) and truth
    file; then check(checker, DIR) and Checker.finish() (exits). The directory
    is kept for a look when a check failed, else removed. Skips (77) where the
    lab cannot run or the binary is missing."""
    require_live_lab(("pika", "oslo_messaging"))
    if not os.path.exists(BIN):
        skip("no binary at " + BIN)
    c = Checker(name)
    out = tempfile.mkdtemp(prefix="oslotrace-%s-out-" % name)
    try:
        with PrivateBroker(name) as broker:
            subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tools", "lab", script),
                            "--port", str(broker.port), "--out", out],
                           check=True, timeout=timeout, stdout=subprocess.DEVNULL)
        check(c, out)
    finally:
        if c.failures:
            print("kept the capture and truth in", out)
        else:
            shutil.rmtree(out, ignore_errors=True)
    c.finish()

#!/usr/bin/python3
"""One lab server process: an oslo.messaging RPC server (`--name host-a`)
serving topics compute and conductor on exchange openstack, or a notification
listener (`--listener listener-1`).  Separate processes, like real services,
so each has its own AMQP connections.

It writes its events (recv, reply, served, notif_recv) to --events, touches
--ready once its consumers are declared, and stops cleanly on SIGTERM/SIGINT
(server.stop/wait, transport.cleanup => connection.close on the wire).
"""
import argparse
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oslo_messaging  # noqa: E402
from oslo_messaging.rpc import dispatcher as rpc_dispatcher  # noqa: E402

import harness_endpoints as he  # noqa: E402
import labrt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", help="RPC server name (host-a, host-b)")
    ap.add_argument("--listener", help="run a notification listener with this name")
    ap.add_argument("--topics", default="compute,conductor")
    ap.add_argument("--url", default=labrt.DEFAULT_URL)
    ap.add_argument("--compression", default=None)
    ap.add_argument("--events", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--pool", default=None, help="listener pool name")
    args = ap.parse_args()

    labrt.quiet_logging()
    rec = labrt.EventLog(args.events)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())

    servers = []
    if args.listener:
        _, tr = labrt.notification_transport(args.url, args.compression)
        targets = [oslo_messaging.Target(topic="notifications", exchange=labrt.EXCHANGE)]
        ep = he.NotificationEndpoint(rec, args.listener)
        lst = oslo_messaging.get_notification_listener(tr, targets, [ep], executor="threading",
                                                       pool=args.pool)
        lst.start()
        servers.append(lst)
    else:
        labrt.install_server_patches(rec, args.name)
        _, tr = labrt.rpc_transport(args.url, args.compression)
        for topic in args.topics.split(","):
            target = oslo_messaging.Target(topic=topic, server=args.name,
                                           exchange=labrt.EXCHANGE)
            eps = [he.ComputeEndpoint(rec, args.name, topic),
                   he.BaseAPIEndpoint(rec, args.name, topic)]
            srv = oslo_messaging.get_rpc_server(
                tr, target, eps, executor="threading",
                access_policy=rpc_dispatcher.DefaultRPCAccessPolicy)
            srv.start()
            servers.append(srv)

    with open(args.ready, "w") as f:
        f.write(str(os.getpid()))
    while not stop.wait(0.2):
        pass
    for s in servers:
        s.stop()
    for s in servers:
        s.wait()
    tr.cleanup()
    rec.close()


if __name__ == "__main__":
    main()

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
    ap.add_argument("--pool-size", type=int, default=None,
                    help="executor threads (1: a single-threaded server)")
    ap.add_argument("--reply-retry", type=int, default=None,
                    help="kombu_missing_consumer_retry_timeout: how long a returned reply is retried")
    ap.add_argument("--quorum", action="store_true",
                    help="rabbit_quorum_queue: topic queues declared durable, x-queue-type quorum")
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
        conf = labrt.make_conf(args.compression)
        if args.pool_size:
            from oslo_messaging import server as msg_server
            conf.register_opts(msg_server._pool_opts)
            conf.set_override("executor_thread_pool_size", args.pool_size)
        if args.quorum:
            conf.set_override("rabbit_quorum_queue", True, group="oslo_messaging_rabbit")
        if args.reply_retry is not None:
            # read by the driver when the transport is made: set it first
            conf.set_override("kombu_missing_consumer_retry_timeout", args.reply_retry,
                              group="oslo_messaging_rabbit")
        tr = oslo_messaging.get_rpc_transport(conf, url=args.url,
                                              allowed_remote_exmods=["harness_endpoints"])
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

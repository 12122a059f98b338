#!/bin/sh
# tools/lab/broker.sh start|stop|status|env — a private RabbitMQ for the lab.
#
# The lab needs a broker it fully controls: listening on loopback only
# (127.0.0.1 and ::1), no management plugin, its own epmd bound to loopback on
# a private port, its own cookie/HOME/mnesia under /tmp, started directly (not
# via systemd) so that a capture sees nothing but the lab's traffic.  Every
# process it starts is recorded by pid and stopped by that pid, never by name.
# start and stop are idempotent.  Knobs (env): LAB_PORT (AMQP port, default
# 5672), LAB_DIR (default /tmp/oslotrace-lab), LAB_EPMD_PORT (default 4371),
# LAB_NODE (default oslotrace-lab@localhost).  LAB_TLS_PORT (unset: no TLS):
# also an AMQPS listener on 127.0.0.1:$LAB_TLS_PORT, TLS 1.2 and 1.3, with a CA
# and a server certificate made by openssl under $LAB_DIR/tls (ca.pem is what
# clients verify against).
set -eu

LAB_PORT=${LAB_PORT:-5672}
LAB_DIR=${LAB_DIR:-/tmp/oslotrace-lab}
LAB_EPMD_PORT=${LAB_EPMD_PORT:-4371}
LAB_NODE=${LAB_NODE:-oslotrace-lab@localhost}
LAB_TLS_PORT=${LAB_TLS_PORT:-}
RMQ_BIN=/usr/lib/rabbitmq/bin
EPMD=/usr/bin/epmd

# Everything the Erlang VM and the CLI tools read comes from this environment,
# so rabbitmqctl below talks to our node (same epmd port, same cookie/HOME).
lab_env() {
    export HOME="$LAB_DIR/home"
    export ERL_EPMD_ADDRESS=127.0.0.1
    export ERL_EPMD_PORT="$LAB_EPMD_PORT"
    export RABBITMQ_NODENAME="$LAB_NODE"
    export RABBITMQ_USE_LONGNAME=false
    export RABBITMQ_CONFIG_FILE="$LAB_DIR/etc/rabbitmq.conf"
    export RABBITMQ_CONF_ENV_FILE="$LAB_DIR/etc/rabbitmq-env.conf"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$LAB_DIR/etc/enabled_plugins"
    export RABBITMQ_ENABLED_PLUGINS=""
    export RABBITMQ_MNESIA_BASE="$LAB_DIR/mnesia"
    export RABBITMQ_LOG_BASE="$LAB_DIR/log"
    export RABBITMQ_PID_FILE="$LAB_DIR/rabbit.pid"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$LAB_DIR/etc/advanced.config"
    export RABBITMQ_DIST_PORT=$((LAB_PORT + 20000))
    # Keep the Erlang distribution listener on loopback too.
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

write_config() {
    mkdir -p "$LAB_DIR/etc" "$LAB_DIR/home" "$LAB_DIR/mnesia" "$LAB_DIR/log"
    cat >"$LAB_DIR/etc/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$LAB_PORT
listeners.tcp.2 = ::1:$LAB_PORT
loopback_users.guest = true
log.console = false
log.file.level = info
# the lab makes 1 MB messages and bursts; keep disk/memory alarms out of the way
disk_free_limit.absolute = 50MB
vm_memory_high_watermark.relative = 0.6
EOF
    if [ -n "$LAB_TLS_PORT" ]; then
        make_certs
        cat >>"$LAB_DIR/etc/rabbitmq.conf" <<EOF
listeners.ssl.1 = 127.0.0.1:$LAB_TLS_PORT
ssl_options.cacertfile = $LAB_DIR/tls/ca.pem
ssl_options.certfile = $LAB_DIR/tls/server.pem
ssl_options.keyfile = $LAB_DIR/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
EOF
    fi
    : >"$LAB_DIR/etc/rabbitmq-env.conf"
    echo "[]." >"$LAB_DIR/etc/enabled_plugins"
    echo "[]." >"$LAB_DIR/etc/advanced.config"
    if [ ! -s "$LAB_DIR/home/.erlang.cookie" ]; then
        od -An -N20 -tx1 /dev/urandom | tr -d ' \n' >"$LAB_DIR/home/.erlang.cookie"
        chmod 400 "$LAB_DIR/home/.erlang.cookie"
    fi
}

# A throw-away CA and a server certificate for localhost/127.0.0.1 (RSA 2048,
# so the broker offers ECDHE_RSA suites), made once per LAB_DIR.
make_certs() {
    d="$LAB_DIR/tls"
    [ -s "$d/server.pem" ] && return 0
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=oslotrace-lab-ca" \
        -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/san.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -days 30 -extfile "$d/san.ext" -out "$d/server.pem" >/dev/null 2>&1
    chmod 644 "$d/server.key"
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_epmd() {
    if alive "$LAB_DIR/epmd.pid"; then return 0; fi
    # Foreground epmd in the background: we get its real pid to stop it later.
    "$EPMD" -address 127.0.0.1 -port "$LAB_EPMD_PORT" >"$LAB_DIR/log/epmd.log" 2>&1 &
    echo $! >"$LAB_DIR/epmd.pid"
    i=0
    while ! "$EPMD" -port "$LAB_EPMD_PORT" -names >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 50 ] || { echo "broker.sh: epmd did not start" >&2; exit 1; }
        sleep 0.1
    done
}

do_start() {
    lab_env
    if alive "$LAB_DIR/server.pid" && "$RMQ_BIN/rabbitmqctl" -q -n "$LAB_NODE" status >/dev/null 2>&1; then
        echo "broker already running: node $LAB_NODE pid $(cat "$LAB_DIR/server.pid") port $LAB_PORT"
        return 0
    fi
    write_config
    start_epmd
    # $! is the rabbitmq-server shell script; the VM (beam) writes its own
    # pid to $RABBITMQ_PID_FILE (rabbit.pid).  Both are stopped by pid.
    "$RMQ_BIN/rabbitmq-server" >"$LAB_DIR/log/server.stdout" 2>&1 &
    echo $! >"$LAB_DIR/server.pid"
    # await_startup fails at once while the node is not yet registered with
    # epmd, so retry it until it succeeds, the server dies, or 90 s pass.
    i=0
    until "$RMQ_BIN/rabbitmqctl" -q -n "$LAB_NODE" await_startup --timeout 10 >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -ge 90 ] || ! alive "$LAB_DIR/server.pid"; then
            echo "broker.sh: node $LAB_NODE did not start; see $LAB_DIR/log" >&2
            tail -20 "$LAB_DIR/log/server.stdout" >&2 || true
            exit 1
        fi
        sleep 1
    done
    echo "broker running: node $LAB_NODE pid $(cat "$LAB_DIR/server.pid") amqp 127.0.0.1:$LAB_PORT [::1]:$LAB_PORT${LAB_TLS_PORT:+ amqps 127.0.0.1:$LAB_TLS_PORT}"
}

stop_pid() {
    pidfile=$1 name=$2
    if alive "$pidfile"; then
        pid=$(cat "$pidfile")
        kill -TERM "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null; do
            i=$((i + 1))
            if [ $i -ge 300 ]; then kill -KILL "$pid" 2>/dev/null || true; fi
            [ $i -lt 320 ] || break
            sleep 0.1
        done
        echo "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
}

do_stop() {
    lab_env
    if alive "$LAB_DIR/server.pid"; then
        # A clean stop first (flushes mnesia), then the recorded pid.
        timeout 60 "$RMQ_BIN/rabbitmqctl" -q -n "$LAB_NODE" stop >/dev/null 2>&1 || true
    fi
    stop_pid "$LAB_DIR/rabbit.pid" "rabbitmq VM $LAB_NODE"
    stop_pid "$LAB_DIR/server.pid" "rabbitmq-server script"
    stop_pid "$LAB_DIR/epmd.pid" "epmd :$LAB_EPMD_PORT"
}

do_status() {
    lab_env
    if alive "$LAB_DIR/server.pid" && "$RMQ_BIN/rabbitmqctl" -q -n "$LAB_NODE" status >/dev/null 2>&1; then
        echo "running: node $LAB_NODE pid $(cat "$LAB_DIR/server.pid") port $LAB_PORT"
        return 0
    fi
    echo "not running"
    return 1
}

case "${1:-}" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    ctl) shift; lab_env; exec "$RMQ_BIN/rabbitmqctl" -n "$LAB_NODE" "$@" ;;
    *) echo "usage: $0 start|stop|status|ctl ARGS..." >&2; exit 2 ;;
esac

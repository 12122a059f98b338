#!/usr/bin/env bash
# Installs the Debian 12 packages oslotrace needs, only when one is missing (so
# repeated `make` calls stay fast and offline).
#   tools/deps.sh        what building and running oslotrace needs (make demo)
#   tools/deps.sh test   that, plus what the tests and the lab need (make test, CI):
#                        the real broker, oslo.messaging, pika, Prometheus and
#                        promtool, systemd-analyze. Kept apart because some of
#                        these start services of their own when installed.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libpcap-dev libjansson-dev libncurses-dev
      libcmocka-dev zlib1g-dev libmicrohttpd-dev libssl-dev python3 tcpdump tshark tmux time valgrind
      libclang-rt-14-dev bsdutils procps)
if [ "${1:-}" = test ]; then
    pkgs+=(rabbitmq-server python3-oslo.messaging python3-pika prometheus
           python3-prometheus-client systemd iproute2)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "oslotrace: missing packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
fi
echo "oslotrace: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Throwaway check of the Debian package (make deb): installs it, checks that
# `oslotrace --version`, `man oslotrace` and the installed systemd unit work,
# then purges it and checks nothing is left. Needs root; refuses to run when
# an oslotrace package is already installed (it would remove it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "deb_smoke: needs root" >&2; exit 77; }
if dpkg-query -W -f='${Status}' oslotrace 2>/dev/null | grep -q installed; then
    echo "deb_smoke: an oslotrace package is installed already; not touching it" >&2
    exit 1
fi
make deb >/dev/null
deb=$(ls -t build/deb/oslotrace_*.deb | head -1)
trap 'dpkg --purge oslotrace >/dev/null 2>&1 || true' EXIT
dpkg -i "$deb" >/dev/null
fail=0
/usr/bin/oslotrace --version | head -1 | grep -q '^oslotrace ' || { echo "FAIL: --version"; fail=1; }
MANPAGER=cat man oslotrace 2>/dev/null | grep -q -- 'metrics-listen' || { echo "FAIL: man oslotrace"; fail=1; }
unit=/usr/lib/systemd/system/oslotrace.service
grep -q '^ExecStart=/usr/bin/oslotrace ' "$unit" || { echo "FAIL: unit ExecStart"; fail=1; }
if command -v systemd-analyze >/dev/null; then
    out=$(systemd-analyze verify --man=no "$unit" 2>&1) || true
    [ -z "$out" ] || { echo "FAIL: systemd-analyze verify: $out"; fail=1; }
fi
dpkg --purge oslotrace >/dev/null
trap - EXIT
for f in /usr/bin/oslotrace "$unit" /usr/share/man/man1/oslotrace.1; do
    [ ! -e "$f" ] || { echo "FAIL: $f left after purge"; fail=1; }
done
[ $fail -eq 0 ] && echo "deb_smoke: $deb installs, runs, has its man page and unit, and purges cleanly"
exit $fail

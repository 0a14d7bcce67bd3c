#!/bin/bash
# demo.sh -- run memc_load once on a copy of the sample files in data/.
#
# Starts four private memcached servers on free loopback ports, loads a copy
# of data/*.tsv.gz (the committed samples are never renamed), shows the log
# and its summary, reads a few keys back and decodes them with
# python3-protobuf, lists the renamed files, then stops the servers it started
# and removes its temporary directory, whatever happened.
#
# usage: scripts/demo.sh [PATH/TO/memc_load]
# Exit status: that of memc_load (2 if the demo itself could not run).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
bin=${1:-./memc_load}
python=${PYTHON:-/usr/bin/python3}
# Extra memc_load options, e.g. MEMC_LOAD_OPTS="-w 1 --serial".
read -r -a extra_opts <<<"${MEMC_LOAD_OPTS:-}"

die() {
	echo "demo.sh: $*" >&2
	exit 2
}

[[ -x $bin ]] || die "$bin: no such executable (build it with make first)"
command -v memcached >/dev/null || die "memcached not found (make deps installs it)"
command -v protoc >/dev/null || die "protoc not found (make deps installs it)"
"$python" -c 'import google.protobuf' 2>/dev/null ||
	die "$python cannot import google.protobuf (make deps installs python3-protobuf)"

shopt -s nullglob
samples=("$root"/data/*.tsv.gz)
shopt -u nullglob
((${#samples[@]})) || die "no sample files in $root/data"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memc_load-demo.XXXXXX")
state=$tmp/memcached.pids

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	trap '' INT TERM # a second signal must not cut the cleanup short
	if [[ -s $state ]]; then
		"$python" "$here/memcached.py" stop "$state" || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# In the foreground, so a signal is handled only once the pids are on file.
"$python" "$here/memcached.py" start 4 "$state" >"$tmp/servers" ||
	die "could not start four memcached servers"
mapfile -t addrs <"$tmp/servers"
idfa=${addrs[0]} gaid=${addrs[1]} adid=${addrs[2]} dvid=${addrs[3]}
echo "== memcached: idfa=$idfa gaid=$gaid adid=$adid dvid=$dvid"

mkdir "$tmp/in" "$tmp/py"
cp "${samples[@]}" "$tmp/in/"

echo "== $bin -p '$tmp/in/*.tsv.gz'"
rc=0
"$bin" --idfa "$idfa" --gaid "$gaid" --adid "$adid" --dvid "$dvid" \
	${extra_opts[@]+"${extra_opts[@]}"} -p "$tmp/in/*.tsv.gz" 2>&1 || rc=$?
echo "== memc_load exit status: $rc"

# The first three keys a valid line of the first sample would store: five
# fields, a known device type, a non-empty printable id without spaces.
first=${samples[0]}
mapfile -t keys < <(zcat -- "$first" | LC_ALL=C awk -F '\t' '
	NF == 5 && $1 ~ /^(idfa|gaid|adid|dvid)$/ && $2 ~ /^[!-~]+$/ &&
	length($1) + 1 + length($2) <= 250 { print $1 ":" $2; if (++n == 3) exit }')

protoc --proto_path="$root/proto" --python_out="$tmp/py" "$root/proto/appsinstalled.proto"
echo "== a few keys from $(basename "$first"), read back and decoded"
if ! "$python" - "$tmp/py" "$idfa" "$gaid" "$adid" "$dvid" ${keys[@]+"${keys[@]}"} <<'EOF'
import socket
import sys

sys.path.insert(0, sys.argv[1])
import appsinstalled_pb2  # noqa: E402  (generated just now by protoc)

servers = dict(zip(("idfa", "gaid", "adid", "dvid"), sys.argv[2:6]))


def get(addr, key):
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"get " + key + b"\r\n")
        buf = b""
        while not (buf == b"END\r\n" or buf.endswith(b"\r\nEND\r\n")):
            chunk = s.recv(65536)
            if not chunk:
                raise OSError("connection closed by " + addr)
            buf += chunk
    if buf == b"END\r\n":
        return None
    header, rest = buf.split(b"\r\n", 1)
    size = int(header.split()[3])
    return rest[:size]


for key in sys.argv[6:]:
    addr = servers[key.split(":", 1)[0]]
    value = get(addr, key.encode())
    if value is None:
        print("%s - %s -> (not found)" % (addr, key))
        continue
    ua = appsinstalled_pb2.UserApps()
    ua.ParseFromString(value)
    apps = list(ua.apps)
    shown = "%s%s" % (apps[:10], " ... (%d apps)" % len(apps) if len(apps) > 10 else "")
    where = ""
    if ua.HasField("lat"):
        where += " lat: %s" % ua.lat
    if ua.HasField("lon"):
        where += " lon: %s" % ua.lon
    print("%s - %s -> apps: %s%s" % (addr, key, shown, where))
EOF
then
	echo "demo.sh: reading keys back failed" >&2
fi

echo "== files after the run (renamed ones start with '.')"
ls -A "$tmp/in"
exit "$rc"

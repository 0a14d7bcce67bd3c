#!/bin/sh
# deps.sh -- install the Debian packages memc_load needs to build and test,
# only those missing, so `make test` and `make demo` work on a fresh machine.
set -eu

# build: compiler, pkg-config and the three libraries (with protoc-c)
# (ISA-L is optional for the build, but the fast inflate path needs it);
# tests: memcached, cmocka, pytest with an independent protobuf decoder, mandoc,
# pylibmc (a second libmemcached client for the pools) and nutcracker (twemproxy);
# bench: gnuplot for the plot, isal for igzip (inflate alone, as a floor); lint: cppcheck, clang-tidy; fuzz: clang with
# its sanitizer and libFuzzer runtime; service: dpkg-dev, debhelper and lintian for
# the Debian package, python3-prometheus-client to parse --metrics, bash-completion
# and shellcheck to drive and check the completion script, systemd for systemd-analyze verify
PACKAGES="gcc make pkg-config zlib1g-dev libmemcached-dev libprotobuf-c-dev
protobuf-c-compiler libisal-dev memcached libcmocka-dev python3 python3-pytest
python3-protobuf python3-memcache python3-pylibmc nutcracker protobuf-compiler mandoc gnuplot-nox isal
valgrind cppcheck clang-tidy clang libclang-rt-14-dev dpkg-dev debhelper lintian
python3-prometheus-client bash-completion systemd shellcheck"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps.sh: need root to run: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >/dev/null

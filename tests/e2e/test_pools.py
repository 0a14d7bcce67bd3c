"""Pools: each of --idfa/--gaid/--adid/--dvid takes a comma-separated list
of servers, and libmemcached's ketama spreads the keys over it.

Every stored key must be found by a separate libmemcached client given the
same list in the same order (pylibmc, behaviors {"ketama": True}), and,
asking each server directly, be on exactly one server of its pool: the one
ketama.py (a second reading of the algorithm) names. Every server of a pool
gets some keys. A dead server fails exactly the records that hash to it.
Unix sockets, [::1]:PORT and twemproxy (nutcracker) in front of two
memcached are loaded through as well; behind twemproxy a dead backend's
records come back rejected, and the file stays for the next run."""

import ctypes
import gzip
import random
import re
import shutil
import tempfile

import pylibmc  # python3-pylibmc, installed by make deps
import pytest

import ketama
import memcached
import model
from checks import check_finished
from helpers import (TYPES, Nutcracker, Server, dot, free_port, ipv6_loopback, memcached_unix,
                     memcached_v6, run, write_gz)

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz"]
MODES = {"w2": ["-w", "2"], "serial": ["--serial"]}
# What another libmemcached client sets to find memc_load's keys: ketama,
# nothing else changed (the default key hash, no weights, hosts unsorted).
BEHAVIORS = {"ketama": True}


def pool_lines(tag, n, seed):
    """n valid lines over the four types, each with a key of its own."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        dev_type = rnd.choice(TYPES)
        apps = ",".join(str(rnd.randrange(1 << 32)) for _ in range(rnd.randrange(1, 12)))
        lat, lon = rnd.uniform(-90, 90), rnd.uniform(-180, 180)
        out.append("%s\t%s-%d-%x\t%.6f\t%.6f\t%s" % (
            dev_type, tag, i, rnd.getrandbits(48), lat, lon, apps))
    return out


def write_inputs(tmp_path, contents):
    """{name: lines} -> ([path, ...] sorted, {type: {key: Record}}, {path: FileModel})."""
    paths, models = [], {}
    for name, lines in sorted(contents.items()):
        path = write_gz(tmp_path / name, lines)
        paths.append(path)
        models[path] = model.model_content(gzip.open(path).read())
    expected = {t: {} for t in TYPES}
    for m in models.values():
        assert m.error_total == 0 and m.blank == 0
        for rec in m.records:
            expected[rec.dev_type][rec.key] = rec
    return paths, expected, models


def opts(pools):
    """--idfa LIST ... from {type: [Server or addr, ...]}."""
    out = []
    for t in TYPES:
        out += ["--" + t, ",".join(addrs(pools[t]))]
    return out


def addrs(pool):
    return [s if isinstance(s, str) else s.addr for s in pool]


class Libmemcached:
    """libmemcached itself, through ctypes, set up as BEHAVIORS says: the
    reader for a pool that mixes unix sockets and TCP, which pylibmc will
    not take ("can't mix transport types")."""

    BEHAVIOR_KETAMA = 3  # enum memcached_behavior_t, libmemcached-1.0/types/behavior.h

    def __init__(self, entries):
        self.lib = lib = ctypes.CDLL("libmemcached.so.11")
        self.libc = ctypes.CDLL(None)
        lib.memcached_create.restype = ctypes.c_void_p
        lib.memcached_create.argtypes = [ctypes.c_void_p]
        lib.memcached_free.argtypes = [ctypes.c_void_p]
        lib.memcached_behavior_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64]
        lib.memcached_server_add.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint16]
        lib.memcached_server_add_unix_socket.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.memcached_get.restype = ctypes.c_void_p
        lib.memcached_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                      ctypes.POINTER(ctypes.c_size_t),
                                      ctypes.POINTER(ctypes.c_uint32),
                                      ctypes.POINTER(ctypes.c_int)]
        self.libc.free.argtypes = [ctypes.c_void_p]
        self.mc = lib.memcached_create(None)
        assert self.mc
        assert lib.memcached_behavior_set(self.mc, self.BEHAVIOR_KETAMA, 1) == 0
        for entry in entries:
            host, port = ketama.host_port(entry)
            if port == 0:
                rc = lib.memcached_server_add_unix_socket(self.mc, host.encode())
            else:
                rc = lib.memcached_server_add(self.mc, host.encode(), port)
            assert rc == 0, "memcached_server_add %s: %d" % (entry, rc)

    def get_multi(self, keys):
        found = {}
        length, flags, rc = ctypes.c_size_t(), ctypes.c_uint32(), ctypes.c_int()
        for key in keys:
            ptr = self.lib.memcached_get(self.mc, key, len(key), ctypes.byref(length),
                                         ctypes.byref(flags), ctypes.byref(rc))
            if rc.value == 0:  # MEMCACHED_SUCCESS; an empty value may come as NULL
                found[key] = ctypes.string_at(ptr, length.value) if ptr else b""
            if ptr:
                self.libc.free(ptr)
        return found

    def disconnect_all(self):  # as pylibmc names it
        self.lib.memcached_free(self.mc)
        self.mc = None


def reader(entries):
    """A separate libmemcached client over the same list: pylibmc, or
    libmemcached through ctypes for a list pylibmc refuses."""
    if len({ketama.host_port(e)[1] == 0 for e in entries}) > 1:
        return Libmemcached(entries)
    return pylibmc.Client(entries, behaviors=BEHAVIORS)


def check_values(found, records, decode):
    """Each record read back decodes to what its line says."""
    wrong = []
    for key, rec in records.items():
        apps, lat, lon = decode(found[key])
        if (apps, lat, lon) != (rec.apps, rec.lat, rec.lon):
            wrong.append((key, (apps[:4], lat, lon), (rec.apps[:4], rec.lat, rec.lon)))
    assert not wrong, "values differ (key, got, want): %r" % wrong[:5]


def check_pool(pool, records, decode, dead=()):
    """pool: the list as given to memc_load (Servers, or addrs of the dead
    ones, whose indexes are in dead); records: {key: Record} of its type.
    Returns the keys that hash to a dead server, which must be missing."""
    ring = ketama.Continuum(addrs(pool))
    lost = {key for key in records if ring.server_for(key) in dead}
    kept = {key: rec for key, rec in records.items() if key not in lost}

    # A separate libmemcached client with the same list finds every key.
    client = reader(addrs(pool))
    try:
        found = client.get_multi(list(kept))
    finally:
        client.disconnect_all()
    missing = set(kept) - set(found)
    assert not missing, "%s over %s: %d of %d keys not found, e.g. %r" % (
        type(client).__name__, addrs(pool), len(missing), len(kept), sorted(missing)[:3])
    check_values(found, kept, decode)

    # Asked directly, each server holds exactly the keys ketama gives it.
    held = [set() if i in dead else s.keys() for i, s in enumerate(pool)]
    for i, keys in enumerate(held):
        want = {key for key in kept if ring.server_for(key) == i}
        assert keys == want, "%s: %d keys, %d expected; %d misplaced, %d missing" % (
            addrs(pool)[i], len(keys), len(want), len(keys - want), len(want - keys))
        if i not in dead:
            assert keys, "%s got no key: %r" % (addrs(pool)[i], [len(k) for k in held])
    return lost


@pytest.fixture(scope="module")
def _pool_servers():
    """Three memcached per device type."""
    started = memcached.start(3 * len(TYPES), stop_at_exit=True)
    try:
        servers = [Server(port, pid) for port, pid in started]
        yield {t: servers[3 * i:3 * i + 3] for i, t in enumerate(TYPES)}
    finally:
        memcached.stop(pid for _, pid in started)


@pytest.fixture
def pools(_pool_servers):
    """{type: [three Servers]}, emptied for this test."""
    for pool in _pool_servers.values():
        for s in pool:
            s.flush()
    return _pool_servers


@pytest.fixture
def sockdir():
    """A private directory for unix sockets: short (sun_path holds 107
    bytes), mode 0700, removed after the test."""
    path = tempfile.mkdtemp(prefix="memc_load-sock.")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def own_servers():
    """Start memcached servers of this test's own; stopped after it."""
    started = []

    def start(factory, *args):
        server = factory(*args)
        started.append(server.pid)
        return server

    yield start
    memcached.stop(started)


@pytest.mark.parametrize("mode", list(MODES.values()), ids=list(MODES))
def test_pool_of_three_per_type(pools, decode, tmp_path, mode):
    paths, expected, models = write_inputs(tmp_path, {
        NAMES[0]: pool_lines("pool-a", 1500, 1),
        NAMES[1]: pool_lines("pool-b", 1500, 2),
    })
    res = run(opts(pools) + mode + [str(p) for p in paths])

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in paths], res
    for path in paths:
        check_finished(res, path, models[path])
        assert dot(path).exists() and not path.exists()
    for t in TYPES:
        check_pool(pools[t], expected[t], decode)


@pytest.mark.parametrize("mode", [["-w", "1"], ["--serial"]], ids=["w1", "serial"])
def test_dead_server_fails_only_the_records_that_hash_to_it(pools, decode, tmp_path, mode):
    dead = "127.0.0.1:%d" % free_port()  # nothing listens there
    idfa = [pools["idfa"][0], dead, pools["idfa"][1]]
    paths, expected, models = write_inputs(tmp_path, {NAMES[0]: pool_lines("dead", 3000, 3)})
    [path] = paths
    res = run(opts(dict(pools, idfa=idfa)) + mode + ["--timeout", "300", "-a", "2", str(path)])

    lost = check_pool(idfa, expected["idfa"], decode, dead={1})
    assert 0 < len(lost) < len(expected["idfa"])
    for t in TYPES[1:]:
        check_pool(pools[t], expected[t], decode)
    # The same client cannot read those keys either: they are the dead one's.
    client = pylibmc.Client(addrs(idfa), behaviors=BEHAVIORS)
    for key in sorted(lost)[:20]:
        with pytest.raises(pylibmc.Error):
            client.get(key)

    assert res.rc == 1, res
    f = res.finished(path)
    assert f is not None, res
    total = models[path].processed
    assert (f["processed"], f["errors"], f["kinds"]) == (
        total - len(lost), len(lost), {"undelivered": len(lost)}), res
    assert res.renamed() == [] and path.exists() and not dot(path).exists(), res
    assert res.grep(re.escape(dead)), "no log line names %s\n%r" % (dead, res)


def test_unix_socket_pools(pools, own_servers, sockdir, decode, tmp_path):
    alone = own_servers(memcached_unix, sockdir + "/idfa.sock")
    mixed = own_servers(memcached_unix, sockdir + "/gaid.sock")
    servers = dict(pools, idfa=[alone], gaid=[pools["gaid"][0], mixed, pools["gaid"][1]])
    paths, expected, _ = write_inputs(tmp_path, {NAMES[0]: pool_lines("unix", 2000, 4)})
    res = run(opts(servers) + ["-w", "1"] + [str(p) for p in paths])

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in paths], res
    for t in TYPES:
        check_pool(servers[t], expected[t], decode)


@pytest.mark.skipif(not ipv6_loopback(), reason="::1 cannot be bound here")
def test_ipv6_pools(pools, own_servers, decode, tmp_path):
    alone = own_servers(memcached_v6)
    mixed = own_servers(memcached_v6)
    servers = dict(pools, adid=[alone], dvid=[pools["dvid"][0], mixed, pools["dvid"][1]])
    paths, expected, _ = write_inputs(tmp_path, {NAMES[0]: pool_lines("v6", 2000, 5)})
    res = run(opts(servers) + ["-w", "1"] + [str(p) for p in paths])

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in paths], res
    for t in TYPES:
        check_pool(servers[t], expected[t], decode)


def test_through_twemproxy(own_servers, decode, tmp_path):
    backends = [own_servers(lambda: Server(*memcached.start(1)[0])) for _ in range(2)]
    proxy = Nutcracker([s.addr for s in backends], tmp_path)
    try:
        paths, expected, models = write_inputs(tmp_path, {
            NAMES[0]: pool_lines("proxy-a", 1500, 6),
            NAMES[1]: pool_lines("proxy-b", 1500, 7),
        })
        res = run(opts({t: [proxy.addr] for t in TYPES}) + ["-w", "2"] + [str(p) for p in paths])
        records = {k: r for t in TYPES for k, r in expected[t].items()}
        found = proxy.server.get_many(list(records))
        log = proxy.log()
    finally:
        proxy.stop()

    assert res.rc == 0, "%r\n--- nutcracker log\n%s" % (res, log)
    assert res.renamed() == [str(p) for p in paths], res
    for path in paths:
        check_finished(res, path, models[path])
    missing = set(records) - set(found)
    assert not missing, "%d of %d keys not readable through nutcracker" % (
        len(missing), len(records))
    assert all(flags == 0 for flags, _ in found.values())
    check_values({k: v for k, (_, v) in found.items()}, records, decode)
    held = [s.keys() for s in backends]
    assert not held[0] & held[1], "keys on both backends"
    assert held[0] | held[1] == set(records)
    assert held[0] and held[1], "one backend got every key: %r" % [len(h) for h in held]


def test_dead_backend_behind_twemproxy_fails_the_file(own_servers, tmp_path):
    """twemproxy answers for a backend it cannot reach ("SERVER_ERROR
    Connection refused"): those records count as rejected, the others are
    stored, and the file is not renamed."""
    live = own_servers(lambda: Server(*memcached.start(1)[0]))
    proxy = Nutcracker([live.addr, "127.0.0.1:%d" % free_port()], tmp_path)
    try:
        paths, expected, models = write_inputs(
            tmp_path, {NAMES[0]: pool_lines("proxy-dead", 1000, 8)})
        [path] = paths
        res = run(opts({t: [proxy.addr] for t in TYPES})
                  + ["-w", "1", "--timeout", "300", "-a", "2", str(path)])
        stored = live.keys()
        found = proxy.server.get_many(sorted(stored))
    finally:
        proxy.stop()

    total = models[path].processed
    assert 0 < len(stored) < total
    assert stored <= {k for t in TYPES for k in expected[t]}
    assert set(found) == stored
    assert res.rc == 1, res
    f = res.finished(path)
    assert f is not None, res
    assert (f["processed"], f["kinds"]) == (len(stored), {"rejected": total - len(stored)}), res
    assert res.renamed() == [] and path.exists() and not dot(path).exists(), res
    assert res.grep(r"\] W %s rejected \S+: SERVER_ERROR" % re.escape(proxy.addr)), res

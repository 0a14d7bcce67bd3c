"""inputs.py -- input lines for the end-to-end tests: every kind of line
the rules name, random mixes of good and bad parts, and lines around the
1 MiB limit. Each valid line gets a key of its own, so what a server holds
does not depend on which worker wrote last."""

import itertools
import random

import model


def exact_apps(n_bytes):
    """An apps field of exactly n_bytes: "1,1,...,1" (first item "10" if even)."""
    if n_bytes % 2:
        return b",".join([b"1"] * ((n_bytes + 1) // 2))
    return b"10," + b",".join([b"1"] * ((n_bytes - 2) // 2))


def mixed_lines(tag):
    """Every kind of line the rules name, each valid one with its own key."""
    seq = itertools.count()

    def uid():
        return b"%s-%d" % (tag.encode(), next(seq))

    fifty = b",".join(b"%d" % (i * 37) for i in range(1, 51))
    key250 = b"x" * (250 - len(b"gaid:"))
    return [
        # valid, all parts present
        b"idfa\t%s\t55.55\t42.42\t1,2,3" % uid(),
        b"gaid\t%s\t67.7835424444\t-22.8044005471\t%s" % (uid(), fifty),
        b"adid\t%s\t-12.5\t+7\t4294967295,0,007" % uid(),
        b"dvid\t%s\t.5\t5.\t10" % uid(),
        b"idfa\t%s\t1e3\t-2.5E-3\t3" % uid(),
        b"gaid\t%s\t1E+05\t-0\t4" % uid(),
        # valid: nothing but the key (empty message): two empty items dropped
        b"adid\t%s\t\t\t," % uid(),
        # valid: whitespace at the line's ends, around coordinates and app
        # items is ignored, as the original's strip(), float() and int() did
        b" \v\fidfa\t%s\t 55.5\t42.5 \t1, 2, 3,4,5,6 \t\r" % uid(),
        b"\tgaid\t%s\t\v-1.25\f\t\r+7\r\t+5,-0,\v0042\f,-00" % uid(),
        b"adid\t%s\t1\t2\t3\t" % uid(),  # the tab is stripped: five fields
        b"dvid\t%s\t \t\v\t1 2,-1,+-1,+,- 5,4294967296,+4294967295" % uid(),
        # valid: bad app items are dropped, the rest kept
        b"dvid\t%s\t1\t2\t1,,2,x,3," % uid(),
        b"idfa\t%s\t1\t2\t4294967296,-1,+5, 5,5 ,0x10,99999999999999999999,6" % uid(),
        b"gaid\t%s\t1\t2\t,\xd9\xa1,1.5,7" % uid(),
        # valid: bad coordinates are left out, the record kept
        b"adid\t%s\tnan\tinf\t5" % uid(),
        b"dvid\t%s\t1,5\t 1\t6" % uid(),
        b"idfa\t%s\t1e999\t-1e999\t7" % uid(),
        b"gaid\t%s\t.\te5\t8" % uid(),
        b"adid\t%s\t1e\t--1\t9" % uid(),
        b"dvid\t%s\t0x10\tNaN\t10" % uid(),
        b"idfa\t%s\t1.%s\t1.%s\t11" % (uid(), b"0" * 125, b"0" * 126),  # 127 ok, 128 not
        b"gaid\t%s\t1 \t\xd9\xa1\t12" % uid(),
        b"adid\t%s\t+.5\t5.e3\t13" % uid(),
        b"dvid\t%s\t1e308\t1.8e308\t14" % uid(),
        b"idfa\t%s\t0x1p3\tinfinity\t15" % uid(),
        # NUL bytes are data, not string ends
        b"gaid\t%s\t1\x005\t2\x00\t16" % uid(),
        b"adid\t%s\t1\t2\t7\x008,9,\x00" % uid(),
        b"dvid\t%s\t1\t2\t00000000000000000000004,04294967296" % uid(),
        # valid: CRLF, and more CRs at the end (all stripped)
        b"adid\t%s\t1.25\t2.5\t3,4\r" % uid(),
        b"dvid\t%s\t1\t2\t3,4\r\r" % uid(),
        # valid: any byte >= 0x80 in the id, and a key of exactly 250 bytes
        b"idfa\t\xff\xfe%s\xc3\t1\t2\t3" % uid(),
        b"gaid\t%s\t1\t2\t3" % key250,
        # blank lines
        b"",
        b"   ",
        b"\t\t\t\t",
        b"\r",
        b" \t \r",
        b"\v\f\r\r \t",
        # fields
        b"adid\t%s\t1\t2\t" % uid(),  # empty apps: the line's last tab is stripped
        b"adid\t%s\t\t\t" % uid(),
        b"\t%s\t1\t2\t3" % uid(),  # the first tab is stripped: four fields
        b"idfa\t%s\t1\t2" % uid(),
        b"idfa\t%s\t1\t2\t3\t4" % uid(),
        b"idfa\t%s\t1\t2\t\t3" % uid(),
        b"garbage",
        b"idfa %s 1 2 3" % uid(),
        # dev_type
        b"IDFA\t%s\t1\t2\t3" % uid(),
        b"idfv\t%s\t1\t2\t3" % uid(),
        b"idfa\x00x\t%s\t1\t2\t3" % uid(),
        b"idfa \t%s\t1\t2\t3" % uid(),
        # dev_id
        b"gaid\t\t1\t2\t3",
        # key
        b"adid\tab %s\t1\t2\t3" % uid(),
        b"adid\tab\x01%s\t1\t2\t3" % uid(),
        b"adid\tab\x7f%s\t1\t2\t3" % uid(),
        b"adid\tab\x00%s\t1\t2\t3" % uid(),
        b"dvid\t%s\t1\t2\t3" % (b"y" * (251 - len(b"dvid:"))),
    ]


def random_lines(tag, n, seed):
    """n lines from pools of good and bad parts; the last has no newline."""
    rnd = random.Random(seed)
    types = [b"idfa", b"gaid", b"adid", b"dvid"] * 8 + [b"IDFA", b"", b"dvid "]
    coords = [b"1.5", b"-33.8688", b"151.2093", b"", b"nan", b"1e5", b".5", b"5.",
              b"abc", b"+0.0", b"-1e-3", b"1,5", b"90", b"-180.0000000001", b" 1.5", b"\v"]
    items = [b"1", b"42", b"4294967295", b"4294967296", b"x", b"", b"007", b"65536", b"-3",
             b" 7", b"+5", b"-0", b"1 2"]
    out = []
    for i in range(n):
        dev_id = b"%s-%d-%x" % (tag.encode(), i, rnd.getrandbits(64))
        if rnd.random() < 0.02:
            dev_id = rnd.choice([b"", b"a b", b"\x02"])
        apps = b",".join(rnd.choice(items) for _ in range(rnd.randrange(0, 9)))
        fields = [rnd.choice(types), dev_id, rnd.choice(coords), rnd.choice(coords), apps]
        r = rnd.random()
        if r < 0.02:
            fields.pop()
        elif r < 0.04:
            fields.append(b"extra")
        line = b"\t".join(fields)
        if rnd.random() < 0.1:
            line += b"\r"
        if rnd.random() < 0.05:
            line = rnd.choice([b" ", b"\t", b"\v\f"]) + line
        out.append(line)
        if rnd.random() < 0.03:
            out.append(b"")
    return out


def long_lines(tag):
    """Lines at and over the 1 MiB limit, and a long one far below it."""
    rnd = random.Random(7)

    def prefix(dev_type, n):
        return b"%s\t%s-long-%d\t1\t2\t" % (dev_type, tag.encode(), n)

    exact = prefix(b"dvid", 1)
    exact += exact_apps(model.MAX_LINE - len(exact))
    over = prefix(b"dvid", 2)
    over += exact_apps(model.MAX_LINE + 1 - len(over))
    crlf_over = prefix(b"idfa", 3)  # 1 MiB + CR: too long before the CR strip
    crlf_over += exact_apps(model.MAX_LINE - len(crlf_over)) + b"\r"
    huge = prefix(b"adid", 5) + b"1," * (3 * model.MAX_LINE // 2)  # 3 MiB, skipped whole
    many = b",".join(b"%d" % rnd.randrange(1 << 32) for _ in range(25000))
    return [
        exact,
        over,
        crlf_over,
        huge,
        prefix(b"gaid", 4) + many,
        b"adid\t%s-short\t3\t4\t5" % tag.encode(),
    ]

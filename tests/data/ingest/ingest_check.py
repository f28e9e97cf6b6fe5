#!/usr/bin/env python3
"""Helpers for the ingest e2e tests (tests/e2e/ingest_*.sh); standard library only.

  ingest_check.py eval REPORT.json 'o["kept"] + o["duplicates"]'   print a Python expression over the report
  ingest_check.py check REPORT.json EXPR...                       exit 1 naming the first EXPR that is not True
  ingest_check.py meta STORE KEY                                  print one META value of a store
  ingest_check.py sections STORE                                  print "TAG dtype rows size crc32c" per section
The container layout read here is the one in docs/format.md and docs/store.md.
"""
import json
import struct
import sys


def read_sections(path):
    data = open(path, "rb").read()
    assert data[:3] == b"\x89UL" and data[3:4] == b"S", "not a ulm store"
    table, count = struct.unpack_from("<QI", data, 32)
    out = []
    for i in range(count):
        off, size, tag, dtype, rows, cols, ver, flags, crc = struct.unpack_from("<QQ4sIIIHHI", data, table + 40 * i)
        out.append((tag.decode(), dtype, rows, size, crc, data[off:off + size]))
    return out


def meta(path):
    body = read_sections(path)[0][5]
    (n,) = struct.unpack_from("<I", body, 0)
    at, kv = 4, {}
    for _ in range(n):
        kl, vl = struct.unpack_from("<II", body, at)
        at += 8
        kv[body[at:at + kl].decode()] = body[at + kl:at + kl + vl].decode()
        at += kl + vl
    return kv


def main():
    cmd = sys.argv[1]
    if cmd in ("eval", "check"):
        o = json.loads(open(sys.argv[2]).read())
        env = {"o": o, "reason": lambda name: next(
            (r for r in o["rejected_by_reason"] if r["reason"] == name), {"count": 0, "first_lines": []})}
        if cmd == "eval":
            print(eval(sys.argv[3], env))
            return
        for expr in sys.argv[3:]:
            if eval(expr, env) is not True:
                sys.exit("expected %s in report %s" % (expr, json.dumps(o)))
    elif cmd == "meta":
        print(meta(sys.argv[2]).get(sys.argv[3], ""))
    elif cmd == "sections":
        for tag, dtype, rows, size, crc, _ in read_sections(sys.argv[2]):
            print(tag, dtype, rows, size, "%08x" % crc)
    else:
        sys.exit("unknown command " + cmd)


main()

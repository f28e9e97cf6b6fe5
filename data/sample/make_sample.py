#!/usr/bin/python3
"""Rebuilds online_retail_sample.csv.gz from the full UCI Online Retail log (CC0).

Keeps every raw line (cancellations, adjustments and all) of customers whose id is 5 mod 12,
and the guest lines of every 60th invoice, so the sample keeps the real data's dirt.
Usage: data/sample/make_sample.py ../shared/data/online-retail/online_retail.csv.gz
"""
import csv, gzip, sys

src = sys.argv[1] if len(sys.argv) > 1 else '../shared/data/online-retail/online_retail.csv.gz'
with gzip.open(src, 'rt', encoding='utf-8', newline='') as f:
    lines = f.read().split('\n')
keep = [lines[0]]
for line in lines[1:]:
    if not line:
        continue
    row = next(csv.reader([line]))
    cid, inv = row[6], row[0].lstrip('C')
    if (cid and int(cid) % 12 == 5) or (not cid and inv.isdigit() and int(inv) % 60 == 0):
        keep.append(line)
data = ('\n'.join(keep) + '\n').encode()
with open('data/sample/online_retail_sample.csv.gz', 'wb') as f:
    f.write(gzip.compress(data, 9, mtime=0))
print(len(keep) - 1, 'rows')

#!/usr/bin/env python3
"""The pandas peer for bench/ingest_online_retail.sh: read the Online Retail log, parse its
dates, drop exact duplicate rows, and count what ulm ingest reports (kept, returns, guests).
Prints one JSON line; "seconds" covers read_csv + drop_duplicates + the counts (not the import)."""
import json
import sys
import time

import pandas as pd

t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1], dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"},
                 parse_dates=["InvoiceDate"])
t1 = time.perf_counter()
rows = len(df)
df = df.drop_duplicates()
returns = int((df["InvoiceNo"].str.startswith("C") | (df["Quantity"] < 0)).sum())
guests = int(df["CustomerID"].isna().sum())
t2 = time.perf_counter()
print(json.dumps({"rows_read": rows, "kept": len(df), "duplicates": rows - len(df), "returns": returns,
                  "guests": guests, "read_seconds": round(t1 - t0, 3), "seconds": round(t2 - t0, 3)}))

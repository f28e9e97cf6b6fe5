"""Peer for bench/profile_online_retail.sh: the basic profile columns of docs/profile.md (recency, tenure,
purchase days, orders, gross/returned/net spend, mean inter-purchase days, basket value, distinct items,
return rate) with pandas, from the same log the store was ingested from (CSV read not timed)."""
import json, sys, time
import numpy as np
import pandas as pd

df = pd.read_csv(sys.argv[1], dtype={'InvoiceNo': str, 'StockCode': str, 'CustomerID': str})
t0 = time.time()
df = df.dropna(subset=['CustomerID'])
df['time'] = pd.to_datetime(df['InvoiceDate'], utc=True)
ret = df['InvoiceNo'].str.startswith('C') | (df['Quantity'] < 0)
df['qty'] = df['Quantity'].abs()
df['value'] = df['qty'] * df['UnitPrice']
df['day'] = df['time'].dt.floor('D')
as_of_day = df['time'].max().floor('D')
buy, rt = df[~ret], df[ret]
g = buy.groupby('CustomerID')
days = buy[['CustomerID', 'day']].drop_duplicates().sort_values(['CustomerID', 'day'])
gaps = days.groupby('CustomerID')['day'].diff().dt.days
out = pd.DataFrame({
    'recency_days': (as_of_day - g['day'].max()).dt.days,
    'tenure_days': (as_of_day - g['day'].min()).dt.days,
    'purchase_days': days.groupby('CustomerID').size(),
    'orders': g['InvoiceNo'].nunique(),
    'gross': g['value'].sum(),
    'units': g['qty'].sum(),
    'distinct_items': g['StockCode'].nunique(),
    'ipt_mean': gaps.groupby(days['CustomerID']).mean(),
})
r = rt.groupby('CustomerID')
out['returned'] = r['value'].sum().reindex(out.index).fillna(0)
out['monetary'] = out['gross'] - out['returned']
out['basket_value'] = out['gross'] / out['orders']
out['return_rate'] = r['qty'].sum().reindex(out.index).fillna(0) / out['units']
print(json.dumps({'customers': int(len(out)), 'seconds': round(time.time() - t0, 3)}))

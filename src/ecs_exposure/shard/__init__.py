"""Sharded scans of many accounts: one Dask task per account×region, and the merge.

- :mod:`.model`: what travels between client and workers (small, picklable, no credential values);
- :mod:`.task`: ``plan_account`` (enter the account, its regions, IAM once) and ``run_shard``
  (collect one region, write its snapshot where asked, scan it in the worker);
- :mod:`.facts`: the cross-account facts a shard exports (roles others may assume; task roles that
  may assume outside their account);
- :mod:`.merge`: results → one scan result, chains across accounts resolved;
- :mod:`.runner`: the Dask side (local cluster or an existing scheduler), imported only when used.
"""

"""Running a batch on a Dask cluster (``--cluster``) instead of the local process pool.

Only the CLI's ``--cluster``/``IMAGE_OPTIMIZER_CLUSTER`` imports this package; nothing else in the
app does, so a plain run never loads ``distributed`` (the optional ``[cluster]`` extra).

    allocator.py    undoes Dask's malloc trimming in a worker (it made each image page-fault)
    connect.py      the address check and the one place Dask's connection errors become ours
    executor.py     DaskExecutor: the engine's Executor contract on a Dask client
    flights.py      the futures in flight: which jobs each holds, how often Dask started it
    placement.py    which worker gets the next chunk (the client places every task)
    protocol.py     the msgspec payloads between the client and a Dask worker
    worker_side.py  what runs inside a Dask worker: the warm pipeline, stop flags, per-file checks
"""

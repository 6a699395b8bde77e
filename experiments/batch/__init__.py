"""Running batches: the experiment file (`spec`), lockstep chunks on local cores or Dask (`runner`), and the
resumable Parquet store they stream into (`store`)."""

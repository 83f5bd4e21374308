"""Event streams past one machine: a partitioned transport (``base``), Redis Streams
(``redis_streams``) and the consumer loop with per-entity checkpoints (``consumer``)."""

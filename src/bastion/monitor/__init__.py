"""Log monitoring: ingest, template mining, features, anomaly models and explained alerts."""

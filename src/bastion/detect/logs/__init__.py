"""Log anomaly detection (bastion watch): template mining, features, anomaly models and explained alerts."""

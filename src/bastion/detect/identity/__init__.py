"""Sign-in analytics: parse sign-in logs into :class:`SignIn` events and raise explained Alerts
for compromised identities (spray, brute force, stuffing, MFA fatigue, travel, baselines)."""

"""Phishing exercises: targets, campaigns, sandboxed templates, signed tracking, scanner
filtering, honest results, and no captured value of any form field, ever."""

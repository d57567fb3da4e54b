"""Monitoring machinery: events → rows (events), the writer thread (router), the store (db),
worker-side resource sampling (resources), the terminal progress view (progress) and the
web view (web).  Public names live in ``parsl.monitoring``."""

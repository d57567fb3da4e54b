"""Chervil's version. Parsl-compatible `VERSION` string; the suffix names the implementation."""
VERSION = "2026.11.26+chervil"

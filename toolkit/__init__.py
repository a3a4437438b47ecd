"""Musculoskeletal optimal control of seated cycling (see README.md and docs/)."""

__version__ = "0.1.0"

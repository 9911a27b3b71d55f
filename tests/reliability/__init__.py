"""Reliability and security: faults, crashes and bad input lose nothing, duplicate nothing, leak nothing.

See docs/reliability.md for the guarantees and the test that proves each.
"""

"""Benchmarks of the reminder engine (issue 9): `python -m bench` writes docs/benchmarks.md.

Every figure is measured against a baseline run in the same process run, so that a machine
shared with other work still gives comparable ratios.
"""

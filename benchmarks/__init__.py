"""Benchmarks of the Theano papers, run on mlcore's backends and on the programs they are measured against.

Run `python -m benchmarks --help`; benchmarks/README.md explains the suite and
how a system is plugged in (benchmarks.systems.register).
"""

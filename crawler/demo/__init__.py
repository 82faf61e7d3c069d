"""The offline demo (``newswatch demo``) and the local news site it, the tests and the
benchmarks serve.

It may import anything in :mod:`crawler` and :mod:`pipelines`; nothing but the CLI, tests
and benchmarks import it.
"""

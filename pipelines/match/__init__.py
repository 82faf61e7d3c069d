"""Match: Vietnamese text canonicalisation, watch rules, the query language and the matcher.

Pure functions over text: no files, no database, no network. It imports only
:mod:`pipelines.errors`.
"""

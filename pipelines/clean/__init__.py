"""Clean: a saved page -> headline, publication time, author and clean text.

trafilatura does the extraction; this room adds charset decoding, per-site pruning and
date/headline logic. It imports only :mod:`pipelines.errors` and third-party parsers.
"""

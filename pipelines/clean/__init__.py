"""Clean: a saved page -> headline, publication time, author, clean text and photo captions.

trafilatura does the extraction; this room adds charset decoding, per-site pruning,
date/headline logic, the lead on markup no selector knows and the captions, kept apart.
It imports only :mod:`pipelines.errors` and third-party parsers.
"""

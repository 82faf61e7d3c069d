"""Stories: the same news carried by several outlets, found as near-duplicates.

An article's *fingerprint* (:mod:`.fingerprint`) is a MinHash signature of its syllable
shingles, taken from the canonical text with every syllable lower-cased and keyed by its
tone (so NFD, old tone placement and capitals never split a story), its LSH band keys and
the numbers it quotes. :mod:`.decide` says whether a new article joins the story of its
nearest stored neighbour within the time window, and why; :mod:`.memory` is an in-memory
index of fingerprints (tests, benchmarks); the store keeps the durable one.

Pure computation: no files, no database, no network. It imports :mod:`pipelines.match`'s
text functions and :mod:`pipelines.errors`, never the store or the delivery side.
"""

"""Deliver: the outbox worker (claims, retries, digests, pacing), rendering and channels/.

It reads and writes the store; the channel kinds in ``channels/`` only render and send,
and never touch the store.
"""

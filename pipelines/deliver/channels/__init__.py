"""Channel kinds: where alerts go. One small class per ``kind`` (a module each here), registered
in :data:`~pipelines.deliver.channels.registry.KINDS`; their base is in ``base.py``.

A kind's one-line docstring is its user documentation and its ``example`` is a YAML mapping
that :func:`~pipelines.deliver.channels.registry.build_channel` accepts (a registry test checks
both). Every kind also takes these optional keys:

``max_in_flight``  sends in flight at once on this channel (default 1)
``rate``           at most so many messages, e.g. ``1/s``, ``20/min``, ``500/h`` (kind default)
``burst``          more than this many alerts due at once are sent as one digest
                   (default 20; ``0`` never collapses)

Constructors do no I/O; ``Channel.send`` opens and closes its own connection. Channels render
and send; they never touch the store.
"""

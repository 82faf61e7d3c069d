"""Store: the SQLAlchemy Core schema, its migrations and the :class:`Store` transactions.

Uniqueness in the database is what makes "never alert twice" hold. It may import
:mod:`pipelines.errors` and the match and clean stages' data, never the delivery side.
"""

"""``/api/v1``: the routes (:mod:`.routes`) and their JSON shapes (:mod:`.models`, pydantic,
so the OpenAPI schema at ``/api/v1/openapi.json`` is the code)."""

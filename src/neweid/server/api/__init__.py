"""The HTTP API (django-ninja): schema at /api/openapi.json, errors as {"code", "message"}."""

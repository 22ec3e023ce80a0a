"""Inlet on one machine, with no cloud account: the dev stack, the queue pump, the local API
server, bucket and queue setup for moto, LocalStack and MinIO, page publishing and operator
commands. Imports `chalicelib`; nothing deployed imports this package."""

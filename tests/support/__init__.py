"""Helpers the test suites share: each starts or builds one real thing (a database, a server)."""

"""The process-wide structured logger (Powertools, JSON lines)."""

from aws_lambda_powertools import Logger

# POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL override these defaults.
logger = Logger(service="inlet")

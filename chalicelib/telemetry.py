"""Metrics (CloudWatch EMF through Powertools) and the observability wrapper of event handlers.

Powertools' own decorators do not fit Chalice handlers (one argument, not `event, context`), so
`around_event` runs as Chalice middleware: it sets the correlation id and flushes the metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Metrics

from chalicelib.logs import logger

Result = TypeVar("Result")

# POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME override these defaults;
# POWERTOOLS_METRICS_DISABLED=true silences them (e.g. locally).
metrics = Metrics(namespace="Inlet", service="inlet")


def around_event(event: Any, get_response: Callable[[Any], Result]) -> Result:
    """Chalice middleware for SQS and scheduled events: one correlation id per invocation, and
    the invocation's metrics written out (as one EMF log line) when it ends, even on failure."""
    logger.set_correlation_id(getattr(event.context, "aws_request_id", None))
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
        logger.set_correlation_id(None)

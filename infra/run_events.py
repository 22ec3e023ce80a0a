"""Where run events go on AWS (docs/consumers.md): the stage's EventBridge bus, and the processing
queue that each stored run's event is sent to, with its dead-letter queue and alarm.

The functions publish from the outbox (chalicelib/outbox.py): `events:PutEvents` on the bus and
`sqs:SendMessage` on the processing queue, granted in infra/api.py. No rule is deployed on the
bus: consumers add their own (docs/deploy.md has an example).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import DeployConfig
from infra.uploads import watched_queue


class RunEventChannels(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        processor_timeout: cdk.Duration,
        alarm_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=config.event_bus_name)
        self.processing_queue, self.dead_letter_queue, self.dead_letter_alarm = watched_queue(
            self,
            "Processing",
            config.processing_queue_name,
            handler_timeout=processor_timeout,
            max_receives=config.max_receives,
            alarm_topic=alarm_topic,
            alarm_description=(
                "Stored runs' events failed processing INLET_MAX_RECEIVES times and wait in the "
                "processing dead-letter queue; fix the cause, then redrive them (docs/deploy.md)."
            ),
        )

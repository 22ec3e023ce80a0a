"""Where run events go on AWS (docs/consumers.md): the stage's EventBridge bus, and the processing
queue that each stored run's event is sent to, with its dead-letter queue and alarm.

The functions publish from the outbox (chalicelib/outbox.py): `events:PutEvents` on the bus and
`sqs:SendMessage` on the processing queue, granted in infra/api.py. No rule is deployed on the
bus: consumers add their own (docs/deploy.md has an example).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import DeployConfig
from infra.uploads import DLQ_RETENTION, VISIBILITY_FACTOR


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
        self.dead_letter_queue = sqs.Queue(
            self,
            "ProcessingDeadLetterQueue",
            queue_name=f"{config.processing_queue_name}-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        self.processing_queue = sqs.Queue(
            self,
            "ProcessingQueue",
            queue_name=config.processing_queue_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(
                processor_timeout.to_seconds() * VISIBILITY_FACTOR
            ),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=config.max_receives
            ),
        )
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "ProcessingDeadLetterAlarm",
            alarm_description=(
                "Stored runs' events failed processing INLET_MAX_RECEIVES times and wait in the "
                "processing dead-letter queue; fix the cause, then redrive them (docs/deploy.md)."
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5), statistic="Maximum"
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.dead_letter_alarm.add_alarm_action(cw_actions.SnsAction(alarm_topic))

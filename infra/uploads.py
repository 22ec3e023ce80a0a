"""The upload bucket, the bucket-events queue with its dead-letter queue, and the DLQ alarm.

The same resources as `local/resources.py` creates on local emulators, from the same rules
(CORS, event prefixes), so local stacks and AWS cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.bucket import (
    ABORT_INCOMPLETE_UPLOADS_DAYS,
    EVENT_PREFIXES,
    RUNS_PREFIX,
    upload_cors_rules,
)
from infra.config import DeployConfig

# Lambda's advice for SQS sources: a visibility timeout of at least 6x the function's timeout,
# so a batch still being retried is not handed to a second invocation.
VISIBILITY_FACTOR = 6
DLQ_RETENTION = cdk.Duration.days(14)


def watched_queue(
    scope: Construct,
    id_prefix: str,
    queue_name: str,
    *,
    handler_timeout: cdk.Duration,
    max_receives: int,
    alarm_topic: sns.ITopic,
    alarm_description: str,
) -> tuple[sqs.Queue, sqs.Queue, cloudwatch.Alarm]:
    """A queue a function consumes, its dead-letter queue (`<name>-dlq`, after `max_receives`
    receives) and an alarm on the first dead letter: `<id_prefix>Queue`,
    `<id_prefix>DeadLetterQueue`, `<id_prefix>DeadLetterAlarm`."""
    dead_letters = sqs.Queue(
        scope,
        f"{id_prefix}DeadLetterQueue",
        queue_name=f"{queue_name}-dlq",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
    )
    queue = sqs.Queue(
        scope,
        f"{id_prefix}Queue",
        queue_name=queue_name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=cdk.Duration.seconds(handler_timeout.to_seconds() * VISIBILITY_FACTOR),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receives),
    )
    alarm = cloudwatch.Alarm(
        scope,
        f"{id_prefix}DeadLetterAlarm",
        alarm_description=alarm_description,
        metric=dead_letters.metric_approximate_number_of_messages_visible(
            period=cdk.Duration.minutes(5), statistic="Maximum"
        ),
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(cw_actions.SnsAction(alarm_topic))
    return queue, dead_letters, alarm


def cors_rule(origins: Sequence[str]) -> s3.CorsRule:
    """`chalicelib.bucket.upload_cors_rules` as CDK spells it: browsers PUT parts and read ETag."""
    rule = upload_cors_rules(origins)[0]
    return s3.CorsRule(
        allowed_origins=cast(list[str], rule["AllowedOrigins"]),
        allowed_methods=[s3.HttpMethods(m) for m in cast(list[str], rule["AllowedMethods"])],
        allowed_headers=cast(list[str], rule["AllowedHeaders"]),
        exposed_headers=cast(list[str], rule["ExposeHeaders"]),
        max_age=cast(int, rule["MaxAgeSeconds"]),
    )


class UploadStore(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        cors_origins: Sequence[str],
        handler_timeout: cdk.Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        locked = config.object_lock_days > 0
        retain = config.retain or locked  # locked versions cannot be deleted with the stack
        removal = cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # Every write is a new version: a stored file's recorded version stays readable
            # whatever is written or deleted over its key later (docs/integrity.md).
            versioned=True,
            object_lock_enabled=locked or None,
            object_lock_default_retention=(
                s3.ObjectLockRetention.governance(cdk.Duration.days(config.object_lock_days))
                if locked
                else None
            ),
            cors=[cors_rule(cors_origins)],
            # Incomplete multipart uploads are billed until aborted; the expiry job aborts the
            # ones it knows, this rule catches the rest.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(
                        ABORT_INCOMPLETE_UPLOADS_DAYS
                    ),
                )
            ],
            removal_policy=removal,
            auto_delete_objects=not retain,
        )
        # Not even a principal with write access replaces an object under runs/: object-creating
        # requests (PutObject, CompleteMultipartUpload, CopyObject) must carry If-None-Match, so
        # S3 refuses any write over an existing key. The parts of a multipart upload cannot carry
        # it and are exempt (s3:ObjectCreationOperation is false for them).
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyOverwritesUnderRuns",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{RUNS_PREFIX}*")],
                conditions={
                    "Null": {"s3:if-none-match": "true"},
                    "Bool": {"s3:ObjectCreationOperation": "true"},
                },
            )
        )
        self.alarm_topic = sns.Topic(self, "AlarmTopic", enforce_ssl=True)
        if config.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.queue, self.dead_letter_queue, self.dead_letter_alarm = watched_queue(
            self,
            "",
            config.queue_name,
            handler_timeout=handler_timeout,
            max_receives=config.max_receives,
            alarm_topic=self.alarm_topic,
            alarm_description=(
                "Bucket events failed INLET_MAX_RECEIVES times and wait in the dead-letter "
                "queue; fix the cause, then redrive them (docs/events.md)."
            ),
        )
        # The destination also writes the queue policy: s3.amazonaws.com may send, and only on
        # behalf of this bucket (aws:SourceArn).
        for prefix in EVENT_PREFIXES:
            for event_type in (s3.EventType.OBJECT_CREATED, s3.EventType.OBJECT_REMOVED):
                self.bucket.add_event_notification(
                    event_type,
                    s3n.SqsDestination(self.queue),
                    s3.NotificationKeyFilter(prefix=prefix),
                )

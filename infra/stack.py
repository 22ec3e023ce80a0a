"""One stack per stage: `inlet-<stage>`."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra.api import EVENTS_TIMEOUT, PROCESSING_TIMEOUT, InletApi
from infra.config import DeployConfig
from infra.database import DataStore
from infra.run_events import RunEventChannels
from infra.uploads import UploadStore
from infra.website import Website


class InletStack(cdk.Stack):
    def __init__(self, scope: Construct, *, config: DeployConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            config.stack_name,
            description=f"Inlet file ingestion ({config.stage})",
            # Stack tags: CloudFormation applies them to every resource that takes tags.
            tags={"app": "inlet", "stage": config.stage},
            **kwargs,
        )
        web = Website(self, "Web", config=config)
        origins = (web.origin, *config.cors_origins)
        uploads = UploadStore(
            self, "Uploads", config=config, cors_origins=origins, handler_timeout=EVENTS_TIMEOUT
        )
        data = DataStore(self, "Data", config=config)
        channels = RunEventChannels(
            self,
            "RunEvents",
            config=config,
            processor_timeout=PROCESSING_TIMEOUT,
            alarm_topic=uploads.alarm_topic,
        )
        api = InletApi(
            self,
            "App",
            config=config,
            uploads=uploads,
            data=data,
            channels=channels,
            cors_origins=origins,
        )
        web.publish(config.web_dir, api_url=api.url, settings=config.app_settings())
        for name, value, description in (
            ("ApiUrl", api.url, "The API (the CLI's and the page's apiUrl)"),
            ("WebUrl", web.origin, "The web page"),
            ("UploadBucketName", uploads.bucket.bucket_name, "The upload bucket"),
            ("DeadLetterQueueUrl", uploads.dead_letter_queue.queue_url, "Failed bucket events"),
            (
                "ProcessingDeadLetterQueueUrl",
                channels.dead_letter_queue.queue_url,
                "Stored runs whose processing failed",
            ),
            ("EventBusName", channels.bus.event_bus_name, "Run events (docs/consumers.md)"),
            ("EventBusArn", channels.bus.event_bus_arn, "Run events, for rules and policies"),
            ("AlarmTopicArn", uploads.alarm_topic.topic_arn, "Subscribe to get the alarms"),
            ("DatabaseSecretArn", data.secret.secret_arn, "Database credentials"),
        ):
            cdk.CfnOutput(self, name, value=value, description=description)

"""The AWS deployment (infra/cdk, docs/deploy.md), checked offline: the stack is synthesized once
(`python -m infra.app`, as `make synth` runs it: no AWS account), then its template is checked
with `aws_cdk.assertions`, expanded the way CloudFormation's SAM transform expands it on deploy,
and linted by cfn-lint; the Lambda package that Chalice built for it is imported and run in a
clean interpreter."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.config import GATEWAY_CACHE_SECONDS, Settings
from chalicelib.http import RUN_COMPANION, RUN_ENDPOINT
from infra.config import ConfigError, DeployConfig
from infra.package import FIRST_EVENT, SERVICES, startup_code
from tests.support.config import ROOT
from tests.support.databases import postgres_database

try:
    from aws_cdk import assertions
except ImportError:
    if os.environ.get("CI"):  # CI must check the deployment: a missing package fails the run
        raise
    pytest.skip("needs aws_cdk: pip install -r requirements-infra.txt", allow_module_level=True)
Match = assertions.Match

STAGE = "ci"
STACK = f"inlet-{STAGE}"
EXTRA_ORIGIN = "https://uploads.example.com"
MAX_RECEIVES = 4
CONTEXT = {
    "stage": STAGE,
    "cors_origins": EXTRA_ORIGIN,
    "max_receives": str(MAX_RECEIVES),
    "alarm_email": "ops@example.com",
}
SETTINGS = {"INLET_PENDING_TTL_HOURS": "12"}
FUNCTIONS = (
    "APIHandler",
    "HandleBucketEvents",
    "ProcessStoredRuns",
    "ExpirePendingRuns",
    "Migrate",
)
# The functions that change runs' states, and so drain the outbox after their commits.
PUBLISHERS = ("APIHandler", "HandleBucketEvents", "ExpirePendingRuns")
# Actions without resource-level permissions: a list of its own, so that widening the one in
# infra/api.py fails here.
WILDCARD_OK = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


# --- synthesis: once per module ----------------------------------------------------------------


def synthesize(
    tmp_path_factory: pytest.TempPathFactory,
    settings: dict[str, str],
    **context: str,
) -> Path:
    """`python -m infra.app` with CONTEXT (and `context` on top) and these app settings (the
    context's `settings`, which reach app.py when Chalice packages it); the cloud assembly's
    directory."""
    out = tmp_path_factory.mktemp("cdk.out")
    web = tmp_path_factory.mktemp("web")  # the page's build is not needed to check the stack
    (web / "index.html").write_text("<!doctype html><title>Inlet</title>")
    # The synth imports app.py: no setting of this machine's environment may leak into it.
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k not in names}
    context = CONTEXT | context | {"settings": json.dumps(settings), "web_dir": str(web)}
    env |= {
        "CDK_OUTDIR": str(out),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "AWS_DEFAULT_REGION": "us-east-1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    done = subprocess.run(
        [sys.executable, "-m", "infra.app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert not (ROOT / "chalice.out").exists(), "the synth must not write into the work tree"
    return out


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(tmp_path_factory, SETTINGS)


@pytest.fixture(scope="module")
def template_json(assembly: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((assembly / f"{STACK}.template.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def template(template_json: dict[str, Any]) -> Any:
    return assertions.Template.from_json(template_json)


@pytest.fixture(scope="module")
def expanded(template_json: dict[str, Any]) -> Any:
    """The template after the SAM transform, as CloudFormation runs it on deploy."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:  # the template names no managed policy by name
        def load(self) -> dict[str, str]:
            return {}

    result = transform(json.loads(json.dumps(template_json)), {}, NoManagedPolicies())
    return assertions.Template.from_json(result)


def resources(template: Any, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def logical_id(template: Any, kind: str, prefix: str) -> str:
    [name] = [name for name in resources(template, kind) if name.startswith(prefix)]
    return name


def statements(template: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement of the template: roles' inline policies and separate policies."""
    for name, role in resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- the upload bucket and its events ---------------------------------------------------------


def test_the_upload_bucket_lets_browsers_read_etag_from_the_configured_origins(
    template: Any,
) -> None:
    distribution = logical_id(template, "AWS::CloudFront::Distribution", "WebDistribution")
    page_origin = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "CorsConfiguration": {
                "CorsRules": [
                    Match.object_like(
                        {
                            "AllowedOrigins": [page_origin, EXTRA_ORIGIN],
                            # PUT for Inlet's uploads, POST for Uppy's (docs/uppy.md)
                            "AllowedMethods": Match.array_with(["PUT", "POST"]),
                            "ExposedHeaders": ["ETag", "Location"],
                        }
                    )
                ]
            }
        },
    )


def test_the_upload_bucket_keeps_every_version(template: Any) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {"VersioningConfiguration": {"Status": "Enabled"}, "CorsConfiguration": Match.any_value()},
    )
    [bucket] = [
        b
        for name, b in resources(template, "AWS::S3::Bucket").items()
        if name.startswith("UploadsBucket")
    ]
    assert "ObjectLockEnabled" not in bucket["Properties"]  # WORM only when asked for


def test_no_principal_writes_under_runs_without_if_none_match(template: Any) -> None:
    """S3 refuses any object-creating write under runs/ that could replace an existing object;
    the parts of a multipart upload (which cannot carry the header) stay allowed."""
    bucket = logical_id(template, "AWS::S3::Bucket", "UploadsBucket")
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bucket},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "DenyOverwritesUnderRuns",
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Action": "s3:PutObject",
                            "Resource": {
                                "Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/runs/*"]]
                            },
                            "Condition": {
                                "Null": {"s3:if-none-match": "true"},
                                "Bool": {"s3:ObjectCreationOperation": "true"},
                            },
                        }
                    ]
                )
            },
        },
    )


@pytest.fixture(scope="module")
def locked_template(tmp_path_factory: pytest.TempPathFactory) -> Any:
    assembly = synthesize(tmp_path_factory, SETTINGS, object_lock_days="30")
    return assertions.Template.from_json(
        json.loads((assembly / f"{STACK}.template.json").read_text())
    )


def test_object_lock_is_an_option_that_keeps_the_bucket(locked_template: Any) -> None:
    locked_template.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like(
                {
                    "ObjectLockEnabled": True,
                    "ObjectLockConfiguration": {
                        "ObjectLockEnabled": "Enabled",
                        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )


def test_incomplete_multipart_uploads_are_aborted_after_two_days(template: Any) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": [
                    Match.object_like(
                        {
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
                            "Status": "Enabled",
                        }
                    )
                ]
            }
        },
    )


def test_objects_created_or_removed_under_runs_and_inbox_notify_the_queue(template: Any) -> None:
    """Removals too: a delete marker or a deleted version over a stored file is an integrity
    incident the handler records (docs/integrity.md)."""
    queue = logical_id(template, "AWS::SQS::Queue", "UploadsQueue")
    [notifications] = resources(template, "Custom::S3BucketNotifications").values()
    rules = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    subscribed = sorted(
        (rule["Filter"]["Key"]["FilterRules"][0]["Value"], *rule["Events"]) for rule in rules
    )
    assert subscribed == [
        ("inbox/", "s3:ObjectCreated:*"),
        ("inbox/", "s3:ObjectRemoved:*"),
        ("runs/", "s3:ObjectCreated:*"),
        ("runs/", "s3:ObjectRemoved:*"),
    ]
    for rule in rules:
        assert rule["QueueArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    bucket = logical_id(template, "AWS::S3::Bucket", "UploadsBucket")
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "s3.amazonaws.com"},
                                "Action": Match.array_with(["sqs:SendMessage"]),
                                "Condition": {
                                    "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [bucket, "Arn"]}}
                                },
                            }
                        )
                    ]
                )
            },
            "Queues": [{"Ref": queue}],
        },
    )


def test_the_queue_redrives_to_its_dead_letter_queue(template: Any) -> None:
    dlq = logical_id(template, "AWS::SQS::Queue", "UploadsDeadLetterQueue")
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": f"{STACK}-events",
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
                "maxReceiveCount": MAX_RECEIVES,
            },
            "VisibilityTimeout": 6 * 900,  # at least 6x the handler's timeout
            "SqsManagedSseEnabled": True,
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue", {"QueueName": f"{STACK}-events-dlq", "MessageRetentionPeriod": 1209600}
    )


def test_messages_in_the_dead_letter_queue_raise_an_alarm(template: Any) -> None:
    dlq = logical_id(template, "AWS::SQS::Queue", "UploadsDeadLetterQueue")
    topic = logical_id(template, "AWS::SNS::Topic", "UploadsAlarmTopic")
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}],
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0,
            "AlarmActions": [{"Ref": topic}],
        },
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )


def test_every_bucket_is_private_encrypted_and_https_only(template: Any) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 2  # uploads and the web page
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert "ServerSideEncryptionConfiguration" in props["BucketEncryption"]
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        document = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in document
        )
        for statement in document:
            if statement["Effect"] == "Allow":
                assert statement["Principal"] != "*"
                assert statement["Principal"] != {"AWS": "*"}


# --- the functions --------------------------------------------------------------------------


def test_batch_failures_are_reported_by_the_event_source_mapping(
    template: Any, expanded: Any
) -> None:
    template.has_resource_properties(
        "AWS::Serverless::Function",
        {
            "Handler": "app.handle_bucket_events",
            "Events": {
                "HandleBucketEventsSqsEventSource": {
                    "Type": "SQS",
                    "Properties": Match.object_like(
                        {"FunctionResponseTypes": ["ReportBatchItemFailures"], "BatchSize": 10}
                    ),
                }
            },
        },
    )
    mapping = mapping_of(expanded, f"{STACK}-events")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}


def mapping_of(expanded: Any, queue: str) -> dict[str, Any]:
    """The properties of the one event source mapping that polls `queue` (by name)."""
    queue_arn = {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:" + queue}
    [mapping] = [
        m["Properties"]
        for m in resources(expanded, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == queue_arn
    ]
    found: dict[str, Any] = mapping
    return found


def test_the_expiry_job_runs_on_a_schedule(expanded: Any) -> None:
    expanded.has_resource_properties(
        "AWS::Events::Rule",
        {"ScheduleExpression": "rate(15 minutes)", "Targets": [Match.object_like({})]},
    )


def test_functions_are_traced_configured_and_in_the_vpc(template: Any) -> None:
    functions = resources(template, "AWS::Serverless::Function")
    assert set(FUNCTIONS) <= set(functions)
    proxy = logical_id(template, "AWS::RDS::DBProxy", "DataProxy")
    secret = logical_id(template, "AWS::SecretsManager::Secret", "DataSecret")
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Tracing"] == "Active", name
        assert props["Runtime"] == "python3.11"
        assert props["Architectures"] == ["x86_64"]
        assert len(props["VpcConfig"]["SubnetIds"]) == 2, name
        variables = props["Environment"]["Variables"]
        assert "DATABASE_URL" not in variables
        assert variables["INLET_DB_SECRET_ARN"] == {"Ref": secret}
        assert variables["INLET_DB_HOST"] == {"Fn::GetAtt": [proxy, "Endpoint"]}
        assert variables["INLET_EVENTS_QUEUE"] == f"{STACK}-events"
        assert variables["INLET_MAX_RECEIVES"] == str(MAX_RECEIVES)
        assert variables["INLET_EVENT_BUS"] == STACK
        assert variables["INLET_PROCESSING_QUEUE"] == f"{STACK}-processing"
        assert variables["INLET_PENDING_TTL_HOURS"] == "12"
        assert variables["POWERTOOLS_SERVICE_NAME"] == "inlet"
        assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO"
    # Both hash objects: the handler, and the scheduled job when it reconciles a lost event.
    for hashing in ("HandleBucketEvents", "ExpirePendingRuns"):
        function = functions[hashing]["Properties"]
        assert (function["Timeout"], function["MemorySize"]) == (900, 1769)
    processor = functions["ProcessStoredRuns"]["Properties"]
    assert (processor["Timeout"], processor["MemorySize"]) == (900, 1024)
    template.has_resource_properties("AWS::Serverless::Api", {"TracingEnabled": True})
    for name in functions:
        template.has_resource_properties(
            "AWS::Logs::LogGroup",
            {"LogGroupName": {"Fn::Join": ["", ["/aws/lambda/", {"Ref": name}]]}},
        )


def test_each_function_has_its_own_least_privilege_role(template: Any) -> None:
    functions = resources(template, "AWS::Serverless::Function")
    roles = resources(template, "AWS::IAM::Role")

    def actions_of(function: str) -> set[str]:
        role = functions[function]["Properties"]["Role"]["Fn::GetAtt"][0]
        return {
            action
            for policy in roles[role]["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
            for action in as_list(statement["Action"])
        }

    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "s3:GetObject"} <= actions_of(
        "HandleBucketEvents"
    )
    assert "s3:PutObject" not in actions_of("HandleBucketEvents")
    assert {"s3:PutObject", "s3:AbortMultipartUpload"} <= actions_of("APIHandler")
    # Downloads: the API signs GETs of the recorded version, which S3 checks against its role.
    assert {"s3:GetObject", "s3:GetObjectVersion"} <= actions_of("APIHandler")
    # It sends stored runs to the processing queue (the outbox), and reads no queue.
    assert {a for a in actions_of("APIHandler") if a.startswith("sqs:")} == {
        "sqs:SendMessage",
        "sqs:GetQueueUrl",
    }
    # The processor reads stored files and its queue; it writes nothing and publishes nothing.
    processor = actions_of("ProcessStoredRuns")
    assert {"s3:GetObject", "s3:GetObjectVersion", "sqs:ReceiveMessage", "sqs:DeleteMessage"} <= (
        processor
    )
    assert not any(a.startswith(("s3:Put", "s3:Delete", "s3:Abort", "events:")) for a in processor)
    assert "sqs:SendMessage" not in processor
    assert not any(a.startswith("s3:") for a in actions_of("Migrate"))
    # The scheduled job reconciles (reads, hashes), expires (aborts, closes keys) and purges.
    assert {a for a in actions_of("ExpirePendingRuns") if a.startswith("s3:")} == {
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    }
    assert not any(a.startswith("s3:Delete") for a in actions_of("HandleBucketEvents"))
    assert not any(a.startswith("s3:Delete") for a in actions_of("APIHandler"))
    for function in functions:
        assert "secretsmanager:GetSecretValue" in actions_of(function)


def test_no_iam_statement_grants_wildcard_actions_on_every_resource(template: Any) -> None:
    app_roles = {
        function["Properties"]["Role"]["Fn::GetAtt"][0]
        for function in resources(template, "AWS::Serverless::Function").values()
    }
    checked = 0
    for owner, statement in statements(template):
        checked += 1
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement["Action"])
        everywhere = "*" in as_list(statement["Resource"])
        assert not (everywhere and any(a == "*" or a.endswith(":*") for a in actions)), owner
        if owner in app_roles:  # Inlet's own roles: no wildcard actions at all
            assert not any("*" in action for action in actions), (owner, actions)
            if everywhere:
                assert set(actions) <= WILDCARD_OK, (owner, actions)
    assert checked > 20


def test_the_functions_reach_objects_under_runs_and_inbox_only(template: Any) -> None:
    bucket = logical_id(template, "AWS::S3::Bucket", "UploadsBucket")
    bucket_arn = {"Fn::GetAtt": [bucket, "Arn"]}
    app_roles = {
        function["Properties"]["Role"]["Fn::GetAtt"][0]
        for function in resources(template, "AWS::Serverless::Function").values()
    }
    objects = []
    for owner, statement in statements(template):
        if owner not in app_roles:
            continue
        for resource in as_list(statement["Resource"]):
            if resource == bucket_arn:  # listing only: keys, versions (the scheduled job's purge)
                assert set(as_list(statement["Action"])) <= {
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                }
            elif isinstance(resource, dict) and "Fn::Join" in resource:
                parts = resource["Fn::Join"][1]
                if parts[0] == bucket_arn:
                    objects.append(parts[1])
    assert set(objects) == {"/runs/*", "/inbox/*"}


def test_api_gateways_own_errors_are_in_the_contracts_shape(template: Any) -> None:
    """No route, no or a wrong token, a broken authorizer: API Gateway answers before the app."""
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()
    }
    assert {kind: r.get("StatusCode") for kind, r in responses.items()} == {
        "UNAUTHORIZED": "401",
        "AUTHORIZER_FAILURE": "503",
        "MISSING_AUTHENTICATION_TOKEN": "404",
        "DEFAULT_4XX": None,
        "DEFAULT_5XX": None,
    }
    unauthorized = responses["UNAUTHORIZED"]
    body = json.loads(unauthorized["ResponseTemplates"]["application/json"])
    assert body == {
        "error": {
            "code": "unauthorized",
            "message": "a valid bearer token is required",
            "details": [],
        }
    }
    assert "Bearer" in unauthorized["ResponseParameters"]["gatewayresponse.header.WWW-Authenticate"]
    assert all(r["RestApiId"] == {"Ref": "RestAPI"} for r in responses.values())


# --- INLET_AUTHORIZER=gateway: API Gateway checks the token before the app runs ---------------

WEBHOOK = "/v1/bucket-events"  # authorized by its own shared secret, in the app


def routes(template_json: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(path, method) of every route of the REST API's OpenAPI body, with its `security`."""
    body = template_json["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    return {
        (path, method.upper()): operation.get("security")
        for path, operations in body["paths"].items()
        for method, operation in operations.items()
    }


def needs_the_authorizer(path: str, method: str) -> bool:
    """What the gateway must guard: every /v1 route but the webhook and a run's Companion
    endpoint; never a CORS preflight."""
    return (
        path.startswith("/v1/")
        and path != WEBHOOK
        and not path.startswith(f"{RUN_ENDPOINT}/")
        and method != "OPTIONS"
    )


@pytest.fixture(scope="module")
def gateway_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The stack synthesized with INLET_AUTHORIZER=gateway in the context's `settings`: Chalice
    reads it when it packages app.py, which then attaches the authorizer to the routes."""
    out = synthesize(tmp_path_factory, SETTINGS | {"INLET_AUTHORIZER": "gateway"})
    loaded: dict[str, Any] = json.loads((out / f"{STACK}.template.json").read_text())
    return loaded


def test_the_gateway_authorizer_guards_every_v1_route_but_the_webhook(
    gateway_json: dict[str, Any],
) -> None:
    found = routes(gateway_json)
    guarded = {route for route, security in found.items() if security}
    expected = {route for route in found if needs_the_authorizer(*route)}
    assert {("/v1/uploads", "POST"), ("/v1/runs", "GET"), ("/v1/runs/{run_id}", "GET")} <= expected
    assert guarded == expected
    for route in expected:
        assert found[route] == [{"token_authorizer": []}], route
    assert found[("/health", "GET")] is None
    assert found[(WEBHOOK, "POST")] is None
    assert found[(f"{RUN_COMPANION}/params", "GET")] is None
    assert found[("/v1/companion/runs", "POST")] == [{"token_authorizer": []}]
    assert all(found[route] is None for route in found if route[1] == "OPTIONS")

    # The authorizer is a Lambda token authorizer on the Authorization header, cached as the
    # app says, that runs app.token_authorizer.
    body = gateway_json["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    definition = body["securityDefinitions"]["token_authorizer"]
    assert (definition["type"], definition["in"], definition["name"]) == (
        "apiKey",
        "header",
        "Authorization",
    )
    assert definition["x-amazon-apigateway-authtype"] == "custom"
    authorizer = definition["x-amazon-apigateway-authorizer"]
    assert (authorizer["type"], authorizer["authorizerResultTtlInSeconds"]) == (
        "token",
        GATEWAY_CACHE_SECONDS,
    )
    assert "${TokenAuthorizer.Arn}" in authorizer["authorizerUri"]["Fn::Sub"]

    # Its function reaches the database, as the API does, and API Gateway may invoke it.
    # (One test for the whole gateway stack: under xdist, one worker synthesizes it once.)
    stack = gateway_json["Resources"]
    function = stack["TokenAuthorizer"]["Properties"]
    api = stack["APIHandler"]["Properties"]
    assert function["Handler"] == "app.token_authorizer"
    assert function["VpcConfig"] == api["VpcConfig"]
    variables = function["Environment"]["Variables"]
    assert variables["INLET_AUTHORIZER"] == "gateway"
    assert {"INLET_DB_SECRET_ARN", "INLET_DB_HOST"} <= set(variables)
    assert function["Role"]["Fn::GetAtt"][0].startswith("AppDatabaseRole")
    [permission] = [
        resource["Properties"]
        for resource in stack.values()
        if resource["Type"] == "AWS::Lambda::Permission"
        and resource["Properties"].get("FunctionName") == {"Fn::GetAtt": ["TokenAuthorizer", "Arn"]}
    ]
    assert permission["Principal"] == "apigateway.amazonaws.com"


def test_by_default_the_app_checks_tokens_and_the_gateway_does_not(
    template_json: dict[str, Any],
) -> None:
    found = routes(template_json)
    assert ("/v1/uploads", "POST") in found
    assert all(security is None for security in found.values())
    body = template_json["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert "securityDefinitions" not in body


# --- run events: the bus, the processing queue, the processor ---------------------------------


def test_the_stack_creates_the_stages_event_bus_and_names_it_in_an_output(template: Any) -> None:
    template.has_resource_properties("AWS::Events::EventBus", {"Name": STACK})
    bus = logical_id(template, "AWS::Events::EventBus", "RunEventsBus")
    template.has_output("EventBusName", {"Value": {"Ref": bus}})
    template.has_output("EventBusArn", {"Value": {"Fn::GetAtt": [bus, "Arn"]}})
    # No rule is deployed: consumers add their own (docs/deploy.md).
    rules = resources(template, "AWS::Events::Rule")
    assert not [r for r in rules.values() if "EventBusName" in r["Properties"]]


def test_the_functions_that_change_runs_may_publish_to_the_bus_and_the_processing_queue(
    template: Any,
) -> None:
    bus = logical_id(template, "AWS::Events::EventBus", "RunEventsBus")
    queue = logical_id(template, "AWS::SQS::Queue", "RunEventsProcessingQueue")
    functions = resources(template, "AWS::Serverless::Function")
    roles = resources(template, "AWS::IAM::Role")

    def grants(function: str) -> list[dict[str, Any]]:
        role = functions[function]["Properties"]["Role"]["Fn::GetAtt"][0]
        return [
            statement
            for policy in roles[role]["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
        ]

    put_events = {
        "Effect": "Allow",
        "Action": "events:PutEvents",
        "Resource": {"Fn::GetAtt": [bus, "Arn"]},
    }
    send = {
        "Effect": "Allow",
        "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
    }
    for function in PUBLISHERS:
        assert put_events in grants(function), function
        assert send in grants(function), function
    for function in set(functions) - set(PUBLISHERS):
        actions = {a for s in grants(function) for a in as_list(s["Action"])}
        assert not actions & {"events:PutEvents", "sqs:SendMessage"}, function


def test_the_processing_queue_redrives_to_its_dead_letter_queue_and_alarms(template: Any) -> None:
    dlq = logical_id(template, "AWS::SQS::Queue", "RunEventsProcessingDeadLetterQueue")
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": f"{STACK}-processing",
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
                "maxReceiveCount": MAX_RECEIVES,
            },
            "VisibilityTimeout": 6 * 900,  # at least 6x the processor's timeout
            "SqsManagedSseEnabled": True,
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"QueueName": f"{STACK}-processing-dlq", "MessageRetentionPeriod": 1209600},
    )
    topic = logical_id(template, "AWS::SNS::Topic", "UploadsAlarmTopic")
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}],
            "Threshold": 0,
            "AlarmActions": [{"Ref": topic}],
        },
    )
    template.has_output("ProcessingDeadLetterQueueUrl", {"Value": {"Ref": dlq}})


def test_the_processor_takes_one_stored_run_at_a_time_and_reports_failures(
    template: Any, expanded: Any
) -> None:
    template.has_resource_properties(
        "AWS::Serverless::Function",
        {
            "Handler": "app.process_stored_runs",
            "Events": {
                "ProcessStoredRunsSqsEventSource": {
                    "Type": "SQS",
                    "Properties": Match.object_like(
                        {"FunctionResponseTypes": ["ReportBatchItemFailures"], "BatchSize": 1}
                    ),
                }
            },
        },
    )
    mapping = mapping_of(expanded, f"{STACK}-processing")
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (
        1,
        ["ReportBatchItemFailures"],
    )
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert mapping["FunctionName"] == {"Ref": "ProcessStoredRuns"}


# --- database, migrations, web page -----------------------------------------------------------


def test_the_database_is_private_and_reached_through_rds_proxy(template: Any) -> None:
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        Match.object_like(
            {"Engine": "postgres", "PubliclyAccessible": False, "StorageEncrypted": True}
        ),
    )
    template.has_resource_properties(
        "AWS::RDS::DBProxy",
        {"RequireTLS": True, "EngineFamily": "POSTGRESQL", "DBProxyName": f"{STACK}-db"},
    )
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    # SQS and EventBridge: the outbox publishes from inside the VPC, which has no way out.
    for service, kind in (
        ("secretsmanager", "Interface"),
        ("sqs", "Interface"),
        ("events", "Interface"),
        ("s3", "Gateway"),
    ):
        name = {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, f".{service}"]]}
        template.has_resource_properties(
            "AWS::EC2::VPCEndpoint", {"ServiceName": name, "VpcEndpointType": kind}
        )


def test_migrations_run_on_deploy_before_the_new_code(template: Any) -> None:
    [(name, migrations)] = resources(template, "Custom::InletMigrations").items()
    assert migrations["Properties"]["Revisions"]
    functions = resources(template, "AWS::Serverless::Function")
    for function in ("APIHandler", "HandleBucketEvents", "ProcessStoredRuns", "ExpirePendingRuns"):
        assert name in functions[function]["DependsOn"], function
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "lambda:InvokeFunction",
                                "Resource": Match.array_with([{"Fn::GetAtt": ["Migrate", "Arn"]}]),
                            }
                        )
                    ]
                )
            }
        },
    )


def test_the_page_is_served_by_cloudfront_through_origin_access_control(template: Any) -> None:
    template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": Match.object_like(
                {"OriginAccessControlOriginType": "s3", "SigningBehavior": "always"}
            )
        },
    )
    oac = logical_id(template, "AWS::CloudFront::OriginAccessControl", "Web")
    template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {
                    "DefaultRootObject": "index.html",
                    "Origins": [
                        Match.object_like({"OriginAccessControlId": {"Fn::GetAtt": [oac, "Id"]}})
                    ],
                    "DefaultCacheBehavior": Match.object_like(
                        {"ViewerProtocolPolicy": "redirect-to-https"}
                    ),
                }
            )
        },
    )


def test_the_page_gets_the_api_url_in_config_json(template: Any, assembly: Path) -> None:
    [page_config] = assembly.glob("asset.*/config.json")
    # Deploy-time values are markers that the deployment replaces with JSON strings.
    written = json.loads(re.sub(r"<<marker:0xbaba:\d+>>", '"marker"', page_config.read_text()))
    assert set(written) == {"apiUrl", "runTypes", "defaultRunType", "authRequired"}
    assert written["authRequired"] is True  # INLET_AUTH=required, the default
    [deployment] = resources(template, "Custom::CDKBucketDeployment").values()
    markers = json.dumps(deployment["Properties"]["SourceMarkers"])
    assert "RestAPI" in markers
    assert "execute-api" in markers
    assert deployment["Properties"]["DistributionPaths"] == ["/*"]


def test_cfn_lint_passes(assembly: Path) -> None:
    lint = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),  # the venv's
            "--ignore-checks",
            "W3005",  # CDK's own DependsOn next to a Ref (field notes)
            "--",
            str(assembly / f"{STACK}.template.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


# --- the Lambda package ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def package(
    assembly: Path, template_json: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The deployment package the stack's functions run, unzipped."""
    key = template_json["Resources"]["APIHandler"]["Properties"]["CodeUri"]["Key"]
    target = tmp_path_factory.mktemp("package")
    with zipfile.ZipFile(assembly / f"asset.{key}") as archive:
        archive.extractall(target)
    return target


def test_the_package_holds_psycopgs_binary_and_the_migrations(package: Path) -> None:
    assert list((package / "psycopg_binary").glob("_psycopg.cpython-311-x86_64-linux-gnu.so"))
    assert list((package / "psycopg_binary.libs").glob("libpq-*.so*"))
    revisions = {p.name for p in (package / "migrations" / "versions").glob("*.py")}
    assert revisions == {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert (package / "alembic").is_dir()
    assert (package / "chalicelib" / "migrate.py").is_file()


def test_the_package_carries_bytecode_for_its_runtime_and_only_the_service_models_it_uses(
    package: Path, template_json: dict[str, Any]
) -> None:
    """infra/package.py (tests/deploy/test_package.py checks its rules on a small package)."""
    [runtime] = {  # e.g. python3.11: its bytecode is cpython-311
        resource["Properties"]["Runtime"]
        for resource in template_json["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    tag = "cpython-" + runtime.removeprefix("python").replace(".", "")
    sources = list(package.rglob("*.py"))
    assert {"app", "chalicelib", "sqlalchemy", "pydantic", "botocore"} <= {
        source.relative_to(package).parts[0].removesuffix(".py") for source in sources
    }
    missing = [
        s for s in sources if not (s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").is_file()
    ]
    assert not missing, missing[:10]
    assert not list(package.rglob("*.pyi"))
    assert not [d for d in package.rglob("tests") if d.is_dir()]
    assert {d.name for d in (package / "botocore" / "data").iterdir() if d.is_dir()} == SERVICES
    assert (package / "botocore" / "data" / "endpoints.json").is_file()
    # Every function starts from the package (its init and first event), and every kept
    # service's client loads its model.
    clients = "\n".join(f"boto3.client({name!r}, region_name='us-east-1')" for name in SERVICES)
    for code in [startup_code(function, first_event=True) for function in FIRST_EVENT] + [
        f"import boto3\n{clients}"
    ]:
        done = subprocess.run(
            [
                sys.executable,
                "-I",
                "-S",
                "-B",
                "-c",
                f"import sys\nsys.path[0:0] = [{str(package)!r}]\n{code}",
            ],
            env={
                "PATH": os.environ.get("PATH", ""),
                "AWS_DEFAULT_REGION": "us-east-1",
                "DATABASE_URL": "postgresql://inlet@127.0.0.1:1/inlet",  # never connected to
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]


CLEAN_IMPORT = """
import json, sys
package = sys.argv[1]
sys.path.insert(0, package)
import app
result = app.migrate_database({"RequestType": "Create"}, None)  # Alembic, then psycopg
import psycopg
assert psycopg.pq.__impl__ == "binary", psycopg.pq.__impl__
for name in ("app", "chalicelib", "chalice", "sqlalchemy", "pydantic", "alembic", "psycopg"):
    assert sys.modules[name].__file__.startswith(package), (name, sys.modules[name].__file__)
print(json.dumps(result))
"""


def test_the_app_imports_and_migrates_from_the_package_in_a_clean_interpreter(
    package: Path,
) -> None:
    """`python -I -S`: no site-packages, no user site, no PYTHONPATH; only the package."""
    urls = postgres_database()
    url = next(urls)
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", CLEAN_IMPORT, str(package)],
            env={
                "PATH": os.environ.get("PATH", ""),
                "DATABASE_URL": url,
                "AWS_DEFAULT_REGION": "us-east-1",
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["PhysicalResourceId"] == "inlet-schema"
        assert result["Data"]["Revision"]
    finally:
        next(urls, None)


# --- context ----------------------------------------------------------------------------------


@pytest.fixture
def page(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<!doctype html>")
    return tmp_path


def context(page: Path, **values: str) -> Any:
    """`node.try_get_context` of `cdk -c stage=dev -c web_dir=PAGE -c NAME=VALUE ...`."""
    return ({"stage": "dev", "web_dir": str(page)} | values).get


def test_context_defaults(page: Path) -> None:
    config = DeployConfig.from_context(context(page))
    assert (config.stack_name, config.queue_name, config.max_receives) == (
        "inlet-dev",
        "inlet-dev-events",
        5,
    )
    assert (config.processing_queue_name, config.event_bus_name) == (
        "inlet-dev-processing",
        "inlet-dev",
    )
    assert (config.event_concurrency, config.processing_concurrency) == (10, 5)
    assert not config.retain
    assert config.cors_origins == ()
    assert config.settings == ()


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"stage": ""}, "stage"),
        ({"stage": "Prod!"}, "stage"),
        ({"max_receives": "0"}, "max_receives"),
        ({"max_receives": "five"}, "max_receives"),
        ({"processing_concurrency": "1"}, "processing_concurrency"),
        ({"settings": '{"INLET_EVENT_BUS": "other"}'}, "set by the stack"),
        ({"settings": '{"INLET_PROCESSING_QUEUE": "other"}'}, "set by the stack"),
        ({"log_level": "LOUD"}, "log_level"),
        ({"settings": '{"INLET_BUCKET": "mine"}'}, "set by the stack"),
        ({"settings": '{"INLET_NOPE": "1"}'}, "not an Inlet setting"),
        ({"settings": '["INLET_RUN_TYPES"]'}, "JSON object"),
        ({"web_dir": "/nonexistent"}, "make web"),
    ],
)
def test_bad_context_fails_the_synth(page: Path, values: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        DeployConfig.from_context(context(page, **values))


def test_settings_are_validated_at_synth(page: Path) -> None:
    bad = json.dumps({"INLET_DEFAULT_RUN_TYPE": "not-a-type"})
    with pytest.raises(RuntimeError, match="INLET_DEFAULT_RUN_TYPE"):
        DeployConfig.from_context(context(page, settings=bad))

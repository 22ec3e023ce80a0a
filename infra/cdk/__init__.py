"""Inlet on AWS: the CDK app (`python -m infra.cdk.app`; docs/deploy.md)."""

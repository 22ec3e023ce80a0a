"""Inlet on AWS: the CDK app (`python -m infra.app`; docs/deploy.md). Imports shared rules from
`chalicelib`, never from `local`."""

"""KICS query ids for Bastion's IaC policies: how each was found, and the tool that writes them.

Each row names a Bastion policy, the KICS query that checks the same thing on the same platform,
its id, and what was read to decide: KICS's own query list (``docs/queries/terraform-queries.md``
in Checkmarx/kics, read through the search tool at two commits: ``N`` = 39276238 (current names,
platform sections), ``O`` = 01a24f11 (the older list, which also gives each query's description)).
Only queries whose name and description say the same check as the policy are listed; near misses
are kept in ``NOT_MAPPED`` with the reason, so nobody maps them later by resemblance.

    .venv/bin/python bench/iac/kics_ids.py --apply   # write the ``kics:`` lists into the policy files
    .venv/bin/python bench/iac/kics_ids.py --table   # the Markdown table for bench/iac/RESULTS.md
    .venv/bin/python bench/iac/kics_ids.py --count   # policies with KICS ids per platform

``--apply`` edits the YAML text in place (one ``kics:`` entry next to the policy's id, the file's
own style kept); port policies take theirs from ``portgen.KICS`` (the generated ``ports.yml``).
Running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "src" / "bastion" / "scan" / "iac" / "policies"
LIST_NOW = "Checkmarx/kics docs/queries/terraform-queries.md @39276238"
LIST_OLD = "Checkmarx/kics docs/queries/terraform-queries.md @01a24f11 (with descriptions)"
LIST_K8S = "Checkmarx/kics docs/queries/kubernetes-queries.md @01a24f11 (with descriptions)"
LIST_DOCKER = "Checkmarx/kics docs/queries/dockerfile-queries.md @01a24f11 (with descriptions)"
LIST_CFN = "Checkmarx/kics docs/queries/cloudformation-queries.md @01a24f11 (with descriptions)"
LIST_ARM = "Checkmarx/kics docs/queries/azureresourcemanager-queries.md @045aaa61 (with descriptions)"
METADATA = "Checkmarx/kics assets/queries/<query directory named in the row>/metadata.json"
FIRST_SESSION = (
    "Checkmarx/kics assets/queries/.../metadata.json (and Rego where noted), read in the first session"
)

ROWS: tuple[tuple[str, str, str, str], ...] = (
    (
        "iac.aws.dms-replication-instance-publicly-accessible",
        "030d3b18-1821-45b4-9e08-50efbe7becbb",
        "Amazon DMS Replication Instance Is Publicly Accessible",
        LIST_NOW,
    ),
    (
        "iac.aws.mq-broker-publicly-exposed",
        "4eb5f791-c861-4afd-9f94-f2a6a3fe49cb",
        "MQ Broker Is Publicly Accessible",
        LIST_NOW,
    ),
    (
        "iac.aws.mq-broker-logging-enabled",
        "31245f98-a6a9-4182-9fc1-45482b9d030a",
        "MQ Broker Logging Disabled (general or audit)",
        LIST_NOW,
    ),
    (
        "iac.aws.cloudfront-distribution-access-logging-enabled",
        "94690d79-b3b0-43de-b656-84ebef5753e5",
        "CloudFront Logging Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.cloudtrail-logging-enabled",
        "4bb76f17-3d63-4529-bdca-2b454529d774",
        "CloudTrail Logging Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.cloudtrail-defines-sns-topic",
        "482b7d26-0bdb-4b5f-bf6f-545826c0a3dd",
        "CloudTrail SNS Topic Name Undefined",
        LIST_NOW,
    ),
    (
        "iac.aws.api-gateway-stage-access-logging-enabled",
        "1b6799eb-4a7a-4b04-9001-8cceb9999326",
        "API Gateway Access Logging Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.api-gateway-tracing",
        "5813ef56-fa94-406a-b35d-977d4a56ff2b",
        "API Gateway X-Ray Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.instance-ec2-ebs-optimized",
        "60224630-175a-472a-9e23-133827040766",
        "EC2 Not EBS Optimized",
        LIST_NOW,
    ),
    (
        "iac.aws.neptune-cluster-db-clusters-iam-database-authentication-enabled",
        "c91d7ea0-d4d1-403b-8fe1-c9961ac082c5",
        "Neptune Cluster With IAM Database Authentication Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.athena-workgroup-encrypted",
        "d364984a-a222-4b5f-a8b0-e23ab19ebff3",
        "Athena Workgroup Not Encrypted",
        LIST_NOW,
    ),
    (
        "iac.aws.athena-database-encrypted-rest-default-unencrypted",
        "b2315cae-b110-4426-81e0-80bb8640cdd3",
        "Athena Database Not Encrypted",
        LIST_NOW,
    ),
    (
        "iac.aws.dax-cluster-encrypted-rest-default-unencrypted",
        "f11aec39-858f-4b6f-b946-0a1bf46c0c87",
        "DAX Cluster Not Encrypted",
        LIST_NOW,
    ),
    (
        "iac.aws.neptune-cluster-instance-publicly-available",
        "9ba198e0-fef4-464a-8a4d-75ea55300de7",
        "Neptune Cluster Instance is Publicly Accessible",
        LIST_NOW,
    ),
    (
        "iac.aws.globalaccelerator-accelerator-global-flow-logs-enabled",
        "96e8183b-e985-457b-90cd-61c0503a3369",
        "Global Accelerator Flow Logs Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.s3-public-access-block-settings",
        "d0cc8694-fcad-43ff-ac86-32331d7e867f",
        "S3 Bucket Allows Public ACL (block_public_acls)",
        LIST_NOW,
    ),
    (
        "iac.aws.s3-public-access-block-settings",
        "4fa66806-0dd9-4f8d-9480-3174d39c7c91",
        "S3 Bucket Without Ignore Public ACL (ignore_public_acls)",
        LIST_NOW,
    ),
    (
        "iac.aws.s3-public-access-block-settings",
        "1a4bc881-9f69-4d44-8c9a-d37d08f54c50",
        "S3 Bucket Allows Public Policy (block_public_policy)",
        LIST_NOW,
    ),
    (
        "iac.aws.s3-public-access-block-settings",
        "1ec253ab-c220-4d63-b2de-5b40e0af9293",
        "S3 Bucket Without Restriction Of Public Bucket (restrict_public_buckets)",
        LIST_NOW,
    ),
    (
        "iac.aws.s3-bucket-public-acl",
        "38c5ee0d-7f22-4260-ab72-5073048df100",
        "S3 Bucket ACL Allows Read Or Write to All Users",
        LIST_NOW,
    ),
    (
        "iac.aws.s3-bucket-public-acl",
        "57b9893d-33b1-4419-bcea-a717ea87e139",
        "S3 Bucket ACL Allows Read to Any Authenticated User",
        LIST_NOW,
    ),
    (
        "iac.aws.s3-versioning-mfa-delete",
        "c5b31ab9-0f26-4a49-b8aa-4cc064392f4d",
        "S3 Bucket Without Enabled MFA Delete",
        LIST_NOW,
    ),
    (
        "iac.aws.iam-user-direct-policy",
        "b4378389-a9aa-44ee-91e7-ef183f11079e",
        "IAM Policies Attached To User",
        LIST_NOW,
    ),
    (
        "iac.aws.iam-password-length",
        "1bc1c685-e593-450e-88fb-19db4c82aa1d",
        "IAM Password Without Minimum Length",
        LIST_NOW,
    ),
    (
        "iac.aws.iam-password-reuse",
        "89806cdc-9c2e-4bd1-a0dc-53f339bcfb2a",
        "Password Without Reuse Prevention (24)",
        LIST_NOW,
    ),
    (
        "iac.aws.iam-password-symbols",
        "7a70eed6-de3a-4da2-94da-a2bbc8fe2a48",
        "IAM Password Without Symbols",
        LIST_OLD,
    ),
    (
        "iac.aws.iam-password-uppercase",
        "c5ff7bc9-d8ea-46dd-81cb-8286f3222249",
        "IAM Password Without Uppercase Letter",
        LIST_OLD,
    ),
    (
        "iac.aws.iam-password-lowercase",
        "bbc7c137-6c7b-4fc4-984a-0c88e91fcaf9",
        "IAM Password Without Lowercase Letter",
        LIST_OLD,
    ),
    (
        "iac.aws.iam-password-max-age",
        "ce60d060-efb8-4bfd-9cf7-ff8945d00d90",
        "Misconfigured Password Policy Expiration",
        LIST_NOW,
    ),
    (
        "iac.aws.ec2-detailed-monitoring",
        "23b70e32-032e-4fa6-ba5c-82f56b9980e6",
        "EC2 Instance Monitoring Disabled",
        LIST_NOW,
    ),
    ("iac.aws.ec2-public-ip", "5a2486aa-facf-477d-a5c1-b010789459ce", "EC2 Instance Has Public IP", LIST_NOW),
    (
        "iac.aws.ebs-encryption-by-default",
        "3d3f6270-546b-443c-adb4-bb6fb2187ca6",
        "EBS Default Encryption Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.rds-encrypted",
        "08bd0760-8752-44e1-9779-7bb369b2b4e4",
        "DB Instance Storage Not Encrypted",
        LIST_NOW,
    ),
    (
        "iac.aws.rds-iam-auth",
        "88fd05e0-ac0e-43d2-ba6d-fc0ba60ae1a6",
        "IAM Database Auth Not Enabled",
        LIST_NOW,
    ),
    (
        "iac.aws.rds-minor-upgrades",
        "3b6d777b-76e3-4133-80a3-0d6f667ade7f",
        "Automatic Minor Upgrades Disabled",
        LIST_NOW,
    ),
    ("iac.aws.rds-log-exports", "8d7f7b8c-6c7c-40f8-baa6-62006c6c7b56", "RDS Without Logging", LIST_NOW),
    (
        "iac.aws.cloudtrail-multi-region",
        "8173d5eb-96b5-4aa6-a71b-ecfa153c123d",
        "CloudTrail Multi Region Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.cloudtrail-kms",
        "5d9e3164-9265-470c-9a10-57ae454ac0c7",
        "CloudTrail Log Files Not Encrypted With KMS",
        LIST_NOW,
    ),
    (
        "iac.aws.cloudtrail-cloudwatch",
        "17b30f8f-8dfb-4597-adf6-57600b6cf25e",
        "CloudTrail Not Integrated With CloudWatch",
        LIST_NOW,
    ),
    ("iac.aws.vpc-flow-logs", "f83121ea-03da-434f-9277-9cd247ab3047", "VPC FlowLogs Disabled", LIST_NOW),
    (
        "iac.aws.default-security-group-closed",
        "46883ce1-dc3e-4b17-9195-c6a601624c73",
        "Default Security Groups With Unrestricted Traffic",
        LIST_NOW,
    ),
    (
        "iac.aws.subnet-public-ip",
        "52f04a44-6bfa-4c41-b1d3-4ae99a2de05c",
        "VPC Subnet Assigns Public IP",
        LIST_NOW,
    ),
    (
        "iac.aws.security-group-rule-description",
        "68eb4bf3-f9bf-463d-b5cf-e029bb446d2e",
        "Security Group Rule Without Description",
        LIST_NOW,
    ),
    (
        "iac.aws.eks-public-endpoint",
        "42f4b905-3736-4213-bfe9-c0660518cda8",
        "EKS Cluster Has Public Access",
        LIST_NOW,
    ),
    (
        "iac.aws.eks-public-cidrs",
        "61cf9883-1752-4768-b18c-0d57f2737709",
        "EKS Cluster Has Public Access CIDRs",
        LIST_NOW,
    ),
    (
        "iac.aws.eks-secrets-encryption",
        "63ebcb19-2739-4d3f-aa5c-e8bbb9b85281",
        "EKS Cluster Encryption Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.eks-node-remote-access",
        "ba40ace1-a047-483c-8a8d-bc2d3a67a82d",
        "EKS node group remote access disabled (SSH key without source security groups; Rego read)",
        LIST_NOW,
    ),
    (
        "iac.aws.ecr-immutable-tags",
        "d1846b12-20c5-4d45-8798-fc35b79268eb",
        "ECR Image Tag Not Immutable",
        LIST_NOW,
    ),
    ("iac.aws.ecr-scan-on-push", "9630336b-3fed-4096-8173-b9afdfe346a7", "Unscanned ECR Image", LIST_NOW),
    (
        "iac.aws.ecr-encryption-kms",
        "0e32d561-4b5a-4664-a6e3-a3fa85649157",
        "ECR Repository Not Encrypted With CMK",
        LIST_NOW,
    ),
    (
        "iac.aws.lambda-tracing",
        "8152e0cf-d2f0-47ad-96d5-d003a76eabd1",
        "Lambda Functions Without X-Ray Tracing",
        LIST_NOW,
    ),
    (
        "iac.aws.lb-drop-invalid-headers",
        "6e3fd2ed-5c83-4c68-9679-7700d224d379",
        "ALB Not Dropping Invalid Headers",
        LIST_NOW,
    ),
    (
        "iac.aws.lb-deletion-protection",
        "afecd1f1-6378-4f7e-bb3b-60c35801fdd4",
        "ALB Deletion Protection Disabled",
        LIST_NOW,
    ),
    ("iac.aws.lb-waf", "0afa6ab8-a047-48cf-be07-93a2f8c34cf7", "ALB Is Not Integrated With WAF", LIST_NOW),
    ("iac.aws.lb-listener-https", "de7f5e83-da88-4046-871f-ea18504b1d43", "ALB Listening on HTTP", LIST_NOW),
    ("iac.aws.lb-access-logs", "20018359-6fd7-4d05-ab26-d4dffccbdf79", "ELB Access Log Disabled", LIST_NOW),
    ("iac.aws.sqs-encrypted", "6e8849c1-3aa7-40e3-9063-b85ee300f29f", "SQS With SSE Disabled", LIST_NOW),
    ("iac.aws.sns-encrypted", "28545147-2fc6-42d5-a1f9-cf226658e591", "SNS Topic Not Encrypted", LIST_NOW),
    (
        "iac.aws.dynamodb-point-in-time-recovery",
        "741f1291-47ac-4a85-a07b-3d32a9d6bd3e",
        "DynamoDB Table Point In Time Recovery Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.elasticache-transit-encryption",
        "1afbb3fa-cf6c-4a3d-b730-95e9f4df343e",
        "ElastiCache Replication Group Not Encrypted At Transit",
        LIST_NOW,
    ),
    (
        "iac.aws.elasticache-at-rest-encryption",
        "76976de7-c7b1-4f64-a94f-90c1345914c2",
        "ElastiCache Replication Group Not Encrypted At Rest",
        LIST_NOW,
    ),
    (
        "iac.aws.redshift-encrypted",
        "cfdcabb0-fc06-427c-865b-c59f13e898ce",
        "Redshift Not Encrypted",
        LIST_NOW,
    ),
    (
        "iac.aws.redshift-public",
        "af173fde-95ea-4584-b904-bb3923ac4bda",
        "Redshift Publicly Accessible",
        LIST_NOW,
    ),
    (
        "iac.aws.redshift-logging",
        "15ffbacc-fa42-4f6f-a57d-2feac7365caa",
        "Redshift Cluster Logging Disabled",
        LIST_NOW,
    ),
    ("iac.aws.efs-encrypted", "48207659-729f-4b5c-9402-f884257d794f", "EFS Not Encrypted", LIST_NOW),
    (
        "iac.aws.efs-file-system-resource-encrypted-kms-customer-managed-key-cmk",
        "25d251f3-f348-4f95-845c-1090e41a615c",
        "EFS Without KMS",
        LIST_NOW,
    ),
    (
        "iac.aws.kinesis-encrypted",
        "862fe4bf-3eec-4767-a517-40f378886b88",
        "Kinesis Not Encrypted With KMS",
        LIST_NOW,
    ),
    (
        "iac.aws.cloudwatch-log-group-encrypted",
        "0afbcfe9-d341-4b92-a64c-7e6de0543879",
        "CloudWatch Log Group Without KMS",
        LIST_NOW,
    ),
    (
        "iac.aws.secretsmanager-kms",
        "a2f548f2-188c-4fff-b172-e9a6acb216bd",
        "Secretsmanager Secret Without KMS",
        LIST_NOW,
    ),
    (
        "iac.aws.cloudfront-https",
        "55af1353-2f62-4fa0-a8e1-a210ca2708f5",
        "Cloudfront Viewer Protocol Policy Allows HTTP",
        LIST_NOW,
    ),
    (
        "iac.aws.cloudfront-tls-version",
        "00e5e55e-c2ff-46b3-a757-a7a1cd802456",
        "CloudFront Without Minimum Protocol TLS 1.2",
        LIST_NOW,
    ),
    ("iac.aws.cloudfront-waf", "1419b4c6-6d5c-4534-9cf6-6a5266085333", "CloudFront Without WAF", LIST_NOW),
    (
        "iac.aws.api-gateway-method-auth",
        "15ccec05-5476-4890-ad19-53991eba1db8",
        "API Gateway With Open Access (authorization NONE, OPTIONS exempt)",
        LIST_OLD,
    ),
    (
        "iac.aws.guardduty-enabled",
        "704dadd3-54fc-48ac-b6a0-02f170011473",
        "GuardDuty Detector Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.opensearch-encrypted",
        "24e16922-4330-4e9d-be8a-caa90299466a",
        "ElasticSearch Not Encrypted At Rest",
        LIST_NOW,
    ),
    (
        "iac.aws.opensearch-node-encryption",
        "967eb3e6-26fc-497d-8895-6428beb6e8e2",
        "Elasticsearch Domain Not Encrypted Node To Node",
        LIST_NOW,
    ),
    (
        "iac.aws.opensearch-https",
        "2e9e0729-66d5-4148-9d39-5e6fb4bf2a4e",
        "Elasticsearch with HTTPS disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.sagemaker-notebook-encrypted",
        "f3674e0c-f6be-43fa-b71c-bf346d1aed99",
        "Sagemaker Notebook Instance Without KMS",
        LIST_NOW,
    ),
    (
        "iac.aws.workspace-encrypted",
        "b9033580-6886-401a-8631-5f19f5bb24c7",
        "Workspaces Workspace Volume Not Encrypted",
        LIST_NOW,
    ),
    (
        "iac.aws.iam-policy-no-admin",
        "2f37c4a3-58b9-4afe-8a87-d7f1d2286f84",
        "IAM Policies With Full Privileges (Action * on Resource *)",
        LIST_OLD,
    ),
    (
        "iac.aws.iam-policy-star-action",
        "575a2155-6af1-4026-b1af-d5bc8fe2a904",
        "IAM Policy Grants Full Permissions (Action '*' in a statement)",
        LIST_OLD,
    ),
    (
        "iac.aws.iam-role-assume-everyone",
        "12b7e704-37f0-4d1e-911a-44bf60c48c21",
        "IAM Role Allows All Principals To Assume",
        LIST_NOW,
    ),
    (
        "iac.aws.ec2-user-data-secrets",
        "d7b9d850-3e06-4a75-852f-c46c2e92240b",
        "Hardcoded AWS Access Key (EC2 user data; KICS looks for AWS keys only)",
        LIST_OLD,
    ),
    (
        "iac.aws.lambda-env-secrets",
        "1402afd8-a95c-4e84-8b0b-6fb43758e6ce",
        "Hardcoded AWS Access Key In Lambda (KICS looks for AWS keys only)",
        LIST_OLD,
    ),
    (
        "iac.aws.kms-key-enabled",
        "7350fa23-dcf7-4938-916d-6a60b0c73b50",
        "CMK Is Unusable (is_enabled false)",
        LIST_NOW,
    ),
    (
        "iac.aws.cloudformation-stack-stacks-sending-event-notifications-sns-topic",
        "b72d0026-f649-4c91-a9ea-15d8f681ac09",
        "Stack Notifications Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.docdb-cluster-documentdb-encrypted-kms-customer-managed-key-cmk",
        "4766d3ea-241c-4ee6-93ff-c380c996bd1a",
        "DOCDB Cluster Without KMS",
        LIST_NOW,
    ),
    (
        "iac.aws.rds-cluster-encrypted",
        "bc1f9009-84a0-490f-ae09-3e0ea6d74ad6",
        "DOCDB Cluster Not Encrypted (aws_docdb_cluster)",
        LIST_NOW,
    ),
    (
        "iac.aws.rds-cluster-encrypted",
        "98d59056-f745-4ef5-8613-32bca8d40b7e",
        "Neptune Database Cluster Encryption Disabled (aws_neptune_cluster)",
        LIST_NOW,
    ),
    (
        "iac.aws.db-cluster-snapshot-rds-database-encrypted",
        "656880aa-1388-488f-a6d4-8f73c23149b2",
        "RDS Database Cluster not Encrypted (aws_db_cluster_snapshot)",
        LIST_NOW,
    ),
    (
        "iac.aws.sagemaker-endpoint-configuration-data-stored-securely-encrypted-rest",
        "58b35504-0287-4154-bf69-02c0573deab8",
        "Sagemaker Endpoint Configuration Encryption Disabled",
        LIST_NOW,
    ),
    (
        "iac.aws.msk-cluster-nodes-private",
        "54378d69-dd7c-4b08-a43e-80d563396857",
        "MSK Broker Is Publicly Accessible",
        LIST_NOW,
    ),
    (
        "iac.aws.security-group-open-rdp",
        "151187cb-0efc-481c-babd-ad24e3c9bc22",
        "Remote Desktop Port Open To Internet",
        LIST_NOW,
    ),
    (
        "iac.aws.security-group-open-http",
        "ffac8a12-322e-42c1-b9b9-81ff85c39ef7",
        "HTTP Port Open To Internet",
        LIST_NOW,
    ),
    (
        "iac.azure.storage-https-only",
        "12944ec4-1fa0-47be-8b17-42a034f937c2",
        "Storage Account Not Forcing HTTPS",
        LIST_NOW,
    ),
    (
        "iac.azure.storage-min-tls",
        "8263f146-5e03-43e0-9cfe-db960d56d1e7",
        "Storage Account Not Using Latest TLS Encryption Version",
        LIST_NOW,
    ),
    (
        "iac.azure.storage-network-deny",
        "a5613650-32ec-4975-a305-31af783153ea",
        "Default Azure Storage Account Network Access Is Too Permissive",
        LIST_NOW,
    ),
    (
        "iac.azure.storage-container-private",
        "dd5230f8-a577-4bbb-b7ac-f2c2fe7d5299",
        "Storage Container Is Publicly Accessible",
        LIST_NOW,
    ),
    (
        "iac.azure.keyvault-secret-expiry",
        "dfa20ffa-f476-428f-a490-424b41e91c7f",
        "Secret Expiration Not Set",
        LIST_NOW,
    ),
    (
        "iac.azure.keyvault-key-expiry",
        "4d080822-5ee2-49a4-8984-68f3d4c890fc",
        "Key Expiration Not Set",
        LIST_NOW,
    ),
    (
        "iac.azure.keyvault-secret-content-type",
        "f8e08a38-fc6e-4915-abbe-a7aadf1d59ef",
        "Key Vault Secrets Content Type Undefined",
        LIST_NOW,
    ),
    (
        "iac.azure.sql-firewall-open",
        "25c0ea09-f1c5-4380-b055-3b83863f2bb8",
        "SQLServer Ingress From Any IP (0.0.0.0-255.255.255.255)",
        LIST_OLD,
    ),
    (
        "iac.azure.postgres-ssl",
        "0437633b-daa6-4bbc-8526-c0d2443b946e",
        "SSL Enforce Disabled (PostgreSQL)",
        LIST_NOW,
    ),
    (
        "iac.azure.postgres-ssl",
        "73e42469-3a86-4f39-ad78-098f325b4e9f",
        "MySQL SSL Connection Disabled",
        LIST_NOW,
    ),
    (
        "iac.azure.postgres-geo-backup",
        "8b042c30-e441-453f-b162-7696982ebc58",
        "Geo Redundancy Is Disabled (PostgreSQL)",
        LIST_NOW,
    ),
    (
        "iac.azure.mariadb-server-enables-geo-redundant-backups",
        "0a70d5f3-1ecd-4c8e-9292-928fc9a8c4f1",
        "MariaDB Server Geo-redundant Backup Disabled",
        LIST_NOW,
    ),
    (
        "iac.azure.postgres-threat-detection",
        "c407c3cf-c409-4b29-b590-db5f4138d332",
        "PostgreSQL Server Threat Detection Policy Disabled",
        LIST_NOW,
    ),
    (
        "iac.azure.postgres-public-network",
        "f118890b-2468-42b1-9ce9-af35146b425b",
        "MySQL Server Public Access Enabled",
        LIST_NOW,
    ),
    (
        "iac.azure.postgres-public-network",
        "7f0a8696-7159-4337-ad0d-8a3ab4a78195",
        "MariaDB Server Public Network Access Enabled",
        LIST_NOW,
    ),
    (
        "iac.azure.sql-public-network",
        "ade36cf4-329f-4830-a83d-9db72c800507",
        "MSSQL Server Public Network Access Enabled",
        LIST_NOW,
    ),
    (
        "iac.azure.postgres-log-connections",
        "c640d783-10c5-4071-b6c1-23507300d333",
        "PostgreSQL Log Connections Not Set",
        LIST_NOW,
    ),
    (
        "iac.azure.app-https-only",
        "11e9a948-c6c3-4a0f-8dcf-b5cf1763cdbe",
        "Web App Accepting Traffic Other Than HTTPS",
        LIST_NOW,
    ),
    (
        "iac.azure.app-min-tls",
        "b7b9d1c7-2d3b-49b4-b867-ebbe68d0b643",
        "App Service Not Using Latest TLS Encryption Version",
        LIST_NOW,
    ),
    (
        "iac.azure.app-ftps",
        "85da374f-b00f-4832-9d44-84a1ca1e89f8",
        "App Service FTPS Enforce Disabled",
        LIST_NOW,
    ),
    (
        "iac.azure.app-managed-identity",
        "b61cce4b-0cc4-472b-8096-15617a6d769b",
        "App Service Managed Identity Disabled",
        LIST_NOW,
    ),
    (
        "iac.azure.app-client-certificates",
        "a81573f9-3691-4d83-88a0-7d4af63e17a3",
        "Azure App Service Client Certificate Disabled",
        LIST_NOW,
    ),
    ("iac.azure.app-http2", "525b53be-62ed-4244-b4df-41aecfcb4071", "App Service HTTP2 Disabled", LIST_NOW),
    (
        "iac.azure.function-app-apps-enables-authentication",
        "e65a0733-94a0-4826-82f4-df529f4c593f",
        "Function App Authentication Disabled (azurerm_function_app)",
        LIST_NOW,
    ),
    (
        "iac.azure.function-app-http-version-latest-if-used-run",
        "ace823d1-4432-4dee-945b-cdf11a5a6bd0",
        "Function App HTTP2 Disabled",
        LIST_NOW,
    ),
    ("iac.azure.aks-rbac", "86f92117-eed8-4614-9c6c-b26da20ff37f", "AKS RBAC Disabled", LIST_NOW),
    (
        "iac.azure.aks-network-policy",
        "f5342045-b935-402d-adf1-8dbbd09c0eef",
        "AKS Network Policy Misconfigured",
        LIST_NOW,
    ),
    (
        "iac.azure.aks-azure-policy",
        "43789711-161b-4708-b5bb-9d1c626f7492",
        "AKS Uses Azure Policies Add-On Disabled",
        LIST_NOW,
    ),
    (
        "iac.azure.aks-disk-encryption",
        "b17d8bb8-4c08-4785-867e-cb9e62a622aa",
        "AKS Disk Encryption Set ID Undefined",
        LIST_NOW,
    ),
    (
        "iac.azure.monitor-log-profile-retention",
        "2b856bf9-8e8c-4005-875f-303a8cba3918",
        "Small Activity Log Retention Period",
        LIST_NOW,
    ),
    (
        "iac.azure.defender-standard",
        "819d50fd-1cdf-45c3-9936-be408aaad93e",
        "Security Center Pricing Tier Is Not Standard",
        LIST_NOW,
    ),
    (
        "iac.azure.defender-contact-alerts",
        "9db38e87-f6aa-4b5e-a1ec-7266df259409",
        "Email Alerts Disabled (alert_notifications)",
        LIST_NOW,
    ),
    (
        "iac.azure.security-center-contact-emails",
        "34664094-59e0-4524-b69f-deaa1a68cce3",
        "Security Contact Email",
        LIST_NOW,
    ),
    (
        "iac.azure.acr-admin-user",
        "b897dfbf-322c-45a8-b67c-1e698beeaa51",
        "Admin User Enabled For Container Registry",
        LIST_NOW,
    ),
    (
        "iac.azure.redis-non-ssl-port",
        "e29a75e6-aba3-4896-b42d-b87818c16b58",
        "Redis Cache Allows Non SSL Connections",
        LIST_NOW,
    ),
    (
        "iac.azure.search-public-network",
        "4a9e0f00-0765-4f72-a0d4-d31110b78279",
        "Azure Cognitive Search Public Network Access Enabled",
        LIST_NOW,
    ),
    (
        "iac.azure.flow-log-retention",
        "7750fcca-dd03-4d38-b663-4b70289bcfd4",
        "Small Flow Logs Retention Period (< 90 days)",
        LIST_NOW,
    ),
    (
        "iac.azure.flow-log-retention",
        "b90842e5-6779-44d4-9760-972f4c03ba1c",
        "Network Watcher Flow Disabled",
        LIST_NOW,
    ),
    (
        "iac.azure.sql-alert-policy-admins-not-emailed",
        "55975007-f6e7-4134-83c3-298f1fe4b519",
        "SQL Server Alert Email Disabled (email_account_admins)",
        LIST_NOW,
    ),
    (
        "iac.azure.network-interface-interfaces-disable-ip-forwarding",
        "4216ebac-d74c-4423-b437-35025cb88af5",
        "Network Interfaces IP Forwarding Enabled",
        LIST_NOW,
    ),
    (
        "iac.azure.frontdoor-front-door-enables-waf",
        "835a4f2f-df43-437d-9943-545ccfc55961",
        "Azure Front Door WAF Disabled",
        LIST_NOW,
    ),
    (
        "iac.azure.postgresql-server-enables-infrastructure-encryption",
        "6425c98b-ca4e-41fe-896a-c78772c131f8",
        "PostgreSQL Server Infrastructure Encryption Disabled",
        LIST_NOW,
    ),
    (
        "iac.azure.vm-password-auth",
        "dafe30ec-325d-4516-85d1-e8e6776f012c",
        "Azure Instance Using Basic Authentication",
        LIST_NOW,
    ),
    (
        "iac.azure.service-fabric-cluster-ensures-active-directory-used-authentication",
        "a21c8da9-41bf-40cf-941d-330cf0d11fc7",
        "Azure Active Directory Authentication (Service Fabric)",
        LIST_NOW,
    ),
    (
        "iac.azure.nsg-rule-open-rdp",
        "efbf6449-5ec5-4cfe-8f15-acc51e0d787c",
        "RDP Is Exposed To The Internet (azurerm_network_security_rule)",
        LIST_NOW,
    ),
    (
        "iac.azure.nsg-rule-open-ssh",
        "3e3c175e-aadf-4e2b-a464-3fdac5748d24",
        "SSH Is Exposed To The Internet (azurerm_network_security_rule)",
        LIST_NOW,
    ),
    (
        "iac.gcp.storage-uniform-access",
        "bb0db090-5509-4853-a827-75ced0b3caa0",
        "Google Storage Bucket Level Access Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.storage-versioning",
        "e7e961ac-d17e-4413-84bc-8a1fbe242944",
        "Cloud Storage Bucket Versioning Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.storage-logging",
        "d6cabc3a-d57e-48c2-b341-bf3dd4f4a120",
        "Cloud Storage Bucket Logging Not Enabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.storage-public-member",
        "c010082c-76e0-4b91-91d9-6e8439e455dd",
        "Cloud Storage Bucket Is Publicly Accessible (iam member)",
        LIST_NOW,
    ),
    (
        "iac.gcp.storage-public-member",
        "a6cd52a1-3056-4910-96a5-894de9f3f3b3",
        "Cloud Storage Anonymous or Publicly Accessible (iam binding)",
        LIST_NOW,
    ),
    (
        "iac.gcp.compute-project-ssh-keys",
        "3e4d5ce6-3280-4027-8010-c26eeea1ec01",
        "Project-wide SSH Keys Are Enabled In VM Instances",
        LIST_NOW,
    ),
    (
        "iac.gcp.compute-ip-forwarding",
        "f34c0c25-47b4-41eb-9c79-249b4dd47b89",
        "IP Forwarding Enabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.compute-serial-port",
        "97fa667a-d05b-4f16-9071-58b939f34751",
        "Serial Ports Are Enabled For VM Instances",
        LIST_NOW,
    ),
    (
        "iac.gcp.compute-oslogin",
        "32ecd6eb-0711-421f-9627-1a28d9eff217",
        "OSLogin Disabled (project metadata)",
        LIST_NOW,
    ),
    (
        "iac.gcp.compute-full-api-scope",
        "bc280331-27b9-4acb-a010-018e8098aa5d",
        "VM With Full Cloud Access",
        LIST_NOW,
    ),
    (
        "iac.gcp.compute-default-service-account",
        "3cb4af0b-056d-4fb1-8b95-fdc4593625ff",
        "Using Default Service Account",
        LIST_NOW,
    ),
    (
        "iac.gcp.subnet-private-google-access",
        "ee7b93c1-b3f8-4a3b-9588-146d481814f5",
        "Google Compute Subnetwork with Private Google Access Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.subnet-flow-logs",
        "40430747-442d-450a-a34f-dc57149f4609",
        "Google Compute Subnetwork Logging Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.ssl-policy-tls12",
        "14a457f0-473d-4d1d-9e37-6d99b355b336",
        "Google Compute SSL Policy Weak Cipher In Use (min TLS 1.2)",
        LIST_OLD,
    ),
    (
        "iac.gcp.sql-require-ssl",
        "02474449-71aa-40a1-87ae-e14497747b00",
        "SQL DB Instance With SSL Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.sql-backups",
        "cf3c7631-cd1e-42f3-8801-a561214a6e79",
        "SQL DB Instance Backup Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.gke-legacy-abac",
        "5baa92d2-d8ee-4c75-88a4-52d9d8bb8067",
        "GKE Legacy Authorization Enabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.gke-network-policy",
        "11e7550e-c4b6-472e-adff-c698f157cdd7",
        "Network Policy Disabled",
        LIST_NOW,
    ),
    ("iac.gcp.gke-logging", "4c7ebcb2-eae2-461e-bc83-456ee2d4f694", "Stackdriver Logging Disabled", LIST_NOW),
    (
        "iac.gcp.gke-monitoring",
        "30e8dfd2-3591-4d19-8d11-79e93106c93d",
        "Stackdriver Monitoring Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.gke-shielded-nodes",
        "579a0727-9c29-4d58-8195-fc5802a8bdb4",
        "Shielded GKE Nodes Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.gke-node-auto-repair",
        "acfdbec6-4a17-471f-b412-169d77553332",
        "Google Container Node Pool Auto Repair Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.gke-node-auto-upgrade",
        "b139213e-7d24-49c2-8025-c18faa21ecaa",
        "Node Auto Upgrade Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.container-cluster-kubernetes-created-alias-ip-ranges-enabled",
        "c606ba1d-d736-43eb-ac24-e16108f3a9e0",
        "IP Aliasing Disabled",
        LIST_NOW,
    ),
    (
        "iac.gcp.kms-rotation",
        "d8c57c4e-bf6f-4e32-a2bf-8643532de77b",
        "High Google KMS Crypto Key Rotation Period (90 days)",
        LIST_NOW,
    ),
    (
        "iac.gcp.bigquery-public",
        "e576ce44-dd03-4022-a8c0-3906acca2ab4",
        "BigQuery Dataset Is Public",
        LIST_NOW,
    ),
    ("iac.gcp.dns-dnssec", "5ef61c88-bbb4-4725-b1df-55d23c9676bb", "Cloud DNS Without DNSSEC", LIST_NOW),
    ("iac.gcp.dns-dnssec-rsasha1", "ccc3100c-0fdd-4a5e-9908-c10107291860", "DNSSEC Using RSASHA1", LIST_NOW),
    (
        "iac.gcp.project-default-network-exist",
        "59571246-3f62-4965-a96f-c7d97e269351",
        "Google Project Auto Create Network Disabled (auto_create_network true)",
        LIST_NOW,
    ),
    (
        "iac.gcp.firewall-open-rdp",
        "678fd659-96f2-454a-a2a0-c2571f83a4a3",
        "RDP Access Is Not Restricted",
        LIST_NOW,
    ),
    (
        "iac.gcp.firewall-open-ssh",
        "c4dcdcdf-10dd-4bf4-b4a0-8f6239e6aaa0",
        "SSH Access Is Not Restricted",
        LIST_NOW,
    ),
    (
        "iac.ali.ram-account-password-policy-requires-one-symbol",
        "41a38329-d81b-4be4-aef4-55b2615d3282",
        "RAM Account Password Policy Not Required Symbols",
        LIST_NOW,
    ),
    (
        "iac.ali.ram-account-password-policy-requires-one-uppercase-letter",
        "5e0fb613-ba9b-44c3-88f0-b44188466bfd",
        "RAM Account Password Policy Not Require at Least one Uppercase Character",
        LIST_NOW,
    ),
    (
        "iac.ali.ram-account-password-policy-requires-one-number",
        "063234c0-91c0-4ab5-bbd0-47ddb5f23786",
        "Ram Account Password Policy Not Required Numbers",
        LIST_NOW,
    ),
    (
        "iac.ali.ram-account-password-policy-requires-one-lowercase-letter",
        "89143358-cec6-49f5-9392-920c591c669c",
        "Ram Account Password Policy Not Require At Least one Lowercase Character",
        LIST_NOW,
    ),
    (
        "iac.ali.db-instance-rds-ssl",
        "7a1ee8a9-71be-4b11-bb70-efb62d16863b",
        "RDS Instance SSL Action Disabled",
        LIST_NOW,
    ),
    (
        "iac.ali.cs-kubernetes-node-pool-k8s-nodepools-auto-repair",
        "81ce9394-013d-4731-8fcc-9d229b474073",
        "CS Kubernetes Node Pool Auto Repair Disabled",
        LIST_NOW,
    ),
    (
        "iac.ali.oss-bucket-transfer-acceleration-enabled",
        "8f98334a-99aa-4d85-b72a-1399ca010413",
        "OSS Bucket Transfer Acceleration Disabled",
        LIST_NOW,
    ),
    (
        "iac.ali.oss-bucket-access-logging-enabled",
        "05db341e-de7d-4972-a106-3e2bd5ee53e1",
        "OSS Bucket Logging Disabled",
        LIST_NOW,
    ),
    (
        "iac.ali.oss-bucket-encrypted-customer-master-key",
        "f20e97f9-4919-43f1-9be9-f203cd339cdd",
        "OSS Bucket Encryption Using CMK Disabled",
        LIST_NOW,
    ),
    (
        "iac.ali.oss-bucket-versioning-enabled",
        "70919c0b-2548-4e6b-8d7a-3d84ab6dabba",
        "OSS Bucket Versioning Disabled",
        LIST_NOW,
    ),
    ("iac.ali.kms-key-keys-enabled", "ed6e3ba0-278f-47b6-a1f5-173576b40b7e", "CMK Is Unusable", LIST_NOW),
    (
        "iac.ali.actiontrail-trail-action-logging-regions",
        "c065b98e-1515-4991-9dca-b602bd6a2fbb",
        "Action Trail Logging For All Regions Disabled",
        LIST_NOW,
    ),
    (
        "iac.ali.ram-security-preference-enforces-mfa",
        "dcda2d32-e482-43ee-a926-75eaabeaa4e0",
        "RAM Security Preference Not Enforce MFA Login",
        LIST_NOW,
    ),
    (
        "iac.ali.log-audit-enabled-rds",
        "b9c524a4-fe76-4021-a6a2-cb978fb4fde1",
        "RDS Instance Events Not Logged",
        LIST_NOW,
    ),
    ("iac.k8s.privileged", "dd29336b-fe57-445b-a26e-e6aa867ae609", "Container Is Privileged", LIST_K8S),
    (
        "iac.k8s.docker-socket",
        "a6f34658-fdfb-4154-9536-56d516f65828",
        "Docker Daemon Socket is Exposed to Containers (KICS looks for docker.sock only)",
        LIST_K8S,
    ),
    (
        "iac.k8s.read-only-root-filesystem",
        "a9c2f49d-0671-4fc9-9ece-f4e261e128d0",
        "Root Container Not Mounted As Read-only",
        LIST_K8S,
    ),
    ("iac.k8s.cpu-limits", "4ac0e2b7-d2d2-4af7-8799-e8de6721ccda", "CPU Limits Not Set", LIST_K8S),
    ("iac.k8s.memory-limits", "b14d1bc4-a208-45db-92f0-e21f8e2588e9", "Memory Limits Not Defined", LIST_K8S),
    ("iac.k8s.cpu-requests", "ca469dd4-c736-448f-8ac1-30a642705e0a", "CPU Requests Not Set", LIST_K8S),
    (
        "iac.k8s.memory-requests",
        "229588ef-8fde-40c8-8756-f4f2b5825ded",
        "Memory Requests Not Defined",
        LIST_K8S,
    ),
    ("iac.k8s.image-digest", "7c81d34c-8e5a-402b-9798-9f442630e678", "Image Without Digest", LIST_K8S),
    (
        "iac.k8s.image-tag-pinned",
        "583053b7-e632-46f0-b989-f81ff8045385",
        "Invalid Image (undefined, empty or latest)",
        LIST_K8S,
    ),
    (
        "iac.k8s.image-pull-policy",
        "caa3479d-885d-4882-9aac-95e5e78ef5c2",
        "Image Pull Policy Of The Container Is Not Set To Always",
        LIST_K8S,
    ),
    (
        "iac.k8s.liveness-probe",
        "ade74944-a674-4e00-859e-c6eab5bde441",
        "Liveness Probe Is Not Defined",
        LIST_K8S,
    ),
    (
        "iac.k8s.readiness-probe",
        "a659f3b5-9bf0-438a-bd9a-7d3a6427f1e3",
        "Readiness Probe Is Not Configured",
        LIST_K8S,
    ),
    (
        "iac.k8s.default-service-account",
        "591ade62-d6b0-4580-b1ae-209f80ba1cd9",
        "Service Account Name Undefined Or Empty",
        LIST_K8S,
    ),
    (
        "iac.k8s.default-namespace",
        "611ab018-c4aa-4ba2-b0f6-a448337509a6",
        "Using Default Namespace",
        LIST_K8S,
    ),
    (
        "iac.k8s.seccomp",
        "f377b83e-bd07-4f48-a591-60c82b14a78b",
        "Seccomp Profile Is Not Configured",
        LIST_K8S,
    ),
    ("iac.k8s.proc-mount", "f922827f-aab6-447c-832a-e1ff63312bd3", "Container Runs Unmasked", LIST_K8S),
    ("iac.k8s.rbac-wildcard", "6b896afb-ca07-467a-b256-1a0077a1c08e", "RBAC Wildcard In Rule", LIST_K8S),
    (
        "iac.k8s.rbac-cluster-admin-binding",
        "249328b8-5f0f-409f-b1dd-029f07882e11",
        "Cluster Admin Rolebinding With Superuser Permissions",
        LIST_K8S,
    ),
    (
        "iac.k8s.rbac-read-secrets",
        "b7bca5c4-1dab-4c2c-8cbe-3050b9d59b14",
        "RBAC Roles with Read Secrets Permissions",
        LIST_K8S,
    ),
    (
        "iac.k8s.service-nodeport",
        "845acfbe-3e10-4b8e-b656-3b404d36dfb2",
        "Service Type is NodePort",
        LIST_K8S,
    ),
    (
        "iac.k8s.pod-security-policy-admit-containers-wishing-share-host-network-namespace",
        "a33e9173-b674-4dfb-9d82-cf3754816e4b",
        "PSP Allows Containers To Share The Host Network Namespace",
        LIST_K8S,
    ),
    (
        "iac.k8s.pod-security-policy-containers-run-allowprivilegeescalation",
        "87554eef-154d-411d-bdce-9dbd91e56851",
        "PSP Allows Privilege Escalation",
        LIST_K8S,
    ),
    (
        "iac.k8s.pod-security-policy-admit-containers-wishing-share-host-ipc-namespace",
        "80f93444-b240-4ebb-a4c6-5c40b76c04ea",
        "PSP Allows Sharing Host IPC",
        LIST_K8S,
    ),
    (
        "iac.k8s.pod-security-policy-admit-containers-wishing-share-host-process-id-namespace",
        "91dacd0e-d189-4a9c-8272-5999a3cc32d9",
        "PSP Allows Sharing Host PID",
        LIST_K8S,
    ),
    ("iac.docker.user-root", "fd54f200-402c-4333-a5a4-36ef6709af2f", "Missing User Instruction", LIST_DOCKER),
    ("iac.docker.user-root", "67fd0c4a-68cf-46d7-8c41-bc9fba7e40ae", "Last User Is 'root'", LIST_DOCKER),
    (
        "iac.docker.base-image-pinned",
        "9efb0b2d-89c9-41a3-91ca-dcc0aec911fd",
        "Image Version Not Explicit",
        LIST_DOCKER,
    ),
    (
        "iac.docker.base-image-pinned",
        "f45ea400-6bbe-4501-9fc7-1c3d75c32067",
        "Image Version Using 'latest'",
        LIST_DOCKER,
    ),
    (
        "iac.docker.add-instead-of-copy",
        "9513a694-aa0d-41d8-be61-3271e056f36b",
        "Add Instead of Copy",
        LIST_DOCKER,
    ),
    (
        "iac.docker.healthcheck",
        "b03a748a-542d-44f4-bb86-9199ab4fd2d5",
        "Healthcheck Instruction Missing",
        LIST_DOCKER,
    ),
    (
        "iac.docker.apt-pinned",
        "965a08d7-ef86-4f14-8792-4a3b2098937e",
        "Apt Get Install Pin Version Not Defined",
        LIST_DOCKER,
    ),
    (
        "iac.docker.pip-pinned",
        "02d9c71f-3ee8-4986-9c27-1a20d0d19bfc",
        "Unpinned Package Version in Pip Install",
        LIST_DOCKER,
    ),
    (
        "iac.docker.apk-pinned",
        "d3499f6d-1651-41bb-a9a7-de925fea487b",
        "Unpinned Package Version in Apk Add",
        LIST_DOCKER,
    ),
    ("iac.docker.sudo", "8ada6e80-0ade-439e-b176-0b28f6bce35a", "Run Using Sudo", LIST_DOCKER),
    (
        "iac.docker.maintainer",
        "99614418-f82b-4852-a9ae-5051402b741c",
        "MAINTAINER Instruction Being Used",
        LIST_DOCKER,
    ),
    (
        "iac.docker.apt-upgrade",
        "682fe378-c180-4bd5-8a14-95fc285fb269",
        "Run Using Upgrade Commands (apt-get upgrade and dist-upgrade)",
        LIST_DOCKER,
    ),
    (
        "iac.docker.apt-no-recommends",
        "7384dfb2-fcd1-4fbf-91cd-6c44c318c33c",
        "APT-GET Not Avoiding Additional Packages",
        LIST_DOCKER,
    ),
    (
        "iac.cfn.s3-bucket-encryption",
        "b2e8752c-3497-4255-98d2-e4ae5b46bbf5",
        "S3 Bucket Without Server Side Encryption",
        LIST_CFN,
    ),
    (
        "iac.cfn.s3-bucket-versioning",
        "a227ec01-f97a-4084-91a4-47b350c1db54",
        "S3 Bucket Versioning Not Enabled",
        LIST_CFN,
    ),
    (
        "iac.cfn.s3-bucket-logging",
        "4552b71f-0a2a-4bc4-92dd-ed7ec1b4674c",
        "S3 Bucket Logging Disabled",
        LIST_CFN,
    ),
    (
        "iac.cfn.s3-public-acl",
        "07dda8de-d90d-469e-9b37-1aca53526ced",
        "S3 Bucket ACL Allows Read Or Write to AllUsers",
        LIST_CFN,
    ),
    (
        "iac.cfn.s3-public-acl",
        "219f4c95-aa50-44e0-97de-cf71f4641170",
        "S3 Bucket ACL Allows Read to AllUsers",
        LIST_CFN,
    ),
    (
        "iac.cfn.s3-public-acl",
        "835d5497-a526-4aea-a23f-98a9afd1635f",
        "S3 Bucket ACL Allows Read to Any Authenticated User",
        LIST_CFN,
    ),
    (
        "iac.cfn.rds-encrypted",
        "5beacce3-4020-4a3d-9e1d-a36f953df630",
        "RDS DB Instance Not Encrypted",
        LIST_CFN,
    ),
    (
        "iac.cfn.rds-encrypted",
        "65844ba3-03a1-40a8-b3dd-919f122e8c95",
        "RDS DBCluster Storage Encryption Disabled",
        LIST_CFN,
    ),
    ("iac.cfn.rds-public", "de38e1d5-54cb-4111-a868-6f7722695007", "RDS Public Interface", LIST_CFN),
    (
        "iac.cfn.rds-backup-retention",
        "e649a218-d099-4550-86a4-1231e1fcb60d",
        "RDS Backup Retention Period Insufficient (7 days)",
        LIST_CFN,
    ),
    (
        "iac.cfn.rds-deletion-protection",
        "2c161e58-cb52-454f-abea-6470c37b5e6e",
        "RDS DBInstance With Deletion Protection Disabled",
        LIST_CFN,
    ),
    (
        "iac.cfn.rds-multi-az",
        "2b1d4935-9acf-48a7-8466-10d18bf51a69",
        "RDS Multi-AZ Deployment Disabled",
        LIST_CFN,
    ),
    (
        "iac.cfn.ebs-encrypted",
        "80b7ac3f-d2b7-4577-9b10-df7913497162",
        "Volume Encryption Is Disabled",
        LIST_CFN,
    ),
    (
        "iac.cfn.kms-rotation",
        "235ca980-eb71-48f4-9030-df0c371029eb",
        "KMS EnableKeyRotation Disabled",
        LIST_CFN,
    ),
    (
        "iac.cfn.kms-rotation",
        "1c07bfaf-663c-4f6f-b22b-8e2d481e4df5",
        "CMKs Rotation Disabled (enabled keys)",
        LIST_CFN,
    ),
    (
        "iac.cfn.cloudtrail-multi-region",
        "058ac855-989f-4378-ba4d-52d004020da7",
        "CloudTrail Multi Region Disabled",
        LIST_CFN,
    ),
    (
        "iac.cfn.cloudtrail-log-validation",
        "2a3560fe-52ca-4443-b34f-bf0ed5eb74c8",
        "CloudTrail Log File Validation Disabled",
        LIST_CFN,
    ),
    ("iac.cfn.cloudtrail-kms", "050a9ba8-d1cb-4c61-a5e8-8805a70d3b85", "CloudTrail Not Encrypted", LIST_CFN),
    (
        "iac.cfn.sns-encrypted",
        "9d13b150-a2ab-42a1-b6f4-142e41f81e52",
        "SNS Topic Without KmsMasterKeyId",
        LIST_CFN,
    ),
    (
        "iac.cfn.lambda-tracing",
        "9488c451-074e-4cd3-aee3-7db6104f542c",
        "Lambda Functions Tracing Disabled",
        LIST_CFN,
    ),
    ("iac.cfn.efs-encrypted", "2ff8e83c-90e1-4d68-a300-6d652112e622", "EFS Not Encrypted", LIST_CFN),
    (
        "iac.cfn.elasticache-transit-encryption",
        "3b02569b-fc6f-4153-b3a3-ba91022fed68",
        "ElastiCache with disabled Transit Encryption",
        LIST_CFN,
    ),
    (
        "iac.cfn.elasticache-at-rest-encryption",
        "e4ee3903-9225-4b6a-bdfb-e62dbadef821",
        "ElastiCache with disabled at Rest Encryption",
        LIST_CFN,
    ),
    (
        "iac.cfn.redshift-encrypted",
        "3b316b05-564c-44a7-9c3f-405bb95e211e",
        "Redshift Cluster Not Encrypted",
        LIST_CFN,
    ),
    (
        "iac.cfn.redshift-public",
        "bdf8dcb4-75df-4370-92c4-606e4ae6c4d3",
        "Redshift Cluster Publicly Accessible",
        LIST_CFN,
    ),
    (
        "iac.cfn.security-group-rule-description",
        "5e6c9c68-8a82-408e-8749-ddad78cbb9c5",
        "Security Group Rule Without Description",
        LIST_CFN,
    ),
    (
        "iac.cfn.iam-policy-no-admin",
        "953b3cdb-ce13-428a-aa12-318726506661",
        "IAM Policy Full Privileges",
        LIST_CFN,
    ),
    (
        "iac.cfn.iam-role-assume-everyone",
        "f80e3aa7-7b34-4185-954e-440a6894dde6",
        "IAM Role Allows All Principals To Assume",
        LIST_CFN,
    ),
    (
        "iac.cfn.security-group-open-ssh",
        "6e856af2-62d7-4ba2-adc1-73b62cef9cc1",
        "Security Group Unrestricted Access To SSH",
        LIST_CFN,
    ),
    (
        "iac.cfn.security-group-open-rdp",
        "3ae83918-7ec7-4cb8-80db-b91ef0f94002",
        "Security Group Unrestricted Access To RDP",
        LIST_CFN,
    ),
    (
        "iac.cfn.security-group-all-open",
        "adcd0082-e90b-4b63-862b-21899f6e6a48",
        "Security Groups With Meta Ip (0.0.0.0/0 on all ports and protocols)",
        LIST_CFN,
    ),
    (
        "iac.arm.storage-https-only",
        "1367dd13-2c90-4020-80b7-e4339a3dc2c4",
        "Storage Account Allows Unsecure Transfer",
        LIST_ARM,
    ),
    (
        "iac.arm.storage-network-deny",
        "d855ced8-6157-448f-9f1d-f05a41d046f7",
        "Default Azure Storage Account Network Access Is Too Permissive",
        LIST_ARM,
    ),
    ("iac.arm.app-https-only", "488847ff-6031-487c-bf42-98fd6ac5c9a0", "Website Not Forcing HTTPS", LIST_ARM),
    (
        "iac.arm.app-min-tls",
        "b5c851d5-00f1-43dc-a8de-3218fd6f71be",
        "Web App Not Using TLS Last Version",
        LIST_ARM,
    ),
    ("iac.arm.aks-rbac", "9307a2ed-35c2-413d-94de-a1a0682c2158", "AKS Cluster RBAC Disabled", LIST_ARM),
    (
        "iac.arm.nsg-open-ssh",
        "2ade1579-4b2c-4590-bebb-f99bf597f612",
        "Network Security Group With Unrestricted Access To SSH",
        LIST_ARM,
    ),
    (
        "iac.arm.nsg-open-rdp",
        "59cb3da7-f206-4ae6-b827-7abf0a9cab9d",
        "Network Security Group With Unrestricted Access To RDP",
        LIST_ARM,
    ),
    (
        "iac.cfn.ecr-immutable-tags",
        "33f41d31-86b1-46a4-81f7-9c9a671f59ac",
        "ECR Image Tag Not Immutable (cloudFormation/aws/ecr_image_tag_not_immutable)",
        METADATA,
    ),
    (
        "iac.cfn.ecr-scan-on-push",
        "9025b2b3-e554-4842-ba87-db7aeec36d35",
        "Unscanned ECR Image (cloudFormation/aws/unscanned_ecr_image)",
        METADATA,
    ),
    (
        "iac.cfn.dynamodb-point-in-time-recovery",
        "0f04217d-488f-4e7a-bec8-f16159686cd6",
        "DynamoDB Table Point In Time Recovery Disabled"
        " (cloudFormation/aws/dynamodb_table_point_in_time_recovery_disabled)",
        METADATA,
    ),
    (
        "iac.cfn.eks-secrets-encryption",
        "8e5ef52b-e673-4c3f-9b2e-99cdd0139059",
        "EKS Cluster Encryption Disabled (cloudFormation/aws/eks_cluster_encryption_disabled)",
        METADATA,
    ),
)
"""(policy id, KICS query id, KICS query name, what was read)."""

EARLIER: tuple[tuple[str, str, str, str], ...] = (
    (
        "iac.aws.security-group-open-ssh",
        "65905cec-d691-4320-b320-2000436cb696",
        "Security Group With Unrestricted Access To SSH",
        FIRST_SESSION,
    ),
    (
        "iac.aws.rds-public",
        "35113e6f-2c6b-414d-beec-7a9482d3b2d1",
        "RDS DB Instance Publicly Accessible",
        FIRST_SESSION,
    ),
    (
        "iac.aws.ebs-volume-encrypted",
        "cc997676-481b-4e93-aa81-d19f8c5e9b12",
        "EBS Volume Encryption Disabled",
        FIRST_SESSION,
    ),
    (
        "iac.aws.cloudtrail-log-validation",
        "52ffcfa6-6c70-4ea6-8376-d828d3961669",
        "CloudTrail Log File Validation Disabled",
        FIRST_SESSION,
    ),
    ("iac.aws.kms-rotation", "22fbfeac-7b5a-421a-8a27-7a2178bb910b", "CMK Rotation Disabled", FIRST_SESSION),
    (
        "iac.aws.s3-bucket-versioning",
        "568a4d22-3517-44a6-a7ad-6a7eed88722c",
        "S3 Bucket Without Versioning",
        FIRST_SESSION,
    ),
    (
        "iac.aws.s3-bucket-logging",
        "f861041c-8c9f-4156-acfc-5e6e524f5884",
        "S3 Bucket Logging Disabled",
        FIRST_SESSION,
    ),
    (
        "iac.aws.rds-cluster-encrypted",
        "3199c26c-7871-4cb3-99c2-10a59244ce7f",
        "RDS Storage Not Encrypted",
        FIRST_SESSION,
    ),
    (
        "iac.k8s.privilege-escalation",
        "5572cc5e-1e4c-4113-92a6-7a8a3bd25e6d",
        "Privilege Escalation Allowed",
        FIRST_SESSION,
    ),
    (
        "iac.k8s.host-network",
        "6b6bdfb3-c3ae-44cb-88e4-7405c1ba2c8a",
        "Shared Host Network Namespace",
        FIRST_SESSION,
    ),
    ("iac.k8s.host-pid", "302736f4-b16c-41b8-befe-c0baffa0bd9d", "Shared Host PID Namespace", FIRST_SESSION),
    ("iac.k8s.host-ipc", "cd290efd-6c82-4e9d-a698-be12ae31d536", "Shared Host IPC Namespace", FIRST_SESSION),
)
"""The ids listed before this table existed (the first session's lookups)."""

NOT_MAPPED: tuple[tuple[str, str, str], ...] = (
    (
        "iac.aws.rds-backup-retention",
        "RDS With Backup Disabled 1dc73fb4",
        "KICS fails a retention of 0 only; the policy wants 7 days",
    ),
    (
        "iac.aws.cloudwatch-log-retention",
        "CloudWatch Without Retention Period Specified ef0b316a",
        "KICS wants any retention; the policy wants 90 days",
    ),
    (
        "iac.aws.kms-deletion-window",
        "KMS Key With No Deletion Window 0b530315",
        "thresholds not stated in the metadata",
    ),
    (
        "iac.aws.dynamodb-encryption-kms",
        "DynamoDB Table Not Encrypted ce089fd4",
        "KICS checks any server-side encryption; the policy a customer key",
    ),
    (
        "iac.aws.eks-control-plane-logging",
        "EKS cluster logging is not enabled 37304d3f",
        "KICS wants any log type; the policy wants audit",
    ),
    (
        "iac.aws.msk-tls",
        "MSK Cluster Encryption Disabled 6db52fa6",
        "KICS checks at rest and in transit together",
    ),
    (
        "iac.aws.db-instance-rds-modern-cacert",
        "CA Certificate Identifier Is Outdated 9f40c07e",
        "KICS's description names rds-ca-2019, itself outdated",
    ),
    (
        "iac.aws.redshift-cluster-deployed-outside-vpc",
        "Redshift Cluster Without VPC 0a494a6a",
        "KICS reads vpc_security_group_ids, checkov the subnet group",
    ),
    (
        "iac.aws.iam-access-key-root-user-keys",
        "Root Account Has Active Access Keys 970d224d",
        "KICS passes inactive root keys",
    ),
    (
        "iac.aws.s3-bucket-object-encrypted-kms-customer-managed-key-cmk",
        "S3 Bucket Object Not Encrypted 5fb49a69",
        "any SSE against a customer key",
    ),
    (
        "iac.aws.resource-policy-public-principal",
        "S3 Bucket Access to Any Principal 7af43613",
        "KICS covers S3 only and does not weigh conditions",
    ),
    (
        "iac.aws.api-gateway-domain-name-modern-security-policy",
        "API Gateway Without Security Policy 4e1cc5d3",
        "not clear from the metadata whether TLS 1.0 passes",
    ),
    (
        "iac.azure.aks-api-access",
        "AKS Private Cluster Disabled 599318f2",
        "the policy also accepts authorized IP ranges",
    ),
    (
        "iac.azure.managed-disk-cmk",
        "Encryption On Managed Disk Disabled a99130ab",
        "any encryption against a customer key",
    ),
    (
        "iac.azure.sql-entra-admin",
        "AD Admin Not Configured For SQL Server a3a055d2",
        "KICS reads azurerm_sql_server, the policy azurerm_mssql_server",
    ),
    (
        "iac.azure.sql-auditing-retention",
        "Small MSSQL Audit Retention Period 9c301481",
        "inline block against the separate auditing resource",
    ),
    (
        "iac.azure.role-definition-wildcard-actions",
        "Role Definition Allows Custom Role Creation 3fa5900f",
        "a different action",
    ),
    (
        "iac.gcp.compute-secure-boot",
        "Shielded VM Disabled 1b44e234",
        "KICS wants secure boot, vTPM and integrity monitoring together",
    ),
    (
        "iac.gcp.compute-disk-cmek",
        "Disk Encryption Disabled b1d51728",
        "KICS's description asks for a customer-supplied key (CSEK)",
    ),
    (
        "iac.gcp.sql-public-ip",
        "SQL DB Instance Publicly Accessible b187edca",
        "KICS looks at authorized networks",
    ),
    (
        "iac.gcp.gke-client-certificate",
        "Legacy Client Certificate Auth Enabled 73fb21a1",
        "the older description asked for the opposite",
    ),
    ("iac.gcp.gke-private-nodes", "Private Cluster Disabled 6ccb85d7", "KICS also wants a private endpoint"),
    (
        "iac.gcp.audit-config-all-services",
        "IAM Audit Not Properly Configured 89fe890f",
        "KICS also checks exempted members and log types",
    ),
    (
        "iac.gcp.iam-service-account-user",
        "Service Account has Token Creator or Account User Role c68b4e6d",
        "KICS covers service-account members only",
    ),
    (
        "iac.ali.slb-tls-cipher-policy-alibaba-cloud-cypher-secure",
        "SLB Policy With Insecure TLS Version In Use dbfc834a",
        "TLS version against ciphers",
    ),
    (
        "iac.ali.kms-key-rotation-enabled",
        "High KMS Key Rotation Period cb319d87",
        "a period against rotation on/off",
    ),
    (
        "iac.k8s.service-account-token",
        "Service Account Token Automount Not Disabled 48471392",
        "Rego read: KICS also fails a pod with its own service account unless one in the file sets automount",
    ),
    (
        "iac.k8s.run-as-non-root",
        "Containers Running As Root cf34805e",
        "Rego read: KICS passes a container with runAsUser above 0 and no runAsNonRoot",
    ),
    (
        "iac.arm.keyvault-purge-protection",
        "Key Vault Not Recoverable 7c25f361",
        "KICS wants soft delete and purge protection together (two Bastion policies)",
    ),
    (
        "iac.arm.aks-private",
        "AKS With Authorized IP Ranges Disabled 2583fab1",
        "authorized ranges against a private API server",
    ),
    (
        "iac.cfn.sqs-encrypted",
        "SQS Queue Without KMS Master Key Id 12726829",
        "the policy also accepts SQS-managed encryption",
    ),
    (
        "iac.cfn.s3-public-access-block",
        "S3 Buckets Are Publicly Accessible 7772bb8c",
        "KICS also needs a public bucket policy",
    ),
    (
        "iac.cfn.lb-listener-https",
        "ALB Listeners Accept HTTP 275a3217",
        "its documentation names the classic ELB listener",
    ),
    (
        "iac.k8s.net-raw",
        "NET_RAW Capabilities Not Being Dropped dbbc6705",
        "KICS wants NET_RAW dropped; the policy that it is not added",
    ),
    (
        "iac.k8s.drop-all-capabilities",
        "No Drop Capabilities for Containers 268ca686",
        "any drop list against drop ALL",
    ),
    (
        "iac.k8s.dangerous-capabilities",
        "Containers With Sys Admin Capabilities 235236ee",
        "SYS_ADMIN only against a list",
    ),
    ("iac.k8s.host-path", "Non Kube System Pod With Host Mount aa8f7a35", "KICS exempts kube-system"),
    (
        "iac.k8s.secret-in-env",
        "Secrets As Environment Variables 3d658f8b",
        "secretKeyRef use against literal secrets",
    ),
    (
        "iac.k8s.network-policy",
        "Pod Misconfigured NetworkPolicy 0401f71b",
        "a policy per pod against one per namespace",
    ),
    (
        "iac.docker.secret-in-env",
        "Secrets Stored In Dockerfile c3e1b6ae",
        "the whole file against ENV and ARG",
    ),
)
"""Policies with a KICS query that looks alike but checks something else, and why they stay unmapped."""

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def mapping() -> dict[str, list[str]]:
    """KICS ids per policy id, in table order, the earlier lookups first."""
    found: dict[str, list[str]] = {}
    for pid, kid, _name, _source in (*EARLIER, *ROWS):
        if not _UUID.match(kid):
            raise ValueError(f"{pid}: {kid} is not a KICS query id")
        ids = found.setdefault(pid, [])
        if kid not in ids:
            ids.append(kid)
    return found


def _flow_line(line: str, pid: str, ids: list[str]) -> str:
    """A one-line ``{id: ..., ...}`` policy with ``kics`` set to ``ids``."""
    quoted = '"id": ' in line
    value = json.dumps(ids) if quoted else "[" + ", ".join(ids) + "]"
    key = '"kics"' if quoted else "kics"
    existing = re.search(r'(?:"kics"|kics): \[[^\]]*\]', line)
    if existing:
        return line[: existing.start()] + f"{key}: {value}" + line[existing.end() :]
    ident = f'"id": "{pid}", ' if quoted else f"id: {pid}, "
    return line.replace(ident, ident + f"{key}: {value}, ", 1)


def _apply_file(path: Path, wanted: dict[str, list[str]]) -> set[str]:
    """Write ``kics`` for every policy of ``path`` in ``wanted``; the ids written."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    done: set[str] = set()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        flow = re.match(r'^\s*- \{"?id"?: "?([\w.-]+)"?,', line)
        block = re.match(r"^(\s*)- id: ([\w.-]+)\s*$", line)
        if flow and flow[1] in wanted:
            out.append(_flow_line(line, flow[1], wanted[flow[1]]))
            done.add(flow[1])
        elif block and block[2] in wanted:
            pid, indent = block[2], block[1] + "  "
            out.append(line)
            body = i + 1
            while (
                body < len(lines)
                and lines[body].startswith(indent)
                and not lines[body].strip().startswith("- ")
            ):
                if re.match(rf"^{indent}kics:", lines[body]):
                    lines.pop(body)
                    continue
                body += 1
            at = i + 1
            if at < len(lines) and lines[at].startswith(indent + "checkov:"):
                out.append(lines[at])
                at += 1
            out.append(f"{indent}kics: [{', '.join(wanted[pid])}]\n")
            done.add(pid)
            i = at
            continue
        else:
            out.append(line)
        i += 1
    text = "".join(out)
    if text != path.read_text(encoding="utf-8"):
        path.write_text(text, encoding="utf-8")
    return done


def apply() -> int:
    """Write every mapped id into the policy files; 1 when a policy was not found."""
    sys.path.insert(0, str(ROOT / "src"))
    from bastion.scan.iac import portgen

    wanted = mapping()
    generated = {p["id"] for p in portgen.policies()}
    missing_ports = {
        pid: ids for pid, ids in wanted.items() if pid in generated and portgen.KICS.get(pid) != ids[0]
    }
    if missing_ports:
        print(f"portgen.KICS lacks {sorted(missing_ports)}: add them there, then run portgen")
        return 1
    done: set[str] = {pid for pid in wanted if pid in generated}
    for path in sorted(POLICIES.glob("*.yml")):
        if path.name != "ports.yml":
            done |= _apply_file(path, {k: v for k, v in wanted.items() if k not in generated})
    lost = sorted(set(wanted) - done)
    for pid in lost:
        print(f"not found: {pid}")
    return 1 if lost else 0


def table() -> str:
    """The Markdown table: policy, KICS query, id, source."""
    lines = ["| Bastion policy | KICS query | KICS id | read |", "|---|---|---|---|"]
    short = {
        LIST_NOW: "N",
        LIST_OLD: "O",
        LIST_K8S: "K",
        LIST_DOCKER: "D",
        LIST_CFN: "C",
        LIST_ARM: "A",
        METADATA: "Q",
        FIRST_SESSION: "M",
    }
    for pid, kid, name, source in (*EARLIER, *ROWS):
        lines.append(f"| `{pid}` | {name} | {kid} | {short[source]} |")
    return "\n".join(lines)


def count() -> Counter[str]:
    """Policies with at least one KICS id, per platform (the second part of the policy id)."""
    return Counter(pid.split(".")[1] for pid in mapping())


def main() -> int:
    """Command line: ``--apply``, ``--table`` or ``--count``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--apply", action="store_true")
    group.add_argument("--table", action="store_true")
    group.add_argument("--count", action="store_true")
    args = parser.parse_args()
    if args.apply:
        return apply()
    if args.table:
        print(table())
        return 0
    for platform, n in sorted(count().items()):
        print(f"{platform}\t{n}")
    print(f"total\t{sum(count().values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

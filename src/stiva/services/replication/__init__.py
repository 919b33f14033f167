"""Replication across regions and accounts (ECR's third headline feature).

rules        the configuration: validation, limits, which destinations an image goes to
outbox       deliveries written in the unit of work of a push, restore or removal
deliver      the `replicate` job: one attempt, retry with backoff, terminal outcome, events
plan         what one image carries: children, the image, referrers, tags
local        another account of this region: metadata-only copy
remote       another region: a peer deployment through its public APIs
inbound      whom this deployment believes when a peer replicates into it
destination  the destination repository, created from a REPLICATION template
backfill     StartReplicationBackfill and its state machine
status       DescribeImageReplicationStatus
outcome      failure codes
"""

"""Image vulnerability scanning as pure functions over streams and plain data.

    layer.analyze_layer(blob)            one layer's files, packages, whiteouts (cache by digest)
    inventory.merge([analysis, ...])     the image's OS and packages, bottom layer first
    osv.parse_osv(record)                OSV JSON/YAML -> Advisory; osv.index_keys for indexing
    osv.alpine_secdb_to_osv(document)    Alpine secdb -> OSV-shaped records
    match.match(inventory, lookup)       Findings, with ECR severities
    versions.compare(ecosystem, a, b)    version ordering per OSV ecosystem

No storage, database or web framework is imported here (import-linter checks it); the service
that owns scan jobs, the advisory database and the ECR API builds on these functions.
"""

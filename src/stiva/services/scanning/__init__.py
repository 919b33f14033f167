"""Image scanning as ECR does it, offline: configuration, vulnerability database, scans, findings.

    config        registry scanning configuration (BASIC | ENHANCED, rules with WILDCARD
                  filters), the deprecated per-repository scanOnPush, what applies to a repository
    vulndb_files  the paths `stiva vulndb import` reads, as sources of OSV records
    vulndb        importing them (incremental, idempotent, batched); `stiva vulndb status`
    advisories    the (ecosystem, package) lookups matching asks for, served from the database
    layers        one analysis per (layer digest, ANALYZER_VERSION), streamed from storage, cached
    hooks         scan on push: a scan row and a job written in the transaction of the push
    queue         the job kinds (`scan-image`, `scan-continuous`) and how they are queued
    scan_job      the scan job: layers -> inventory -> findings, statuses
    evaluate      matching a stored inventory and recording the result (scans and rescans)
    findings      findings stored per (vulnerability, package): ACTIVE or CLOSED, first/last seen
    continuous    re-matching CONTINUOUS_SCAN images from their inventories (no layer reads)
    scans         StartImageScan, DescribeImageScanFindings, PutRegistryScanningConfiguration
    shapes        DescribeImageScanFindings: basic `findings` and `enhancedFindings`, pages
    summary       imageScanStatus / imageScanFindingsSummary for DescribeImages
    notify        scan events (ECR Image Scan, Inspector2 Scan, ECR Scan Resource Change)
    sbom          an image's inventory as CycloneDX 1.5 JSON, and as an OCI referrer

The pure work (reading layers, merging them, parsing advisories, comparing versions, matching)
is `stiva.scanning`; this package stores and schedules it. This module imports nothing:
`services.pushes` imports `hooks` and `services.images` imports `summary`, and neither of
those imports `services.manifests` or `services.images`. `docs/scanning.md` is the user's view.
"""

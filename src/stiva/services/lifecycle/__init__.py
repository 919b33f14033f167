"""Lifecycle policies as use cases: store them, preview them, apply them.

    policies.py   PutLifecyclePolicy / GetLifecyclePolicy / DeleteLifecyclePolicy, and the
                  wrapping of the pure package's validation errors in ECR's text
    snapshot.py   a repository's images as the evaluator sees them (`stiva.lifecycle.evaluate`),
                  and the bytes a set of deletions would free in the whole blob store
    preview.py    StartLifecyclePolicyPreview / GetLifecyclePolicyPreview (the preview itself
                  is computed by the `lifecycle-preview` job)
    apply.py      applying a policy: expire, transition, audit trail, events

The grammar and the evaluator are pure (`stiva.lifecycle`); these modules read and write the
metadata around them. Like every service they take a session and never commit: the job or the
request that calls them owns the transaction (`stiva.workers.lifecycle` for the jobs).
"""

"""Pure OCI knowledge: digests, names, media types, manifests. No I/O, no framework imports."""

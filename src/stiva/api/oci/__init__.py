"""api/oci"""

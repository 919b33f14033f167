"""Stiva: a self-hosted container registry with Amazon ECR's semantics."""

__version__ = "0.1.0"

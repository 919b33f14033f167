"""What services need to know about this deployment: its region, default account and addresses."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Deployment:
    region: str
    default_account_id: str
    public_url: str  # e.g. http://127.0.0.1:5000: the deployment's public registry host
    domain: str | None  # when set, registries are named <account>.dkr.ecr.<region>.<domain>

    def registry_host(self, account_id: str) -> str:
        """The host[:port] clients use for `account_id`'s registry.

        Without a registry domain every account is served on the public host (a plain host
        addresses the default account; others are reached with an ECR-shaped Host header).
        """
        parts = urlsplit(self.public_url)
        if self.domain is None:
            return parts.netloc
        port = f":{parts.port}" if parts.port else ""
        return f"{account_id}.dkr.ecr.{self.region}.{self.domain}{port}"

    def proxy_endpoint(self, account_id: str) -> str:
        scheme = urlsplit(self.public_url).scheme or "http"
        return f"{scheme}://{self.registry_host(account_id)}"

    def repository_arn(self, account_id: str, name: str) -> str:
        return f"arn:aws:ecr:{self.region}:{account_id}:repository/{name}"

    def repository_uri(self, account_id: str, name: str) -> str:
        return f"{self.registry_host(account_id)}/{name}"

    def account_for_host(self, host: str | None) -> str:
        """The account a request's Host header selects (the default one for plain hosts)."""
        if host:
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            labels = name.lower().split(".")
            if (
                len(labels) >= 4
                and labels[1:3] == ["dkr", "ecr"]
                and labels[0].isdigit()
                and len(labels[0]) == 12
            ):
                return labels[0]
        return self.default_account_id

"""DescribeRegistry, GetAccountSetting, PutAccountSetting (all authorized on the registry, `*`).

DescribeRegistry answers the replication configuration (`services.replication.rules`). What each
account setting does, its default and its refusals are described in `stiva.services.settings`.
"""

from __future__ import annotations

from typing import Any

from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services import settings as svc
from stiva.services.replication import rules as replication_rules


def describe_registry(session: Session, call: EcrCall) -> dict[str, Any]:
    rules = replication_rules.get_rules(session, account_id=call.account_id)
    return {"registryId": call.account_id, "replicationConfiguration": {"rules": rules}}


def get_account_setting(session: Session, call: EcrCall) -> dict[str, Any]:
    name = str(call.params["name"])
    value = svc.get_account_setting(session, account_id=call.account_id, name=name)
    return {"name": name, "value": value}


def put_account_setting(session: Session, call: EcrCall) -> dict[str, Any]:
    name, value = str(call.params["name"]), str(call.params["value"])
    stored = svc.put_account_setting(session, account_id=call.account_id, name=name, value=value)
    return {"name": name, "value": stored}


OPERATIONS: dict[str, Operation] = {
    "DescribeRegistry": Operation(describe_registry, "*"),
    "GetAccountSetting": Operation(get_account_setting, "*"),
    "PutAccountSetting": Operation(put_account_setting, "*", writes=True),
}

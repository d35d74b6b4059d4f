#!/usr/bin/env python3
"""keytriage AWS emulator: moto (pinned, see requirements-emulator.txt) seeded from a
scenario file, with a few patches so it answers like AWS, a fault injector and a stats
endpoint.  The contract (scenario format, fault language, stats) is EMULATOR.md.

    python emulator.py --scenario FILE [--port 0] [--host 127.0.0.1] [--verbose]
                       [--exit-with-stdin]

Prints exactly one line `READY <port>` on stdout once seeded and listening, then serves
until SIGTERM/SIGINT (exit 0).  A seeding error: message on stderr, exit 1, no READY line.
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import logging
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

MGMT = "123456789012"  # moto's default account: the dummy credentials act here
REGION = "us-east-1"
DATE_FMT = "%Y-%m-%dT%H:%M:%S+00:00"  # the credential report's date format (AWS)
REPORT_HEADER = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
]


# Service-specific credentials: the services IAM accepts, and its limit per service per user.
SSC_SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com",
                "bedrock.amazonaws.com")
SSC_LIMIT = 2
SSC_ACTIONS = ("CreateServiceSpecificCredential", "ListServiceSpecificCredentials",
               "UpdateServiceSpecificCredential", "DeleteServiceSpecificCredential",
               "ResetServiceSpecificCredential")

USER_NAME_RE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
PATH_RE = re.compile(r"/([\x21-\x7e]*/)?")


class ScenarioError(Exception):
    pass


AFTER_KINDS = ("drop", "error")  # faults that may strike after the call took effect
FAULT_KINDS = ("deny", "throttle", "error", "latency", "drop", "nosuchentity", "report_stuck")
REPORT_ACTIONS = ("GenerateCredentialReport", "GetCredentialReport")


# --------------------------------------------------------------------------------------
# Scenario parsing and validation (pure; no moto)
# --------------------------------------------------------------------------------------

def _check_keys(obj, allowed, where):
    if not isinstance(obj, dict):
        raise ScenarioError(f"{where}: expected an object")
    for k in obj:
        if k not in allowed and not k.startswith("_"):
            raise ScenarioError(f"{where}: unknown key {k!r}")


def _int(v, where, allow_none=False, allow_negative=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or (v < 0 and not allow_negative):
        raise ScenarioError(f"{where}: expected a non-negative integer, got {v!r}")
    return v


def _str(v, where):
    if not isinstance(v, str) or not v:
        raise ScenarioError(f"{where}: expected a non-empty string, got {v!r}")
    return v


def _bool(v, where):
    if not isinstance(v, bool):
        raise ScenarioError(f"{where}: expected true or false, got {v!r}")
    return v


def _mfa(v, where):
    if v not in (None, "virtual", "hardware"):
        raise ScenarioError(f"{where}: expected \"virtual\", \"hardware\" or null, got {v!r}")
    return v


def _key(k, where):
    _check_keys(k, {"age_days", "status", "last_used"}, where)
    status = k.get("status", "Active")
    if status not in ("Active", "Inactive"):
        raise ScenarioError(f"{where}.status: expected Active|Inactive, got {status!r}")
    lu = k.get("last_used")
    if lu is not None:
        _check_keys(lu, {"days_ago", "service", "region"}, f"{where}.last_used")
        lu = {
            "days_ago": _int(lu.get("days_ago"), f"{where}.last_used.days_ago",
                             allow_negative=True),
            "service": _str(lu.get("service", "s3"), f"{where}.last_used.service"),
            "region": _str(lu.get("region", REGION), f"{where}.last_used.region"),
        }
    return {"age_days": _int(k.get("age_days"), f"{where}.age_days", allow_negative=True),
            "status": status, "last_used": lu}


def _ssh_key(k, where):
    _check_keys(k, {"age_days", "status"}, where)
    return {"age_days": _int(k.get("age_days", 0), f"{where}.age_days"),
            "status": _status(k.get("status", "Active"), f"{where}.status")}


def _status(v, where):
    if v not in ("Active", "Inactive"):
        raise ScenarioError(f"{where}: expected Active|Inactive, got {v!r}")
    return v


def _cert(c, where):
    _check_keys(c, {"age_days", "status", "expires_in_days"}, where)
    return {"age_days": _int(c.get("age_days", 0), f"{where}.age_days"),
            "status": _status(c.get("status", "Active"), f"{where}.status"),
            "expires_in_days": _int(c.get("expires_in_days", 365), f"{where}.expires_in_days",
                                    allow_negative=True)}


def _service_credential(c, where):
    _check_keys(c, {"service", "age_days", "status", "expires_in_days"}, where)
    service = _str(c.get("service"), f"{where}.service")
    if service not in SSC_SERVICES:
        raise ScenarioError(f"{where}.service: expected one of {', '.join(SSC_SERVICES)}")
    return {"service": service,
            "age_days": _int(c.get("age_days", 0), f"{where}.age_days"),
            "status": _status(c.get("status", "Active"), f"{where}.status"),
            "expires_in_days": _int(c.get("expires_in_days"), f"{where}.expires_in_days",
                                    allow_none=True, allow_negative=True)}


ACCOUNT_REF_RE = re.compile(r"\{account:([^}]+)\}")
DEFAULT_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MGMT}:root"},
     "Action": "sts:AssumeRole"}]}


def _roles(roles, where):
    """(i) The account's IAM roles: name, path, age, last use, trust policy and how
    GetAccountAuthorizationDetails encodes it."""
    if not isinstance(roles, list):
        raise ScenarioError(f"{where}: expected a list")
    out, seen = [], set()
    for i, r in enumerate(roles):
        w = f"{where}[{i}]"
        _check_keys(r, {"name", "path", "created_days_ago", "last_used", "trust_policy",
                        "trust_policy_encoding"}, w)
        name = _str(r.get("name"), f"{w}.name")
        if not USER_NAME_RE.fullmatch(name) or name in seen:
            raise ScenarioError(f"{w}.name: invalid or duplicate role name {name!r}")
        seen.add(name)
        path = r.get("path", "/")
        if not isinstance(path, str) or len(path) > 512 or not PATH_RE.fullmatch(path):
            raise ScenarioError(f"{w}.path: must be '/' or '/segments/', got {path!r}")
        lu = r.get("last_used")
        if lu is not None:
            _check_keys(lu, {"days_ago", "region"}, f"{w}.last_used")
            lu = {"days_ago": _int(lu.get("days_ago"), f"{w}.last_used.days_ago"),
                  "region": _str(lu.get("region", REGION), f"{w}.last_used.region")}
        trust = r.get("trust_policy", DEFAULT_TRUST)
        if not isinstance(trust, dict):
            raise ScenarioError(f"{w}.trust_policy: expected a policy document object")
        encoding = r.get("trust_policy_encoding", "url")
        if encoding not in ("url", "json"):
            raise ScenarioError(f"{w}.trust_policy_encoding: expected \"url\" or \"json\"")
        out.append({"name": name, "path": path, "last_used": lu, "trust_policy": trust,
                    "created_days_ago": _int(r.get("created_days_ago", 0),
                                             f"{w}.created_days_ago"),
                    "trust_policy_encoding": encoding})
    return out


def _list(u, field, where):
    v = u.get(field) or []
    if not isinstance(v, list):
        raise ScenarioError(f"{where}.{field}: expected a list")
    return v


def _password(p, where):
    if p is None:
        return None
    _check_keys(p, {"last_used_days_ago"}, where)
    return {"last_used_days_ago": _int(p.get("last_used_days_ago"),
                                       f"{where}.last_used_days_ago", allow_none=True)}


def _user(u, where, name=None):
    _check_keys(u, {"name", "path", "created_days_ago", "password", "mfa", "keys",
                    "keys_same_second", "ssh_keys", "signing_certificates",
                    "service_credentials"}, where)
    certs = _list(u, "signing_certificates", where)
    if len(certs) > 2:
        raise ScenarioError(f"{where}.signing_certificates: IAM allows 2 per user")
    sscs = [_service_credential(c, f"{where}.service_credentials[{i}]")
            for i, c in enumerate(_list(u, "service_credentials", where))]
    for svc in SSC_SERVICES:
        if sum(1 for c in sscs if c["service"] == svc) > SSC_LIMIT:
            raise ScenarioError(f"{where}.service_credentials: IAM allows {SSC_LIMIT} "
                                f"per service ({svc})")
    keys = u.get("keys") or []
    if not isinstance(keys, list):
        raise ScenarioError(f"{where}.keys: expected a list")
    path = u.get("path", "/")
    if not isinstance(path, str) or len(path) > 512 or not PATH_RE.fullmatch(path):
        raise ScenarioError(f"{where}.path: must be '/' or '/segments/' of printable "
                            f"ASCII without spaces, got {path!r}")
    return {
        "name": name if name is not None else _str(u.get("name"), f"{where}.name"),
        "path": path,
        "created_days_ago": _int(u.get("created_days_ago", 0), f"{where}.created_days_ago",
                                 allow_negative=True),
        "keys_same_second": _bool(u.get("keys_same_second", False),
                                  f"{where}.keys_same_second"),
        "password": _password(u.get("password"), f"{where}.password"),
        "mfa": _mfa(u.get("mfa"), f"{where}.mfa"),
        "keys": [_key(k, f"{where}.keys[{i}]") for i, k in enumerate(keys)],
        "ssh_keys": [_ssh_key(k, f"{where}.ssh_keys[{i}]")
                     for i, k in enumerate(_list(u, "ssh_keys", where))],
        "signing_certificates": [_cert(c, f"{where}.signing_certificates[{i}]")
                                 for i, c in enumerate(certs)],
        "service_credentials": sscs,
    }


def _root(r, where):
    if r is None:
        r = {}
    _check_keys(r, {"access_key", "mfa", "password_last_used_days_ago", "signing_certificate"},
                where)
    cert = r.get("signing_certificate")
    if cert is not None:
        _check_keys(cert, {"age_days", "status"}, f"{where}.signing_certificate")
        cert = {"age_days": _int(cert.get("age_days", 0), f"{where}.signing_certificate.age_days"),
                "status": _status(cert.get("status", "Active"),
                                  f"{where}.signing_certificate.status")}
    ak = r.get("access_key", False)
    if ak is True:
        ak = {"age_days": None, "status": "Active", "last_used": None}
    elif ak is False or ak is None:
        ak = None
    else:
        ak = _key(ak, f"{where}.access_key")
    return {
        "access_key": ak,
        "mfa": _mfa(r.get("mfa", "hardware"), f"{where}.mfa"),
        "signing_certificate": cert,
        "password_last_used_days_ago": _int(r.get("password_last_used_days_ago"),
                                            f"{where}.password_last_used_days_ago",
                                            allow_none=True),
    }


def _clock(v):
    """The scenario's `clock`: None (ages count from the start), "utc-day" (from 00:00 UTC of
    the day the emulator starts) or a fixed "YYYY-MM-DDTHH:MM:SSZ"."""
    if v is None or v == "utc-day":
        return v
    if isinstance(v, str):
        try:
            return datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            pass
    raise ScenarioError(f"clock: expected \"utc-day\" or a time like \"2026-12-01T00:00:00Z\", got {v!r}")


def seed_time(clock):
    """The naive-UTC time the scenario's ages count back from (see `_clock`)."""
    now = utcnow()
    if clock == "utc-day":
        return now.replace(hour=0, minute=0, second=0)
    if isinstance(clock, datetime):
        return clock
    return now


def parse_scenario(doc):
    _check_keys(doc, {"organization", "fault_seed", "id_seed", "session_seconds",
                      "report_frozen", "clock", "ous", "accounts", "faults"}, "scenario")
    sc = {
        "organization": doc.get("organization", True),
        "fault_seed": doc.get("fault_seed", 42),
        "id_seed": doc.get("id_seed", 1),
        "session_seconds": _int(doc.get("session_seconds"), "session_seconds", allow_none=True),
        "report_frozen": doc.get("report_frozen", False),
        "clock": _clock(doc.get("clock")),
        "ous": [], "accounts": [], "faults": [],
    }
    if not isinstance(sc["report_frozen"], bool):
        raise ScenarioError("report_frozen: expected true or false")
    if not isinstance(sc["organization"], bool):
        raise ScenarioError("organization: expected true or false")
    for f in ("fault_seed", "id_seed"):
        if isinstance(sc[f], bool) or not isinstance(sc[f], int):
            raise ScenarioError(f"{f}: expected an integer")
    if sc["session_seconds"] == 0:
        raise ScenarioError("session_seconds: expected at least 1")

    ou_names = set()
    for i, ou in enumerate(doc.get("ous") or []):
        where = f"ous[{i}]"
        _check_keys(ou, {"name", "parent"}, where)
        name = _str(ou.get("name"), f"{where}.name")
        if name in ou_names:
            raise ScenarioError(f"{where}.name: duplicate OU name {name!r}")
        ou_names.add(name)
        parent = ou.get("parent")
        if parent is not None:
            _str(parent, f"{where}.parent")
        sc["ous"].append({"name": name, "parent": parent})
    for ou in sc["ous"]:
        if ou["parent"] is not None and ou["parent"] not in ou_names:
            raise ScenarioError(f"OU {ou['name']!r}: unknown parent OU {ou['parent']!r}")

    acct_names = set()
    accounts = doc.get("accounts")
    if not isinstance(accounts, list) or not accounts:
        raise ScenarioError("accounts: expected a non-empty list")
    for i, a in enumerate(accounts):
        where = f"accounts[{i}]"
        _check_keys(a, {"name", "email", "management", "root", "root_row", "users",
                        "generated_users", "ou", "state", "created_days_ago",
                        "report_duplicate_rows", "roles"}, where)
        name = _str(a.get("name"), f"{where}.name")
        if name in acct_names:
            raise ScenarioError(f"{where}.name: duplicate account name {name!r}")
        acct_names.add(name)
        state = a.get("state", "ACTIVE")
        if state not in ("ACTIVE", "SUSPENDED"):
            raise ScenarioError(f"{where}.state: expected ACTIVE|SUSPENDED, got {state!r}")
        ou = a.get("ou")
        if ou is not None and ou not in ou_names:
            raise ScenarioError(f"{where}.ou: unknown OU {ou!r}")
        users = [_user(u, f"{where}.users[{j}]") for j, u in enumerate(a.get("users") or [])]
        for j, g in enumerate(a.get("generated_users") or []):
            gw = f"{where}.generated_users[{j}]"
            _check_keys(g, {"count", "prefix", "path", "created_days_ago", "password", "mfa",
                            "keys", "keys_same_second", "ssh_keys", "signing_certificates",
                            "service_credentials"}, gw)
            count = _int(g.get("count"), f"{gw}.count")
            prefix = _str(g.get("prefix"), f"{gw}.prefix")
            tmpl = {k: v for k, v in g.items() if k not in ("count", "prefix")}
            proto = _user(tmpl, gw, name="")
            for n in range(1, count + 1):
                u = dict(proto)
                u["name"] = f"{prefix}{n:03d}"
                users.append(u)
        seen = set()
        for u in users:
            if not USER_NAME_RE.fullmatch(u["name"]):
                raise ScenarioError(f"{where}: invalid IAM user name {u['name']!r} "
                                    "(1-64 of letters, digits and +=,.@_-)")
            if u["name"] in seen:
                raise ScenarioError(f"{where}: duplicate user name {u['name']!r}")
            seen.add(u["name"])
            if len(u["keys"]) > 2:
                raise ScenarioError(f"{where}: user {u['name']!r} has more than 2 keys "
                                    "(IAM allows 2)")
        if not isinstance(a.get("root_row", True), bool):
            raise ScenarioError(f"{where}.root_row: expected true or false")
        dups = a.get("report_duplicate_rows") or []
        if not isinstance(dups, list):
            raise ScenarioError(f"{where}.report_duplicate_rows: expected a list of names")
        for d in dups:
            if d != "<root_account>" and d not in seen:
                raise ScenarioError(f"{where}.report_duplicate_rows: unknown user {d!r}")
        oldest = max([u["created_days_ago"] for u in users] +
                     [k["age_days"] for u in users for k in u["keys"]] + [0])
        created = a.get("created_days_ago")
        created = (max(365, oldest + 30) if created is None
                   else _int(created, f"{where}.created_days_ago"))
        root = _root(a.get("root"), f"{where}.root")
        if root["access_key"] is not None and root["access_key"]["age_days"] is None:
            root["access_key"]["age_days"] = created
        sc["accounts"].append({
            "name": name,
            "email": a.get("email") or f"{name}@example.com",
            "management": bool(a.get("management", False)),
            "root": root,
            "root_row": a.get("root_row", True),
            "report_duplicate_rows": set(dups),
            "users": users,
            "ou": ou,
            "state": state,
            "created_days_ago": created,
            "roles": _roles(a.get("roles") or [], f"{where}.roles"),
        })
    mgmt = [a for a in sc["accounts"] if a["management"]]
    if not mgmt and len(sc["accounts"]) == 1:
        sc["accounts"][0]["management"] = True
        mgmt = sc["accounts"]
    if len(mgmt) != 1:
        raise ScenarioError("exactly one account must have \"management\": true")
    if mgmt[0]["state"] != "ACTIVE":
        raise ScenarioError("the management account cannot be SUSPENDED")
    if mgmt[0]["ou"] is not None:
        raise ScenarioError("the management account stays under the organization root "
                            "(no \"ou\")")

    for a in sc["accounts"]:
        for r in a["roles"]:
            for ref in ACCOUNT_REF_RE.findall(json.dumps(r["trust_policy"])):
                if ref not in acct_names:
                    raise ScenarioError(f"account {a['name']!r} role {r['name']!r}: trust policy "
                                        f"names unknown account {ref!r}")

    for i, f in enumerate(doc.get("faults") or []):
        where = f"faults[{i}]"
        _check_keys(f, {"account", "action", "user", "signer", "kind", "rate", "first",
                        "status", "latency_ms", "code", "message", "after"}, where)
        kind = f.get("kind")
        if kind not in FAULT_KINDS:
            raise ScenarioError(f"{where}.kind: expected {'|'.join(FAULT_KINDS)}")
        account = _str(f.get("account", "*"), f"{where}.account")
        if account != "*" and account not in acct_names and not re.fullmatch(r"\d{12}",
                                                                            account):
            raise ScenarioError(f"{where}.account: unknown account {account!r}")
        rate = f.get("rate", 1.0)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ScenarioError(f"{where}.rate: expected a number in 0.0..1.0")
        action = _str(f.get("action", "*"), f"{where}.action")
        if kind == "report_stuck" and action not in REPORT_ACTIONS:
            raise ScenarioError(f"{where}: report_stuck needs action "
                                f"{' or '.join(REPORT_ACTIONS)}, got {action!r}")
        user = f.get("user")
        if user is not None:
            _str(user, f"{where}.user")
        signer = f.get("signer")
        if signer is not None:
            _str(signer, f"{where}.signer")
        after = f.get("after", False)
        if not isinstance(after, bool):
            raise ScenarioError(f"{where}.after: expected true or false")
        if after and kind not in AFTER_KINDS:
            raise ScenarioError(f"{where}.after: only with kind {' or '.join(AFTER_KINDS)}")
        status = _int(f.get("status", {"deny": 403, "throttle": 400, "nosuchentity": 404,
                                       "report_stuck": 404}.get(kind, 500)),
                      f"{where}.status")
        if not 400 <= status <= 599:
            raise ScenarioError(f"{where}.status: expected 400..599")
        sc["faults"].append({
            "account": account,
            "action": action,
            "user": user,
            "signer": signer,
            "kind": kind,
            "rate": float(rate),
            "first": _int(f.get("first"), f"{where}.first", allow_none=True),
            "status": status,
            "latency_ms": _int(f.get("latency_ms", 0), f"{where}.latency_ms"),
            "code": f.get("code"),
            "message": f.get("message"),
            "after": after,
        })
    return sc


# --------------------------------------------------------------------------------------
# Emulator state shared by the patches, the middleware and the seeding
# --------------------------------------------------------------------------------------

class KT:
    now = None                # naive-UTC seeding time, whole seconds
    accounts = {}             # account id -> {"name", "root", "root_row", "created", ...}
    by_name = {}              # scenario account name -> account id
    org = None                # {"id", "root_id"} or None
    session_seconds = None    # cap on AssumeRole credential lifetime (scenario), or None
    report_frozen = False     # a reused credential report keeps its generation's content


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def fmt(dt):
    return dt.strftime(DATE_FMT)


# --------------------------------------------------------------------------------------
# Patches to moto 5.2.5 (each one small; see EMULATOR.md "Deviations from plain moto")
# --------------------------------------------------------------------------------------

def install_securityhub_patches():
    """BatchImportFindings as AWS: a finding under the default product ARN is accepted only
    for the calling account, with its required fields; others are FailedFindings."""
    from moto.securityhub.models import SecurityHubBackend
    orig = SecurityHubBackend.batch_import_findings
    required = ("AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn",
                "Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt")

    def batch_import_findings(self, findings):
        ok, failed = [], []
        for f in findings:
            missing = [k for k in required if not f.get(k)]
            if missing:
                failed.append({"Id": f.get("Id", ""), "ErrorCode": "InvalidInput",
                               "ErrorMessage": f"Finding is missing {', '.join(missing)}"})
            elif (f["AwsAccountId"] != self.account_id
                  or f":{self.account_id}:product/" not in f["ProductArn"]):
                failed.append({"Id": f["Id"], "ErrorCode": "AccessDeniedException",
                               "ErrorMessage": f"account {self.account_id} may not import "
                               f"findings for account {f['AwsAccountId']} under "
                               f"{f['ProductArn']}"})
            else:
                ok.append(f)
        n_failed, n_ok, moto_failed = orig(self, ok)
        return n_failed + len(failed), n_ok, failed + moto_failed

    SecurityHubBackend.batch_import_findings = batch_import_findings


def install_moto_patches():
    from moto.core.responses import ActionResult
    from moto.iam import models as iam_models
    from moto.iam.exceptions import NotFoundException, ValidationError
    from moto.iam.models import IAMBackend
    from moto.iam.responses import IamResponse

    install_securityhub_patches()

    # IAM dates are whole seconds in AWS; moto stamps runtime-created keys/users with
    # microseconds, so a key made by CreateAccessKey would never equal its credential
    # report `last_rotated` cell.  Give moto's IAM module a whole-second clock.
    orig_utcnow = iam_models.utcnow
    iam_models.utcnow = lambda: orig_utcnow().replace(microsecond=0)

    def paginate(self, items, what):
        """AWS-style MaxItems (1..1000, default 100) / Marker / IsTruncated paging."""
        raw = self._get_param("MaxItems")
        max_items = 100 if raw in (None, "") else int(raw)
        if not 1 <= max_items <= 1000:
            raise ValidationError(
                f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to "
                "satisfy constraint: Member must have value between 1 and 1000")
        marker = self._get_param("Marker")
        start = 0
        if marker:
            try:
                tag, idx = base64.urlsafe_b64decode(marker.encode()).decode().split(":")
                start = int(idx)
                assert tag == what and start >= 0
            except Exception:
                raise ValidationError("Invalid Marker.")
        page = items[start:start + max_items]
        nxt = start + max_items
        if nxt < len(items):
            return page, base64.urlsafe_b64encode(f"{what}:{nxt}".encode()).decode()
        return page, None

    # (a) ListUsers: moto returns every user in one page and ignores MaxItems/Marker.
    def list_users(self):
        users = list(self.backend.list_users(self._get_param("PathPrefix"), None, None))
        page, marker = paginate(self, users, "users")
        result = {"Users": page, "IsTruncated": marker is not None}
        if marker:
            result["Marker"] = marker
        return ActionResult(result)

    IamResponse.list_users = list_users

    # (a) ListAccessKeys: same paging (moto: "Pagination is not yet implemented").
    orig_list_access_keys = IamResponse.list_access_keys

    def list_access_keys(self):
        user_name = self._get_param("UserName")
        if not user_name:
            return orig_list_access_keys(self)
        keys = list(self.backend.list_access_keys(user_name))
        page, marker = paginate(self, keys, "keys")
        result = {"UserName": user_name, "AccessKeyMetadata": page,
                  "IsTruncated": marker is not None}
        if marker:
            result["Marker"] = marker
        return ActionResult(result)

    IamResponse.list_access_keys = list_access_keys

    # (i) GetAccountAuthorizationDetails: moto answers every entity in one page, with the
    # trust policy as plain JSON; AWS pages (MaxItems/Marker across all entities) and
    # URL-encodes policy documents.  A role seeded with trust_policy_encoding "json" keeps
    # moto's plain JSON (the other encoding a client must read).
    def role_detail(role):
        doc = role.assume_role_policy_document
        if not getattr(role, "_kt_plain_trust", False):
            doc = urllib.parse.quote(doc, safe="")
        d = {"Path": role.path, "RoleName": role.name, "RoleId": role.id, "Arn": role.arn,
             "CreateDate": role.create_date, "AssumeRolePolicyDocument": doc,
             "InstanceProfileList": role.instance_profile_list,
             "RolePolicyList": role.role_policy_list,
             "AttachedManagedPolicies": role.attached_managed_policies, "Tags": role.tags,
             "RoleLastUsed": ({"LastUsedDate": role.last_used,
                               "Region": role.last_used_region} if role.last_used else {})}
        if role.permissions_boundary:
            d["PermissionsBoundary"] = role.permissions_boundary
        return d

    def get_account_authorization_details(self):
        details = self.backend.get_account_authorization_details(self._get_param("Filter", []))
        items = ([("UserDetailList", u) for u in details["users"]]
                 + [("GroupDetailList", g) for g in details["groups"]]
                 + [("RoleDetailList", role_detail(r)) for r in details["roles"]]
                 + [("Policies", p) for p in details["managed_policies"]])
        page, marker = paginate(self, items, "details")
        result = {k: [] for k in ("UserDetailList", "GroupDetailList", "RoleDetailList",
                                  "Policies")}
        for k, v in page:
            result[k].append(v)
        result["IsTruncated"] = marker is not None
        if marker:
            result["Marker"] = marker
        return ActionResult(result)

    IamResponse.get_account_authorization_details = get_account_authorization_details

    # (f) GetAccessKeyLastUsed: moto scans every user of every account; look the key up
    # in the caller's account only (its access_keys dict is keyed by key id).
    def get_access_key_last_used(self, access_key_id):
        key = self.access_keys.get(access_key_id)
        if key is None:
            raise NotFoundException(
                f"The Access Key with id {access_key_id} cannot be found")
        return {"user_name": key.user_name, "last_used": key.last_used}

    IAMBackend.get_access_key_last_used = get_access_key_last_used

    # (b) Credential report in AWS's real format, with a <root_account> row.
    orig_generate = IAMBackend.generate_report

    def generate_report(self):
        first = not self.credential_report
        orig_generate(self)  # keeps moto's STARTED-then-COMPLETE answers
        if not KT.report_frozen:
            self._kt_generated_at = utcnow()
        elif first:
            # As AWS reuses a report: its content and time are those of its generation.
            self._kt_generated_at = utcnow()
            self._kt_frozen_report = render_credential_report(self)

    IAMBackend.generate_report = generate_report
    orig_get_report = IAMBackend.get_credential_report

    def get_credential_report(self):
        if not self.credential_report:
            return orig_get_report(self)  # raises ReportNotPresent (HTTP 410)
        frozen = getattr(self, "_kt_frozen_report", None)
        return frozen if frozen is not None else render_credential_report(self)

    IAMBackend.get_credential_report = get_credential_report

    def get_credential_report_response(self):
        content = self.backend.get_credential_report()
        generated = getattr(self.backend, "_kt_generated_at", None) or utcnow()
        return ActionResult({"Content": content, "ReportFormat": "text/csv",
                             "GeneratedTime": generated})

    IamResponse.get_credential_report = get_credential_report_response

    # (g) Short-lived sessions: the scenario's `session_seconds` caps the lifetime of the
    # credentials AssumeRole hands out (moto honours DurationSeconds, with no lower bound).
    from moto.sts.models import STSBackend
    orig_assume_role = STSBackend.assume_role

    def assume_role(self, *args, **kwargs):
        if KT.session_seconds is not None:
            kwargs["duration"] = min(int(kwargs.get("duration") or 3600), KT.session_seconds)
        return orig_assume_role(self, *args, **kwargs)

    STSBackend.assume_role = assume_role
    return iam_models


def _key_cells(key):
    if key is None:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    lu = key.last_used
    if lu is None:
        used = ["N/A", "N/A", "N/A"]
    elif isinstance(lu, datetime):  # moto allows a bare datetime here
        used = [fmt(lu), "N/A", "N/A"]
    else:
        used = [fmt(lu.timestamp), lu.region or "N/A", lu.service or "N/A"]
    return ["true" if key.status == "Active" else "false", fmt(key.create_date)] + used


def render_credential_report(backend):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_HEADER)
    acct = backend.account_id
    info = KT.accounts.get(acct)
    dups = info["report_duplicate_rows"] if info else set()

    class _Rows:
        """Writes each row; a row of a `report_duplicate_rows` name is followed by a stale
        copy whose keys were never used (last-use cells N/A)."""

        @staticmethod
        def writerow(row):
            writer.writerow(row)
            if row[0] in dups:
                stale = list(row)
                for first in (10, 15):  # access_key_N_last_used_date, _region, _service
                    stale[first:first + 3] = ["N/A", "N/A", "N/A"]
                writer.writerow(stale)

    w = _Rows()
    if info is None or info["root_row"]:
        root = info["root"] if info else {"access_key": None, "mfa": "hardware",
                                          "password_last_used": None}
        created = info["created"] if info else (KT.now or utcnow())
        rk = root.get("key_obj")
        row = ["<root_account>", f"arn:aws:iam::{acct}:root", fmt(created), "not_supported",
               fmt(root["password_last_used"]) if root.get("password_last_used") else "N/A",
               "not_supported", "not_supported", "true" if root["mfa"] else "false"]
        row += _key_cells(rk) + _key_cells(None)
        rc = root.get("signing_certificate")
        if rc is not None:
            row += ["true" if rc["status"] == "Active" else "false",
                    fmt((KT.now or utcnow()) - timedelta(days=rc["age_days"])), "false",
                    "N/A"]
        else:
            row += ["false", "N/A", "false", "N/A"]
        w.writerow(row)
    for user in list(backend.users.values()):
        has_pw = bool(user.password)
        if has_pw:
            pw_used = fmt(user.password_last_used) if user.password_last_used else \
                "no_information"
            pw_changed = fmt(getattr(user, "_kt_password_changed", None) or user.create_date)
        else:
            pw_used, pw_changed = "N/A", "N/A"
        keys = list(user.access_keys)  # creation order
        row = [user.name, user.arn, fmt(user.create_date), "true" if has_pw else "false",
               pw_used, pw_changed, "N/A", "true" if user.mfa_devices else "false"]
        row += _key_cells(keys[0] if len(keys) > 0 else None)
        row += _key_cells(keys[1] if len(keys) > 1 else None)
        certs = sorted(getattr(user, "signing_certificates", {}).values(),
                       key=lambda c: c.upload_date)
        for i in range(2):
            if len(certs) > i:
                row += ["true" if certs[i].status == "Active" else "false",
                        fmt(certs[i].upload_date)]
            else:
                row += ["false", "N/A"]
        w.writerow(row)
    return out.getvalue()


class _RootUserView:
    """What AWS puts in VirtualMFADevice.User for the root user's device: UserId (the
    account id), Arn (arn:aws:iam::<id>:root) and CreateDate; no Path, no UserName.
    (aws-sdk-rust fills missing required members with defaults: user_correct_errors.)"""

    def __init__(self, account_id, created):
        self.user_id = account_id
        self.arn = f"arn:aws:iam::{account_id}:root"
        self.create_date = created


# --------------------------------------------------------------------------------------
# Seeding (direct calls on moto's in-process backends, then backdating)
# --------------------------------------------------------------------------------------

def seed(sc):
    from moto.iam.models import AccessKeyLastUsed, VirtualMfaDevice, iam_backends
    from moto.moto_api._internal import mock_random
    from moto.organizations.models import organizations_backends

    mock_random.seed(sc["id_seed"])  # deterministic account ids, key ids, user ids
    now = KT.now = seed_time(sc["clock"])

    def ago(days):
        return now - timedelta(days=days)

    mgmt = next(a for a in sc["accounts"] if a["management"])
    ids = {mgmt["name"]: MGMT}
    fake_accounts = {}
    if sc["organization"]:
        org_backend = organizations_backends[MGMT]["aws"]
        org_backend.create_organization(region=REGION, FeatureSet="ALL")
        org = org_backend.org
        org.master_account_email = mgmt["email"]
        root_id = org.root_id
        KT.org = {"id": org.id, "root_id": root_id}
        master = org_backend.get_account_by_id(MGMT)
        master.name, master.email = mgmt["name"], mgmt["email"]
        fake_accounts[MGMT] = master
        ou_ids, pending = {}, list(sc["ous"])
        while pending:  # parents first, whatever order the scenario lists them in
            progressed = False
            for ou in list(pending):
                if ou["parent"] is None or ou["parent"] in ou_ids:
                    parent = root_id if ou["parent"] is None else ou_ids[ou["parent"]]
                    d = org_backend.create_organizational_unit(Name=ou["name"],
                                                               ParentId=parent)
                    ou_ids[ou["name"]] = d["OrganizationalUnit"]["Id"]
                    pending.remove(ou)
                    progressed = True
            if not progressed:
                raise ScenarioError("OU parents form a cycle: "
                                    + ", ".join(o["name"] for o in pending))
        for a in sc["accounts"]:
            if a["management"]:
                continue
            st = org_backend.create_account(AccountName=a["name"], Email=a["email"])
            acct_id = st["CreateAccountStatus"]["AccountId"]
            ids[a["name"]] = acct_id
            fake_accounts[acct_id] = org_backend.get_account_by_id(acct_id)
            if a["ou"] is not None:
                org_backend.move_account(AccountId=acct_id, SourceParentId=root_id,
                                         DestinationParentId=ou_ids[a["ou"]])
    else:
        for a in sc["accounts"]:
            if not a["management"]:
                print(f"emulator: organization is false: ignoring account {a['name']!r}",
                      file=sys.stderr)

    hw_serial = 1000000
    for a in sc["accounts"]:
        if a["name"] not in ids:
            continue
        acct_id = ids[a["name"]]
        created = ago(a["created_days_ago"])
        if acct_id in fake_accounts:
            fake_accounts[acct_id].create_time = created  # JoinedTimestamp
        iam = iam_backends[acct_id]["global"]
        for u in a["users"]:
            name = u["name"]
            user = iam.create_user(REGION, name, u["path"])
            user.create_date = ago(u["created_days_ago"])
            if u["password"] is not None:
                iam.create_login_profile(name, "Emulated-Passw0rd!")
                d = u["password"]["last_used_days_ago"]
                user.password_last_used = None if d is None else ago(d)
            if u["mfa"] is not None:
                enabled = min(user.create_date + timedelta(days=1), now)
                if u["mfa"] == "virtual":
                    dev = iam.create_virtual_mfa_device(name, "/")
                    serial = dev.serial_number
                else:
                    hw_serial += 1
                    serial = f"GAHT{hw_serial:07d}X"  # hardware serials are not ARNs
                    dev = None
                iam.enable_mfa_device(name, serial, "123456", "654321")
                user.mfa_devices[serial].enable_date = enabled
                if dev is not None:
                    dev.enable_date = enabled
            # Keys in creation order (oldest first): that is ListAccessKeys' order and
            # the credential report's slot order.  Distinct CreateDates per user, unless
            # `keys_same_second` keeps equal ages in one second (the report cannot tell them
            # apart then).
            prev = None
            for k in sorted(u["keys"], key=lambda k: -k["age_days"]):
                key = iam.create_access_key(name, status=k["status"])
                cd = ago(k["age_days"])
                if prev is not None and cd <= prev and not (u["keys_same_second"]
                                                            and cd == prev):
                    cd = prev + timedelta(seconds=1)
                key.create_date = prev = cd
                lu = k["last_used"]
                key.last_used = None if lu is None else AccessKeyLastUsed(
                    timestamp=ago(lu["days_ago"]), service=lu["service"], region=lu["region"])
            # (h) SSH public keys, signing certificates, service-specific credentials
            for k in u["ssh_keys"]:
                sk = iam.upload_ssh_public_key(name, _ssh_public_key_body())
                sk.status, sk.upload_date = k["status"], ago(k["age_days"])
            for c in u["signing_certificates"]:
                cert = iam.upload_signing_certificate(
                    name, _certificate_pem(name, ago(c["age_days"]),
                                           now + timedelta(days=c["expires_in_days"])))
                cert.status, cert.upload_date = c["status"], ago(c["age_days"])
            for c in u["service_credentials"]:
                cred = ssc_create(acct_id, name, c["service"], ago(c["age_days"]))
                cred["Status"] = c["status"]
                if c["expires_in_days"] is not None:
                    cred["ExpirationDate"] = now + timedelta(days=c["expires_in_days"])
        # (i) roles, with their trust policy's {account:NAME} references resolved
        for r in a["roles"]:
            doc = ACCOUNT_REF_RE.sub(lambda m: ids.get(m.group(1), m.group(1)),
                                     json.dumps(r["trust_policy"]))
            role = iam.create_role(r["name"], doc, r["path"], None, "", [], None)
            role.create_date = ago(r["created_days_ago"])
            if r["last_used"] is not None:
                role.last_used = ago(r["last_used"]["days_ago"])
                role.last_used_region = r["last_used"]["region"]
            role._kt_plain_trust = r["trust_policy_encoding"] == "json"
        # (c) root user facts
        root = dict(a["root"])
        root["password_last_used"] = (None if root["password_last_used_days_ago"] is None
                                      else ago(root["password_last_used_days_ago"]))
        if root["access_key"] is not None:
            rk = root["access_key"]
            lu = rk["last_used"]
            root["key_obj"] = type("RootKey", (), {
                "status": rk["status"], "create_date": ago(rk["age_days"]),
                "last_used": None if lu is None else AccessKeyLastUsed(
                    timestamp=ago(lu["days_ago"]), service=lu["service"],
                    region=lu["region"])})()
        summary = iam.account_summary
        summary._account_mfa_enabled = 1 if root["mfa"] else 0
        summary._account_access_keys_present = 1 if root["access_key"] is not None else 0
        if root["mfa"] == "virtual":
            dev = VirtualMfaDevice(acct_id, REGION, "/root-account-mfa-device")
            dev.enable_date = min(created + timedelta(days=1), now)
            dev.user = _RootUserView(acct_id, created)
            iam.virtual_mfa_devices[dev.serial_number] = dev
        KT.accounts[acct_id] = {"name": a["name"], "root": root, "root_row": a["root_row"],
                                "report_duplicate_rows": a["report_duplicate_rows"],
                                "created": created, "state": a["state"], "ou": a["ou"]}

    if sc["organization"]:
        for a in sc["accounts"]:
            if a["state"] == "SUSPENDED":
                org_backend.close_account(AccountId=ids[a["name"]])
    KT.by_name = ids


# --------------------------------------------------------------------------------------
# (h) SSH keys, signing certificates and service-specific credentials
# --------------------------------------------------------------------------------------

def _ssh_public_key_body():
    """A well-formed (random, unusable) ssh-rsa public key line."""
    blob = b"\x00\x00\x00\x07ssh-rsa" + os.urandom(272)
    return "ssh-rsa " + base64.b64encode(blob).decode() + " emulator"


_CERT_KEY = []


def _certificate_pem(user, not_before, not_after):
    """A self-signed X.509 certificate (EC P-256) for `user` valid from `not_before` to
    `not_after` (naive UTC): what UploadSigningCertificate stores and AWS parses."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    if not _CERT_KEY:
        _CERT_KEY.append(ec.generate_private_key(ec.SECP256R1()))
    key = _CERT_KEY[0]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user)])
    not_before = min(not_before, not_after - timedelta(seconds=1))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before.replace(tzinfo=timezone.utc))
            .not_valid_after(not_after.replace(tzinfo=timezone.utc))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class SSC:
    """In-memory service-specific credentials (moto answers HTTP 500 for them):
    account id -> list of credential dicts in creation order, in the API's member names."""
    store = {}
    lock = threading.Lock()
    serial = [0]


def _ssc_id():
    SSC.serial[0] += 1
    return "ACCA" + f"{SSC.serial[0]:016d}"


def ssc_create(account, user, service, created=None):
    """Adds a credential (the caller checked the user exists); raises LimitExceeded past
    SSC_LIMIT per service per user.  Returns the stored dict (secret members included)."""
    with SSC.lock:
        creds = SSC.store.setdefault(account, [])
        if sum(1 for c in creds if c["UserName"] == user
               and c["ServiceName"] == service) >= SSC_LIMIT:
            raise _SscError(409, "LimitExceeded",
                            f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {SSC_LIMIT}")
        cid = _ssc_id()
        cred = {"UserName": user, "ServiceName": service, "ServiceSpecificCredentialId": cid,
                "CreateDate": created or utcnow(), "Status": "Active", "ExpirationDate": None}
        _ssc_new_secret(cred)
        creds.append(cred)
        return cred


def _ssc_new_secret(cred):
    secret = base64.b64encode(os.urandom(30)).decode()
    if cred["ServiceName"] == "bedrock.amazonaws.com":
        cred["ServiceCredentialAlias"] = f"BedrockAPIKey-{cred['ServiceSpecificCredentialId'][-6:]}"
        cred["ServiceCredentialSecret"] = secret
    else:
        cred["ServiceUserName"] = f"{cred['UserName']}-at-{cred['ServiceSpecificCredentialId'][-6:]}"
        cred["ServicePassword"] = secret


class _SscError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _ssc_status(cred):
    exp = cred["ExpirationDate"]
    return "Expired" if exp is not None and exp <= utcnow() else cred["Status"]


def _ssc_xml(cred, secret):
    fields = ["UserName", "Status", "ServiceUserName", "ServiceCredentialAlias", "CreateDate",
              "ExpirationDate", "ServiceSpecificCredentialId", "ServiceName"]
    if secret:
        fields += ["ServicePassword", "ServiceCredentialSecret"]
    out = []
    for f in fields:
        v = _ssc_status(cred) if f == "Status" else cred.get(f)
        if v is None:
            continue
        if isinstance(v, datetime):
            v = v.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(f"<{f}>{_xml_escape(v)}</{f}>")
    return "".join(out)


def ssc_handle(action, params, account):
    """-> (xml body, request id) for one service-specific credential call in `account`;
    raises _SscError for an error answer."""
    from moto.iam.models import iam_backends
    p = {k: v[0] for k, v in params.items() if v}
    iam = iam_backends[account]["global"]
    user = p.get("UserName")
    all_users = p.get("AllUsers", "").lower() == "true"
    if all_users and user:
        raise _SscError(400, "ValidationError",
                        "AllUsers cannot be specified together with UserName")
    if user is None and not all_users:
        raise _SscError(400, "ValidationError",
                        "the emulator needs UserName (it has no calling IAM user)")
    if user is not None and user not in iam.users:
        raise _SscError(404, "NoSuchEntity", f"The user with name {user} cannot be found.")

    def find():
        cid = p.get("ServiceSpecificCredentialId")
        for c in SSC.store.get(account, []):
            if c["ServiceSpecificCredentialId"] == cid and c["UserName"] == user:
                return c
        raise _SscError(404, "NoSuchEntity",
                        f"No such credential {cid} for user {user}.")

    result = ""
    if action == "CreateServiceSpecificCredential":
        service = p.get("ServiceName", "")
        if service not in SSC_SERVICES:
            raise _SscError(400, "NotSupportedService",
                            f"Service {service} is not supported for service-specific credentials.")
        cred = ssc_create(account, user, service)
        age = p.get("CredentialAgeDays")
        if age:
            cred["ExpirationDate"] = cred["CreateDate"] + timedelta(days=int(age))
        result = f"<ServiceSpecificCredential>{_ssc_xml(cred, True)}</ServiceSpecificCredential>"
    elif action == "ListServiceSpecificCredentials":
        service = p.get("ServiceName")
        with SSC.lock:
            creds = [c for c in SSC.store.get(account, [])
                     if (all_users or c["UserName"] == user)
                     and (service is None or c["ServiceName"] == service)]
        max_items = int(p.get("MaxItems") or 100)
        if not 1 <= max_items <= 1000:
            raise _SscError(400, "ValidationError", "MaxItems must be between 1 and 1000")
        start = 0
        if p.get("Marker"):
            try:
                tag, idx = base64.urlsafe_b64decode(p["Marker"].encode()).decode().split(":")
                start = int(idx)
                assert tag == "ssc" and start >= 0
            except Exception:
                raise _SscError(400, "ValidationError", "Invalid Marker.")
        page = creds[start:start + max_items]
        nxt = start + max_items
        members = "".join(f"<member>{_ssc_xml(c, False)}</member>" for c in page)
        result = f"<ServiceSpecificCredentials>{members}</ServiceSpecificCredentials>"
        if nxt < len(creds):
            marker = base64.urlsafe_b64encode(f"ssc:{nxt}".encode()).decode()
            result += f"<IsTruncated>true</IsTruncated><Marker>{marker}</Marker>"
        else:
            result += "<IsTruncated>false</IsTruncated>"
    elif action == "UpdateServiceSpecificCredential":
        status = p.get("Status")
        if status not in ("Active", "Inactive"):
            raise _SscError(400, "ValidationError", f"Invalid Status {status!r}")
        with SSC.lock:
            find()["Status"] = status
    elif action == "DeleteServiceSpecificCredential":
        with SSC.lock:
            cred = find()
            SSC.store[account].remove(cred)
    elif action == "ResetServiceSpecificCredential":
        with SSC.lock:
            cred = find()
            _ssc_new_secret(cred)
        result = f"<ServiceSpecificCredential>{_ssc_xml(cred, True)}</ServiceSpecificCredential>"
    ns = QUERY_NS["iam"]
    request_id = str(uuid.uuid4())
    # Update and Delete have no output: AWS answers only the response metadata.
    inner = (f"<{action}Result>{result}</{action}Result>"
             if action not in ("UpdateServiceSpecificCredential",
                               "DeleteServiceSpecificCredential") else "")
    body = (f'<{action}Response xmlns="{ns}">{inner}'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{action}Response>")
    return body.encode(), request_id


# --------------------------------------------------------------------------------------
# WSGI middleware: faults (d), stats (e), and the /_keytriage endpoints
# --------------------------------------------------------------------------------------

READ_PREFIXES = ("List", "Get", "Generate", "Describe")
# Security Hub speaks REST-JSON: the action is the method and path.
SECURITYHUB_ROUTES = {("POST", "/findings/import"): "BatchImportFindings",
                      ("POST", "/findings"): "GetFindings",
                      ("POST", "/accounts"): "EnableSecurityHub",
                      ("GET", "/accounts"): "DescribeHub"}
SECURITYHUB_BATCH_LIMIT = 100
NOT_MUTATING = {"AssumeRole", "GetCallerIdentity"}
QUERY_NS = {"sts": "https://sts.amazonaws.com/doc/2011-06-15/",
            "iam": "https://iam.amazonaws.com/doc/2010-05-08/"}
CRED_RE = re.compile(r"Credential=([A-Z0-9]{16,128})/[^/]*/([^/]*)/([^/]*)/")
ROLE_ARN_RE = re.compile(r"^arn:[^:]+:iam::(\d{12}):")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.total = self.faulted = self.delayed = self.mutating = 0
        self.by_action, self.by_account, self.faulted_by_action = {}, {}, {}
        self.assumed_roles = {}

    def record(self, action, account, faulted, delayed, role_arn=None):
        with self.lock:
            self.total += 1
            if role_arn is not None:
                self.assumed_roles[role_arn] = self.assumed_roles.get(role_arn, 0) + 1
            self.by_action[action] = self.by_action.get(action, 0) + 1
            self.by_account[account] = self.by_account.get(account, 0) + 1
            if not action.startswith(READ_PREFIXES) and action not in NOT_MUTATING:
                self.mutating += 1
            if faulted:
                self.faulted += 1
                self.faulted_by_action[action] = self.faulted_by_action.get(action, 0) + 1
            if delayed:
                self.delayed += 1

    def snapshot(self):
        with self.lock:
            return {"total": self.total, "faulted": self.faulted, "delayed": self.delayed,
                    "mutating": self.mutating, "by_action": dict(self.by_action),
                    "by_account": dict(self.by_account),
                    "faulted_by_action": dict(self.faulted_by_action),
                    "assumed_roles": dict(self.assumed_roles)}


class KeytriageMiddleware:
    def __init__(self, app, faults, fault_seed):
        from moto.iam.models import get_account_id_from
        from moto.sts.models import sts_backends
        self.app = app
        self.get_account_id_from = get_account_id_from
        self.sts_backends = sts_backends
        self.faults = []
        for f in faults:
            f = dict(f)
            a = f["account"]
            f["account_id"] = "*" if a == "*" else KT.by_name.get(a, a)
            f["seen"] = 0
            self.faults.append(f)
        self.rng = random.Random(fault_seed)
        self.fault_lock = threading.Lock()
        self.stats = Stats()
        self.akid_cache = {}
        self.expiry_cache = {}  # temporary access key id -> naive-UTC expiration

    # ---- request inspection
    def _account_of_key(self, akid):
        acct = self.akid_cache.get(akid)
        if acct is None:
            acct = self.get_account_id_from(akid)
            if acct != MGMT:  # keys never change account; the default may still appear
                self.akid_cache[akid] = acct
        return acct

    @staticmethod
    def _read_body(environ):
        try:
            n = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            n = 0
        body = environ["wsgi.input"].read(n) if n > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return body

    def _inspect(self, environ):
        """-> (action, protocol 'json'|'query', params, akid, signing service) or None."""
        target = environ.get("HTTP_X_AMZ_TARGET")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = CRED_RE.search(auth)
        akid, service = (m.group(1), m.group(3)) if m else ("AKIAIOSFODNN7EXAMPLE", "")
        if target:
            return target.rsplit(".", 1)[-1], "json", {}, akid, service or "organizations"
        if service == "securityhub":
            action = SECURITYHUB_ROUTES.get((environ.get("REQUEST_METHOD", ""),
                                             environ.get("PATH_INFO", "")))
            return (action, "json", {}, akid, service) if action else None
        params = parse_qs(environ.get("QUERY_STRING", ""))
        ctype = environ.get("CONTENT_TYPE", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            body = self._read_body(environ)
            params.update(parse_qs(body.decode("utf-8", "replace")))
        action = (params.get("Action") or [None])[0]
        if not action:
            return None
        return action, "query", params, akid, service or ("sts" if action in (
            "AssumeRole", "GetCallerIdentity") else "iam")

    def _expired(self, akid, acct):
        """True when `akid` is an AssumeRole key whose Expiration has passed (moto itself
        never checks).  Long-term keys and the dummy credentials never expire."""
        if not akid.startswith("ASIA"):
            return False
        expiry = self.expiry_cache.get(akid)
        if expiry is None:
            try:
                roles = self.sts_backends[acct]["aws"].assumed_roles
            except Exception:
                return False
            for role in list(roles):
                if role.access_key_id == akid:
                    expiry = self.expiry_cache[akid] = role.expiration
                    break
            else:
                return False
        return utcnow() >= expiry

    def _caller_arn(self, akid, acct):
        try:
            _, arn, _ = self.sts_backends[acct]["aws"].get_caller_identity(akid, REGION)
            return arn
        except Exception:
            return f"arn:aws:iam::{acct}:user/moto"

    def _signer_of(self, akid):
        """The IAM user whose long-term key `akid` is, or None (dummy or temporary
        credentials, unknown key)."""
        from moto.iam.models import iam_backends
        try:
            user = iam_backends[self._account_of_key(akid)]["aws"].get_user_from_access_key_id(akid)
        except Exception:
            return None
        return user.name if user else None

    # ---- fault decision
    def _pick(self, action, account, user, signer=lambda: None):
        delay_ms, fault = 0, None
        with self.fault_lock:
            for f in self.faults:
                if f["account_id"] not in ("*", account):
                    continue
                if f["action"] not in ("*", action):
                    continue
                if f["user"] is not None and f["user"] != user:
                    continue
                if f["signer"] is not None and f["signer"] != signer():
                    continue
                f["seen"] += 1
                if f["first"] is not None and f["seen"] > f["first"]:
                    continue
                if f["rate"] < 1.0 and self.rng.random() >= f["rate"]:
                    continue
                if f["kind"] == "latency":
                    delay_ms += f["latency_ms"]
                    continue
                fault = f
                break
        return delay_ms, fault

    # ---- responses
    @staticmethod
    def _json_response(start_response, status, obj, extra=()):
        body = json.dumps(obj).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body)))] + list(extra))
        return [body]

    def _error(self, start_response, protocol, service, status, code, json_type, message):
        rid = str(uuid.uuid4())
        reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 410: "Gone",
                  429: "Too Many Requests", 500: "Internal Server Error",
                  503: "Service Unavailable"}.get(status, "Error")
        if protocol == "json":
            body = json.dumps({"__type": json_type, "Message": message}).encode()
            headers = [("Content-Type", "application/x-amz-json-1.1"),
                       ("x-amzn-ErrorType", json_type), ("x-amzn-RequestId", rid)]
        else:
            ns = QUERY_NS.get(service, QUERY_NS["iam"])
            kind = "Sender" if status < 500 else "Receiver"
            body = (f'<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type>'
                    f"<Code>{_xml_escape(code)}</Code><Message>{_xml_escape(message)}"
                    f"</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
                    ).encode()
            headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {reason}", headers)
        return [body]

    @staticmethod
    def _report_in_progress(start_response):
        """GenerateCredentialReport's 200 answer while AWS is still building the report."""
        body = (f'<GenerateCredentialReportResponse xmlns="{QUERY_NS["iam"]}">'
                "<GenerateCredentialReportResult><State>INPROGRESS</State>"
                "<Description>Report generation in progress</Description>"
                "</GenerateCredentialReportResult><ResponseMetadata><RequestId>"
                f"{uuid.uuid4()}</RequestId></ResponseMetadata>"
                "</GenerateCredentialReportResponse>").encode()
        start_response("200 OK", [("Content-Type", "text/xml"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    def _apply(self, f, environ, start_response, protocol, service, action, params, akid,
               account):
        kind = f["kind"]
        if kind == "drop":
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            # werkzeug treats ConnectionError as "client went away": nothing is written.
            raise ConnectionAbortedError("keytriage emulator: fault drop")
        if kind == "deny":
            caller_acct = self._account_of_key(akid)
            who = self._caller_arn(akid, caller_acct)
            if action == "AssumeRole":
                resource = (params.get("RoleArn") or ["*"])[0]
            else:
                resource = f"arn:aws:{service}::{account}:*"
            msg = f["message"] or (f"User: {who} is not authorized to perform: "
                                   f"{service}:{action} on resource: {resource}")
            return self._error(start_response, protocol, service, f["status"],
                               f["code"] or "AccessDenied",
                               f["code"] or "AccessDeniedException", msg)
        if kind == "throttle":
            return self._error(start_response, protocol, service, f["status"],
                               f["code"] or "Throttling",
                               f["code"] or "TooManyRequestsException",
                               f["message"] or "Rate exceeded")
        if kind == "nosuchentity":
            user = (params.get("UserName") or [None])[0]
            key = (params.get("AccessKeyId") or [None])[0]
            msg = f["message"] or (f"The user with name {user} cannot be found." if user else
                                   f"The Access Key with id {key} cannot be found." if key
                                   else "The entity cannot be found.")
            return self._error(start_response, protocol, service, f["status"],
                               f["code"] or "NoSuchEntity",
                               f["code"] or "NoSuchEntityException", msg)
        if kind == "report_stuck":
            if action == "GenerateCredentialReport":
                return self._report_in_progress(start_response)
            return self._error(start_response, protocol, service, f["status"],
                               f["code"] or "ReportInProgress", f["code"] or "ReportInProgress",
                               f["message"] or "Report generation in progress.")
        # error
        status = f["status"]
        code = f["code"] or ("ServiceUnavailable" if status == 503 else "InternalFailure")
        return self._error(start_response, protocol, service, status, code, code,
                           f["message"] or "The request processing has failed because of "
                           "an unknown error, exception or failure.")

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_keytriage/"):
            return self._own_endpoint(path, method, start_response)
        if path.startswith("/moto-api") or path == "/favicon.ico":
            return self.app(environ, start_response)
        info = self._inspect(environ)
        if info is None:
            return self.app(environ, start_response)
        action, protocol, params, akid, service = info
        account = role_arn = None
        if action == "AssumeRole":
            role_arn = (params.get("RoleArn") or [""])[0]
            m = ROLE_ARN_RE.match(role_arn)
            account = m.group(1) if m else None
        if account is None:
            account = self._account_of_key(akid)
        if self._expired(akid, self._account_of_key(akid)):
            # AWS checks the credentials before anything else: no fault, no latency.
            self.stats.record(action, account, True, False, role_arn)
            return self._error(start_response, protocol, service, 400, "ExpiredToken",
                               "ExpiredTokenException",
                               "The security token included in the request is expired")
        user = (params.get("UserName") or [None])[0]
        delay_ms, fault = self._pick(action, account, user, lambda: self._signer_of(akid))
        self.stats.record(action, account, fault is not None, delay_ms > 0, role_arn)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if fault is not None:
            if fault["after"]:
                # The call takes effect in moto; its answer is thrown away and the fault
                # answers instead (a response lost after the write was made).
                body = self.app(environ, lambda *a, **k: (lambda data: None))
                try:
                    for _ in body:
                        pass
                finally:
                    close = getattr(body, "close", None)
                    if close is not None:
                        close()
            return self._apply(fault, environ, start_response, protocol, service, action,
                               params, akid, account)
        if action == "BatchImportFindings":
            try:
                n = len(json.loads(self._read_body(environ) or b"{}").get("Findings") or [])
            except (ValueError, AttributeError):
                n = 0
            if n > SECURITYHUB_BATCH_LIMIT:
                return self._error(start_response, "json", service, 400, "InvalidInputException",
                                   "InvalidInputException",
                                   f"Findings: {n} findings in one request; at most "
                                   f"{SECURITYHUB_BATCH_LIMIT} are allowed")
        if action in SSC_ACTIONS and protocol == "query":
            try:
                body, request_id = ssc_handle(action, params, account)
            except _SscError as e:
                return self._error(start_response, protocol, service, e.status, e.code,
                                   e.code, e.message)
            start_response("200 OK", [("Content-Type", "text/xml"),
                                      ("Content-Length", str(len(body))),
                                      ("x-amzn-RequestId", request_id)])
            return [body]
        return self.app(environ, start_response)

    def _own_endpoint(self, path, method, start_response):
        if path == "/_keytriage/stats" and method == "GET":
            return self._json_response(start_response, "200 OK", self.stats.snapshot())
        if path == "/_keytriage/stats/reset" and method == "POST":
            with self.stats.lock:
                self.stats.reset()
            return self._json_response(start_response, "200 OK", self.stats.snapshot())
        if path == "/_keytriage/scenario" and method == "GET":
            return self._json_response(start_response, "200 OK", scenario_info())
        return self._json_response(start_response, "404 Not Found",
                                   {"error": f"no such endpoint: {method} {path}"})


def _xml_escape(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def scenario_info():
    return {
        "seeded_at": KT.now.strftime("%Y-%m-%dT%H:%M:%SZ") if KT.now else None,
        "management_account_id": MGMT,
        "organization": KT.org,
        "accounts": {v["name"]: {"id": k, "state": v["state"], "ou": v["ou"],
                                 "created": v["created"].strftime("%Y-%m-%dT%H:%M:%SZ")}
                     for k, v in KT.accounts.items()},
    }


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------

def warm_up(app):
    """Build moto's per-service Flask apps and load the botocore models before READY, so
    the client's first calls are not slow.  Goes straight to moto: not counted."""
    from werkzeug.test import Client
    client = Client(app)
    for svc, data, target in (
            ("sts", "Action=GetCallerIdentity&Version=2011-06-15", None),
            ("iam", "Action=ListAccountAliases&Version=2010-05-08", None),
            ("organizations", "{}", "AWSOrganizationsV20161128.DescribeOrganization")):
        headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"
                                    f"20240101/{REGION}/{svc}/aws4_request, "
                                    "SignedHeaders=host, Signature=0"}
        ctype = "application/x-www-form-urlencoded; charset=utf-8"
        if target:
            headers["X-Amz-Target"] = target
            ctype = "application/x-amz-json-1.1"
        client.post("/", data=data, headers=headers, content_type=ctype)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    ap.add_argument("--exit-with-stdin", action="store_true",
                    help="also exit when stdin reaches EOF (parent went away)")
    args = ap.parse_args(argv)

    if args.exit_with_stdin:
        # The parent holds the only write end of our stdin: EOF means it is gone (even by
        # kill -9), so exit at once, also while still seeding. Nothing is kept on disk.
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except Exception:
                pass
            sys.stderr.flush()
            os._exit(0)
        threading.Thread(target=watch_stdin, daemon=True).start()

    # Anything that overrides moto's account selection would break the emulation.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.ERROR)

    t0 = time.monotonic()
    try:
        with open(args.scenario, encoding="utf-8") as fh:
            sc = parse_scenario(json.load(fh))
        KT.session_seconds = sc["session_seconds"]
        KT.report_frozen = sc["report_frozen"]
        install_moto_patches()
        seed(sc)
        from moto.moto_server.werkzeug_app import (DomainDispatcherApplication,
                                                   MotoRequestHandler, create_backend_app)
        from werkzeug.serving import make_server
        moto_app = DomainDispatcherApplication(create_backend_app)
        warm_up(moto_app)
        app = KeytriageMiddleware(moto_app, sc["faults"], sc["fault_seed"])
        server = make_server(args.host, args.port, app, threaded=True,
                             request_handler=MotoRequestHandler)
    except (ScenarioError, json.JSONDecodeError, OSError) as e:
        print(f"emulator: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # moto refused something while seeding
        import traceback
        traceback.print_exc()
        print(f"emulator: seeding failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if args.verbose:
        print(f"emulator: seeded in {time.monotonic() - t0:.2f}s", file=sys.stderr)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    print(f"READY {server.server_port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    thread.join(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

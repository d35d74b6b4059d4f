"""Validate keytriage's OCSF output with an external OCSF consumer: py-ocsf-models (the
models Prowler uses).

    python ocsf_validate.py EVENTS.json

EVENTS.json is a JSON array of events. Each one must parse as a ComplianceFinding, and
every key in it must be a field of the model it lands in (pydantic ignores unknown keys,
which would hide a misspelt field). Prints one JSON object on stdout:
{"valid": N, "invalid": N, "rules": [event_code...], "severity_ids": {...}, "errors": [...]}
and exits 1 when any event is invalid.
"""

import json
import sys

from pydantic import BaseModel, ValidationError
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding


def unknown_keys(model, data, path):
    """Paths of keys in `data` that are not fields of `model` (recursively)."""
    out = []
    if not isinstance(model, BaseModel) or not isinstance(data, dict):
        return out
    fields = type(model).model_fields
    for key, value in data.items():
        if key not in fields:
            out.append(f"{path}.{key}")
            continue
        attr = getattr(model, key)
        if isinstance(attr, list) and isinstance(value, list):
            for i, (m, d) in enumerate(zip(attr, value)):
                out += unknown_keys(m, d, f"{path}.{key}[{i}]")
        else:
            out += unknown_keys(attr, value, f"{path}.{key}")
    return out


def main(path):
    with open(path, encoding="utf-8") as fh:
        events = json.load(fh)
    result = {"valid": 0, "invalid": 0, "rules": [], "severity_ids": {}, "errors": []}
    for i, event in enumerate(events):
        try:
            model = ComplianceFinding.model_validate(event)
        except ValidationError as e:
            result["invalid"] += 1
            result["errors"].append(f"event {i}: {e}")
            continue
        extra = unknown_keys(model, event, "")
        if extra:
            result["invalid"] += 1
            result["errors"].append(f"event {i}: not OCSF fields: {', '.join(extra)}")
            continue
        result["valid"] += 1
        rule = model.metadata.event_code
        if rule not in result["rules"]:
            result["rules"].append(rule)
        result["severity_ids"][model.finding_info.uid] = int(model.severity_id)
    print(json.dumps(result))
    return 1 if result["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

//! Findings as OCSF events (`keytriage scan --format ocsf`): a JSON array, one event per
//! finding, schema version [`OCSF_VERSION`].
//!
//! **Class: Compliance Finding (2003)**, not Detection Finding (2004). Every keytriage rule
//! is a configuration check against a control (CIS AWS Foundations v3.0, Security Hub's
//! AWS Foundational Security Best Practices, Well-Architected SEC02-BP05) that a credential
//! failed; nothing is detected in activity. Compliance Finding carries the `compliance`
//! object (standards, control, requirements, pass/fail status) where those ids belong;
//! Detection Finding is meant for detections of suspicious activity (Prowler emits it for
//! every check, which loses the control structure).
//!
//! Each event: `activity_id` 1 (Create), `type_uid` 200301, `severity_id` (info 1, low 2,
//! medium 3, high 4, critical 5), `status_id` from the triage against the previous recorded
//! scan (1 New, 2 In Progress for a finding open since an earlier scan, 3 Suppressed for an
//! excepted one), `time` (ms since the Unix epoch, UTC), `finding_info.uid` = the same
//! stable id as ASFF (`keytriage/<account>/<rule>/<credential>`), `compliance` with
//! `status_id` 3 (Fail), and one resource: the access key (`AwsIamAccessKey`), the user
//! (`AwsIamUser`, uid = its ARN), the role (`AwsIamRole`, uid = its ARN; owner type 99
//! `Role`) or the account (`AwsAccount`, for the root user). The
//! resource's `owner` is the principal: uid = user ARN, `credential_uid` = the key id, and
//! its `account` (uid = account id, name, `type_id` 10 AWS Account).
//!
//! Only fields of the OCSF schema are written (the tests check every key against the
//! `py-ocsf-models` classes).

use crate::audit::{Finding, ROOT_USER, Severity};
use crate::model::Timestamp;
use crate::report::asff::finding_id;
use crate::scan::OrgScan;
use crate::triage::Status;
use serde_json::{Value, json};
use std::io::Write;

/// The OCSF schema version every event declares (`metadata.version`).
pub const OCSF_VERSION: &str = "1.5.0";
/// Compliance Finding.
pub const CLASS_UID: u32 = 2003;
/// Findings.
pub const CATEGORY_UID: u32 = 2;
/// `class_uid * 100 + activity_id` (Create).
pub const TYPE_UID: u32 = 200_301;

/// OCSF `severity_id` of a keytriage severity.
pub fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "Informational",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

/// The standards a rule's controls belong to, always including SEC02-BP05.
fn standards(controls: &[&str]) -> Vec<&'static str> {
    let mut out = Vec::new();
    if controls.iter().any(|c| c.starts_with("CIS ")) {
        out.push("CIS AWS Foundations Benchmark v3.0.0");
    }
    if controls.iter().any(|c| !c.starts_with("CIS ")) {
        out.push("AWS Foundational Security Best Practices");
    }
    out.push("AWS Well-Architected Framework SEC02-BP05");
    out
}

/// One event per finding, in the order given, at `now`. `statuses` are the findings'
/// lifecycle from the triage against the previous recorded scan, in the same order (a
/// missing one reads as new).
pub fn events(scan: &OrgScan, findings: &[Finding], statuses: &[Status], now: Timestamp) -> Vec<Value> {
    findings
        .iter()
        .enumerate()
        .map(|(i, f)| event(scan, f, statuses.get(i).copied().unwrap_or(Status::New), now))
        .collect()
}

/// OCSF's finding `status_id` and `status`: new 1 New, open 2 In Progress, excepted 3
/// Suppressed (an accepted risk until its exception expires).
fn status(s: Status) -> (u8, &'static str) {
    match s {
        Status::New => (1, "New"),
        Status::Open => (2, "In Progress"),
        Status::Excepted => (3, "Suppressed"),
    }
}

fn event(scan: &OrgScan, f: &Finding, lifecycle: Status, now: Timestamp) -> Value {
    let (status_id, status_name) = status(lifecycle);
    let account = scan.accounts.iter().find(|a| a.account.id == f.account_id);
    let account_name = account.map_or_else(|| f.account_id.to_string(), |a| a.account.name.clone());
    let user = account.and_then(|a| a.users.iter().find(|u| u.name == f.user));
    let partition = user
        .and_then(|u| u.arn.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_owned();
    let role_arn = f.role().and(f.credential.as_ref()).map(|c| c.id.clone());
    let principal_arn = if f.user == ROOT_USER {
        format!("arn:{partition}:iam::{}:root", f.account_id)
    } else if let Some(arn) = &role_arn {
        arn.clone()
    } else {
        user.map(|u| u.arn.clone())
            .unwrap_or_else(|| format!("arn:{partition}:iam::{}:user/{}", f.account_id, f.user))
    };
    let mut owner = json!({
        "uid": principal_arn,
        "name": f.user,
        "type": if f.user == ROOT_USER { "Admin" } else if role_arn.is_some() { "Role" } else { "User" },
        "type_id": if f.user == ROOT_USER { 2 } else if role_arn.is_some() { 99 } else { 1 },
        "account": {
            "uid": f.account_id.as_str(),
            "name": account_name,
            "type": "AWS Account",
            "type_id": 10,
        },
    });
    let resource = match (&f.access_key_id, f.user.as_str()) {
        (Some(key), _) => {
            owner["credential_uid"] = json!(key.as_str());
            json!({"type": "AwsIamAccessKey", "uid": key.as_str(), "name": key.as_str()})
        }
        (None, name) if role_arn.is_some() => json!({"type": "AwsIamRole", "uid": principal_arn, "name": name}),
        (None, ROOT_USER) => json!({
            "type": "AwsAccount", "uid": f.account_id.as_str(), "name": account_name,
        }),
        (None, name) => json!({"type": "AwsIamUser", "uid": principal_arn, "name": name}),
    };
    let mut resource = resource;
    resource["cloud_partition"] = json!(partition);
    resource["owner"] = owner;
    let (cis, hub): (Vec<&str>, Vec<&str>) = f.controls.iter().partition(|c| c.starts_with("CIS "));
    let mut compliance = json!({
        "standards": standards(f.controls),
        "requirements": f.controls,
        "status_id": 3,
    });
    if let Some(control) = hub.first().or(cis.first()) {
        compliance["control"] = json!(control);
    }
    let time = now.timestamp_millis();
    json!({
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "keytriage",
                "vendor_name": "keytriage",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "event_code": f.rule.id(),
        },
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": TYPE_UID,
        "type_name": "Compliance Finding: Create",
        "severity_id": severity_id(f.severity),
        "severity": severity_name(f.severity),
        "status_id": status_id,
        "status": status_name,
        "time": time,
        "message": f.detail,
        "finding_info": {
            "uid": finding_id(f),
            "title": format!("{}: {}", f.rule.id(), f.access_key_id.as_ref().map_or(f.user.as_str(), |k| k.as_str())),
            "desc": f.detail,
            "types": [f.rule.id()],
            "created_time": time,
        },
        "compliance": compliance,
        "resources": [resource],
    })
}

/// Writes the events as a pretty JSON array followed by a newline.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_ocsf(out: &mut dyn Write, events: &[Value]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, events)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Rule;
    use crate::model::{AccessKeyId, AccountId};

    #[test]
    fn a_key_finding_carries_account_principal_credential_and_controls() {
        let scan = OrgScan {
            organization: None,
            accounts: vec![],
            warnings: vec![],
            missing: vec![],
        };
        let f = Finding {
            rule: Rule::KeyNotRotated,
            severity: Severity::High,
            account_id: AccountId::parse("222222222222").unwrap(),
            user: "alice".into(),
            access_key_id: Some(AccessKeyId("AKIAAAAAAAAAAAAAAAAA".into())),
            credential: None,
            detail: "active key is 400 days old (limit 90)".into(),
            controls: Rule::KeyNotRotated.controls(),
        };
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let all = events(
            &scan,
            &[f.clone(), f.clone(), f],
            &[Status::New, Status::Open, Status::Excepted],
            now,
        );
        let lifecycle: Vec<(i64, &str)> = all
            .iter()
            .map(|e| (e["status_id"].as_i64().unwrap(), e["status"].as_str().unwrap()))
            .collect();
        assert_eq!(lifecycle, [(1, "New"), (2, "In Progress"), (3, "Suppressed")]);
        let e = &all[0];
        assert_eq!(e["class_uid"], 2003);
        assert_eq!(e["type_uid"], 200_301);
        assert_eq!(e["severity_id"], 4);
        assert_eq!(e["time"], 1_700_000_000_000_i64);
        assert_eq!(e["metadata"]["version"], "1.5.0");
        assert_eq!(
            e["finding_info"]["uid"],
            "keytriage/222222222222/key-not-rotated/AKIAAAAAAAAAAAAAAAAA"
        );
        assert_eq!(e["compliance"]["control"], "IAM.3");
        assert_eq!(e["compliance"]["requirements"], json!(["CIS 1.14", "IAM.3"]));
        let r = &e["resources"][0];
        assert_eq!(r["type"], "AwsIamAccessKey");
        assert_eq!(r["owner"]["uid"], "arn:aws:iam::222222222222:user/alice");
        assert_eq!(r["owner"]["credential_uid"], "AKIAAAAAAAAAAAAAAAAA");
        assert_eq!(r["owner"]["account"]["uid"], "222222222222");
    }

    #[test]
    fn severity_ids_follow_ocsf() {
        let ids: Vec<u8> = Severity::ALL.iter().map(|s| severity_id(*s)).collect();
        assert_eq!(ids, [5, 4, 3, 2, 1]);
    }
}

//! Findings in the AWS Security Finding Format (ASFF, schema `2018-10-08`): what
//! `keytriage scan --format asff` writes and what `scan --security-hub` imports. Pure
//! mapping: no AWS calls (those are in `aws::securityhub`).
//!
//! - **Id**: `keytriage/<account>/<rule>/<credential>` ([`finding_id`]), stable across scans, so
//!   a rescan updates a finding instead of adding another.
//! - **Where**: `AwsAccountId` and `ProductArn` are the *caller's* account (the account the
//!   findings are imported into, the delegated administrator in practice): Security Hub
//!   accepts findings under the default product ARN only for the calling account. The
//!   account the credential lives in is in the resource (its ARN and details) and in
//!   `ProductFields["keytriage/account_id"]`.
//! - **Resources**: `AwsIamAccessKey` (with status, creation and owner) when the finding is
//!   about a key, `AwsIamUser` when about a user, `AwsIamRole` (its ARN) when about a role,
//!   `AwsAccount` for the root user.
//! - **Severity**: `Label` CRITICAL/HIGH/MEDIUM/LOW/INFORMATIONAL, `Original` the rule's
//!   severity word. **Compliance**: `FAILED`, CIS numbers as `RelatedRequirements`, the
//!   Security Hub control id as `SecurityControlId`.

use crate::audit::{Finding, ROOT_USER, Severity};
use crate::model::{AccountId, Timestamp, User};
use crate::scan::OrgScan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;

/// The ASFF schema version.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// Every finding's `Id` starts with this, and its `GeneratorId` is this plus the rule id.
pub const ID_PREFIX: &str = "keytriage/";
/// `Types` of every finding (the ASFF type taxonomy's namespace/category).
pub const FINDING_TYPE: &str =
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";

/// Where the findings are imported: the caller's partition, account and the Security Hub
/// region. Fixes `ProductArn` and `AwsAccountId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// `aws`, `aws-cn` or `aws-us-gov` (from the caller's ARN).
    pub partition: String,
    /// The account Security Hub receives the findings in (the caller's).
    pub account_id: AccountId,
    /// The Security Hub region, e.g. `us-east-1`.
    pub region: String,
}

impl Destination {
    /// The default product ARN for findings of the account's own:
    /// `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`.
    pub fn product_arn(&self) -> String {
        format!(
            "arn:{p}:securityhub:{r}:{a}:product/{a}/default",
            p = self.partition,
            r = self.region,
            a = self.account_id
        )
    }
}

/// One ASFF finding (the fields keytriage sets), serialized with ASFF's PascalCase names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// [`finding_id`].
    pub id: String,
    /// [`Destination::product_arn`].
    pub product_arn: String,
    /// `keytriage`.
    pub product_name: String,
    /// `keytriage`.
    pub company_name: String,
    /// `keytriage/<rule>`.
    pub generator_id: String,
    /// The destination (caller's) account.
    pub aws_account_id: String,
    /// `[FINDING_TYPE]`.
    pub types: Vec<String>,
    /// When keytriage first reported it (RFC 3339, UTC): kept from Security Hub's copy on
    /// re-import, else the scan time.
    pub created_at: String,
    /// The scan time (RFC 3339, UTC).
    pub updated_at: String,
    /// Severity label and original word.
    pub severity: AsffSeverity,
    /// `<rule>: <user>` (or the key), at most 256 characters.
    pub title: String,
    /// The finding's one-line detail.
    pub description: String,
    /// Control status and ids.
    pub compliance: AsffCompliance,
    /// The key, user or account the finding is about (exactly one).
    pub resources: Vec<AsffResource>,
    /// `ACTIVE`, or `ARCHIVED` for a finding that is gone.
    pub record_state: String,
    /// `keytriage/rule`, `keytriage/account_id`, `keytriage/user`, `keytriage/access_key_id`.
    pub product_fields: BTreeMap<String, String>,
}

/// `Severity` of a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    /// CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL.
    pub label: String,
    /// keytriage's word: critical, high, medium, low, info.
    pub original: String,
}

/// `Compliance` of a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    /// Always `FAILED`.
    pub status: String,
    /// CIS numbers, e.g. `CIS AWS Foundations Benchmark v3.0.0/1.14`.
    pub related_requirements: Vec<String>,
    /// The Security Hub control id (`IAM.3`), when the rule has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_control_id: Option<String>,
}

/// One `Resources` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    /// `AwsIamAccessKey`, `AwsIamUser` or `AwsAccount`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// Access key: `AWS::IAM::AccessKey:<key id>`; user: its ARN; account: `AWS::::Account:<id>`.
    pub id: String,
    /// The partition.
    pub partition: String,
    /// The Security Hub region (IAM is global).
    pub region: String,
    /// `AwsIamAccessKey` or `AwsIamUser` details; absent for `AwsAccount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<AsffDetails>,
}

/// `Resources[].Details`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffDetails {
    /// For a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_iam_access_key: Option<AsffAccessKey>,
    /// For a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_iam_user: Option<AsffUser>,
}

/// `Details.AwsIamAccessKey`. Source: `iam:ListAccessKeys`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffAccessKey {
    /// The key id.
    pub access_key_id: String,
    /// The account the key lives in.
    pub account_id: String,
    /// `Active` or `Inactive`; absent when the key is not in the inventory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Key creation (RFC 3339, UTC), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The owning user's name.
    pub principal_name: String,
    /// `IAMUser`.
    pub principal_type: String,
}

/// `Details.AwsIamUser`. Source: `iam:ListUsers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffUser {
    /// User name.
    pub user_name: String,
    /// IAM path.
    pub path: String,
    /// Creation (RFC 3339, UTC).
    pub create_date: String,
}

/// `keytriage/<account>/<rule>/<credential>`: the credential is the access key id, the user
/// name and the other credential's id (`alice/APKA…`: SSH key, certificate,
/// service-specific credential), `role/<name>` for a role, the user name for findings about
/// a user (password, MFA, several keys, stale), or `root`.
pub fn finding_id(f: &Finding) -> String {
    let credential = match (&f.access_key_id, f.user.as_str()) {
        (Some(k), _) => k.as_str().to_owned(),
        (None, role) if f.role().is_some() => format!("role/{role}"),
        (None, user) if f.credential.is_some() => {
            format!("{user}/{}", f.credential.as_ref().map_or("", |c| c.id.as_str()))
        }
        (None, ROOT_USER) => "root".to_owned(),
        (None, user) => user.to_owned(),
    };
    format!("{ID_PREFIX}{}/{}/{credential}", f.account_id, f.rule.id())
}

/// ASFF's severity label of a keytriage severity.
pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFORMATIONAL",
    }
}

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Maps findings to ASFF, in the order given, all `ACTIVE`, `CreatedAt` = `UpdatedAt` =
/// `now`. Users and keys are looked up in `scan` for the resource details.
pub fn findings(scan: &OrgScan, findings: &[Finding], dest: &Destination, now: Timestamp) -> Vec<AsffFinding> {
    findings.iter().map(|f| finding(scan, f, dest, now)).collect()
}

fn user_of<'a>(scan: &'a OrgScan, f: &Finding) -> Option<&'a User> {
    scan.accounts
        .iter()
        .find(|a| a.account.id == f.account_id)?
        .users
        .iter()
        .find(|u| u.name == f.user)
}

fn finding(scan: &OrgScan, f: &Finding, dest: &Destination, now: Timestamp) -> AsffFinding {
    let user = user_of(scan, f);
    let partition = dest.partition.clone();
    let resource = if f.user == ROOT_USER {
        AsffResource {
            kind: "AwsAccount".into(),
            id: format!("AWS::::Account:{}", f.account_id),
            partition,
            region: dest.region.clone(),
            details: None,
        }
    } else if let (Some(_), Some(c)) = (f.role(), &f.credential) {
        AsffResource {
            kind: "AwsIamRole".into(),
            id: c.id.clone(),
            partition,
            region: dest.region.clone(),
            details: None,
        }
    } else if let Some(key) = &f.access_key_id {
        let known = user.and_then(|u| u.access_keys.iter().find(|k| &k.id == key));
        AsffResource {
            kind: "AwsIamAccessKey".into(),
            id: format!("AWS::IAM::AccessKey:{key}"),
            partition,
            region: dest.region.clone(),
            details: Some(AsffDetails {
                aws_iam_access_key: Some(AsffAccessKey {
                    access_key_id: key.as_str().to_owned(),
                    account_id: f.account_id.to_string(),
                    status: known.map(|k| k.status.as_str().to_owned()),
                    created_at: known.map(|k| rfc3339(k.created)),
                    principal_name: f.user.to_string(),
                    principal_type: "IAMUser".into(),
                }),
                aws_iam_user: None,
            }),
        }
    } else {
        AsffResource {
            kind: "AwsIamUser".into(),
            id: user
                .map(|u| u.arn.clone())
                .unwrap_or_else(|| format!("arn:{}:iam::{}:user/{}", dest.partition, f.account_id, f.user)),
            partition,
            region: dest.region.clone(),
            details: user.map(|u| AsffDetails {
                aws_iam_access_key: None,
                aws_iam_user: Some(AsffUser {
                    user_name: u.name.clone(),
                    path: u.path.clone(),
                    create_date: rfc3339(u.created),
                }),
            }),
        }
    };
    let (cis, hub): (Vec<&str>, Vec<&str>) = f.controls.iter().partition(|c| c.starts_with("CIS "));
    let subject = f.access_key_id.as_ref().map_or(f.user.as_str(), |k| k.as_str());
    let mut title = format!("{}: {subject}", f.rule.id());
    if title.len() > 256 {
        let mut end = 256;
        while !title.is_char_boundary(end) {
            end -= 1;
        }
        title.truncate(end);
    }
    let mut fields = BTreeMap::new();
    fields.insert("keytriage/rule".into(), f.rule.id().into());
    fields.insert("keytriage/account_id".into(), f.account_id.to_string());
    fields.insert("keytriage/user".into(), f.user.to_string());
    if let Some(k) = &f.access_key_id {
        fields.insert("keytriage/access_key_id".into(), k.as_str().into());
    }
    AsffFinding {
        schema_version: SCHEMA_VERSION.into(),
        id: finding_id(f),
        product_arn: dest.product_arn(),
        product_name: "keytriage".into(),
        company_name: "keytriage".into(),
        generator_id: format!("{ID_PREFIX}{}", f.rule.id()),
        aws_account_id: dest.account_id.to_string(),
        types: vec![FINDING_TYPE.into()],
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
        severity: AsffSeverity {
            label: severity_label(f.severity).into(),
            original: f.severity.as_str().into(),
        },
        title,
        description: if f.detail.is_empty() {
            f.rule.id().into()
        } else {
            f.detail.clone()
        },
        compliance: AsffCompliance {
            status: "FAILED".into(),
            related_requirements: cis
                .iter()
                .map(|c| format!("CIS AWS Foundations Benchmark v3.0.0/{}", c.trim_start_matches("CIS ")))
                .collect(),
            security_control_id: hub.first().map(|s| (*s).to_owned()),
        },
        resources: vec![resource],
        record_state: "ACTIVE".into(),
        product_fields: fields,
    }
}

/// Writes the findings as a pretty JSON array followed by a newline.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_asff(out: &mut dyn Write, findings: &[AsffFinding]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, findings)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Rule;
    use crate::model::AccessKeyId;

    fn dest() -> Destination {
        Destination {
            partition: "aws".into(),
            account_id: AccountId::parse("123456789012").unwrap(),
            region: "eu-west-1".into(),
        }
    }

    fn f(rule: Rule, user: &str, key: Option<&str>) -> Finding {
        Finding {
            rule,
            severity: rule.severity(),
            account_id: AccountId::parse("222222222222").unwrap(),
            user: user.into(),
            access_key_id: key.map(|k| AccessKeyId(k.into())),
            credential: None,
            detail: "d".into(),
            controls: rule.controls(),
        }
    }

    fn empty() -> OrgScan {
        OrgScan {
            organization: None,
            accounts: vec![],
            warnings: vec![],
            missing: vec![],
        }
    }

    #[test]
    fn ids_name_account_rule_and_credential() {
        assert_eq!(
            finding_id(&f(Rule::KeyNotRotated, "alice", Some("AKIAAAAAAAAAAAAAAAAA"))),
            "keytriage/222222222222/key-not-rotated/AKIAAAAAAAAAAAAAAAAA"
        );
        assert_eq!(
            finding_id(&f(Rule::ConsoleWithoutMfa, "alice", None)),
            "keytriage/222222222222/console-without-mfa/alice"
        );
        assert_eq!(
            finding_id(&f(Rule::RootNoMfa, ROOT_USER, None)),
            "keytriage/222222222222/root-no-mfa/root"
        );
    }

    #[test]
    fn key_finding_maps_severity_controls_and_resource() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .to_utc();
        let out = findings(
            &empty(),
            &[f(Rule::KeyNotRotated, "alice", Some("AKIAAAAAAAAAAAAAAAAA"))],
            &dest(),
            now,
        );
        let v = serde_json::to_value(&out[0]).unwrap();
        assert_eq!(
            v["ProductArn"],
            "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
        );
        assert_eq!(v["AwsAccountId"], "123456789012");
        assert_eq!(v["GeneratorId"], "keytriage/key-not-rotated");
        assert_eq!(v["Severity"]["Label"], "HIGH");
        assert_eq!(v["CreatedAt"], "2026-01-02T03:04:05Z");
        assert_eq!(
            v["Compliance"]["RelatedRequirements"][0],
            "CIS AWS Foundations Benchmark v3.0.0/1.14"
        );
        assert_eq!(v["Compliance"]["SecurityControlId"], "IAM.3");
        assert_eq!(v["Resources"][0]["Type"], "AwsIamAccessKey");
        assert_eq!(
            v["Resources"][0]["Details"]["AwsIamAccessKey"]["AccountId"],
            "222222222222"
        );
        assert_eq!(
            v["Resources"][0]["Details"]["AwsIamAccessKey"]["PrincipalName"],
            "alice"
        );
        assert_eq!(v["ProductFields"]["keytriage/account_id"], "222222222222");
        assert_eq!(v["RecordState"], "ACTIVE");
    }

    #[test]
    fn root_is_an_account_resource_and_users_are_users() {
        let now = chrono::Utc::now();
        let out = findings(
            &empty(),
            &[f(Rule::RootNoMfa, ROOT_USER, None), f(Rule::StaleUser, "bob", None)],
            &dest(),
            now,
        );
        assert_eq!(out[0].resources[0].kind, "AwsAccount");
        assert_eq!(out[0].resources[0].id, "AWS::::Account:222222222222");
        assert_eq!(out[0].severity.label, "CRITICAL");
        assert_eq!(out[1].resources[0].kind, "AwsIamUser");
        assert_eq!(out[1].resources[0].id, "arn:aws:iam::222222222222:user/bob");
        assert_eq!(out[1].compliance.related_requirements, Vec::<String>::new());
        assert_eq!(out[1].compliance.security_control_id.as_deref(), Some("IAM.8"));
    }
}

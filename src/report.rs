//! The headless report: the versioned JSON scan document (schema `keytriage.scan/v1`,
//! described in the README and the types below), CSV (one row per
//! finding) and the `--fail-on` exit code. It reads the same findings the TUI shows.

use crate::audit::{Finding, Policy, Severity};
use crate::model::{AccountScan, Organization, Timestamp};
use crate::scan::OrgScan;
use serde::Serialize;
use std::io::Write;

/// The schema id of the JSON document; bumped on any incompatible change.
pub const SCHEMA: &str = "keytriage.scan/v1";

/// The JSON scan document (`keytriage scan --format json`).
#[derive(Debug, Serialize)]
pub struct ScanDocument<'a> {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// When the audit was evaluated (UTC, RFC 3339).
    pub generated_at: Timestamp,
    /// Thresholds used.
    pub policy: &'a Policy,
    /// `null` for a standalone account.
    pub organization: Option<&'a Organization>,
    /// Every selected account with its inventory.
    pub accounts: &'a [AccountScan],
    /// All findings, worst first.
    pub findings: &'a [Finding],
}

impl<'a> ScanDocument<'a> {
    /// Assembles the document.
    pub fn new(scan: &'a OrgScan, policy: &'a Policy, findings: &'a [Finding], now: Timestamp) -> Self {
        Self {
            schema: SCHEMA,
            generated_at: now,
            policy,
            organization: scan.organization.as_ref(),
            accounts: &scan.accounts,
            findings,
        }
    }
}

/// Writes the document as pretty JSON followed by a newline.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_json(out: &mut dyn Write, doc: &ScanDocument<'_>) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    out.write_all(b"\n")
}

/// Writes one CSV row per finding, with a header:
/// `severity,rule,account_id,account_name,user,access_key_id,detail,controls`
/// (`controls` joined with `;`).
///
/// # Errors
/// I/O errors of `out`.
pub fn write_csv(out: &mut dyn Write, scan: &OrgScan, findings: &[Finding]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "severity",
        "rule",
        "account_id",
        "account_name",
        "user",
        "access_key_id",
        "detail",
        "controls",
    ])?;
    for f in findings {
        let name = scan
            .accounts
            .iter()
            .find(|a| a.account.id == f.account_id)
            .map(|a| a.account.name.as_str());
        w.write_record([
            f.severity.as_str(),
            f.rule.id(),
            f.account_id.as_str(),
            name.unwrap_or_default(),
            &f.user,
            f.access_key_id.as_ref().map(|k| k.as_str()).unwrap_or_default(),
            &f.detail,
            &f.controls.join(";"),
        ])?;
    }
    w.flush()
}

/// Exit code of a finished scan: 2 when a finding at or above `fail_on` exists, else 0.
pub fn exit_code(findings: &[Finding], fail_on: Option<Severity>) -> i32 {
    match fail_on {
        Some(level) if findings.iter().any(|f| f.severity >= level) => 2,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Rule;
    use crate::model::AccountId;

    fn finding(severity: Severity) -> Finding {
        Finding {
            rule: Rule::KeyUnused,
            severity,
            account_id: AccountId::parse("111111111111").unwrap(),
            user: "alice".into(),
            access_key_id: None,
            detail: "d, with comma".into(),
            controls: &["CIS 1.12", "IAM.22"],
        }
    }

    #[test]
    fn fail_on_is_at_or_above() {
        let f = vec![finding(Severity::Medium)];
        assert_eq!(exit_code(&f, None), 0);
        assert_eq!(exit_code(&f, Some(Severity::Medium)), 2);
        assert_eq!(exit_code(&f, Some(Severity::Low)), 2);
        assert_eq!(exit_code(&f, Some(Severity::High)), 0);
    }

    #[test]
    fn csv_quotes_and_joins_controls() {
        let scan = OrgScan {
            organization: None,
            accounts: vec![],
            warnings: vec![],
            missing: vec![],
        };
        let mut out = Vec::new();
        write_csv(&mut out, &scan, &[finding(Severity::Medium)]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "severity,rule,account_id,account_name,user,access_key_id,detail,controls\n\
             medium,key-unused,111111111111,,alice,,\"d, with comma\",CIS 1.12;IAM.22\n"
        );
    }
}

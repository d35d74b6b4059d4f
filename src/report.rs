//! The headless report: the versioned JSON scan document (schema [`SCHEMA`]), CSV (one row
//! per finding, plus one row per account that was not audited in full) and the exit-code
//! policy of `keytriage scan` ([`verdict`]). It reads the same findings the TUI shows.
//! [`asff`] maps them to the AWS Security Finding Format, [`ocsf`] to OCSF events.

pub mod asff;
pub mod ocsf;

use crate::audit::{Finding, Policy, Severity};
use crate::exceptions::Exception;
use crate::model::{AccountScan, Organization, ScanStatus, Timestamp};
use crate::scan::OrgScan;
use crate::text::plural;
use crate::triage::{Changes, Outcome, Recorded, Status, Triage};
use serde::Serialize;
use std::borrow::Cow;
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
    /// Who ran the scan: the caller's ARN from `sts:GetCallerIdentity`
    /// (`arn:aws:iam::123456789012:user/alice`, `arn:aws:sts::…:assumed-role/…`).
    /// `null` when not known. Additive field of v1.
    pub caller: Option<&'a str>,
    /// Thresholds used.
    pub policy: &'a Policy,
    /// `null` for a standalone account.
    pub organization: Option<&'a Organization>,
    /// Every selected account with its inventory.
    pub accounts: &'a [AccountScan],
    /// All findings, worst first (as [`Self::entries`] writes them).
    #[serde(skip)]
    pub findings: &'a [Finding],
    /// The findings as written: each finding's fields, plus, once [`Self::with_triage`] set
    /// it, `first_seen` (UTC), `status` (`new`, `open` or `excepted`), `exception` (the
    /// exception in force, when excepted) and `exception_expired_on` (a date, when the only
    /// exceptions covering it expired). Additive fields of v1.
    #[serde(rename = "findings")]
    pub entries: Entries<'a>,
    /// What changed since the previous recorded scan (counts, the findings resolved, the
    /// exceptions that match nothing); absent without [`Self::with_triage`]. Additive field
    /// of v1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<ChangesOut<'a>>,
}

/// The findings of a [`ScanDocument`], each with its lifecycle facts when known.
#[derive(Debug, Clone, Copy)]
pub struct Entries<'a> {
    findings: &'a [Finding],
    triage: Option<&'a [Triage]>,
}

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entry<'b> {
            #[serde(flatten)]
            finding: &'b Finding,
            #[serde(flatten, skip_serializing_if = "Option::is_none")]
            triage: Option<&'b Triage>,
        }
        s.collect_seq(self.findings.iter().enumerate().map(|(i, f)| Entry {
            finding: f,
            triage: self.triage.and_then(|t| t.get(i)),
        }))
    }
}

/// The document's `changes`: [`Changes`] counts, plus `resolved` (the findings gone since the
/// previous recorded scan, with `first_seen`) and `stale_exceptions` (exceptions matching no
/// finding).
#[derive(Debug, Serialize)]
pub struct ChangesOut<'a> {
    /// Counts.
    #[serde(flatten)]
    pub counts: &'a Changes,
    /// The findings resolved since the previous recorded scan.
    pub resolved_findings: &'a [Recorded],
    /// Exceptions that match no finding.
    pub stale_exceptions: Vec<&'a Exception>,
}

impl<'a> ScanDocument<'a> {
    /// Assembles the document, with no `caller` (see [`Self::with_caller`]).
    pub fn new(scan: &'a OrgScan, policy: &'a Policy, findings: &'a [Finding], now: Timestamp) -> Self {
        Self {
            schema: SCHEMA,
            generated_at: now,
            caller: None,
            policy,
            organization: scan.organization.as_ref(),
            accounts: &scan.accounts,
            findings,
            entries: Entries { findings, triage: None },
            changes: None,
        }
    }

    /// Adds each finding's lifecycle facts and the `changes` summary ([`crate::triage::triage`]
    /// of these findings; `exceptions` are those it was given).
    #[must_use]
    pub fn with_triage(mut self, outcome: &'a Outcome, exceptions: &'a [Exception]) -> Self {
        self.entries.triage = Some(&outcome.per_finding);
        self.changes = Some(ChangesOut {
            counts: &outcome.changes,
            resolved_findings: &outcome.resolved,
            stale_exceptions: outcome
                .stale_exceptions
                .iter()
                .filter_map(|i| exceptions.get(*i))
                .collect(),
        });
        self
    }

    /// Sets `caller`, the ARN of who ran the scan.
    #[must_use]
    pub fn with_caller(mut self, arn: &'a str) -> Self {
        self.caller = Some(arn);
        self
    }
}

/// Writes the document as pretty JSON followed by a newline. Values are written exactly as
/// AWS gave them (no spreadsheet neutralisation, unlike [`write_csv`]).
///
/// # Errors
/// I/O errors of `out`.
pub fn write_json(out: &mut dyn Write, doc: &ScanDocument<'_>) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    out.write_all(b"\n")
}

/// The `rule` of the CSV row standing for an account that was not scanned at all (failed
/// before anything was read, or skipped because it is not ACTIVE).
pub const ACCOUNT_NOT_SCANNED: &str = "account-not-scanned";
/// The `rule` of the CSV row standing for an account whose scan failed part-way: its
/// finding rows cover only what was read.
pub const ACCOUNT_PARTLY_SCANNED: &str = "account-partly-scanned";
/// The `severity` of those rows: the account's findings are unknown.
pub const UNKNOWN_SEVERITY: &str = "unknown";

/// Makes a CSV cell safe to open in a spreadsheet (CSV/formula injection): a cell starting
/// with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'`, so Excel, LibreOffice and Google
/// Sheets show it as text instead of running it as a formula. Other cells are unchanged.
/// IAM user names (`=1+2`, `-cmd`) and account names (`=HYPERLINK(…)`) may start so.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Writes the CSV report with a header:
/// `severity,rule,account_id,account_name,user,access_key_id,detail,controls,credential_kind,credential_id`
/// (`controls` joined with `;`). Every cell goes through [`csv_cell`]. `credential_kind`
/// (added at the end in v1) names the kind of credential a finding is about: `access_key`
/// (its id in `access_key_id`), `ssh_public_key`, `signing_certificate`, `service_specific`
/// (id in `credential_id`); both empty for findings about a user or root as a whole.
///
/// First, one row per account not audited in full, so that an account without findings
/// rows is never mistaken for a clean one: severity [`UNKNOWN_SEVERITY`], rule
/// [`ACCOUNT_NOT_SCANNED`] (scan `failed` before anything was read, or `skipped`) or
/// [`ACCOUNT_PARTLY_SCANNED`] (failed part-way), `user` and `access_key_id` empty, `detail`
/// the scan status and AWS's error (`failed: AccessDenied: …`). Then one row per finding,
/// worst first.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_csv(out: &mut dyn Write, scan: &OrgScan, findings: &[Finding]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut row = |cells: [&str; 10]| w.write_record(cells.iter().map(|c| csv_cell(c).into_owned()));
    row([
        "severity",
        "rule",
        "account_id",
        "account_name",
        "user",
        "access_key_id",
        "detail",
        "controls",
        "credential_kind",
        "credential_id",
    ])?;
    for a in &scan.accounts {
        if a.scan.status == ScanStatus::Ok {
            continue;
        }
        let rule = if a.scan.partial {
            ACCOUNT_PARTLY_SCANNED
        } else {
            ACCOUNT_NOT_SCANNED
        };
        let detail = match &a.scan.error {
            Some(e) => format!("{}: {}: {}", a.scan.status_word(), e.code, e.message),
            None => a.scan.status_word().to_owned(),
        };
        row([
            UNKNOWN_SEVERITY,
            rule,
            a.account.id.as_str(),
            &a.account.name,
            "",
            "",
            &detail,
            "",
            "",
            "",
        ])?;
    }
    for f in findings {
        let name = scan
            .accounts
            .iter()
            .find(|a| a.account.id == f.account_id)
            .map(|a| a.account.name.as_str());
        row([
            f.severity.as_str(),
            f.rule.id(),
            f.account_id.as_str(),
            name.unwrap_or_default(),
            &f.user,
            f.access_key_id.as_ref().map(|k| k.as_str()).unwrap_or_default(),
            &f.detail,
            &f.controls.join(";"),
            match (&f.access_key_id, &f.credential) {
                (Some(_), _) => "access_key",
                (None, Some(c)) => c.kind.as_str(),
                (None, None) => "",
            },
            f.credential.as_ref().map(|c| c.id.as_str()).unwrap_or_default(),
        ])?;
    }
    w.flush()
}

/// What a finished scan means for `keytriage scan`'s exit status; built by [`verdict`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// 0 done; 1 the tool failed or could not check what was asked; 2 a finding at or above
    /// `--fail-on`.
    pub code: i32,
    /// Why, one line each, for stderr (without the `keytriage: ` prefix); empty for a plain 0.
    pub reasons: Vec<String>,
}

/// The exit-code policy of a headless scan, in one place. `triage` is what
/// [`crate::triage::triage`] decided for `findings` (same order); excepted findings never
/// count. In order:
/// - **2** when `fail_on` is set and a finding at or above it exists (not excepted); the
///   reason counts them by severity and accounts
///   (`3 findings at or above high (1 critical, 2 high) in 2 accounts`);
/// - **2** when `fail_on_new` is set and a finding at or above it is new since the previous
///   recorded scan (`1 new finding at or above high since the previous scan (1 high) in 1
///   account`); with no previous scan every finding is new, and the reason says so;
/// - **1** (or 2 if already 2) when `--accounts` named accounts the organization lacks;
/// - **1** when no account was selected (`--accounts`/`--exclude-accounts` leave none),
///   with or without a gate: a scan that checked nothing must not look like a clean one;
/// - **1** when a gate is set, nothing reached it, and an account could not be scanned
///   (failed, in full or in part): its findings are unknown, so the gate cannot pass;
/// - **0** otherwise.
pub fn verdict(
    scan: &OrgScan,
    findings: &[Finding],
    triage: Option<&Outcome>,
    fail_on: Option<Severity>,
    fail_on_new: Option<Severity>,
) -> Verdict {
    let mut v = Verdict {
        code: 0,
        reasons: Vec::new(),
    };
    let status = |i: usize| triage.and_then(|t| t.per_finding.get(i)).map(|t| t.status);
    let counted: Vec<(&Finding, Option<Status>)> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f, status(i)))
        .filter(|(_, s)| *s != Some(Status::Excepted))
        .collect();
    let mut gate = |level: Severity, only_new: bool| {
        let over: Vec<&Finding> = counted
            .iter()
            .filter(|(f, s)| f.severity >= level && (!only_new || *s != Some(Status::Open)))
            .map(|(f, _)| *f)
            .collect();
        if over.is_empty() {
            return;
        }
        let by_severity: Vec<String> = Severity::ALL
            .iter()
            .filter(|s| **s >= level)
            .filter_map(|s| {
                let n = over.iter().filter(|f| f.severity == *s).count();
                (n > 0).then(|| format!("{n} {s}"))
            })
            .collect();
        let accounts: std::collections::BTreeSet<_> = over.iter().map(|f| &f.account_id).collect();
        v.code = 2;
        let (what, since) = if only_new {
            let since = match triage.and_then(|t| t.changes.previous_scan_at) {
                Some(_) => " since the previous scan",
                None => " (no previous recorded scan: every finding is new)",
            };
            (plural(over.len(), "new finding", "new findings"), since)
        } else {
            (plural(over.len(), "finding", "findings"), "")
        };
        v.reasons.push(format!(
            "{what} at or above {level}{since} ({}) in {}",
            by_severity.join(", "),
            plural(accounts.len(), "account", "accounts")
        ));
    };
    if let Some(level) = fail_on {
        gate(level, false);
    }
    if let Some(level) = fail_on_new {
        gate(level, true);
    }
    if !scan.missing.is_empty() {
        let ids: Vec<&str> = scan.missing.iter().map(|id| id.as_str()).collect();
        v.reasons.push(format!(
            "--accounts names accounts not in the organization: {}",
            ids.join(", ")
        ));
        v.code = v.code.max(1);
    } else if scan.accounts.is_empty() {
        v.reasons.push(
            "no account selected: --accounts and --exclude-accounts leave nothing to scan; nothing was audited".into(),
        );
        v.code = v.code.max(1);
    }
    let failed = scan
        .accounts
        .iter()
        .filter(|a| a.scan.status == ScanStatus::Failed)
        .count();
    if v.code == 0 && (fail_on.is_some() || fail_on_new.is_some()) && failed > 0 {
        v.reasons.push(format!(
            "{} could not be scanned: their findings are unknown",
            plural(failed, "account", "accounts")
        ));
        v.code = 1;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Rule;
    use crate::model::{Account, AccountId, AccountState, ScanError};

    fn finding_in(account: &str, severity: Severity) -> Finding {
        Finding {
            rule: Rule::KeyUnused,
            severity,
            account_id: AccountId::parse(account).unwrap(),
            user: "alice".into(),
            access_key_id: None,
            credential: None,
            detail: "d, with comma".into(),
            controls: &["CIS 1.12", "IAM.22"],
        }
    }

    fn finding(severity: Severity) -> Finding {
        finding_in("111111111111", severity)
    }

    fn account(id: &str, name: &str) -> Account {
        Account {
            id: AccountId::parse(id).unwrap(),
            name: name.into(),
            email: String::new(),
            state: AccountState::Active,
            ou_path: "/".into(),
        }
    }

    fn org(accounts: Vec<AccountScan>) -> OrgScan {
        OrgScan {
            organization: None,
            accounts,
            warnings: vec![],
            missing: vec![],
        }
    }

    fn ok(id: &str) -> AccountScan {
        AccountScan::ok(
            account(id, "ok"),
            crate::model::RootUser {
                access_keys_present: false,
                mfa_enabled: true,
                mfa_kind: None,
                access_keys: vec![],
                signing_certificates: vec![],
            },
            vec![],
            vec![],
        )
    }

    fn denied(id: &str, name: &str) -> AccountScan {
        AccountScan::not_scanned(
            account(id, name),
            ScanStatus::Failed,
            ScanError {
                code: "AccessDenied".into(),
                message: "AssumeRole: access denied".into(),
            },
        )
    }

    #[test]
    fn fail_on_is_at_or_above() {
        let scan = org(vec![ok("111111111111")]);
        let f = vec![finding(Severity::Medium)];
        let code = |level| verdict(&scan, &f, None, level, None).code;
        assert_eq!(code(None), 0);
        assert_eq!(code(Some(Severity::Medium)), 2);
        assert_eq!(code(Some(Severity::Low)), 2);
        assert_eq!(code(Some(Severity::High)), 0);
    }

    #[test]
    fn exit_2_says_how_many_by_severity_and_in_how_many_accounts() {
        let scan = org(vec![ok("111111111111"), ok("222222222222")]);
        let f = vec![
            finding_in("111111111111", Severity::Critical),
            finding_in("111111111111", Severity::High),
            finding_in("222222222222", Severity::High),
            finding_in("222222222222", Severity::Medium),
            finding_in("222222222222", Severity::Low),
        ];
        let v = verdict(&scan, &f, None, Some(Severity::High), None);
        assert_eq!(v.code, 2);
        assert_eq!(
            v.reasons,
            ["3 findings at or above high (1 critical, 2 high) in 2 accounts"]
        );
        let v = verdict(&scan, &f[..1], None, Some(Severity::Critical), None);
        assert_eq!(v.reasons, ["1 finding at or above critical (1 critical) in 1 account"]);
    }

    #[test]
    fn excepted_findings_never_count_and_fail_on_new_counts_only_new_ones() {
        use crate::triage::{Changes, Triage};
        let scan = org(vec![ok("111111111111")]);
        let f = vec![
            finding(Severity::Critical),
            finding(Severity::High),
            finding(Severity::High),
        ];
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let triaged = |statuses: [Status; 3], previous: bool| Outcome {
            per_finding: statuses
                .iter()
                .map(|s| Triage {
                    first_seen: at,
                    status: *s,
                    exception: None,
                    exception_expired_on: None,
                    reopened_after: None,
                })
                .collect(),
            changes: Changes {
                previous_scan_at: previous.then_some(at),
                ..Changes::default()
            },
            ..Outcome::default()
        };
        let t = triaged([Status::Excepted, Status::Open, Status::New], true);
        let v = verdict(&scan, &f, Some(&t), Some(Severity::Critical), None);
        assert_eq!(v.code, 0, "the critical one is excepted: {:?}", v.reasons);
        let v = verdict(&scan, &f, Some(&t), Some(Severity::High), None);
        assert_eq!(v.reasons, ["2 findings at or above high (2 high) in 1 account"]);
        let v = verdict(&scan, &f, Some(&t), None, Some(Severity::High));
        assert_eq!(
            (v.code, v.reasons),
            (
                2,
                vec!["1 new finding at or above high since the previous scan (1 high) in 1 account".to_owned()]
            )
        );
        let t = triaged([Status::Excepted, Status::Open, Status::Open], true);
        assert_eq!(verdict(&scan, &f, Some(&t), None, Some(Severity::Low)).code, 0);
        let t = triaged([Status::New, Status::New, Status::New], false);
        let v = verdict(&scan, &f, Some(&t), None, Some(Severity::Critical));
        assert_eq!(
            v.reasons,
            [
                "1 new finding at or above critical (no previous recorded scan: every finding is new) (1 critical) in 1 account"
            ]
        );
    }

    #[test]
    fn nothing_selected_is_exit_1_with_or_without_a_gate() {
        let scan = org(vec![]);
        for fail_on in [None, Some(Severity::Low)] {
            let v = verdict(&scan, &[], None, fail_on, None);
            assert_eq!(v.code, 1);
            assert!(v.reasons[0].starts_with("no account selected"), "{:?}", v.reasons);
        }
    }

    #[test]
    fn a_gate_does_not_pass_on_an_unscanned_account() {
        let scan = org(vec![ok("111111111111"), denied("222222222222", "sandbox")]);
        assert_eq!(verdict(&scan, &[], None, None, None).code, 0);
        let v = verdict(&scan, &[], None, Some(Severity::Low), None);
        assert_eq!(
            (v.code, v.reasons),
            (
                1,
                vec!["1 account could not be scanned: their findings are unknown".to_owned()]
            )
        );
    }

    #[test]
    fn csv_quotes_and_joins_controls() {
        let mut out = Vec::new();
        write_csv(&mut out, &org(vec![]), &[finding(Severity::Medium)]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "severity,rule,account_id,account_name,user,access_key_id,detail,controls,credential_kind,credential_id\n\
             medium,key-unused,111111111111,,alice,,\"d, with comma\",CIS 1.12;IAM.22,,\n"
        );
    }

    #[test]
    fn csv_neutralises_formulas_in_every_text_cell() {
        let mut f = finding_in("222222222222", Severity::High);
        f.user = "=1+2".into();
        f.detail = "-cmd".into();
        let mut scan = org(vec![ok("222222222222")]);
        scan.accounts[0].account.name = "=HYPERLINK(\"http://x\")".into();
        let mut g = finding_in("222222222222", Severity::Low);
        g.user = "@SUM(A1)".into();
        g.detail = "\tx".into();
        let mut out = Vec::new();
        write_csv(&mut out, &scan, &[f, g]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(
            rows,
            [
                "high,key-unused,222222222222,\"'=HYPERLINK(\"\"http://x\"\")\",'=1+2,,'-cmd,CIS 1.12;IAM.22,,",
                "low,key-unused,222222222222,\"'=HYPERLINK(\"\"http://x\"\")\",'@SUM(A1),,'\tx,CIS 1.12;IAM.22,,",
            ]
        );
    }

    #[test]
    fn csv_cell_prefixes_only_dangerous_starts() {
        for s in ["=1+2", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(s), format!("'{s}"));
        }
        for s in ["alice", "", "1-2", " =x", "'=x", "a=b"] {
            assert_eq!(csv_cell(s), s);
        }
    }

    #[test]
    fn csv_has_a_row_per_account_not_audited_in_full() {
        let mut partial = denied("333333333333", "half");
        partial.scan.partial = true;
        let mut skipped = AccountScan::not_scanned(
            account("444444444444", "old"),
            ScanStatus::Skipped,
            ScanError {
                code: "AccountNotActive".into(),
                message: "account is SUSPENDED; only ACTIVE accounts are scanned".into(),
            },
        );
        skipped.account.state = AccountState::Suspended;
        let scan = org(vec![
            ok("111111111111"),
            denied("222222222222", "sandbox"),
            partial,
            skipped,
        ]);
        let mut out = Vec::new();
        write_csv(&mut out, &scan, &[]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(
            rows,
            [
                "unknown,account-not-scanned,222222222222,sandbox,,,failed: AccessDenied: AssumeRole: access denied,,,",
                "unknown,account-partly-scanned,333333333333,half,,,failed: AccessDenied: AssumeRole: access denied,,,",
                "unknown,account-not-scanned,444444444444,old,,,skipped: AccountNotActive: account is SUSPENDED; only ACTIVE accounts are scanned,,,",
            ]
        );
    }
}

//! What the TUI knows: every account's latest scan, progress and findings, fed by
//! [`ScanEvent`]s. Findings are recomputed per account when its scan arrives (pure audit).
//!
//! This module owns the data the views are built from and its change counters. It must not
//! know about views, keys or drawing, and must not start scans (the loop does).

use crate::audit::{self, Finding, Policy, Severity};
use crate::model::{Account, AccountId, AccountScan, Organization, ScanPhase, ScanStatus, Timestamp};
use crate::scan::{ScanEvent, ScanId};
use crate::triage::{Changes, FindingId, Outcome, Recorded, Triage};

/// One account as the TUI shows it.
#[derive(Clone, Debug)]
pub struct AccountEntry {
    /// The account: from discovery, replaced by the one its latest scan carries.
    pub account: Account,
    /// Where its scan is; `None` once done.
    pub phase: Option<ScanPhase>,
    /// The latest finished scan.
    pub scan: Option<AccountScan>,
    /// Findings of the latest scan.
    pub findings: Vec<Finding>,
    /// When the latest scan ended (UTC); `None` before one did.
    pub scanned_at: Option<Timestamp>,
}

impl AccountEntry {
    /// The accounts table's SCAN cell: the phase while scanning (queued, assuming, report,
    /// listing, users 3/40), else the outcome's word ([`crate::model::ScanOutcome::status_word`]:
    /// ok, failed, skipped) with a failure refined to `partial` (part was read) or `denied`
    /// (an `AccessDenied*` error code).
    pub fn scan_cell(&self) -> String {
        if let Some(phase) = self.phase {
            return match phase {
                ScanPhase::Queued => "queued".into(),
                ScanPhase::Assuming => "assuming".into(),
                ScanPhase::CredentialReport => "report".into(),
                ScanPhase::ListingUsers => "listing".into(),
                ScanPhase::ReadingUsers { done, total } => format!("users {done}/{total}"),
            };
        }
        let Some(outcome) = self.scan.as_ref().map(|s| &s.scan) else {
            return "queued".into();
        };
        if outcome.status == ScanStatus::Failed {
            if outcome.partial {
                return "partial".into();
            }
            if outcome
                .error
                .as_ref()
                .is_some_and(|e| e.code.starts_with("AccessDenied"))
            {
                return "denied".into();
            }
        }
        outcome.status_word().into()
    }

    /// True while a scan of this account is running or queued.
    pub fn scanning(&self) -> bool {
        self.phase.is_some()
    }

    /// True when the account's latest scan read it (in full or in part): its numbers mean
    /// something. An account denied, failed or skipped before being read has unknown
    /// numbers, not zeros.
    pub fn was_read(&self) -> bool {
        self.scan
            .as_ref()
            .is_some_and(|s| s.scan.status == crate::model::ScanStatus::Ok || s.scan.partial)
    }
}

/// A live re-read of part of a user, after a write on it (see [`Store::update_user`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserUpdate {
    /// The user's credentials of one kind (SSH keys, certificates or service-specific
    /// credentials), replacing those of that kind.
    Credentials(crate::model::CredentialKind, Vec<crate::model::Credential>),
    /// Whether the user has a console password (false after disabling console access).
    PasswordEnabled(bool),
}

/// Everything the TUI shows, in account-name order. Made by [`Store::new`].
#[derive(Clone, Debug)]
pub struct Store {
    /// `None` for a standalone account or before discovery.
    pub organization: Option<Organization>,
    /// The selected accounts, sorted by name (as discovery sent them).
    pub accounts: Vec<AccountEntry>,
    /// Set when the organization could not be read.
    pub discovery_error: Option<String>,
    /// Problems discovery met without failing (shown, never fatal).
    pub warnings: Vec<String>,
    /// True once discovery succeeded.
    pub discovered: bool,
    /// Bumped on every change; views rebuild when theirs is older.
    pub generation: u64,
    /// Bumped when only scan progress changed; only the accounts view shows progress, so
    /// other views (a 100,000-row `:keys`) are not rebuilt on every progress event.
    pub progress_generation: u64,
    /// The scan run whose events are accepted; older runs' events are ignored.
    pub scan_id: ScanId,
    /// The journal's lines, oldest first (for `:journal`).
    pub journal: Vec<crate::journal::Entry>,
    /// Findings per severity over all accounts, in [`Severity::ALL`] order (kept up to date
    /// incrementally, so the header costs nothing per frame).
    pub severity_counts: [usize; 5],
    /// Each finding's lifecycle (new, open since, excepted) as of the last recorded scan, by
    /// identity; empty until a scan finished and was triaged ([`Store::set_triage`]).
    pub triage: std::collections::HashMap<FindingId, Triage>,
    /// What changed since the previous recorded scan, and the findings resolved since.
    pub changes: Option<(Changes, Vec<Recorded>)>,
}

/// The findings of one account's scan, kept without the vector's growth slack: the store
/// holds every account's findings for the whole session (130,000 at 100,000 keys), and a
/// vector grown by doubling leaves up to half of its room unused.
fn audited(scan: &AccountScan, policy: &Policy, now: Timestamp) -> Vec<Finding> {
    let mut findings = audit::audit_account(scan, policy, now);
    findings.shrink_to_fit();
    findings
}

fn count_into(counts: &mut [usize; 5], findings: &[Finding], add: bool) {
    for f in findings {
        let i = Severity::ALL.iter().position(|s| *s == f.severity).unwrap_or(4);
        counts[i] = if add {
            counts[i] + 1
        } else {
            counts[i].saturating_sub(1)
        };
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// The id of the TUI's scan run: the full scan and every per-account rescan carry it.
    pub const SCAN_ID: ScanId = 1;

    /// An empty store that accepts the events of scan run [`Store::SCAN_ID`].
    pub fn new() -> Self {
        Self {
            organization: None,
            accounts: Vec::new(),
            discovery_error: None,
            warnings: Vec::new(),
            discovered: false,
            generation: 0,
            progress_generation: 0,
            scan_id: Self::SCAN_ID,
            journal: Vec::new(),
            severity_counts: [0; 5],
            triage: std::collections::HashMap::new(),
            changes: None,
        }
    }

    /// This store as one finished organization scan: the accounts scanned so far and all
    /// their findings, worst first (what the history records).
    pub fn org_scan(&self) -> (crate::scan::OrgScan, Vec<Finding>) {
        let accounts: Vec<AccountScan> = self.accounts.iter().filter_map(|e| e.scan.clone()).collect();
        let mut findings: Vec<Finding> = self.accounts.iter().flat_map(|e| e.findings.iter().cloned()).collect();
        audit::sort_findings(&mut findings);
        let org = crate::scan::OrgScan {
            organization: self.organization.clone(),
            accounts,
            warnings: self.warnings.clone(),
            missing: Vec::new(),
        };
        (org, findings)
    }

    /// Keeps the triage of `findings` (as [`Store::org_scan`] returned them) and recounts the
    /// severity totals without the excepted findings.
    pub fn set_triage(&mut self, findings: &[Finding], outcome: Outcome) {
        self.triage = findings
            .iter()
            .zip(outcome.per_finding)
            .map(|(f, t)| (FindingId::of(f), t))
            .collect();
        self.changes = Some((outcome.changes, outcome.resolved));
        // Excepted findings leave the totals.
        let mut counts = [0; 5];
        for f in self.accounts.iter().flat_map(|e| &e.findings) {
            let excepted = self
                .triage
                .get(&FindingId::of(f))
                .is_some_and(|t| t.status == crate::triage::Status::Excepted);
            if !excepted {
                count_into(&mut counts, std::slice::from_ref(f), true);
            }
        }
        self.severity_counts = counts;
        self.generation += 1;
    }

    /// Applies one event; returns true when anything changed. Events of another scan run
    /// than `scan_id` are ignored.
    pub fn apply(&mut self, event: ScanEvent, policy: &Policy, now: Timestamp) -> bool {
        let id = match &event {
            ScanEvent::Discovered { scan_id, .. }
            | ScanEvent::Progress { scan_id, .. }
            | ScanEvent::AccountDone { scan_id, .. }
            | ScanEvent::DiscoveryFailed { scan_id, .. }
            | ScanEvent::Finished { scan_id } => *scan_id,
        };
        if id != self.scan_id {
            return false;
        }
        match event {
            ScanEvent::Discovered {
                organization,
                accounts,
                warnings,
                ..
            } => {
                self.organization = organization;
                self.warnings = warnings;
                self.discovered = true;
                self.discovery_error = None;
                self.severity_counts = [0; 5];
                self.accounts = accounts
                    .into_iter()
                    .map(|account| AccountEntry {
                        account,
                        phase: Some(ScanPhase::Queued),
                        scan: None,
                        findings: Vec::new(),
                        scanned_at: None,
                    })
                    .collect();
            }
            ScanEvent::Progress { account_id, phase, .. } => {
                let Some(e) = self.entry_mut(&account_id) else {
                    return false;
                };
                e.phase = Some(phase);
                self.progress_generation += 1;
                return true;
            }
            ScanEvent::AccountDone { scan, .. } => {
                let findings = audited(&scan, policy, now);
                let mut counts = self.severity_counts;
                let Some(e) = self.entry_mut(&scan.account.id) else {
                    return false;
                };
                count_into(&mut counts, &e.findings, false);
                count_into(&mut counts, &findings, true);
                e.phase = None;
                e.account = scan.account.clone();
                e.findings = findings;
                e.scan = Some(*scan);
                e.scanned_at = Some(now);
                self.severity_counts = counts;
            }
            ScanEvent::DiscoveryFailed { error, .. } => self.discovery_error = Some(error.to_string()),
            ScanEvent::Finished { .. } => return false,
        }
        self.generation += 1;
        true
    }

    /// Applies a live re-read of a user's other credentials or console password (after a
    /// write on one of them) and re-audits the account, so findings clear without a rescan.
    /// Returns false when the user is unknown.
    pub fn update_user(
        &mut self,
        account: &AccountId,
        user: &str,
        update: UserUpdate,
        policy: &Policy,
        now: Timestamp,
    ) -> bool {
        let mut counts = self.severity_counts;
        let Some(e) = self.entry_mut(account) else { return false };
        let Some(scan) = e.scan.as_mut() else { return false };
        let Some(u) = scan.users.iter_mut().find(|u| u.name == user) else {
            return false;
        };
        match update {
            UserUpdate::Credentials(kind, list) => {
                u.credentials.retain(|c| c.kind != kind);
                u.credentials.extend(list);
                // Kind order, each kind in AWS's order (the sort is stable).
                u.credentials.sort_by_key(|c| c.kind);
            }
            UserUpdate::PasswordEnabled(enabled) => {
                u.password_enabled = enabled;
                if !enabled {
                    u.password_last_used = None;
                }
            }
        }
        let findings = audit::audit_account(scan, policy, now);
        count_into(&mut counts, &e.findings, false);
        count_into(&mut counts, &findings, true);
        e.findings = findings;
        self.severity_counts = counts;
        self.generation += 1;
        true
    }

    /// Replaces a user's access keys with a live re-read (after a write) and re-audits the
    /// account, so findings clear without a rescan. Returns false when the user is unknown.
    pub fn replace_user_keys(
        &mut self,
        account: &AccountId,
        user: &str,
        keys: Vec<crate::model::AccessKey>,
        policy: &Policy,
        now: Timestamp,
    ) -> bool {
        let mut counts = self.severity_counts;
        let Some(e) = self.entry_mut(account) else { return false };
        let Some(scan) = e.scan.as_mut() else { return false };
        let Some(u) = scan.users.iter_mut().find(|u| u.name == user) else {
            return false;
        };
        u.access_keys = keys;
        let findings = audited(scan, policy, now);
        count_into(&mut counts, &e.findings, false);
        count_into(&mut counts, &findings, true);
        e.findings = findings;
        self.severity_counts = counts;
        self.generation += 1;
        true
    }

    /// The user `user` of `account`, as last scanned.
    pub fn user(&self, account: &AccountId, user: &str) -> Option<&crate::model::User> {
        self.entry(account)?
            .scan
            .as_ref()?
            .users
            .iter()
            .find(|u| u.name == user)
    }

    /// The credential `credential` of `user` in `account`, as last scanned.
    pub fn credential(
        &self,
        account: &AccountId,
        user: &str,
        credential: &crate::model::CredentialRef,
    ) -> Option<&crate::model::Credential> {
        self.user(account, user)?
            .credentials
            .iter()
            .find(|c| c.kind == credential.kind && c.id == credential.id)
    }

    /// The access key `key` of `user` in `account`, as last scanned.
    pub fn key(
        &self,
        account: &AccountId,
        user: &str,
        key: &crate::model::AccessKeyId,
    ) -> Option<&crate::model::AccessKey> {
        let scan = self.entry(account)?.scan.as_ref()?;
        scan.users
            .iter()
            .find(|u| u.name == user)?
            .access_keys
            .iter()
            .find(|k| &k.id == key)
    }

    /// Marks an account as queued again (a rescan was started).
    pub fn requeue(&mut self, id: &AccountId) {
        if let Some(e) = self.entry_mut(id) {
            e.phase = Some(ScanPhase::Queued);
            self.progress_generation += 1;
        }
    }

    /// The account with this id.
    pub fn entry(&self, id: &AccountId) -> Option<&AccountEntry> {
        self.accounts.iter().find(|e| &e.account.id == id)
    }

    fn entry_mut(&mut self, id: &AccountId) -> Option<&mut AccountEntry> {
        self.accounts.iter_mut().find(|e| &e.account.id == id)
    }

    /// `(done, total, failed)` accounts; done includes failed and skipped.
    pub fn progress(&self) -> (usize, usize, usize) {
        let done = self.accounts.iter().filter(|e| !e.scanning()).count();
        let failed = self
            .accounts
            .iter()
            .filter(|e| !e.scanning() && e.scan.as_ref().is_some_and(|s| s.scan.status == ScanStatus::Failed))
            .count();
        (done, self.accounts.len(), failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessKey, AccessKeyId, AccountState, KeyStatus, RootUser, User};
    use chrono::TimeZone;

    fn account(id: &str, name: &str) -> Account {
        Account {
            id: AccountId::parse(id).unwrap(),
            name: name.into(),
            email: String::new(),
            state: AccountState::Active,
            ou_path: "/".into(),
        }
    }

    fn user(name: &str, key: &str, created: Timestamp) -> User {
        User {
            credentials: Vec::new(),
            name: name.into(),
            arn: String::new(),
            path: "/".into(),
            created,
            password_enabled: false,
            password_last_used: None,
            mfa_active: false,
            mfa_devices: vec![],
            access_keys: vec![AccessKey {
                id: AccessKeyId(key.into()),
                status: KeyStatus::Active,
                created,
                last_used: None,
            }],
        }
    }

    #[test]
    fn the_store_is_recorded_as_one_scan_and_keeps_each_findings_triage() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let old = now - chrono::Days::new(400);
        let policy = Policy::default();
        let mut store = Store::new();
        let (a, b) = (account("111111111111", "a"), account("222222222222", "b"));
        store.apply(
            ScanEvent::Discovered {
                scan_id: Store::SCAN_ID,
                organization: None,
                accounts: vec![a.clone(), b.clone()],
                warnings: vec![],
                missing: vec![],
            },
            &policy,
            now,
        );
        let root = RootUser {
            signing_certificates: Vec::new(),
            access_keys_present: false,
            mfa_enabled: true,
            mfa_kind: None,
            access_keys: vec![],
        };
        let done = AccountScan::ok(a, root, vec![user("alice", "AKIA1", old)], vec![]);
        store.apply(
            ScanEvent::AccountDone {
                scan_id: Store::SCAN_ID,
                scan: Box::new(done),
            },
            &policy,
            now,
        );
        let (org, findings) = store.org_scan();
        assert_eq!(org.accounts.len(), 1, "only accounts scanned so far");
        let rules: Vec<&str> = findings.iter().map(|f| f.rule.id()).collect();
        assert_eq!(rules, ["key-not-rotated", "stale-user", "key-unused"]);
        // critical, high, medium, low, info
        assert_eq!(store.severity_counts, [0, 1, 2, 0, 0]);
        let exception = crate::exceptions::Exception::new(
            crate::audit::Rule::KeyNotRotated,
            AccountId::parse("111111111111").unwrap(),
            Some("ali*".into()),
            None,
            "vendor".into(),
            "carol".into(),
            chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        )
        .unwrap();
        let outcome = crate::triage::triage(&findings, &org.accounts, &[exception], None, now);
        let generation = store.generation;
        store.set_triage(&findings, outcome);
        assert_eq!(store.generation, generation + 1);
        let t = &store.triage[&FindingId::of(&findings[0])];
        assert_eq!((t.status, t.first_seen), (crate::triage::Status::Excepted, now));
        let t = &store.triage[&FindingId::of(&findings[1])];
        assert_eq!(t.status, crate::triage::Status::New);
        assert_eq!(store.changes.as_ref().map(|c| (c.0.new, c.0.excepted)), Some((2, 1)));
        assert_eq!(
            store.severity_counts,
            [0, 0, 2, 0, 0],
            "the excepted high leaves the totals"
        );
    }
}

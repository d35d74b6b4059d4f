//! A finding's lifecycle across scans, and the comparison of two scans.
//!
//! [`triage`] is pure: (this scan's findings and account outcomes, the exceptions, the
//! previous recorded scan's findings, now) → each finding's status ([`Status`]: new, open
//! since a date, or excepted with its exception; and "exception expired on DATE"), the
//! findings resolved since, and a [`Changes`] summary. A finding's identity ([`FindingId`])
//! is (rule, account, user, credential id), so it survives rescans.
//!
//! A previous finding missing now is **resolved** only when its account was scanned in full
//! this time (`ok`, not partial): a failed, partial, skipped or unselected account resolves
//! nothing; such findings are carried ([`Outcome::unchecked`]) so their first-seen date
//! survives the failure. [`diff`] compares two [`Snapshot`]s (recorded scans or scan
//! documents). No I/O, no clock: the caller passes `now`.

use crate::audit::{Finding, Rule, Severity};
use crate::exceptions::Exception;
use crate::model::{AccessKeyId, AccountId, AccountScan, KeyStatus, ScanStatus, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What makes two findings of two scans "the same finding".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FindingId {
    /// The rule.
    pub rule: Rule,
    /// The account.
    pub account_id: AccountId,
    /// IAM user name, or the root user's `<root_account>`.
    pub user: String,
    /// The credential, for findings about one: the access key id, or the id of the SSH
    /// public key, signing certificate or service-specific credential (kept in this field so
    /// the history store and the scan documents of v1 read it unchanged).
    pub access_key_id: Option<AccessKeyId>,
}

impl FindingId {
    /// The identity of `f`.
    pub fn of(f: &Finding) -> Self {
        Self {
            rule: f.rule,
            account_id: f.account_id.clone(),
            user: f.user.to_string(),
            access_key_id: f
                .access_key_id
                .clone()
                .or_else(|| f.credential.as_ref().map(|c| AccessKeyId::from(c.id.clone()))),
        }
    }
}

/// A finding as a previous scan recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// Its identity.
    #[serde(flatten)]
    pub id: FindingId,
    /// Its severity then.
    pub severity: Severity,
    /// When it was first seen (UTC).
    pub first_seen: Timestamp,
}

/// The previous recorded scan, as [`triage`] needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Previous {
    /// When it ran (UTC).
    pub generated_at: Option<Timestamp>,
    /// Its open findings (seen then, or carried from before for accounts it could not check).
    pub findings: Vec<Recorded>,
    /// Findings resolved by an earlier scan and not seen since, with when they were resolved:
    /// one of them found again is reopened.
    pub resolved: HashMap<FindingId, Timestamp>,
}

/// A finding's status in this scan (the `status` of the scan document).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not in the previous scan (or there is none).
    New,
    /// In the previous scan too; open since `first_seen`.
    Open,
    /// Covered by an exception in force; not counted in totals nor by `--fail-on`.
    Excepted,
}

impl Status {
    /// `new`, `open` or `excepted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Open => "open",
            Self::Excepted => "excepted",
        }
    }
}

/// One finding's lifecycle facts (flattened into the finding in the scan document).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Triage {
    /// When the finding was first seen (UTC): now for a new one.
    pub first_seen: Timestamp,
    /// new, open or excepted.
    pub status: Status,
    /// The exception in force, when `status` is `excepted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<Exception>,
    /// Set when the only exceptions covering it have expired: the latest `expires` date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception_expired_on: Option<NaiveDate>,
    /// Set when the finding is back after a recorded scan had resolved it (reopened): when
    /// it was resolved (UTC). Its `first_seen` starts again now.
    #[serde(rename = "reopened_after", skip_serializing_if = "Option::is_none")]
    pub reopened_after: Option<Timestamp>,
}

/// Counts of what changed since the previous recorded scan (the document's `changes`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// When the previous recorded scan ran; `null` when there is none.
    pub previous_scan_at: Option<Timestamp>,
    /// Findings first seen now (reopened ones included).
    pub new: usize,
    /// Of the new findings, those a recorded scan had resolved before.
    pub reopened: usize,
    /// Findings seen before and still open (including those whose exception expired).
    pub open: usize,
    /// Findings covered by an exception in force.
    pub excepted: usize,
    /// Findings open again because their exception expired.
    pub exception_expired: usize,
    /// Previous findings gone, in accounts scanned in full now.
    pub resolved: usize,
    /// Previous findings in accounts not scanned in full now: neither resolved nor seen.
    pub unchecked: usize,
}

/// Everything [`triage`] decides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// One per finding, in the findings' order.
    pub per_finding: Vec<Triage>,
    /// Previous findings resolved now.
    pub resolved: Vec<Recorded>,
    /// Previous findings in accounts this scan did not check in full (carried forward).
    pub unchecked: Vec<Recorded>,
    /// Indices (into the exceptions passed) of exceptions that match no finding.
    pub stale_exceptions: Vec<usize>,
    /// The summary.
    pub changes: Changes,
}

/// Decides each finding's status; see the module docs. `accounts` are this scan's account
/// outcomes (which accounts were checked in full).
pub fn triage(
    findings: &[Finding],
    accounts: &[AccountScan],
    exceptions: &[Exception],
    previous: Option<&Previous>,
    now: Timestamp,
) -> Outcome {
    let prev: HashMap<&FindingId, &Recorded> = previous
        .map(|p| p.findings.iter().map(|r| (&r.id, r)).collect())
        .unwrap_or_default();
    let mut used = vec![false; exceptions.len()];
    let mut out = Outcome {
        changes: Changes {
            previous_scan_at: previous.and_then(|p| p.generated_at),
            ..Changes::default()
        },
        ..Outcome::default()
    };
    let mut current = std::collections::HashSet::with_capacity(findings.len());
    for f in findings {
        let id = FindingId::of(f);
        let before = prev.get(&id);
        let mut in_force = None;
        let mut expired_on: Option<NaiveDate> = None;
        for (i, e) in exceptions.iter().enumerate() {
            if e.matches(&id) {
                used[i] = true;
                if e.in_force(now) {
                    in_force.get_or_insert(e);
                } else {
                    expired_on = expired_on.max(Some(e.expires));
                }
            }
        }
        let status = match (in_force, before) {
            (Some(_), _) => Status::Excepted,
            (None, Some(_)) => Status::Open,
            (None, None) => Status::New,
        };
        let expired = in_force.is_none() && expired_on.is_some();
        let reopened_after = match before {
            None => previous.and_then(|p| p.resolved.get(&id).copied()),
            Some(_) => None,
        };
        out.changes.reopened += usize::from(reopened_after.is_some());
        match status {
            Status::New => out.changes.new += 1,
            Status::Open => out.changes.open += 1,
            Status::Excepted => out.changes.excepted += 1,
        }
        out.changes.exception_expired += usize::from(expired);
        out.per_finding.push(Triage {
            first_seen: before.map_or(now, |r| r.first_seen),
            status,
            exception: in_force.cloned(),
            exception_expired_on: if expired { expired_on } else { None },
            reopened_after,
        });
        current.insert(id);
    }
    let checked: std::collections::HashSet<&AccountId> = accounts
        .iter()
        .filter(|a| a.scan.status == ScanStatus::Ok && !a.scan.partial)
        .map(|a| &a.account.id)
        .collect();
    if let Some(p) = previous {
        for r in &p.findings {
            if current.contains(&r.id) {
                continue;
            }
            if checked.contains(&r.id.account_id) {
                out.resolved.push(r.clone());
            } else {
                out.unchecked.push(r.clone());
            }
        }
    }
    out.changes.resolved = out.resolved.len();
    out.changes.unchecked = out.unchecked.len();
    out.stale_exceptions = used.iter().enumerate().filter(|(_, u)| !**u).map(|(i, _)| i).collect();
    out
}

/// One subject of a [`Subjects`] table: (account, IAM user or `<root_account>`, credential
/// id if any).
pub type Subject = (AccountId, String, Option<String>);

/// What the findings and key states of [`Snapshot`]s are about, by a dense id (`u32`).
/// Snapshots read from one history share one table (the history's interned subjects), so
/// [`diff`] compares them by id without touching text; a scan document gets its own table
/// ([`Snapshot::add_finding`] interns into it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subjects {
    /// By id; `None` for an id no subject has.
    list: Vec<Option<Subject>>,
    /// Id by subject, for interning; empty for a table built with [`Subjects::from_dense`].
    index: HashMap<Subject, u32>,
}

impl Subjects {
    /// A table whose ids are the positions in `list` (gaps `None`), as a history interned them.
    pub fn from_dense(list: Vec<Option<Subject>>) -> Self {
        Self {
            list,
            index: HashMap::new(),
        }
    }

    /// The subject of `id`.
    pub fn get(&self, id: u32) -> Option<&Subject> {
        self.list.get(id as usize).and_then(Option::as_ref)
    }

    /// How many ids the table spans.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when the table has no id.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The id of `(account, user, credential)`, added when new.
    fn intern(&mut self, account: &AccountId, user: &str, credential: Option<&str>) -> u32 {
        if self.index.is_empty() && !self.list.is_empty() {
            self.index = self
                .list
                .iter()
                .enumerate()
                .filter_map(|(i, s)| Some((s.clone()?, i as u32)))
                .collect();
        }
        let k: Subject = (account.clone(), user.to_owned(), credential.map(str::to_owned));
        if let Some(id) = self.index.get(&k) {
            return *id;
        }
        let id = self.list.len() as u32;
        self.list.push(Some(k.clone()));
        self.index.insert(k, id);
        id
    }
}

/// One scan reduced to what [`diff`] compares: the same from a recorded scan or from a scan
/// document, so both diff alike.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// When the scan ran (UTC).
    pub generated_at: Option<Timestamp>,
    /// Each account's outcome: `true` when scanned in full (ok, not partial).
    pub accounts: HashMap<AccountId, bool>,
    /// What `findings` and `keys` are about (shared by the snapshots of one history).
    pub subjects: std::sync::Arc<Subjects>,
    /// Findings: (rule, subject id, severity, status — `None`: the document predates
    /// statuses), in any order, one per (rule, subject).
    pub findings: Vec<(Rule, u32, Severity, Option<Status>)>,
    /// Each access key's status: (subject id of (account, user, key id), status), in any order.
    pub keys: Vec<(u32, KeyStatus)>,
}

impl Snapshot {
    /// Adds finding `id` (interning its subject).
    pub fn add_finding(&mut self, id: &FindingId, severity: Severity, status: Option<Status>) {
        let s = std::sync::Arc::make_mut(&mut self.subjects).intern(
            &id.account_id,
            &id.user,
            id.access_key_id.as_ref().map(AccessKeyId::as_str),
        );
        self.findings.push((id.rule, s, severity, status));
    }

    /// Adds access key `key` of `user` in `account` with `status` (interning its subject).
    pub fn add_key(&mut self, account: &AccountId, user: &str, key: &str, status: KeyStatus) {
        let s = std::sync::Arc::make_mut(&mut self.subjects).intern(account, user, Some(key));
        self.keys.push((s, status));
    }
}

/// A finding present in both scans whose severity changed or that became (or stopped being)
/// excepted; new → open is the lifecycle, not a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// Its identity.
    #[serde(flatten)]
    pub id: FindingId,
    /// Severity and status before.
    pub from: (Severity, Option<Status>),
    /// Severity and status after.
    pub to: (Severity, Option<Status>),
}

/// What [`diff`] finds between two scans.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// In TO, not in FROM, with severity.
    pub new: Vec<(FindingId, Severity)>,
    /// In FROM, not in TO, in an account TO scanned in full.
    pub resolved: Vec<(FindingId, Severity)>,
    /// In FROM, not in TO, in an account TO did not scan in full (unknown now).
    pub unchecked: Vec<(FindingId, Severity)>,
    /// In both, with a different severity, or excepted in one and not the other.
    pub changed: Vec<Changed>,
    /// Keys whose status changed (Active ↔ Inactive), appeared, or disappeared from an
    /// account scanned in full.
    pub keys: Vec<KeyChange>,
}

/// An access key whose status differs between two scans.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    /// The account.
    pub account_id: AccountId,
    /// The IAM user.
    pub user: String,
    /// The key.
    pub access_key_id: AccessKeyId,
    /// Its status in FROM; `None`: absent.
    pub from: Option<KeyStatus>,
    /// Its status in TO; `None`: absent.
    pub to: Option<KeyStatus>,
}

/// Same severity, and excepted in both or in neither.
fn same(a: (Severity, Option<Status>), b: (Severity, Option<Status>)) -> bool {
    let excepted = |s: Option<Status>| s == Some(Status::Excepted);
    a.0 == b.0 && excepted(a.1) == excepted(b.1)
}

/// Compares two scans; every list is sorted (findings by identity, keys by account, user, id).
///
/// Snapshots of one history (one shared [`Subjects`]) are compared by subject id in one merge
/// over sorted ids; otherwise FROM's subjects are first looked up in TO's table. Text is
/// only built for what the diff lists.
pub fn diff(from: &Snapshot, to: &Snapshot) -> Diff {
    // FROM's subject ids in TO's id space; a subject TO does not know gets an id past TO's.
    let common: Option<Vec<u32>> = (!std::sync::Arc::ptr_eq(&from.subjects, &to.subjects)).then(|| {
        let index: HashMap<(&AccountId, &str, Option<&str>), u32> = to
            .subjects
            .list
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|(a, u, c)| ((a, u.as_str(), c.as_deref()), i as u32)))
            .collect();
        let past = to.subjects.len() as u32;
        from.subjects
            .list
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.as_ref()
                    .and_then(|(a, u, c)| index.get(&(a, u.as_str(), c.as_deref())).copied())
                    .unwrap_or(past + i as u32)
            })
            .collect()
    });
    let in_to = |s: u32| {
        common
            .as_ref()
            .map_or(s, |c| c.get(s as usize).copied().unwrap_or(u32::MAX))
    };
    // Every id of a snapshot is in its table; one that is not is left out of the lists.
    let id_of = |subjects: &Subjects, rule: Rule, s: u32| -> Option<FindingId> {
        let (a, u, c) = subjects.get(s)?.clone();
        Some(FindingId {
            rule,
            account_id: a,
            user: u,
            access_key_id: c.map(AccessKeyId::from),
        })
    };
    let scanned = |a: &AccountId| to.accounts.get(a).copied().unwrap_or(false);
    let mut d = Diff::default();

    // Findings: sorted (rule, subject in TO's ids, position), one merge.
    let mut a: Vec<(Rule, u32, usize)> = from
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f.0, in_to(f.1), i))
        .collect();
    let mut b: Vec<(Rule, u32, usize)> = to.findings.iter().enumerate().map(|(i, f)| (f.0, f.1, i)).collect();
    a.sort_unstable();
    b.sort_unstable();
    a.dedup_by_key(|x| (x.0, x.1));
    b.dedup_by_key(|x| (x.0, x.1));
    let (mut i, mut j) = (0, 0);
    let gone = |d: &mut Diff, x: usize| {
        let (rule, s, sev, _) = from.findings[x];
        let Some(id) = id_of(&from.subjects, rule, s) else {
            return;
        };
        if scanned(&id.account_id) {
            d.resolved.push((id, sev));
        } else {
            d.unchecked.push((id, sev));
        }
    };
    while i < a.len() || j < b.len() {
        let ka = a.get(i).map(|x| (x.0, x.1));
        let kb = b.get(j).map(|x| (x.0, x.1));
        match (ka, kb) {
            (Some(x), Some(y)) if x == y => {
                let (before, after) = (&from.findings[a[i].2], &to.findings[b[j].2]);
                if !same((before.2, before.3), (after.2, after.3))
                    && let Some(id) = id_of(&to.subjects, after.0, after.1)
                {
                    d.changed.push(Changed {
                        id,
                        from: (before.2, before.3),
                        to: (after.2, after.3),
                    });
                }
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                gone(&mut d, a[i].2);
                i += 1;
            }
            (Some(_), None) => {
                gone(&mut d, a[i].2);
                i += 1;
            }
            _ => {
                let (rule, s, sev, _) = to.findings[b[j].2];
                if let Some(id) = id_of(&to.subjects, rule, s) {
                    d.new.push((id, sev));
                }
                j += 1;
            }
        }
    }

    // Keys: the same merge over subject ids.
    let mut a: Vec<(u32, usize)> = from.keys.iter().enumerate().map(|(i, k)| (in_to(k.0), i)).collect();
    let mut b: Vec<(u32, usize)> = to.keys.iter().enumerate().map(|(i, k)| (k.0, i)).collect();
    a.sort_unstable();
    b.sort_unstable();
    a.dedup_by_key(|x| x.0);
    b.dedup_by_key(|x| x.0);
    let change = |subjects: &Subjects, s: u32, from, to| {
        let (account_id, user, c) = subjects.get(s)?.clone();
        Some(KeyChange {
            account_id,
            user,
            access_key_id: AccessKeyId::from(c.unwrap_or_default()),
            from,
            to,
        })
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                let (before, after) = (from.keys[x.1], to.keys[y.1]);
                if before.1 != after.1 {
                    d.keys
                        .extend(change(&to.subjects, after.0, Some(before.1), Some(after.1)));
                }
                i += 1;
                j += 1;
            }
            (Some(x), y) if y.is_none_or(|y| x.0 < y.0) => {
                let (s, st) = from.keys[x.1];
                if let Some(c) = change(&from.subjects, s, Some(st), None)
                    && scanned(&c.account_id)
                {
                    d.keys.push(c);
                }
                i += 1;
            }
            (_, Some(y)) => {
                let (s, st) = to.keys[y.1];
                d.keys.extend(change(&to.subjects, s, None, Some(st)));
                j += 1;
            }
            (_, None) => break,
        }
    }
    d.new.sort();
    d.resolved.sort();
    d.unchecked.sort();
    d.changed.sort_by(|a, b| a.id.cmp(&b.id));
    d.keys
        .sort_by(|a, b| (&a.account_id, &a.user, &a.access_key_id).cmp(&(&b.account_id, &b.user, &b.access_key_id)));
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Account, AccountState, RootUser, ScanError};
    use chrono::TimeZone;

    fn now() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    }

    fn day(d: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 11, d, 9, 0, 0).unwrap()
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    fn finding(rule: Rule, account: &str, user: &str, key: Option<&str>) -> Finding {
        Finding {
            credential: None,
            rule,
            severity: rule.severity(),
            account_id: AccountId::parse(account).unwrap(),
            user: user.into(),
            access_key_id: key.map(|k| AccessKeyId(k.into())),
            detail: String::new(),
            controls: &[],
        }
    }

    #[test]
    fn two_credentials_of_one_user_under_one_rule_are_two_findings() {
        let ssh = |id: &str| Finding {
            credential: Some(crate::model::CredentialRef {
                kind: crate::model::CredentialKind::SshPublicKey,
                id: id.into(),
            }),
            ..finding(Rule::InactiveSshKey, A, "alice", None)
        };
        let (one, two) = (FindingId::of(&ssh("APKA1")), FindingId::of(&ssh("APKA2")));
        assert_ne!(one, two);
        assert_eq!(one.access_key_id.as_ref().map(AccessKeyId::as_str), Some("APKA1"));
    }

    fn recorded(f: &Finding, first_seen: Timestamp) -> Recorded {
        Recorded {
            id: FindingId::of(f),
            severity: f.severity,
            first_seen,
        }
    }

    fn account(id: &str, status: ScanStatus, partial: bool) -> AccountScan {
        let account = Account {
            id: AccountId::parse(id).unwrap(),
            name: id.into(),
            email: String::new(),
            state: AccountState::Active,
            ou_path: "/".into(),
        };
        if status == ScanStatus::Ok {
            let root = RootUser {
                signing_certificates: Vec::new(),
                access_keys_present: false,
                mfa_enabled: true,
                mfa_kind: None,
                access_keys: vec![],
            };
            return AccountScan::ok(account, root, vec![], vec![]);
        }
        let mut s = AccountScan::not_scanned(
            account,
            status,
            ScanError {
                code: "AccessDenied".into(),
                message: "denied".into(),
            },
        );
        s.scan.partial = partial;
        s
    }

    fn exception(rule: Rule, user: Option<&str>, expires: (i32, u32, u32)) -> Exception {
        Exception::new(
            rule,
            AccountId::parse(A).unwrap(),
            user.map(str::to_owned),
            None,
            "accepted".into(),
            "alice".into(),
            NaiveDate::from_ymd_opt(expires.0, expires.1, expires.2).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn statuses_against_the_previous_scan() {
        let old = finding(Rule::KeyNotRotated, A, "alice", Some("AKIA1"));
        let fresh = finding(Rule::KeyUnused, A, "bob", Some("AKIA2"));
        let gone = finding(Rule::InactiveKey, A, "carol", Some("AKIA3"));
        let prev = Previous {
            generated_at: Some(day(24)),
            findings: vec![recorded(&old, day(3)), recorded(&gone, day(10))],
            ..Previous::default()
        };
        let accounts = [account(A, ScanStatus::Ok, false)];
        let o = triage(&[old.clone(), fresh], &accounts, &[], Some(&prev), now());
        let got: Vec<(Status, Timestamp)> = o.per_finding.iter().map(|t| (t.status, t.first_seen)).collect();
        assert_eq!(got, [(Status::Open, day(3)), (Status::New, now())]);
        assert_eq!(o.resolved, [recorded(&gone, day(10))]);
        assert!(o.unchecked.is_empty());
        assert_eq!(
            o.changes,
            Changes {
                previous_scan_at: Some(day(24)),
                new: 1,
                open: 1,
                resolved: 1,
                ..Changes::default()
            }
        );
    }

    #[test]
    fn a_finding_resolved_earlier_comes_back_reopened() {
        let f = finding(Rule::KeyNotRotated, A, "alice", Some("AKIA1"));
        let prev = Previous {
            generated_at: Some(day(24)),
            findings: vec![],
            resolved: [(FindingId::of(&f), day(17))].into_iter().collect(),
        };
        let o = triage(
            std::slice::from_ref(&f),
            &[account(A, ScanStatus::Ok, false)],
            &[],
            Some(&prev),
            now(),
        );
        let t = &o.per_finding[0];
        assert_eq!(
            (t.status, t.first_seen, t.reopened_after),
            (Status::New, now(), Some(day(17)))
        );
        assert_eq!((o.changes.new, o.changes.reopened), (1, 1));
    }

    #[test]
    fn without_a_previous_scan_everything_is_new() {
        let f = finding(Rule::KeyNotRotated, A, "alice", Some("AKIA1"));
        let o = triage(&[f], &[account(A, ScanStatus::Ok, false)], &[], None, now());
        assert_eq!(o.per_finding[0].status, Status::New);
        assert_eq!(o.per_finding[0].first_seen, now());
        assert_eq!(o.changes.previous_scan_at, None);
    }

    #[test]
    fn only_an_account_scanned_in_full_resolves() {
        // (account outcome this time, resolved?)
        let cases = [
            (Some((ScanStatus::Ok, false)), true),
            (Some((ScanStatus::Failed, false)), false),
            (Some((ScanStatus::Failed, true)), false),
            (Some((ScanStatus::Skipped, false)), false),
            (None, false), // not selected this time
        ];
        for (outcome, resolves) in cases {
            let gone = finding(Rule::KeyUnused, B, "dave", Some("AKIA9"));
            let prev = Previous {
                generated_at: Some(day(24)),
                findings: vec![recorded(&gone, day(1))],
                ..Previous::default()
            };
            let mut accounts = vec![account(A, ScanStatus::Ok, false)];
            if let Some((s, partial)) = outcome {
                accounts.push(account(B, s, partial));
            }
            let o = triage(&[], &accounts, &[], Some(&prev), now());
            assert_eq!(o.resolved.len(), usize::from(resolves), "{outcome:?}");
            assert_eq!(o.unchecked.len(), usize::from(!resolves), "{outcome:?}");
            assert_eq!(
                (o.changes.resolved, o.changes.unchecked),
                (usize::from(resolves), usize::from(!resolves))
            );
        }
    }

    #[test]
    fn exceptions_in_force_expired_and_stale() {
        let f = finding(Rule::KeyNotRotated, A, "ci-deploy", Some("AKIA1"));
        let accounts = [account(A, ScanStatus::Ok, false)];
        // (exceptions, status, exception_expired_on, stale indices)
        type Case = (Vec<Exception>, Status, Option<(i32, u32, u32)>, Vec<usize>);
        let cases: Vec<Case> = vec![
            (
                vec![exception(Rule::KeyNotRotated, Some("ci-*"), (2026, 12, 2))],
                Status::Excepted,
                None,
                vec![],
            ),
            // Expires today: from 00:00 UTC today it no longer applies.
            (
                vec![exception(Rule::KeyNotRotated, Some("ci-*"), (2026, 12, 1))],
                Status::New,
                Some((2026, 12, 1)),
                vec![],
            ),
            (
                vec![
                    exception(Rule::KeyNotRotated, None, (2026, 11, 1)),
                    exception(Rule::KeyNotRotated, Some("ci-*"), (2026, 11, 20)),
                ],
                Status::New,
                Some((2026, 11, 20)),
                vec![],
            ),
            (
                vec![
                    exception(Rule::KeyNotRotated, None, (2026, 11, 1)),
                    exception(Rule::KeyNotRotated, Some("ci-*"), (2027, 1, 1)),
                    exception(Rule::KeyUnused, None, (2027, 1, 1)),
                    exception(Rule::KeyNotRotated, Some("bob"), (2027, 1, 1)),
                ],
                Status::Excepted,
                None,
                vec![2, 3],
            ),
        ];
        for (exceptions, status, expired, stale) in cases {
            let o = triage(std::slice::from_ref(&f), &accounts, &exceptions, None, now());
            let t = &o.per_finding[0];
            assert_eq!(t.status, status, "{exceptions:?}");
            let expired = expired.map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap());
            assert_eq!(t.exception_expired_on, expired);
            assert_eq!(t.exception.is_some(), status == Status::Excepted);
            assert_eq!(o.stale_exceptions, stale);
            assert_eq!(o.changes.excepted, usize::from(status == Status::Excepted));
            assert_eq!(o.changes.exception_expired, usize::from(expired.is_some()));
        }
    }

    #[test]
    fn an_expired_exception_on_an_old_finding_leaves_it_open_since_first_seen() {
        let f = finding(Rule::KeyNotRotated, A, "ci-deploy", Some("AKIA1"));
        let prev = Previous {
            generated_at: Some(day(24)),
            findings: vec![recorded(&f, day(2))],
            ..Previous::default()
        };
        let e = [exception(Rule::KeyNotRotated, None, (2026, 11, 30))];
        let o = triage(
            std::slice::from_ref(&f),
            &[account(A, ScanStatus::Ok, false)],
            &e,
            Some(&prev),
            now(),
        );
        assert_eq!(o.per_finding[0].status, Status::Open);
        assert_eq!(o.per_finding[0].first_seen, day(2));
        assert_eq!(
            o.per_finding[0].exception_expired_on,
            NaiveDate::from_ymd_opt(2026, 11, 30)
        );
    }

    fn snap(findings: &[(&Finding, Status)], ok: &[&str], failed: &[&str]) -> Snapshot {
        let mut s = Snapshot::default();
        for a in ok {
            s.accounts.insert(AccountId::parse(a).unwrap(), true);
        }
        for a in failed {
            s.accounts.insert(AccountId::parse(a).unwrap(), false);
        }
        for (f, st) in findings {
            s.add_finding(&FindingId::of(f), f.severity, Some(*st));
        }
        s
    }

    #[test]
    fn diff_new_resolved_unchecked_changed_and_keys() {
        let kept = finding(Rule::KeyNotRotated, A, "alice", Some("AKIA1"));
        let gone = finding(Rule::InactiveKey, A, "carol", Some("AKIA3"));
        let lost = finding(Rule::KeyUnused, B, "dave", Some("AKIA9"));
        let fresh = finding(Rule::KeyUnused, A, "bob", Some("AKIA2"));
        let open = finding(Rule::KeyUnused, A, "erin", Some("AKIA5"));
        let mut from = snap(
            &[
                (&kept, Status::New),
                (&gone, Status::New),
                (&lost, Status::New),
                (&open, Status::New),
            ],
            &[A, B],
            &[],
        );
        // new → open is no change.
        let mut to = snap(
            &[(&kept, Status::Excepted), (&fresh, Status::New), (&open, Status::Open)],
            &[A],
            &[B],
        );
        let a = AccountId::parse(A).unwrap();
        from.add_key(&a, "alice", "AKIA1", KeyStatus::Active);
        from.add_key(&a, "carol", "AKIA3", KeyStatus::Inactive);
        to.add_key(&a, "alice", "AKIA1", KeyStatus::Inactive);
        let d = diff(&from, &to);
        assert_eq!(d.new, [(FindingId::of(&fresh), Severity::Medium)]);
        assert_eq!(d.resolved, [(FindingId::of(&gone), Severity::Low)]);
        assert_eq!(d.unchecked, [(FindingId::of(&lost), Severity::Medium)]);
        assert_eq!(
            d.changed,
            [Changed {
                id: FindingId::of(&kept),
                from: (Severity::High, Some(Status::New)),
                to: (Severity::High, Some(Status::Excepted)),
            }]
        );
        let change = |u: &str, k: &str, from, to| KeyChange {
            account_id: AccountId::parse(A).unwrap(),
            user: u.into(),
            access_key_id: AccessKeyId(k.into()),
            from,
            to,
        };
        assert_eq!(
            d.keys,
            [
                change("alice", "AKIA1", Some(KeyStatus::Active), Some(KeyStatus::Inactive)),
                change("carol", "AKIA3", Some(KeyStatus::Inactive), None),
            ]
        );
        assert_eq!(diff(&to, &to), Diff::default());
    }
}

//! Plans: a reviewable list of writes, made from a scan (`keytriage plan`) and applied later
//! (`keytriage --write apply`). The format is public and versioned ([`SCHEMA`]):
//!
//! ```json
//! {"schema": "keytriage.plan/v1", "id": "plan-20261201T140000.000Z-42-0",
//!  "scanned_at": "2026-12-01T14:00:00Z", "caller": "arn:aws:iam::123456789012:user/ops",
//!  "action": "deactivate", "criteria": {"rule": "key-not-rotated", ...},
//!  "targets": [{"account_id": "…", "account_name": "…", "user": "…", "access_key_id": "AKIA…",
//!               "status": "Active", "created": "…", "last_used": {"date": "…", ...} | null}],
//!  "digest": "sha256:…"}
//! ```
//!
//! Each target carries the key's state when it was planned (status, creation time, last use):
//! apply re-reads the key and skips it when its status differs or it was used since. The
//! digest (sha256 over the compact JSON of schema, id, scan time, caller, action and targets)
//! detects an edit of the file after it was written; it is not a signature (anyone who can
//! edit the file can recompute it). No AWS and no I/O here: selection and checks are pure.

use crate::audit::{Finding, Rule};
use crate::model::{
    AccessKey, AccessKeyId, Account, AccountId, AccountScan, KeyAction, KeyLastUsed, KeyStatus, Timestamp, age_days,
};
use crate::remediate::WriteRequest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The plan format's version tag.
pub const SCHEMA: &str = "keytriage.plan/v1";

/// The default of `max_plan_age_hours`: a plan older than a day is refused.
pub const DEFAULT_MAX_AGE_HOURS: u32 = 24;

/// What `keytriage plan` was asked to select (kept in the plan for the reviewer; not used by
/// apply).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criteria {
    /// Only keys with a finding of this rule (about the key, or about its user without naming
    /// a key or another credential: a rule about SSH keys, certificates, service-specific
    /// credentials or roles selects no access key).
    pub rule: Option<Rule>,
    /// Only keys at least this many whole days old (UTC, at the scan time).
    pub min_age_days: Option<u32>,
    /// Only keys not used for at least this many whole days (a never-used key counts from
    /// its creation).
    pub unused_for_days: Option<u32>,
    /// Only accounts among these (empty: every account scanned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountId>,
    /// Only users whose name matches this glob (`*` any run, `?` one character, `[..]` a
    /// class).
    pub users: Option<String>,
}

/// One key to write, with the state it was planned against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTarget {
    /// The key's account.
    pub account_id: AccountId,
    /// The account's name in Organizations (for the reviewer).
    pub account_name: String,
    /// The IAM user.
    pub user: String,
    /// The key.
    pub access_key_id: AccessKeyId,
    /// Its status at the scan. Source: `iam:ListAccessKeys`.
    pub status: KeyStatus,
    /// Its creation time, UTC.
    pub created: Timestamp,
    /// Its last use at the scan; `null`: never used. Source: the credential report or
    /// `iam:GetAccessKeyLastUsed`.
    pub last_used: Option<KeyLastUsed>,
}

/// A plan, as written to and read from a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`SCHEMA`].
    pub schema: String,
    /// The plan's id; apply journals every target under it as the batch id.
    pub id: String,
    /// When the scan the plan was made from ended (UTC); the plan's age counts from here.
    pub scanned_at: Timestamp,
    /// The ARN of the identity that scanned.
    pub caller: String,
    /// The write on every target: deactivate, activate or delete.
    pub action: KeyAction,
    /// What was asked for.
    pub criteria: Criteria,
    /// The keys, by account, user and key id.
    pub targets: Vec<PlanTarget>,
    /// `sha256:` and 64 lowercase hex digits; see [`Plan::compute_digest`].
    pub digest: String,
}

/// Why a plan cannot be built or applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    /// The action is not one a plan can hold.
    #[error("a plan can deactivate, activate or delete keys, not {0}")]
    Action(&'static str),
    /// `--users` is not a valid glob.
    #[error("--users '{glob}' is not a valid pattern: {why}")]
    Glob {
        /// The pattern given.
        glob: String,
        /// The parser's reason.
        why: String,
    },
    /// The file is not a plan of this version.
    #[error("not a {SCHEMA} plan (schema '{0}')")]
    Schema(String),
    /// The file was edited after it was written.
    #[error("the plan's digest does not match its content (it was edited after it was written): make a new plan")]
    Tampered,
    /// The plan is older than allowed.
    #[error(
        "the plan is {age_hours} h old (scanned at {scanned_at}), older than the {max_hours} h allowed: make a new plan (or raise max_plan_age_hours)"
    )]
    Stale {
        /// Its age in whole hours.
        age_hours: i64,
        /// Its scan time, `YYYY-MM-DD HH:MM UTC`.
        scanned_at: String,
        /// The limit.
        max_hours: u32,
    },
    /// The plan's scan time is in the future (a clock problem, or an edit).
    #[error("the plan was made in the future ({0}): check this machine's clock")]
    Future(String),
}

/// The part of a plan the digest covers, in a fixed order.
#[derive(Serialize)]
struct Sealed<'a> {
    schema: &'a str,
    id: &'a str,
    scanned_at: &'a Timestamp,
    caller: &'a str,
    action: KeyAction,
    targets: &'a [PlanTarget],
}

impl Plan {
    /// A new plan of `action` on `targets`, sealed with its digest. `id` is `plan-` and a
    /// unique stamp of `scanned_at`.
    ///
    /// # Errors
    /// [`PlanError::Action`] for a rotation.
    pub fn new(
        scanned_at: Timestamp,
        caller: &str,
        action: KeyAction,
        criteria: Criteria,
        targets: Vec<PlanTarget>,
    ) -> Result<Self, PlanError> {
        if action == KeyAction::Rotate {
            return Err(PlanError::Action("rotate"));
        }
        let mut plan = Self {
            schema: SCHEMA.to_owned(),
            id: format!("plan-{}", crate::journal::new_action_id(scanned_at)),
            scanned_at,
            caller: caller.to_owned(),
            action,
            criteria,
            targets,
            digest: String::new(),
        };
        plan.seal();
        Ok(plan)
    }

    /// `sha256:` + hex of SHA-256 over the compact JSON of `{schema, id, scanned_at, caller,
    /// action, targets}` (fields in that order, as serialised here). The criteria are not
    /// covered: they only explain the selection.
    pub fn compute_digest(&self) -> String {
        let sealed = Sealed {
            schema: &self.schema,
            id: &self.id,
            scanned_at: &self.scanned_at,
            caller: &self.caller,
            action: self.action,
            targets: &self.targets,
        };
        // Serialising plain data with string keys cannot fail.
        let bytes = serde_json::to_vec(&sealed).unwrap_or_default();
        format!("sha256:{:x}", Sha256::digest(&bytes))
    }

    /// Sets [`Plan::digest`] from the content.
    pub fn seal(&mut self) {
        self.digest = self.compute_digest();
    }

    /// Checks a plan read from a file before anything is applied: its schema, its digest, and
    /// its age at `now` (at most `max_age_hours` whole hours after its scan).
    ///
    /// # Errors
    /// [`PlanError::Schema`], [`PlanError::Tampered`], [`PlanError::Action`],
    /// [`PlanError::Stale`], [`PlanError::Future`].
    pub fn verify(&self, now: Timestamp, max_age_hours: u32) -> Result<(), PlanError> {
        if self.schema != SCHEMA {
            return Err(PlanError::Schema(self.schema.clone()));
        }
        if self.digest != self.compute_digest() {
            return Err(PlanError::Tampered);
        }
        if self.action == KeyAction::Rotate {
            return Err(PlanError::Action("rotate"));
        }
        let stamp = self.scanned_at.format("%Y-%m-%d %H:%M UTC").to_string();
        let age = now - self.scanned_at;
        if age < -chrono::Duration::minutes(5) {
            return Err(PlanError::Future(stamp));
        }
        if age > chrono::Duration::hours(i64::from(max_age_hours)) {
            return Err(PlanError::Stale {
                age_hours: age.num_hours(),
                scanned_at: stamp,
                max_hours: max_age_hours,
            });
        }
        Ok(())
    }

    /// The plan's targets as write requests, each with the status and last use it was
    /// planned against (what [`crate::remediate::Remediator::apply`] re-checks live).
    pub fn requests(&self) -> Vec<WriteRequest> {
        self.targets
            .iter()
            .map(|t| {
                let mut account = Account::from_id(t.account_id.clone());
                account.name = t.account_name.clone();
                WriteRequest {
                    action: self.action,
                    account,
                    user: t.user.clone(),
                    target: crate::model::Target::AccessKey(t.access_key_id.clone()),
                    status: t.status,
                    last_used: t.last_used.clone(),
                }
            })
            .collect()
    }
}

/// Picks the keys a plan of `action` covers among `scans` (and their `findings`), at `now`:
/// keys on which the action does something (deactivate: active keys; activate: inactive
/// keys; delete: any), that pass every criterion. Root keys are never selected (IAM users
/// only). Sorted by account, user and key id.
///
/// # Errors
/// [`PlanError::Action`] for a rotation; [`PlanError::Glob`] for a bad `--users`.
pub fn select(
    scans: &[AccountScan],
    findings: &[Finding],
    action: KeyAction,
    criteria: &Criteria,
    now: Timestamp,
) -> Result<Vec<PlanTarget>, PlanError> {
    if action == KeyAction::Rotate {
        return Err(PlanError::Action("rotate"));
    }
    let users = criteria
        .users
        .as_deref()
        .map(|g| {
            glob::Pattern::new(g).map_err(|e| PlanError::Glob {
                glob: g.to_owned(),
                why: e.msg.to_owned(),
            })
        })
        .transpose()?;
    let keep = |scan: &AccountScan, user: &str, key: &AccessKey| -> bool {
        if action.no_op_status() == Some(key.status) {
            return false;
        }
        if !criteria.accounts.is_empty() && !criteria.accounts.contains(&scan.account.id) {
            return false;
        }
        if users.as_ref().is_some_and(|p| !p.matches(user)) {
            return false;
        }
        if criteria
            .min_age_days
            .is_some_and(|d| age_days(key.created, now) < i64::from(d))
        {
            return false;
        }
        let unused_since = key.last_used.as_ref().map_or(key.created, |u| u.date);
        if criteria
            .unused_for_days
            .is_some_and(|d| age_days(unused_since, now) < i64::from(d))
        {
            return false;
        }
        criteria.rule.is_none_or(|rule| {
            findings.iter().any(|f| {
                // About this key, or about the user as a whole: a finding about another
                // credential (an SSH key, a role named like the user) names no access key
                // but is not about the user's keys.
                f.rule == rule
                    && f.account_id == scan.account.id
                    && f.user == user
                    && f.credential.is_none()
                    && f.access_key_id.as_ref().is_none_or(|k| k == &key.id)
            })
        })
    };
    let keep = &keep;
    let mut out: Vec<PlanTarget> = scans
        .iter()
        .flat_map(|scan| {
            scan.users.iter().flat_map(move |u| {
                u.access_keys
                    .iter()
                    .filter(move |k| keep(scan, &u.name, k))
                    .map(move |k| PlanTarget {
                        account_id: scan.account.id.clone(),
                        account_name: scan.account.name.clone(),
                        user: u.name.clone(),
                        access_key_id: k.id.clone(),
                        status: k.status,
                        created: k.created,
                        last_used: k.last_used.clone(),
                    })
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.account_id, &a.user, &a.access_key_id).cmp(&(&b.account_id, &b.user, &b.access_key_id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Policy, audit_all};
    use crate::model::{AccountState, MfaKind, RootUser, User};
    use chrono::{Duration, TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn key(id: &str, status: KeyStatus, age_days: i64, used_days_ago: Option<i64>) -> AccessKey {
        AccessKey {
            id: AccessKeyId(id.into()),
            status,
            created: now() - Duration::days(age_days),
            last_used: used_days_ago.map(|d| KeyLastUsed {
                date: now() - Duration::days(d),
                service: Some("s3".into()),
                region: Some("eu-west-1".into()),
            }),
        }
    }

    fn user(name: &str, keys: Vec<AccessKey>) -> User {
        User {
            credentials: Vec::new(),
            name: name.into(),
            arn: format!("arn:aws:iam::111111111111:user/{name}"),
            path: "/".into(),
            created: now() - Duration::days(500),
            password_enabled: false,
            password_last_used: None,
            mfa_active: false,
            mfa_devices: vec![],
            access_keys: keys,
        }
    }

    fn scans() -> Vec<AccountScan> {
        let account = |id: &str, name: &str| Account {
            id: AccountId::parse(id).unwrap(),
            name: name.into(),
            email: String::new(),
            state: AccountState::Active,
            ou_path: "/".into(),
        };
        let root = RootUser {
            signing_certificates: Vec::new(),
            access_keys_present: false,
            mfa_enabled: true,
            mfa_kind: Some(MfaKind::Hardware),
            access_keys: vec![],
        };
        vec![
            AccountScan::ok(
                account("111111111111", "data"),
                root.clone(),
                vec![
                    // Old and idle: key-not-rotated and key-unused.
                    user(
                        "batch-job-001",
                        vec![key("AKIAOLD0000000000001", KeyStatus::Active, 400, Some(100))],
                    ),
                    // Old, used yesterday: key-not-rotated only.
                    user(
                        "batch-job-002",
                        vec![key("AKIAOLD0000000000002", KeyStatus::Active, 200, Some(1))],
                    ),
                    // Young: no finding.
                    user(
                        "batch-job-003",
                        vec![key("AKIANEW0000000000003", KeyStatus::Active, 10, Some(1))],
                    ),
                    // Inactive: nothing to deactivate.
                    user(
                        "batch-job-004",
                        vec![key("AKIAINA0000000000004", KeyStatus::Inactive, 400, None)],
                    ),
                    user(
                        "alice",
                        vec![key("AKIAALI0000000000005", KeyStatus::Active, 400, Some(100))],
                    ),
                ],
                vec![],
            ),
            AccountScan::ok(
                account("222222222222", "web"),
                root,
                vec![user(
                    "batch-job-101",
                    vec![key("AKIAWEB0000000000006", KeyStatus::Active, 300, None)],
                )],
                vec![],
            ),
        ]
    }

    fn picked(action: KeyAction, criteria: &Criteria) -> Vec<String> {
        let scans = scans();
        let findings = audit_all(&scans, &Policy::default(), now());
        select(&scans, &findings, action, criteria, now())
            .unwrap()
            .into_iter()
            .map(|t| t.access_key_id.0.into())
            .collect()
    }

    #[test]
    fn a_rule_about_another_credential_or_a_role_selects_no_access_key() {
        // Before: `plan --rule ssh-key-not-rotated` picked alice's access key (used today),
        // and `--rule role-trusts-anyone` the keys of a user named like the role, because
        // such findings name no access key and so read as findings about the user.
        use crate::model::{Credential, CredentialKind, CredentialStatus, PrincipalKind, Role, TrustedPrincipal};
        let mut scans = scans();
        let data = &mut scans[0];
        let alice = data.users.iter_mut().find(|u| u.name == "alice").unwrap();
        alice.access_keys = vec![key("AKIAALI0000000000005", KeyStatus::Active, 10, Some(0))];
        alice.credentials = vec![Credential {
            kind: CredentialKind::SshPublicKey,
            id: "APKAALICE00000000001".into(),
            status: CredentialStatus::Active,
            created: now() - Duration::days(400),
            expires: None,
            service: None,
        }];
        data.roles = Some(vec![Role {
            name: "batch-job-003".into(),
            path: "/".into(),
            arn: "arn:aws:iam::111111111111:role/batch-job-003".into(),
            id: "AROAEXAMPLE".into(),
            created: now() - Duration::days(10),
            last_used: None,
            trusted: vec![TrustedPrincipal {
                kind: PrincipalKind::Anyone,
                principal: "*".into(),
                account: None,
                in_organization: None,
                conditions: vec![],
            }],
        }]);
        let findings = audit_all(&scans, &Policy::default(), now());
        let pick = |rule: Rule| -> Vec<String> {
            let criteria = Criteria {
                rule: Some(rule),
                ..Default::default()
            };
            select(&scans, &findings, KeyAction::Deactivate, &criteria, now())
                .unwrap()
                .into_iter()
                .map(|t| t.access_key_id.0.into())
                .collect()
        };
        for rule in [Rule::SshKeyNotRotated, Rule::RoleTrustsAnyone] {
            assert!(
                findings.iter().any(|f| f.rule == rule),
                "{rule:?} is found, so the test means something"
            );
            assert_eq!(pick(rule), Vec::<String>::new(), "{rule:?}");
        }
        // A finding about the key itself still selects it.
        assert_eq!(
            pick(Rule::KeyNotRotated),
            ["AKIAOLD0000000000001", "AKIAOLD0000000000002", "AKIAWEB0000000000006"]
        );
    }

    #[test]
    fn the_criteria_select_the_keys_the_action_changes() {
        let all = Criteria::default();
        assert_eq!(
            picked(KeyAction::Deactivate, &all),
            [
                "AKIAALI0000000000005",
                "AKIAOLD0000000000001",
                "AKIAOLD0000000000002",
                "AKIANEW0000000000003",
                "AKIAWEB0000000000006"
            ],
            "active keys only, by account, user, key"
        );
        assert_eq!(picked(KeyAction::Activate, &all), ["AKIAINA0000000000004"]);
        assert_eq!(picked(KeyAction::Delete, &all).len(), 6);
        let batch_rule = Criteria {
            rule: Some(Rule::KeyNotRotated),
            users: Some("batch-job-*".into()),
            ..Default::default()
        };
        assert_eq!(
            picked(KeyAction::Deactivate, &batch_rule),
            ["AKIAOLD0000000000001", "AKIAOLD0000000000002", "AKIAWEB0000000000006"]
        );
        let idle_in_data = Criteria {
            unused_for_days: Some(90),
            accounts: vec![AccountId::parse("111111111111").unwrap()],
            ..Default::default()
        };
        assert_eq!(
            picked(KeyAction::Deactivate, &idle_in_data),
            ["AKIAALI0000000000005", "AKIAOLD0000000000001"]
        );
        // Never used: idle since creation, 300 days.
        let never = Criteria {
            unused_for_days: Some(300),
            ..Default::default()
        };
        assert_eq!(picked(KeyAction::Deactivate, &never), ["AKIAWEB0000000000006"]);
        let age = Criteria {
            min_age_days: Some(200),
            ..Default::default()
        };
        assert_eq!(picked(KeyAction::Deactivate, &age).len(), 4, "exactly 200 days counts");
    }

    #[test]
    fn a_bad_glob_and_a_rotation_are_refused() {
        let bad = Criteria {
            users: Some("batch-[".into()),
            ..Default::default()
        };
        assert!(matches!(
            select(&[], &[], KeyAction::Deactivate, &bad, now()),
            Err(PlanError::Glob { .. })
        ));
        assert_eq!(
            select(&[], &[], KeyAction::Rotate, &Criteria::default(), now()),
            Err(PlanError::Action("rotate"))
        );
    }

    fn plan() -> Plan {
        let scans = scans();
        let targets = select(&scans, &[], KeyAction::Deactivate, &Criteria::default(), now()).unwrap();
        Plan::new(
            now(),
            "arn:aws:iam::111111111111:user/ops",
            KeyAction::Deactivate,
            Criteria::default(),
            targets,
        )
        .unwrap()
    }

    #[test]
    fn a_plan_round_trips_and_any_edit_breaks_its_digest() {
        let p = plan();
        assert!(
            p.digest.starts_with("sha256:") && p.digest.len() == 7 + 64,
            "{}",
            p.digest
        );
        let back: Plan = serde_json::from_str(&serde_json::to_string_pretty(&p).unwrap()).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.verify(now() + Duration::hours(1), 24), Ok(()));

        let mut status = p.clone();
        status.targets[0].status = KeyStatus::Inactive;
        assert_eq!(status.verify(now(), 24), Err(PlanError::Tampered));
        let mut action = p.clone();
        action.action = KeyAction::Delete;
        assert_eq!(action.verify(now(), 24), Err(PlanError::Tampered));
        let mut dropped = p.clone();
        dropped.targets.pop();
        assert_eq!(dropped.verify(now(), 24), Err(PlanError::Tampered));
        let mut schema = p;
        schema.schema = "keytriage.plan/v2".into();
        assert_eq!(
            schema.verify(now(), 24),
            Err(PlanError::Schema("keytriage.plan/v2".into()))
        );
    }

    #[test]
    fn a_plan_older_than_allowed_is_stale() {
        let p = plan();
        assert_eq!(
            p.verify(now() + Duration::hours(24), 24),
            Ok(()),
            "exactly 24 h is allowed"
        );
        assert_eq!(
            p.verify(now() + Duration::hours(25), 24),
            Err(PlanError::Stale {
                age_hours: 25,
                scanned_at: "2026-12-01 12:00 UTC".into(),
                max_hours: 24
            })
        );
        assert!(matches!(
            p.verify(now() - Duration::hours(1), 24),
            Err(PlanError::Future(_))
        ));
    }

    #[test]
    fn requests_carry_the_planned_state() {
        let p = plan();
        let r = &p.requests()[1];
        assert_eq!(
            (
                r.action,
                r.account.name.as_str(),
                r.user.as_str(),
                r.key().map(|k| k.as_str()).unwrap_or_default(),
                r.status
            ),
            (
                KeyAction::Deactivate,
                "data",
                "batch-job-001",
                "AKIAOLD0000000000001",
                KeyStatus::Active
            )
        );
        assert_eq!(r.last_used.as_ref().map(|u| u.date), Some(now() - Duration::days(100)));
    }
}

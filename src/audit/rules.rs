//! The rule bodies. Each function looks at one subject (the root user, a user, one access
//! key) and pushes the findings it fires. Thresholds come from [`Policy`]; "older than N
//! days" is `age_days(..) > N`, whole days, UTC. Rule ids, severities and controls are not
//! decided here but in the [`Rule`] table.

use super::{Finding, Policy, ROOT_USER, Rule};
use crate::model::{
    AccessKey, AccountId, AccountScan, Credential, CredentialKind, CredentialStatus, PrincipalKind, Role, RootUser,
    Timestamp, User, age_days,
};

/// Audits one account scan: the `root-*` rules on its root user, the per-user rules on each
/// IAM user, the role rules on each role (when roles were read). An account that was not
/// scanned (failed, skipped) yields no findings. Findings come in the order: root, then
/// users as given, then keys in their order, then roles.
pub fn audit_account(scan: &AccountScan, policy: &Policy, now: Timestamp) -> Vec<Finding> {
    let account = &scan.account.id;
    let mut out = Vec::new();
    if let Some(root) = &scan.root {
        audit_root(account, root, now, &mut out);
    }
    for user in &scan.users {
        audit_user(account, user, policy, now, &mut out);
    }
    for role in scan.roles.iter().flatten() {
        audit_role(account, role, policy, now, &mut out);
    }
    out
}

fn finding(rule: Rule, account: &AccountId, user: &str, key: Option<&AccessKey>, mut detail: String) -> Finding {
    // `format!` reserves about twice what a short line needs; an organization keeps
    // hundreds of thousands of these.
    detail.shrink_to_fit();
    Finding {
        rule,
        severity: rule.severity(),
        account_id: account.clone(),
        user: user.into(),
        access_key_id: key.map(|k| k.id.clone()),
        credential: None,
        detail,
        controls: rule.controls(),
    }
}

fn audit_root(account: &AccountId, root: &RootUser, now: Timestamp, out: &mut Vec<Finding>) {
    let mut push = |rule, detail: &str| out.push(finding(rule, account, ROOT_USER, None, detail.into()));
    if root.access_keys_present {
        // Root keys have no listable id: name each by what the credential report says.
        let keys: Vec<String> = root
            .access_keys
            .iter()
            .map(|k| {
                let used = match &k.last_used {
                    Some(u) => format!("last used {} days ago", age_days(u.date, now)),
                    None => "never used".into(),
                };
                let status = if k.active { "active" } else { "inactive" };
                format!("{status}, {} days old, {used}", age_days(k.created, now))
            })
            .collect();
        let detail = if keys.is_empty() {
            "the root user has an access key; delete it".to_owned()
        } else {
            format!("the root user has an access key ({}); delete it", keys.join("; "))
        };
        push(Rule::RootAccessKey, &detail);
    }
    let certs: Vec<String> = root
        .signing_certificates
        .iter()
        .filter(|c| c.active)
        .map(|c| match c.uploaded {
            Some(t) => format!("uploaded {} days ago", age_days(t, now)),
            None => "upload date unknown".into(),
        })
        .collect();
    if !certs.is_empty() {
        push(
            Rule::RootSigningCertificate,
            &format!(
                "the root user has an active signing certificate ({}); delete it as the root user",
                certs.join("; ")
            ),
        );
    }
    if !root.mfa_enabled {
        push(Rule::RootNoMfa, "the root user has no MFA");
    } else if root.mfa_kind == Some(crate::model::MfaKind::Virtual) {
        push(
            Rule::RootVirtualMfa,
            "the root user's MFA is a virtual device, not hardware",
        );
    }
}

/// How long an unused credential has lain idle, in whole days (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Idle {
    /// Last used this many days ago.
    LastUsed(i64),
    /// Never used; created (for a password: its user created) this many days ago.
    Never(i64),
}

/// The "unused" rule, one definition for access keys (`key-unused`) and console passwords
/// (`password-unused`): last used more than `limit` days ago, or never used and created
/// more than `limit` days ago. `None` when the credential counts as used.
fn unused(last_used: Option<Timestamp>, created: Timestamp, limit: u32, now: Timestamp) -> Option<Idle> {
    let idle = match last_used {
        Some(t) => Idle::LastUsed(age_days(t, now)),
        None => Idle::Never(age_days(created, now)),
    };
    let (Idle::LastUsed(days) | Idle::Never(days)) = idle;
    (days > i64::from(limit)).then_some(idle)
}

/// "Used within `days`": a use no older than `days` whole days.
fn used_within(last: Option<Timestamp>, days: u32, now: Timestamp) -> bool {
    last.is_some_and(|t| age_days(t, now) <= i64::from(days))
}

fn audit_user(account: &AccountId, user: &User, policy: &Policy, now: Timestamp, out: &mut Vec<Finding>) {
    let name = user.name.as_str();
    let user_age = age_days(user.created, now);

    if user.password_enabled && !user.mfa_active {
        out.push(finding(
            Rule::ConsoleWithoutMfa,
            account,
            name,
            None,
            "console password without MFA".into(),
        ));
    }
    if user.password_enabled {
        let limit = policy.unused_days;
        let detail = unused(user.password_last_used, user.created, limit, now).map(|idle| match idle {
            Idle::LastUsed(days) => format!("console password last used {days} days ago (limit {limit})"),
            Idle::Never(age) => format!("console password never used; user created {age} days ago (limit {limit})"),
        });
        if let Some(detail) = detail {
            out.push(finding(Rule::PasswordUnused, account, name, None, detail));
        }
    }

    let active = user.active_key_count();
    if active > 1 {
        out.push(finding(
            Rule::MultipleActiveKeys,
            account,
            name,
            None,
            format!("{active} active access keys"),
        ));
    }

    for key in &user.access_keys {
        audit_key(account, user, key, policy, now, out);
    }
    for cred in &user.credentials {
        audit_credential(account, name, cred, policy, now, out);
    }

    // "None used" is about the enabled credentials: an inactive key's recent use does not
    // keep a user whose password and active keys lie idle from being stale. A credential
    // never used counts from its creation (a key made yesterday by a rotation is not a sign
    // of a departed user; one made 400 days ago and never used is). AWS records no use of
    // SSH public keys, signing certificates or service-specific credentials: an active one
    // is an enabled credential whose upload (creation) is its only sign of life. A
    // service-specific credential past its expiry no longer works and does not count; an
    // active certificate counts even past its NotAfter (`certificate-expiring` reports that).
    let others: Vec<&Credential> = user
        .credentials
        .iter()
        .filter(|c| {
            c.is_active() && !(c.kind == CredentialKind::ServiceSpecific && c.expires.is_some_and(|e| e <= now))
        })
        .collect();
    let has_enabled_credential = user.password_enabled || active > 0 || !others.is_empty();
    let latest_sign_of_life = user
        .access_keys
        .iter()
        .filter(|k| k.is_active())
        .map(|k| k.last_used.as_ref().map_or(k.created, |u| u.date))
        .chain(
            user.password_enabled
                .then(|| user.password_last_used.unwrap_or(user.created)),
        )
        .chain(others.iter().map(|c| c.created))
        .max();
    let ever_used = user
        .access_keys
        .iter()
        .filter(|k| k.is_active())
        .any(|k| k.last_used.is_some())
        || (user.password_enabled && user.password_last_used.is_some());
    if has_enabled_credential
        && user_age > i64::from(policy.stale_user_days)
        && !used_within(latest_sign_of_life, policy.stale_user_days, now)
    {
        let last = match latest_sign_of_life {
            Some(t) if ever_used => format!("enabled credentials last used or created {} days ago", age_days(t, now)),
            Some(t) if !others.is_empty() => {
                let mut kinds: Vec<CredentialKind> = others.iter().map(|c| c.kind).collect();
                kinds.sort();
                kinds.dedup();
                let kinds: Vec<String> = kinds.iter().map(|k| format!("{}s", k.label())).collect();
                format!(
                    "no enabled credential with a recorded use (AWS records none for {}); the newest was created {} days ago",
                    kinds.join(", "),
                    age_days(t, now)
                )
            }
            _ => "no enabled credential ever used".to_owned(),
        };
        out.push(finding(
            Rule::StaleUser,
            account,
            name,
            None,
            format!(
                "{last}; user created {user_age} days ago (limit {})",
                policy.stale_user_days
            ),
        ));
    }
}

/// The Amazon Bedrock service name of a service-specific credential.
const BEDROCK: &str = "bedrock.amazonaws.com";

/// Whole days from `now` until `then` (UTC), rounded down; 0 when `then` has passed.
fn days_until(then: Timestamp, now: Timestamp) -> i64 {
    age_days(now, then)
}

/// The rules on one SSH public key, signing certificate or service-specific credential.
/// "Expiring within N days" means the expiry is no more than N whole days away
/// (`days_until(..) <= N`) or has passed; a lifetime "beyond" N days means
/// `age_days(created, expires) > N`.
fn audit_credential(
    account: &AccountId,
    user: &str,
    cred: &Credential,
    policy: &Policy,
    now: Timestamp,
    out: &mut Vec<Finding>,
) {
    let mut push = |rule: Rule, detail: String| {
        let mut f = finding(rule, account, user, None, detail);
        f.credential = Some(cred.reference());
        out.push(f);
    };
    let age = age_days(cred.created, now);
    let rotation = policy.rotation_days;
    let old = age > i64::from(rotation);
    let expired = cred.status == CredentialStatus::Expired || cred.expires.is_some_and(|e| e <= now);
    match cred.kind {
        CredentialKind::SshPublicKey => {
            if !cred.is_active() {
                push(
                    Rule::InactiveSshKey,
                    format!("inactive SSH public key, {age} days old; delete it once nothing needs it"),
                );
            } else if old {
                push(
                    Rule::SshKeyNotRotated,
                    format!("active SSH public key is {age} days old (limit {rotation})"),
                );
            }
        }
        CredentialKind::SigningCertificate => {
            if !cred.is_active() {
                push(
                    Rule::InactiveCertificate,
                    format!("inactive signing certificate, {age} days old; delete it once nothing needs it"),
                );
                return;
            }
            if let Some(expires) = cred.expires {
                let window = policy.expiry_warning_days;
                if expires <= now {
                    push(
                        Rule::CertificateExpiring,
                        format!(
                            "active signing certificate expired {} days ago ({})",
                            age_days(expires, now),
                            expires.format("%Y-%m-%d")
                        ),
                    );
                } else if days_until(expires, now) <= i64::from(window) {
                    push(
                        Rule::CertificateExpiring,
                        format!(
                            "active signing certificate expires in {} days ({}; window {window})",
                            days_until(expires, now),
                            expires.format("%Y-%m-%d")
                        ),
                    );
                }
            }
            if old {
                push(
                    Rule::CertificateNotRotated,
                    format!("active signing certificate is {age} days old (limit {rotation})"),
                );
            }
        }
        CredentialKind::ServiceSpecific => {
            let service = cred.service.as_deref().unwrap_or("an unknown service");
            if expired {
                push(
                    Rule::ServiceCredentialExpired,
                    format!("service-specific credential for {service} has expired; delete it"),
                );
                return;
            }
            if service == BEDROCK {
                push(
                    Rule::BedrockLongTermKey,
                    format!(
                        "Amazon Bedrock long-term API key ({}), {age} days old; prefer short-term keys",
                        cred.status.as_str().to_lowercase()
                    ),
                );
            }
            if !cred.is_active() {
                return;
            }
            match cred.expires {
                None => push(
                    Rule::ServiceCredentialLongLived,
                    format!("service-specific credential for {service} never expires (limit {rotation} days)"),
                ),
                Some(expires) if age_days(cred.created, expires) > i64::from(rotation) => push(
                    Rule::ServiceCredentialLongLived,
                    format!(
                        "service-specific credential for {service} lives {} days (limit {rotation})",
                        age_days(cred.created, expires)
                    ),
                ),
                Some(_) => {}
            }
            if old {
                push(
                    Rule::ServiceCredentialNotRotated,
                    format!("active service-specific credential for {service} is {age} days old (limit {rotation})"),
                );
            }
        }
        // Roles are not user credentials; they are judged by `audit_role`.
        CredentialKind::Role => {}
    }
}

/// The role rules: `role-unused` (not for AWS-managed roles, [`Role::is_aws_managed`]) and
/// the trust rules, each naming the principals: `role-trusts-anyone` (`*` without a
/// condition), `role-trusts-outside-org` (accounts outside the organization without
/// `sts:ExternalId`), `role-trusts-third-party` (outside accounts with it).
fn audit_role(account: &AccountId, role: &Role, policy: &Policy, now: Timestamp, out: &mut Vec<Finding>) {
    let mut push = |rule: Rule, detail: String| {
        let mut f = finding(rule, account, &role.name, None, detail);
        f.credential = Some(role.reference());
        out.push(f);
    };
    let limit = policy.unused_role_days;
    let age = age_days(role.created, now);
    if !role.is_aws_managed() && age > i64::from(limit) {
        match &role.last_used {
            None => push(
                Rule::RoleUnused,
                format!("role never used; created {age} days ago (limit {limit})"),
            ),
            Some(used) if age_days(used.date, now) > i64::from(limit) => push(
                Rule::RoleUnused,
                format!(
                    "role last used {} days ago{}; created {age} days ago (limit {limit})",
                    age_days(used.date, now),
                    used.region.as_ref().map(|r| format!(" in {r}")).unwrap_or_default()
                ),
            ),
            Some(_) => {}
        }
    }
    let names = |ps: &[&crate::model::TrustedPrincipal]| {
        let mut v: Vec<String> = ps.iter().map(|p| p.describe()).collect();
        v.dedup();
        v.join(", ")
    };
    let anyone: Vec<_> = role
        .trusted
        .iter()
        .filter(|p| p.kind == PrincipalKind::Anyone && p.conditions.is_empty())
        .collect();
    if !anyone.is_empty() {
        push(
            Rule::RoleTrustsAnyone,
            "trusts anyone (\"*\") without a condition: any AWS account can assume it".into(),
        );
    }
    let outside: Vec<_> = role
        .trusted
        .iter()
        .filter(|p| p.kind == PrincipalKind::Aws && p.in_organization == Some(false))
        .collect();
    let (vetted, unvetted): (Vec<_>, Vec<_>) = outside.into_iter().partition(|p| p.has_external_id());
    if !unvetted.is_empty() {
        push(
            Rule::RoleTrustsOutsideOrg,
            format!(
                "trusts {} outside the organization without an sts:ExternalId condition: {}",
                plural_accounts(&unvetted),
                names(&unvetted)
            ),
        );
    }
    if !vetted.is_empty() {
        push(
            Rule::RoleTrustsThirdParty,
            format!(
                "trusts {} outside the organization (with an sts:ExternalId condition): {}",
                plural_accounts(&vetted),
                names(&vetted)
            ),
        );
    }
}

/// "1 account" or "3 accounts", counting distinct accounts.
fn plural_accounts(ps: &[&crate::model::TrustedPrincipal]) -> String {
    let n = ps
        .iter()
        .filter_map(|p| p.account.as_ref())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if n == 1 {
        "1 account".into()
    } else {
        format!("{n} accounts")
    }
}

fn audit_key(
    account: &AccountId,
    user: &User,
    key: &AccessKey,
    policy: &Policy,
    now: Timestamp,
    out: &mut Vec<Finding>,
) {
    let name = user.name.as_str();
    let key_age = age_days(key.created, now);
    if !key.is_active() {
        out.push(finding(
            Rule::InactiveKey,
            account,
            name,
            Some(key),
            format!("inactive key, {key_age} days old; delete it once nothing needs it"),
        ));
        return;
    }
    if key_age > i64::from(policy.rotation_days) {
        out.push(finding(
            Rule::KeyNotRotated,
            account,
            name,
            Some(key),
            format!("active key is {key_age} days old (limit {})", policy.rotation_days),
        ));
    }
    let limit = policy.unused_days;
    let detail = unused(key.last_used.as_ref().map(|u| u.date), key.created, limit, now).map(|idle| match idle {
        Idle::LastUsed(days) => format!("last used {days} days ago (limit {limit})"),
        Idle::Never(age) => format!("never used; created {age} days ago (limit {limit})"),
    });
    if let Some(detail) = detail {
        out.push(finding(Rule::KeyUnused, account, name, Some(key), detail));
    }
    if user.password_enabled && key.last_used.is_none() {
        out.push(finding(
            Rule::KeyNeverUsedAtSetup,
            account,
            name,
            Some(key),
            "console user's active key was never used".into(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use chrono::{Duration, TimeZone, Utc};
    use rstest::rstest;

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()
    }

    fn ago(d: Duration) -> Timestamp {
        now() - d
    }

    fn key(id: &str, status: KeyStatus, age: Duration, used: Option<Duration>) -> AccessKey {
        AccessKey {
            id: AccessKeyId(id.into()),
            status,
            created: ago(age),
            last_used: used.map(|u| KeyLastUsed {
                date: ago(u),
                service: Some("s3".into()),
                region: None,
            }),
        }
    }

    fn user(keys: Vec<AccessKey>) -> User {
        User {
            name: "alice".into(),
            arn: "arn:aws:iam::111111111111:user/alice".into(),
            path: "/".into(),
            created: ago(Duration::days(10)),
            password_enabled: false,
            password_last_used: None,
            mfa_active: false,
            mfa_devices: vec![],
            access_keys: keys,
            credentials: vec![],
        }
    }

    fn scan_of(root: Option<RootUser>, users: Vec<User>) -> AccountScan {
        let account = Account {
            id: AccountId::parse("111111111111").unwrap(),
            name: "a".into(),
            email: "a@example.com".into(),
            state: AccountState::Active,
            ou_path: "/".into(),
        };
        let root = root.unwrap_or(RootUser {
            access_keys_present: false,
            mfa_enabled: true,
            mfa_kind: Some(MfaKind::Hardware),
            access_keys: vec![],
            signing_certificates: vec![],
        });
        AccountScan::ok(account, root, users, vec![])
    }

    #[test]
    fn audit_all_covers_every_account_worst_first() {
        let old = user(vec![key(
            "AKIAOLD",
            KeyStatus::Active,
            Duration::days(100),
            Some(Duration::days(1)),
        )]);
        let no_mfa_root = RootUser {
            access_keys_present: false,
            mfa_enabled: false,
            mfa_kind: None,
            access_keys: vec![],
            signing_certificates: vec![],
        };
        let scans = [scan_of(None, vec![old]), scan_of(Some(no_mfa_root), vec![])];
        let got: Vec<(String, Rule)> = crate::audit::audit_all(&scans, &Policy::default(), now())
            .into_iter()
            .map(|f| (f.user.into(), f.rule))
            .collect();
        assert_eq!(
            got,
            [
                (crate::audit::ROOT_USER.to_owned(), Rule::RootNoMfa),
                ("alice".to_owned(), Rule::KeyNotRotated)
            ]
        );
    }

    #[test]
    fn a_rule_displays_as_its_id() {
        for rule in Rule::ALL {
            assert_eq!(rule.to_string(), rule.id());
        }
        assert_eq!(Rule::KeyUnused.to_string(), "key-unused");
    }

    fn fired(u: User) -> Vec<(Rule, Option<String>)> {
        audit_account(&scan_of(None, vec![u]), &Policy::default(), now())
            .into_iter()
            .map(|f| (f.rule, f.access_key_id.map(|k| k.0.into())))
            .collect()
    }

    fn d(n: i64) -> Duration {
        Duration::days(n)
    }

    #[rstest]
    #[case::eighty_nine_days_23h(Duration::hours(90 * 24 - 1), false)]
    #[case::exactly_90(d(90), false)]
    #[case::ninety_days_23h(Duration::hours(91 * 24 - 1), false)]
    #[case::ninety_one(d(91), true)]
    fn rotation_is_strictly_over_90_whole_days(#[case] age: Duration, #[case] fires: bool) {
        let got = fired(user(vec![key("AKIA1", KeyStatus::Active, age, Some(d(1)))]));
        assert_eq!(
            got.contains(&(Rule::KeyNotRotated, Some("AKIA1".into()))),
            fires,
            "{got:?}"
        );
    }

    #[rstest]
    #[case::used_44_days_ago(Some(d(44)), d(400), false)]
    #[case::used_45_days_ago(Some(d(45)), d(400), false)]
    #[case::used_46_days_ago(Some(d(46)), d(400), true)]
    #[case::never_used_created_45_ago(None, d(45), false)]
    #[case::never_used_created_46_ago(None, d(46), true)]
    fn unused_key(#[case] used: Option<Duration>, #[case] age: Duration, #[case] fires: bool) {
        let got = fired(user(vec![key("AKIA1", KeyStatus::Active, age, used)]));
        assert_eq!(got.contains(&(Rule::KeyUnused, Some("AKIA1".into()))), fires, "{got:?}");
    }

    #[test]
    fn inactive_key_fires_only_inactive_key() {
        let got = fired(user(vec![key("AKIA1", KeyStatus::Inactive, d(400), None)]));
        assert_eq!(got, vec![(Rule::InactiveKey, Some("AKIA1".into()))]);
    }

    #[test]
    fn two_active_keys_fire_once_per_user() {
        let got = fired(user(vec![
            key("AKIA1", KeyStatus::Active, d(10), Some(d(1))),
            key("AKIA2", KeyStatus::Active, d(5), Some(d(1))),
        ]));
        assert_eq!(got, vec![(Rule::MultipleActiveKeys, None)]);
    }

    #[test]
    fn fresh_used_key_is_clean() {
        assert_eq!(
            fired(user(vec![key("AKIA1", KeyStatus::Active, d(10), Some(d(1)))])),
            vec![]
        );
    }

    #[test]
    fn console_user_without_mfa_and_never_used_key() {
        let mut u = user(vec![key("AKIA1", KeyStatus::Active, d(3), None)]);
        u.password_enabled = true;
        u.password_last_used = Some(ago(d(1)));
        assert_eq!(
            fired(u),
            vec![
                (Rule::ConsoleWithoutMfa, None),
                (Rule::KeyNeverUsedAtSetup, Some("AKIA1".into()))
            ]
        );
    }

    #[rstest]
    #[case::used_45(Some(d(45)), d(400), false)]
    #[case::used_46(Some(d(46)), d(400), true)]
    #[case::never_user_45(None, d(45), false)]
    #[case::never_user_46(None, d(46), true)]
    fn password_unused(#[case] used: Option<Duration>, #[case] user_age: Duration, #[case] fires: bool) {
        let mut u = user(vec![]);
        u.password_enabled = true;
        u.mfa_active = true;
        u.created = ago(user_age);
        u.password_last_used = used.map(ago);
        assert_eq!(fired(u).contains(&(Rule::PasswordUnused, None)), fires);
    }

    #[rstest]
    #[case::departed(d(400), Some(d(200)), true)]
    #[case::never_used_anything(d(91), None, true)]
    #[case::young_user(d(90), None, false)]
    #[case::used_90_days_ago(d(400), Some(d(90)), false)]
    fn stale_user(#[case] user_age: Duration, #[case] password_used: Option<Duration>, #[case] fires: bool) {
        let mut u = user(vec![]);
        u.created = ago(user_age);
        u.password_enabled = true;
        u.mfa_active = true;
        u.password_last_used = password_used.map(ago);
        assert_eq!(fired(u).contains(&(Rule::StaleUser, None)), fires);
    }

    /// A user 400 days old whose only credential is `c`: SSH keys, signing certificates and
    /// service-specific credentials have no recorded use, so an active one keeps the user
    /// "with a credential" and its upload is the only sign of life (stale after 90 whole days).
    #[rstest]
    #[case::ssh_90_days(CredentialKind::SshPublicKey, CredentialStatus::Active, d(91) - S(1), None, false)]
    #[case::ssh_91_days(CredentialKind::SshPublicKey, CredentialStatus::Active, d(91), None, true)]
    #[case::ssh_inactive(CredentialKind::SshPublicKey, CredentialStatus::Inactive, d(400), None, false)]
    #[case::cert_90_days(CredentialKind::SigningCertificate, CredentialStatus::Active, d(91) - S(1), Some(d(300)), false)]
    #[case::cert_91_days(
        CredentialKind::SigningCertificate,
        CredentialStatus::Active,
        d(91),
        Some(d(300)),
        true
    )]
    #[case::cert_expired_still_active(CredentialKind::SigningCertificate, CredentialStatus::Active, d(400), Some(-d(5)), true)]
    #[case::cert_inactive(CredentialKind::SigningCertificate, CredentialStatus::Inactive, d(400), None, false)]
    #[case::ssc_90_days(CredentialKind::ServiceSpecific, CredentialStatus::Active, d(91) - S(1), None, false)]
    #[case::ssc_91_days(CredentialKind::ServiceSpecific, CredentialStatus::Active, d(91), None, true)]
    #[case::ssc_91_days_expiring_later(
        CredentialKind::ServiceSpecific,
        CredentialStatus::Active,
        d(91),
        Some(d(10)),
        true
    )]
    #[case::ssc_expiry_passed(CredentialKind::ServiceSpecific, CredentialStatus::Active, d(400), Some(S(0)), false)]
    #[case::ssc_expired(CredentialKind::ServiceSpecific, CredentialStatus::Expired, d(400), Some(-d(10)), false)]
    #[case::ssc_inactive(CredentialKind::ServiceSpecific, CredentialStatus::Inactive, d(400), None, false)]
    fn stale_user_counts_every_kind_of_credential(
        #[case] kind: CredentialKind,
        #[case] status: CredentialStatus,
        #[case] age: Duration,
        #[case] expires: Option<Duration>,
        #[case] fires: bool,
    ) {
        let mut u = user(vec![]);
        u.created = ago(d(400));
        u.credentials = vec![cred(kind, status, age, expires, Some("codecommit.amazonaws.com"))];
        let got: Vec<Rule> = audit_account(&scan_of(None, vec![u]), &Policy::default(), now())
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(got.contains(&Rule::StaleUser), fires, "{got:?}");
    }

    /// A recent upload of any kind is a sign of life next to an idle password; an old one is
    /// not, and a young user is never stale.
    #[rstest]
    #[case::password_idle_ssh_key_new(d(400), Some(d(200)), d(90), false)]
    #[case::password_idle_ssh_key_old(d(400), Some(d(200)), d(91), true)]
    #[case::password_recent_ssh_key_old(d(400), Some(d(90)), d(300), false)]
    #[case::young_user(d(90), None, d(80), false)]
    #[case::user_91_days(d(91), None, d(91), true)]
    fn stale_user_with_a_password_and_an_ssh_key(
        #[case] user_age: Duration,
        #[case] password_used: Option<Duration>,
        #[case] ssh_age: Duration,
        #[case] fires: bool,
    ) {
        let mut u = user(vec![]);
        u.created = ago(user_age);
        u.password_enabled = password_used.is_some();
        u.mfa_active = true;
        u.password_last_used = password_used.map(ago);
        u.credentials = vec![cred(
            CredentialKind::SshPublicKey,
            CredentialStatus::Active,
            ssh_age,
            None,
            None,
        )];
        assert_eq!(fired(u).contains(&(Rule::StaleUser, None)), fires);
    }

    #[test]
    fn stale_user_detail_names_the_kinds_without_recorded_use() {
        let mut u = user(vec![key("AKIA1", KeyStatus::Active, d(300), None)]);
        u.created = ago(d(400));
        u.credentials = vec![
            cred(
                CredentialKind::SshPublicKey,
                CredentialStatus::Active,
                d(200),
                None,
                None,
            ),
            cred(
                CredentialKind::SigningCertificate,
                CredentialStatus::Active,
                d(150),
                Some(d(100)),
                None,
            ),
            cred(
                CredentialKind::SshPublicKey,
                CredentialStatus::Active,
                d(250),
                None,
                None,
            ),
        ];
        let got = details(u);
        assert!(
            got.contains(&(
                Rule::StaleUser,
                "no enabled credential with a recorded use (AWS records none for SSH public keys, signing certificates); \
                 the newest was created 150 days ago; user created 400 days ago (limit 90)"
                    .into()
            )),
            "{got:?}"
        );
    }

    #[test]
    fn an_inactive_keys_recent_use_does_not_hide_a_stale_user() {
        let mut u = user(vec![
            key("AKIA1", KeyStatus::Active, d(300), Some(d(200))),
            key("AKIA2", KeyStatus::Inactive, d(300), Some(d(10))),
        ]);
        u.created = ago(d(400));
        let got = fired(u);
        assert!(got.contains(&(Rule::StaleUser, None)), "{got:?}");
    }

    #[test]
    fn a_fresh_key_from_a_rotation_does_not_make_the_user_stale() {
        let mut u = user(vec![key("AKIANEW", KeyStatus::Active, Duration::hours(2), None)]);
        u.created = ago(d(400));
        assert!(!fired(u).contains(&(Rule::StaleUser, None)));
    }

    #[test]
    fn user_without_enabled_credentials_is_never_stale() {
        let mut u = user(vec![key("AKIA1", KeyStatus::Inactive, d(400), None)]);
        u.created = ago(d(400));
        assert_eq!(fired(u), vec![(Rule::InactiveKey, Some("AKIA1".into()))]);
    }

    #[rstest]
    #[case::key_no_mfa(true, false, None, vec![Rule::RootAccessKey, Rule::RootNoMfa])]
    #[case::virtual_mfa(false, true, Some(MfaKind::Virtual), vec![Rule::RootVirtualMfa])]
    #[case::hardware_mfa(false, true, Some(MfaKind::Hardware), vec![])]
    fn root_rules(#[case] keys: bool, #[case] mfa: bool, #[case] kind: Option<MfaKind>, #[case] want: Vec<Rule>) {
        let root = RootUser {
            access_keys_present: keys,
            mfa_enabled: mfa,
            mfa_kind: kind,
            access_keys: vec![],
            signing_certificates: vec![],
        };
        let got = audit_account(&scan_of(Some(root), vec![]), &Policy::default(), now());
        assert_eq!(got.iter().map(|f| f.rule).collect::<Vec<_>>(), want);
        assert!(got.iter().all(|f| f.user == ROOT_USER && f.access_key_id.is_none()));
    }

    #[test]
    fn a_root_key_is_described_by_its_report_row() {
        let root = RootUser {
            access_keys_present: true,
            mfa_enabled: true,
            mfa_kind: Some(MfaKind::Hardware),
            access_keys: vec![RootKey {
                active: true,
                created: ago(d(2300)),
                last_used: Some(KeyLastUsed {
                    date: ago(d(12)),
                    service: Some("s3".into()),
                    region: None,
                }),
            }],
            signing_certificates: vec![],
        };
        let got = audit_account(&scan_of(Some(root), vec![]), &Policy::default(), now());
        assert_eq!(
            got[0].detail,
            "the root user has an access key (active, 2300 days old, last used 12 days ago); delete it"
        );
    }

    #[test]
    fn findings_carry_severity_and_controls_from_the_table() {
        let got = audit_account(
            &scan_of(
                None,
                vec![user(vec![key("AKIA1", KeyStatus::Active, d(400), Some(d(1)))])],
            ),
            &Policy::default(),
            now(),
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].severity, crate::audit::Severity::High);
        assert_eq!(got[0].controls, ["CIS 1.14", "IAM.3"]);
        assert_eq!(got[0].detail, "active key is 400 days old (limit 90)");
    }

    fn details(u: User) -> Vec<(Rule, String)> {
        audit_account(&scan_of(None, vec![u]), &Policy::default(), now())
            .into_iter()
            .map(|f| (f.rule, f.detail))
            .collect()
    }

    #[rstest]
    #[case::api_only_user_never_used_key(false, None, false)]
    #[case::console_user_used_key(true, Some(d(1)), false)]
    #[case::console_user_never_used_key(true, None, true)]
    fn key_never_used_at_setup_is_only_a_console_users_never_used_key(
        #[case] console: bool,
        #[case] used: Option<Duration>,
        #[case] fires: bool,
    ) {
        let mut u = user(vec![key("AKIA1", KeyStatus::Active, d(3), used)]);
        u.password_enabled = console;
        u.mfa_active = true;
        u.password_last_used = console.then(|| ago(d(1)));
        let got = fired(u);
        assert_eq!(
            got.contains(&(Rule::KeyNeverUsedAtSetup, Some("AKIA1".into()))),
            fires,
            "{got:?}"
        );
    }

    #[test]
    fn a_console_users_never_used_inactive_key_is_only_inactive() {
        let mut u = user(vec![key("AKIA1", KeyStatus::Inactive, d(3), None)]);
        u.password_enabled = true;
        u.mfa_active = true;
        u.password_last_used = Some(ago(d(1)));
        assert_eq!(fired(u), vec![(Rule::InactiveKey, Some("AKIA1".into()))]);
    }

    #[test]
    fn stale_user_detail_says_whether_anything_was_ever_used() {
        let mut never = user(vec![key("AKIA1", KeyStatus::Active, d(300), None)]);
        never.created = ago(d(400));
        let got = details(never);
        assert!(
            got.contains(&(
                Rule::StaleUser,
                "no enabled credential ever used; user created 400 days ago (limit 90)".into()
            )),
            "{got:?}"
        );
        let mut departed = user(vec![key("AKIA1", KeyStatus::Active, d(300), Some(d(200)))]);
        departed.created = ago(d(400));
        departed.password_enabled = true;
        departed.mfa_active = true;
        departed.password_last_used = Some(ago(d(150)));
        let got = details(departed);
        assert!(
            got.contains(&(
                Rule::StaleUser,
                "enabled credentials last used or created 150 days ago; user created 400 days ago (limit 90)".into()
            )),
            "{got:?}"
        );
    }

    #[test]
    fn unused_details_for_keys_and_passwords() {
        let mut u = user(vec![
            key("AKIA1", KeyStatus::Active, d(60), Some(d(50))),
            key("AKIA2", KeyStatus::Active, d(47), None),
        ]);
        u.created = ago(d(80));
        u.password_enabled = true;
        u.mfa_active = true;
        let got: Vec<(Rule, String)> = details(u)
            .into_iter()
            .filter(|(r, _)| matches!(r, Rule::KeyUnused | Rule::PasswordUnused))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Rule::PasswordUnused,
                    "console password never used; user created 80 days ago (limit 45)".into()
                ),
                (Rule::KeyUnused, "last used 50 days ago (limit 45)".into()),
                (Rule::KeyUnused, "never used; created 47 days ago (limit 45)".into()),
            ]
        );
        let mut u = user(vec![]);
        u.created = ago(d(400));
        u.password_enabled = true;
        u.mfa_active = true;
        u.password_last_used = Some(ago(d(46)));
        assert!(details(u).contains(&(
            Rule::PasswordUnused,
            "console password last used 46 days ago (limit 45)".into()
        )));
    }

    #[test]
    fn thresholds_are_configurable() {
        let policy = Policy {
            rotation_days: 30,
            unused_days: 45,
            stale_user_days: 90,
            expiry_warning_days: 30,
            unused_role_days: 90,
        };
        let u = user(vec![key("AKIA1", KeyStatus::Active, d(31), Some(d(1)))]);
        let got = audit_account(&scan_of(None, vec![u]), &policy, now());
        assert_eq!(
            got.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![Rule::KeyNotRotated]
        );
    }

    fn cred(
        kind: CredentialKind,
        status: CredentialStatus,
        age: Duration,
        expires: Option<Duration>,
        service: Option<&str>,
    ) -> Credential {
        Credential {
            kind,
            id: "CRED1".into(),
            status,
            created: ago(age),
            // `expires`: positive = in the future.
            expires: expires.map(|e| now() + e),
            service: service.map(Into::into),
        }
    }

    fn fired_on(c: Credential) -> Vec<Rule> {
        let mut u = user(vec![]);
        u.credentials = vec![c];
        let got = audit_account(&scan_of(None, vec![u]), &Policy::default(), now());
        assert!(
            got.iter()
                .all(|f| f.credential.as_ref().map(|r| r.id.as_str()) == Some("CRED1") && f.access_key_id.is_none())
        );
        got.into_iter().map(|f| f.rule).collect()
    }

    const S: fn(i64) -> Duration = Duration::seconds;

    // Defaults: rotation 90 days, expiry window 30 days. `age` is how long ago it was created.
    #[rstest]
    #[case::ssh_at_rotation_age(CredentialKind::SshPublicKey, CredentialStatus::Active, d(90) + d(1) - S(1), None, None, vec![])]
    #[case::ssh_a_day_past(CredentialKind::SshPublicKey, CredentialStatus::Active, d(91), None, None, vec![Rule::SshKeyNotRotated])]
    #[case::ssh_inactive_new(CredentialKind::SshPublicKey, CredentialStatus::Inactive, d(0), None, None, vec![Rule::InactiveSshKey])]
    #[case::ssh_inactive_old(CredentialKind::SshPublicKey, CredentialStatus::Inactive, d(400), None, None, vec![Rule::InactiveSshKey])]
    #[case::cert_expires_in_31_days(CredentialKind::SigningCertificate, CredentialStatus::Active, d(10), Some(d(31)), None, vec![])]
    #[case::cert_expires_in_30_days_and_a_bit(CredentialKind::SigningCertificate, CredentialStatus::Active, d(10), Some(d(31) - S(1)), None, vec![Rule::CertificateExpiring])]
    #[case::cert_expires_in_a_second(CredentialKind::SigningCertificate, CredentialStatus::Active, d(10), Some(S(1)), None, vec![Rule::CertificateExpiring])]
    #[case::cert_expired(CredentialKind::SigningCertificate, CredentialStatus::Active, d(10), Some(S(0)), None, vec![Rule::CertificateExpiring])]
    #[case::cert_old_and_valid(CredentialKind::SigningCertificate, CredentialStatus::Active, d(91), Some(d(300)), None, vec![Rule::CertificateNotRotated])]
    #[case::cert_at_rotation_age(CredentialKind::SigningCertificate, CredentialStatus::Active, d(91) - S(1), Some(d(300)), None, vec![])]
    #[case::cert_old_and_expiring(CredentialKind::SigningCertificate, CredentialStatus::Active, d(700), Some(d(12)), None, vec![Rule::CertificateExpiring, Rule::CertificateNotRotated])]
    #[case::cert_unparsed_expiry(CredentialKind::SigningCertificate, CredentialStatus::Active, d(10), None, None, vec![])]
    #[case::cert_inactive_expired(CredentialKind::SigningCertificate, CredentialStatus::Inactive, d(900), Some(-d(20)), None, vec![Rule::InactiveCertificate])]
    #[case::bedrock_never_expires(CredentialKind::ServiceSpecific, CredentialStatus::Active, d(20), None, Some("bedrock.amazonaws.com"), vec![Rule::BedrockLongTermKey, Rule::ServiceCredentialLongLived])]
    #[case::bedrock_inactive(CredentialKind::ServiceSpecific, CredentialStatus::Inactive, d(20), None, Some("bedrock.amazonaws.com"), vec![Rule::BedrockLongTermKey])]
    #[case::lifetime_exactly_90(CredentialKind::ServiceSpecific, CredentialStatus::Active, d(10), Some(d(80) + d(1) - S(1)), Some("codecommit.amazonaws.com"), vec![])]
    #[case::lifetime_91(CredentialKind::ServiceSpecific, CredentialStatus::Active, d(10), Some(d(81)), Some("codecommit.amazonaws.com"), vec![Rule::ServiceCredentialLongLived])]
    #[case::never_expires(CredentialKind::ServiceSpecific, CredentialStatus::Active, d(0), None, Some("cassandra.amazonaws.com"), vec![Rule::ServiceCredentialLongLived])]
    #[case::old_and_never_expires(CredentialKind::ServiceSpecific, CredentialStatus::Active, d(91), None, Some("cassandra.amazonaws.com"), vec![Rule::ServiceCredentialLongLived, Rule::ServiceCredentialNotRotated])]
    #[case::expired_status(CredentialKind::ServiceSpecific, CredentialStatus::Expired, d(200), Some(-d(15)), Some("codecommit.amazonaws.com"), vec![Rule::ServiceCredentialExpired])]
    #[case::expired_bedrock(CredentialKind::ServiceSpecific, CredentialStatus::Expired, d(200), Some(-d(1)), Some("bedrock.amazonaws.com"), vec![Rule::ServiceCredentialExpired])]
    #[case::expiry_passed_status_stale(CredentialKind::ServiceSpecific, CredentialStatus::Active, d(5), Some(S(0)), Some("codecommit.amazonaws.com"), vec![Rule::ServiceCredentialExpired])]
    #[case::inactive_never_expires(CredentialKind::ServiceSpecific, CredentialStatus::Inactive, d(400), None, Some("codecommit.amazonaws.com"), vec![])]
    fn credential_rules_at_their_day_boundaries(
        #[case] kind: CredentialKind,
        #[case] status: CredentialStatus,
        #[case] age: Duration,
        #[case] expires: Option<Duration>,
        #[case] service: Option<&str>,
        #[case] want: Vec<Rule>,
    ) {
        assert_eq!(fired_on(cred(kind, status, age, expires, service)), want);
    }

    #[test]
    fn credential_findings_say_what_and_when() {
        let c = cred(
            CredentialKind::SigningCertificate,
            CredentialStatus::Active,
            d(700),
            Some(d(12)),
            None,
        );
        let mut u = user(vec![]);
        u.credentials = vec![c];
        let got = audit_account(&scan_of(None, vec![u]), &Policy::default(), now());
        let details: Vec<&str> = got.iter().map(|f| f.detail.as_str()).collect();
        assert_eq!(
            details,
            [
                "active signing certificate expires in 12 days (2026-12-11; window 30)",
                "active signing certificate is 700 days old (limit 90)"
            ]
        );
        let policy = Policy {
            expiry_warning_days: 11,
            ..Policy::default()
        };
        let mut u = user(vec![]);
        u.credentials = vec![cred(
            CredentialKind::SigningCertificate,
            CredentialStatus::Active,
            d(1),
            Some(d(12)),
            None,
        )];
        assert!(
            audit_account(&scan_of(None, vec![u]), &policy, now()).is_empty(),
            "window 11 < 12 days left"
        );
    }

    fn role(name: &str, path: &str, age: Duration, used: Option<Duration>, trust: &str) -> Role {
        let members = [AccountId::parse("222222222222").unwrap()].into_iter().collect();
        let trusted = crate::aws::roles::trusted_principals(trust).unwrap();
        Role {
            name: name.into(),
            path: path.into(),
            arn: format!("arn:aws:iam::111111111111:role{path}{name}"),
            id: "AROAEXAMPLE".into(),
            created: ago(age),
            last_used: used.map(|u| crate::model::RoleLastUsed {
                date: ago(u),
                region: Some("eu-west-1".into()),
            }),
            trusted: crate::aws::roles::judge(trusted, &AccountId::parse("111111111111").unwrap(), &members),
        }
    }

    fn role_findings(r: Role) -> Vec<(Rule, String)> {
        let mut scan = scan_of(None, vec![]);
        scan.roles = Some(vec![r]);
        audit_account(&scan, &Policy::default(), now())
            .into_iter()
            .map(|f| {
                assert_eq!(f.role(), Some(f.user.as_str()), "a role finding names its role");
                (f.rule, f.detail)
            })
            .collect()
    }

    const INSIDE: &str = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole"}]}"#;

    #[rstest]
    #[case::created_90_days_never_used(d(90) + d(1) - S(1), None, false)]
    #[case::created_91_days_never_used(d(91), None, true)]
    #[case::old_used_90_days_ago(d(400), Some(d(91) - S(1)), false)]
    #[case::old_used_91_days_ago(d(400), Some(d(91)), true)]
    #[case::young_never_used(d(10), None, false)]
    fn unused_role_at_its_day_boundary(#[case] age: Duration, #[case] used: Option<Duration>, #[case] fires: bool) {
        let got = role_findings(role("app", "/", age, used, INSIDE));
        assert_eq!(got.iter().any(|(r, _)| *r == Rule::RoleUnused), fires, "{got:?}");
    }

    #[rstest]
    #[case::service_linked(
        "AWSServiceRoleForElasticLoadBalancing",
        "/aws-service-role/elasticloadbalancing.amazonaws.com/"
    )]
    #[case::sso_path("AWSReservedSSO_Admin_0123456789abcdef", "/aws-reserved/sso.amazonaws.com/")]
    #[case::sso_name_elsewhere("AWSReservedSSO_ReadOnly_0123456789abcdef", "/")]
    fn aws_managed_roles_are_never_unused(#[case] name: &str, #[case] path: &str) {
        assert_eq!(role_findings(role(name, path, d(900), None, INSIDE)), vec![]);
    }

    #[test]
    fn unused_details_say_when_and_where() {
        assert_eq!(
            role_findings(role("app", "/", d(400), Some(d(200)), INSIDE)),
            [(
                Rule::RoleUnused,
                "role last used 200 days ago in eu-west-1; created 400 days ago (limit 90)".into()
            )]
        );
        assert_eq!(
            role_findings(role("app", "/", d(400), None, INSIDE)),
            [(
                Rule::RoleUnused,
                "role never used; created 400 days ago (limit 90)".into()
            )]
        );
        let mut scan = scan_of(None, vec![]);
        scan.roles = Some(vec![role("app", "/", d(400), Some(d(200)), INSIDE)]);
        let policy = Policy {
            unused_role_days: 200,
            ..Policy::default()
        };
        assert!(
            audit_account(&scan, &policy, now()).is_empty(),
            "limit 200: 200 days is not more"
        );
    }

    #[rstest]
    #[case::inside_org(r#"{"AWS":"arn:aws:iam::222222222222:root"}"#, "", vec![])]
    #[case::own_account(r#"{"AWS":"111111111111"}"#, "", vec![])]
    #[case::anyone(r#""*""#, "", vec![(Rule::RoleTrustsAnyone, "trusts anyone (\"*\") without a condition: any AWS account can assume it")])]
    #[case::anyone_in_the_org(r#"{"AWS":"*"}"#, r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}"#, vec![])]
    #[case::outside_root(r#"{"AWS":"arn:aws:iam::999999999999:root"}"#, "", vec![(Rule::RoleTrustsOutsideOrg, "trusts 1 account outside the organization without an sts:ExternalId condition: 999999999999")])]
    #[case::outside_role_arn(r#"{"AWS":["arn:aws:iam::999999999999:role/ci","888888888888"]}"#, "", vec![(Rule::RoleTrustsOutsideOrg, "trusts 2 accounts outside the organization without an sts:ExternalId condition: arn:aws:iam::999999999999:role/ci, 888888888888")])]
    #[case::third_party(r#"{"AWS":"999999999999"}"#, r#","Condition":{"StringEquals":{"sts:ExternalId":"acme-42"}}"#, vec![(Rule::RoleTrustsThirdParty, "trusts 1 account outside the organization (with an sts:ExternalId condition): 999999999999 (external id)")])]
    #[case::service(r#"{"Service":"ec2.amazonaws.com"}"#, "", vec![])]
    #[case::federated(r#"{"Federated":"arn:aws:iam::999999999999:saml-provider/okta"}"#, "", vec![])]
    fn trust_rules_name_the_principals(
        #[case] principal: &str,
        #[case] condition: &str,
        #[case] want: Vec<(Rule, &str)>,
    ) {
        let trust = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"{condition}}}]}}"#
        );
        let got = role_findings(role("app", "/", d(1), Some(d(0)), &trust));
        let want: Vec<(Rule, String)> = want.into_iter().map(|(r, s)| (r, s.to_owned())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_role_finding_is_the_roles_kind_with_its_arn() {
        let mut scan = scan_of(None, vec![]);
        scan.roles = Some(vec![role(
            "vendor",
            "/",
            d(1),
            None,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#,
        )]);
        let f = &audit_account(&scan, &Policy::default(), now())[0];
        assert_eq!(f.rule.severity(), crate::audit::Severity::Critical);
        assert_eq!(
            f.credential,
            Some(crate::model::CredentialRef {
                kind: CredentialKind::Role,
                id: "arn:aws:iam::111111111111:role/vendor".into()
            })
        );
        assert!(f.rule.is_about_role() && f.access_key_id.is_none());
    }
}

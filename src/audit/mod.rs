//! The audit: pure rules over the inventory.
//!
//! `(inventory, policy, now) → Vec<Finding>`. No I/O and no clock: `now` is an argument, so
//! every rule is testable with a fixed time. This module owns the rule table ([`Rule`]: id,
//! severity, CIS / Security Hub controls), the thresholds ([`Policy`]), [`Finding`] and the
//! order findings are reported in; the rule bodies live in `rules.rs`. It must not do I/O,
//! read the clock, or know about the TUI, the report formats or AWS.

pub mod rotation;
mod rules;

pub use rules::audit_account;

use crate::model::{AccessKeyId, AccountId, AccountScan, CredentialRef, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

pub use crate::model::ROOT_USER;

/// Thresholds of the rules, in whole days (UTC). "Older than N days" means strictly greater.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// `key-not-rotated`: an active key older than this. Default 90 (CIS 1.14).
    pub rotation_days: u32,
    /// `key-unused`, `password-unused`: unused for longer than this. Default 45 (CIS 1.12).
    pub unused_days: u32,
    /// `stale-user`: user older than this with nothing used within it. Default 90 (IAM.8).
    pub stale_user_days: u32,
    /// `certificate-expiring`: an active signing certificate expiring within this many days
    /// (or expired). Default 30. Additive field of the v1 document.
    #[serde(default = "default_expiry_warning_days")]
    pub expiry_warning_days: u32,
    /// `role-unused`: a role created more than this many days ago and not used within it
    /// (never used counts). Default 90. Additive field of the v1 document.
    #[serde(default = "default_unused_role_days")]
    pub unused_role_days: u32,
}

fn default_expiry_warning_days() -> u32 {
    30
}

fn default_unused_role_days() -> u32 {
    90
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            rotation_days: 90,
            unused_days: 45,
            stale_user_days: 90,
            expiry_warning_days: default_expiry_warning_days(),
            unused_role_days: default_unused_role_days(),
        }
    }
}

/// How bad a finding is; ordered `Info < Low < Medium < High < Critical`. Serialised
/// lowercase (`"high"`); parsed case-insensitively, from flags, the config file and JSON alike.
/// Each rule has one fixed severity ([`Rule::severity`]); `scan --fail-on` compares against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Severity {
    /// No rule uses it yet; accepted by `--fail-on` (fails on any finding).
    Info,
    /// Hygiene: an inactive key left behind, a console user's key never used.
    Low,
    /// Credentials idle past the thresholds, several active keys, a stale user.
    Medium,
    /// An old active key, a console password without MFA, a root user with only virtual MFA.
    High,
    /// The root user has an access key or no MFA.
    Critical,
}

impl Severity {
    /// All severities, worst first.
    pub const ALL: [Severity; 5] = [Self::Critical, Self::High, Self::Medium, Self::Low, Self::Info];

    /// Lowercase name, as in the JSON contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Severity {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("severity '{s}' is unrecognized (use critical, high, medium, low or info)"))
    }
}

/// The audit rules; the table of ids, severities and controls is in the methods below (and
/// in the README's rule table). The serialized name is the rule id, e.g. `key-not-rotated`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The root user has an access key.
    RootAccessKey,
    /// The root user has no MFA.
    RootNoMfa,
    /// The root user has an active signing certificate.
    RootSigningCertificate,
    /// The root user's MFA is virtual, not hardware.
    RootVirtualMfa,
    /// An active key is older than the rotation age.
    KeyNotRotated,
    /// An active key was not used within the unused age (or never, and is older than it).
    KeyUnused,
    /// A console user's active key was never used (created at setup "just in case").
    KeyNeverUsedAtSetup,
    /// A user has more than one active key.
    MultipleActiveKeys,
    /// A console password without MFA.
    ConsoleWithoutMfa,
    /// A console password not used within the unused age.
    PasswordUnused,
    /// An inactive key still exists.
    InactiveKey,
    /// An old user whose enabled credentials (password, active access keys, active SSH keys,
    /// signing certificates and unexpired service-specific credentials) were not used within
    /// the stale age; the kinds AWS records no use of count from their upload.
    StaleUser,
    /// An active SSH public key older than the rotation age.
    SshKeyNotRotated,
    /// An inactive SSH public key still exists.
    InactiveSshKey,
    /// An active signing certificate expired or expiring within the expiry warning window.
    CertificateExpiring,
    /// An active signing certificate older than the rotation age.
    CertificateNotRotated,
    /// An inactive signing certificate still exists.
    InactiveCertificate,
    /// An Amazon Bedrock long-term API key (a service-specific credential) exists.
    BedrockLongTermKey,
    /// An active service-specific credential never expires, or lives longer than the
    /// rotation age.
    ServiceCredentialLongLived,
    /// An active service-specific credential older than the rotation age.
    ServiceCredentialNotRotated,
    /// A service-specific credential has expired but was not deleted.
    ServiceCredentialExpired,
    /// A role created more than the unused-role age ago and not used within it (never used
    /// counts). AWS-managed roles (service-linked, IAM Identity Center) are not judged.
    RoleUnused,
    /// A role trusts anyone (`"*"`) without a condition.
    RoleTrustsAnyone,
    /// A role trusts an account outside the organization without an `sts:ExternalId`
    /// condition.
    RoleTrustsOutsideOrg,
    /// A role trusts an account outside the organization with an `sts:ExternalId`
    /// condition (a third party): review that it is still needed.
    RoleTrustsThirdParty,
}

impl Rule {
    /// Every rule, in table order.
    pub const ALL: [Rule; 25] = [
        Self::RootAccessKey,
        Self::RootNoMfa,
        Self::RootSigningCertificate,
        Self::RootVirtualMfa,
        Self::KeyNotRotated,
        Self::KeyUnused,
        Self::KeyNeverUsedAtSetup,
        Self::MultipleActiveKeys,
        Self::ConsoleWithoutMfa,
        Self::PasswordUnused,
        Self::InactiveKey,
        Self::StaleUser,
        Self::SshKeyNotRotated,
        Self::InactiveSshKey,
        Self::CertificateExpiring,
        Self::CertificateNotRotated,
        Self::InactiveCertificate,
        Self::BedrockLongTermKey,
        Self::ServiceCredentialLongLived,
        Self::ServiceCredentialNotRotated,
        Self::ServiceCredentialExpired,
        Self::RoleUnused,
        Self::RoleTrustsAnyone,
        Self::RoleTrustsOutsideOrg,
        Self::RoleTrustsThirdParty,
    ];

    /// The rule id, e.g. `key-not-rotated`.
    pub fn id(self) -> &'static str {
        match self {
            Self::RootAccessKey => "root-access-key",
            Self::RootNoMfa => "root-no-mfa",
            Self::RootSigningCertificate => "root-signing-certificate",
            Self::RootVirtualMfa => "root-virtual-mfa",
            Self::KeyNotRotated => "key-not-rotated",
            Self::KeyUnused => "key-unused",
            Self::KeyNeverUsedAtSetup => "key-never-used-at-setup",
            Self::MultipleActiveKeys => "multiple-active-keys",
            Self::ConsoleWithoutMfa => "console-without-mfa",
            Self::PasswordUnused => "password-unused",
            Self::InactiveKey => "inactive-key",
            Self::StaleUser => "stale-user",
            Self::SshKeyNotRotated => "ssh-key-not-rotated",
            Self::InactiveSshKey => "inactive-ssh-key",
            Self::CertificateExpiring => "certificate-expiring",
            Self::CertificateNotRotated => "certificate-not-rotated",
            Self::InactiveCertificate => "inactive-certificate",
            Self::BedrockLongTermKey => "bedrock-long-term-key",
            Self::ServiceCredentialLongLived => "service-credential-long-lived",
            Self::ServiceCredentialNotRotated => "service-credential-not-rotated",
            Self::ServiceCredentialExpired => "service-credential-expired",
            Self::RoleUnused => "role-unused",
            Self::RoleTrustsAnyone => "role-trusts-anyone",
            Self::RoleTrustsOutsideOrg => "role-trusts-outside-org",
            Self::RoleTrustsThirdParty => "role-trusts-third-party",
        }
    }

    /// The rule's severity: critical for the root user's key or missing MFA; high for an old
    /// active key, a password without MFA, virtual root MFA, an active root certificate; medium for idle credentials,
    /// several active keys, a stale user, an old or expiring SSH key, certificate or
    /// service-specific credential, a Bedrock long-term key, one that never expires; low for
    /// an inactive key, SSH key or certificate, an expired service-specific credential and a
    /// console user's never-used key. For roles: critical when anyone may assume it, high
    /// when an outside account may without an external id, medium when unused, low for a
    /// third party with an external id.
    pub fn severity(self) -> Severity {
        use Severity::*;
        match self {
            Self::RootAccessKey | Self::RootNoMfa | Self::RoleTrustsAnyone => Critical,
            Self::RootVirtualMfa
            | Self::RootSigningCertificate
            | Self::KeyNotRotated
            | Self::ConsoleWithoutMfa
            | Self::RoleTrustsOutsideOrg => High,
            Self::KeyUnused
            | Self::MultipleActiveKeys
            | Self::PasswordUnused
            | Self::StaleUser
            | Self::SshKeyNotRotated
            | Self::CertificateExpiring
            | Self::CertificateNotRotated
            | Self::BedrockLongTermKey
            | Self::ServiceCredentialLongLived
            | Self::ServiceCredentialNotRotated
            | Self::RoleUnused => Medium,
            Self::KeyNeverUsedAtSetup
            | Self::InactiveKey
            | Self::InactiveSshKey
            | Self::InactiveCertificate
            | Self::ServiceCredentialExpired
            | Self::RoleTrustsThirdParty => Low,
        }
    }

    /// CIS AWS Foundations v3.0 numbers and Security Hub control ids.
    pub fn controls(self) -> &'static [&'static str] {
        match self {
            Self::RootAccessKey => &["CIS 1.4", "IAM.4"],
            Self::RootNoMfa => &["CIS 1.5", "IAM.9"],
            Self::RootVirtualMfa => &["CIS 1.6", "IAM.6"],
            Self::KeyNotRotated => &["CIS 1.14", "IAM.3"],
            Self::KeyUnused | Self::PasswordUnused => &["CIS 1.12", "IAM.22"],
            Self::KeyNeverUsedAtSetup => &["CIS 1.11"],
            Self::MultipleActiveKeys => &["CIS 1.13"],
            Self::ConsoleWithoutMfa => &["CIS 1.10", "IAM.5"],
            Self::InactiveKey
            | Self::RootSigningCertificate
            | Self::SshKeyNotRotated
            | Self::InactiveSshKey
            | Self::CertificateExpiring
            | Self::CertificateNotRotated
            | Self::InactiveCertificate
            | Self::BedrockLongTermKey
            | Self::ServiceCredentialLongLived
            | Self::ServiceCredentialNotRotated
            | Self::ServiceCredentialExpired
            | Self::RoleUnused
            | Self::RoleTrustsAnyone
            | Self::RoleTrustsOutsideOrg
            | Self::RoleTrustsThirdParty => &[],
            Self::StaleUser => &["IAM.8"],
        }
    }

    /// True for the rules about an IAM role: their findings carry the role's name in `user`
    /// and `credential` kind `role` with the role ARN.
    pub fn is_about_role(self) -> bool {
        matches!(
            self,
            Self::RoleUnused | Self::RoleTrustsAnyone | Self::RoleTrustsOutsideOrg | Self::RoleTrustsThirdParty
        )
    }

    /// The rule with this id (`role-unused`); `None` for an unknown id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One finding: one rule about one thing (a root user, a user, one access key or other
/// credential, or one IAM role). A finding about a role has the role's name in `user`,
/// no `access_key_id`, and `credential` `{"kind": "role", "id": <role ARN>}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which rule fired.
    pub rule: Rule,
    /// The rule's severity.
    pub severity: Severity,
    /// The account the subject lives in.
    pub account_id: AccountId,
    /// IAM user name, or [`ROOT_USER`]; the role name for a finding about a role. Inline up
    /// to 24 bytes (most names): an organization's findings number in the hundreds of
    /// thousands.
    pub user: compact_str::CompactString,
    /// The access key, when the finding is about one key.
    pub access_key_id: Option<AccessKeyId>,
    /// The other credential (SSH key, certificate, service-specific credential), when the
    /// finding is about one. Absent from the JSON otherwise (additive field of v1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialRef>,
    /// One line for a person, e.g. `active key is 400 days old (limit 90)`.
    pub detail: String,
    /// Controls the rule implements, e.g. `["CIS 1.14", "IAM.3"]`.
    pub controls: &'static [&'static str],
}

impl Finding {
    /// The role's name when this finding is about an IAM role.
    pub fn role(&self) -> Option<&str> {
        self.credential
            .as_ref()
            .filter(|c| c.kind == crate::model::CredentialKind::Role)
            .map(|_| self.user.as_str())
    }
}

/// Audits every account scan and returns all findings, worst first, then by account, user
/// and key (a stable order, so reports diff cleanly).
pub fn audit_all(scans: &[AccountScan], policy: &Policy, now: Timestamp) -> Vec<Finding> {
    let mut out: Vec<Finding> = scans.iter().flat_map(|s| audit_account(s, policy, now)).collect();
    sort_findings(&mut out);
    out
}

/// Sorts findings worst first, then account, user, access key id, other credential, rule.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.account_id.cmp(&b.account_id))
            .then_with(|| a.user.cmp(&b.user))
            .then_with(|| a.access_key_id.cmp(&b.access_key_id))
            .then_with(|| a.credential.cmp(&b.credential))
            .then_with(|| a.rule.cmp(&b.rule))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(severity: Severity, account: &str, user: &str, key: Option<&str>, rule: Rule) -> Finding {
        Finding {
            rule,
            severity,
            account_id: AccountId::parse(account).unwrap(),
            user: user.into(),
            access_key_id: key.map(|k| AccessKeyId(k.into())),
            credential: None,
            detail: String::new(),
            controls: rule.controls(),
        }
    }

    #[test]
    fn sort_findings_is_worst_first_then_account_user_key_rule() {
        let (a1, a2) = ("111111111111", "222222222222");
        let want = vec![
            f(Severity::Critical, a2, ROOT_USER, None, Rule::RootNoMfa),
            f(Severity::High, a1, "bob", Some("AKIA2"), Rule::KeyNotRotated),
            f(Severity::Medium, a1, "alice", None, Rule::PasswordUnused),
            f(Severity::Medium, a1, "alice", None, Rule::StaleUser),
            f(Severity::Medium, a1, "alice", Some("AKIA1"), Rule::KeyUnused),
            f(Severity::Medium, a1, "alice", Some("AKIA3"), Rule::KeyUnused),
            f(Severity::Medium, a1, "bob", None, Rule::MultipleActiveKeys),
            f(Severity::Medium, a2, "alice", None, Rule::StaleUser),
            f(Severity::Low, a1, "alice", Some("AKIA1"), Rule::KeyNeverUsedAtSetup),
        ];
        let mut got: Vec<Finding> = want.iter().rev().cloned().collect();
        got.swap(0, 4);
        got.swap(2, 7);
        sort_findings(&mut got);
        let brief = |v: &[Finding]| -> Vec<String> {
            v.iter()
                .map(|f| {
                    format!(
                        "{} {} {} {:?} {}",
                        f.severity, f.account_id, f.user, f.access_key_id, f.rule
                    )
                })
                .collect()
        };
        assert_eq!(brief(&got), brief(&want));
    }

    #[test]
    fn severity_parses_case_insensitively_and_names_a_bad_value() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert_eq!(" low ".parse::<Severity>(), Ok(Severity::Low));
        assert_eq!(
            "severe".parse::<Severity>(),
            Err("severity 'severe' is unrecognized (use critical, high, medium, low or info)".into())
        );
        let s: Severity = serde_json::from_str("\"critical\"").unwrap();
        assert_eq!(
            (s, serde_json::to_string(&s).unwrap()),
            (Severity::Critical, "\"critical\"".into())
        );
    }
}

//! Plain data for the inventory of an AWS Organization: accounts, IAM users, access keys and
//! the other user credentials, MFA devices, the root user, and IAM roles with their trusted
//! principals.
//!
//! This module owns the shapes that flow from `aws/` (which converts SDK output into them)
//! to `audit/`, `scan`, `report` and `tui/`. It must not import the AWS SDK, tokio or
//! ratatui. Every time is a UTC [`Timestamp`]; every age is in whole days.

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The root user's name: its credential report row's `user` cell, and the `user` of
/// findings about it.
pub const ROOT_USER: &str = "<root_account>";

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// Whole days elapsed from `then` to `now` (UTC), rounded down; negative spans give 0.
///
/// "Older than N days" in every rule means `age_days(..) > N`.
pub fn age_days(then: Timestamp, now: Timestamp) -> i64 {
    (now - then).num_days().max(0)
}

/// A 12-digit AWS account id, e.g. `123456789012`. Deserialising validates it (a config
/// file's `accounts = ["12"]` is an error at that line and column, not a silent drop).
///
/// Held as its 12 digits inline (no heap): every finding, row and journal line carries one,
/// hundreds of thousands in a large organization.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId([u8; 12]);

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AccountId").field(&self.as_str()).finish()
    }
}

impl TryFrom<String> for AccountId {
    type Error = InvalidAccountId;
    fn try_from(s: String) -> Result<Self, InvalidAccountId> {
        Self::parse(&s)
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.as_str().to_owned()
    }
}

impl AccountId {
    /// Validates and wraps an account id.
    ///
    /// # Errors
    /// `InvalidAccountId` when `s` is not exactly 12 ASCII digits.
    pub fn parse(s: &str) -> Result<Self, InvalidAccountId> {
        let s = s.trim();
        match <[u8; 12]>::try_from(s.as_bytes()) {
            Ok(digits) if digits.iter().all(u8::is_ascii_digit) => Ok(Self(digits)),
            _ => Err(InvalidAccountId(s.to_owned())),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Always 12 ASCII digits (checked by `parse`, the only way to make one).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account id that is not 12 digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("account id '{0}' is not 12 digits")]
pub struct InvalidAccountId(pub String);

/// An access key id, e.g. `AKIAIOSFODNN7EXAMPLE`. Not secret; the secret never enters the model.
/// Held inline (an id is 20 characters, a compact string keeps up to 24 without the heap): a
/// large organization has 100,000 keys, each id copied into findings and table rows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccessKeyId(pub CompactString);

impl From<String> for AccessKeyId {
    fn from(id: String) -> Self {
        Self(id.into())
    }
}

impl From<&str> for AccessKeyId {
    fn from(id: &str) -> Self {
        Self(id.into())
    }
}

impl AccessKeyId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its last 4 characters: what an operator types to confirm deleting an active key.
    pub fn last4(&self) -> String {
        let n = self.0.chars().count();
        self.0.chars().skip(n.saturating_sub(4)).collect()
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The organization itself. Source: `organizations:DescribeOrganization`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// `o-…`
    pub id: String,
    /// The management account's id.
    pub management_account_id: AccountId,
}

/// Lifecycle state of a member account. Source: `organizations:ListAccounts` `State`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountState {
    /// The only state that is scanned.
    Active,
    /// Closed by the owner, within the 90-day post-closure period.
    Suspended,
    /// Closure requested.
    PendingClosure,
    /// Closed for good.
    Closed,
    /// Being created.
    PendingActivation,
    /// A state this version does not know, as AWS spelled it.
    #[serde(untagged)]
    Other(String),
}

impl AccountState {
    /// AWS's spelling, e.g. `ACTIVE`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "ACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::PendingClosure => "PENDING_CLOSURE",
            Self::Closed => "CLOSED",
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::Other(s) => s,
        }
    }

    /// Parses AWS's spelling; unknown values are kept as [`AccountState::Other`].
    pub fn from_aws(s: &str) -> Self {
        match s {
            "ACTIVE" => Self::Active,
            "SUSPENDED" => Self::Suspended,
            "PENDING_CLOSURE" => Self::PendingClosure,
            "CLOSED" => Self::Closed,
            "PENDING_ACTIVATION" => Self::PendingActivation,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An AWS account of the organization (or the caller's own account when there is none).
/// Source: `organizations:ListAccounts`, OU path from the OU tree walk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// 12-digit id.
    pub id: AccountId,
    /// Account name as set in Organizations.
    pub name: String,
    /// Root email address.
    pub email: String,
    /// Lifecycle state.
    pub state: AccountState,
    /// Organizational unit path below the root, e.g. `/Production/Payments`; `/` directly under the root.
    /// In an OU name, `/` is written `\/` and a backslash is doubled (`/EU\/West` is one OU
    /// named `EU/West`); `aws::org::path_names` splits it.
    pub ou_path: String,
}

impl Account {
    /// An account known only by its id (a headless write names an account by id, without a
    /// scan): the name is the id, the rest empty, the state assumed `Active`.
    pub fn from_id(id: AccountId) -> Self {
        Self {
            name: id.to_string(),
            id,
            email: String::new(),
            state: AccountState::Active,
            ou_path: String::new(),
        }
    }
}

/// A write an operator can make on a user's credential (an access key, an SSH public key, a
/// signing certificate, a service-specific credential or the console password; see
/// [`Target`]): one type for the keymap, the dialogs, remediation, the headless commands and
/// the journal (`action` field: `deactivate`, `activate`, `delete`, `create`,
/// `disable_console`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAction {
    /// `iam:UpdateAccessKey` to Inactive.
    Deactivate,
    /// `iam:UpdateAccessKey` to Active.
    Activate,
    /// `iam:DeleteAccessKey` (cannot be undone; not retried).
    Delete,
    /// `iam:CreateAccessKey` for the key's user: the first step of a rotation (not retried).
    /// Journaled as `create`, with the new key's id in the outcome.
    #[serde(rename = "create")]
    Rotate,
    /// `iam:DeleteLoginProfile`: the user's console password is deleted (cannot be undone: a
    /// new password must be set to give console access back; not retried). Only on
    /// [`Target::ConsolePassword`]. Journaled as `disable_console`.
    #[serde(rename = "disable_console")]
    DisableConsole,
    /// Not an AWS write: an entry appended to the exceptions file (risk accepted until a
    /// date), journaled as `except` like any write. Never sent to the remediator.
    Except,
}

impl KeyAction {
    /// Button and title word, e.g. `Deactivate`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Deactivate => "Deactivate",
            Self::Activate => "Activate",
            Self::Delete => "Delete",
            Self::Rotate => "Rotate",
            Self::DisableConsole => "Disable console access",
            Self::Except => "Except",
        }
    }

    /// Lowercase imperative, e.g. `deactivate` (`… --write to {verb} keys`).
    pub fn verb(self) -> &'static str {
        match self {
            Self::Deactivate => "deactivate",
            Self::Activate => "activate",
            Self::Delete => "delete",
            Self::Rotate => "rotate",
            Self::DisableConsole => "disable console access of",
            Self::Except => "except",
        }
    }

    /// Progressive form, followed by a key id: `deactivating AKIA…`; for `Rotate`,
    /// `creating a new key for AKIA…`.
    pub fn ing(self) -> &'static str {
        match self {
            Self::Deactivate => "deactivating",
            Self::Activate => "activating",
            Self::Delete => "deleting",
            Self::Rotate => "creating a new key for",
            Self::DisableConsole => "disabling console access of",
            Self::Except => "excepting the findings of",
        }
    }

    /// Past tense, followed by a key id: `deactivated AKIA…`; for `Rotate`,
    /// `created a new key for AKIA…`.
    pub fn ed(self) -> &'static str {
        match self {
            Self::Deactivate => "deactivated",
            Self::Activate => "activated",
            Self::Delete => "deleted",
            Self::Rotate => "created a new key for",
            Self::DisableConsole => "disabled console access of",
            Self::Except => "excepted the findings of",
        }
    }

    /// The journal's name of the AWS write: `deactivate`, `activate`, `delete`, `create`,
    /// `disable_console`.
    pub fn journal_name(self) -> &'static str {
        match self {
            Self::Rotate => "create",
            Self::DisableConsole => "disable_console",
            other => other.verb(),
        }
    }

    /// The status the key already has when this action has nothing to do: `Inactive` for
    /// `Deactivate`, `Active` for `Activate`, `None` for the others.
    pub fn no_op_status(self) -> Option<KeyStatus> {
        match self {
            Self::Deactivate => Some(KeyStatus::Inactive),
            Self::Activate => Some(KeyStatus::Active),
            Self::Delete | Self::Rotate | Self::DisableConsole | Self::Except => None,
        }
    }

    /// What the operator must type to confirm this action on a key with `status`: the key's
    /// last 4 characters to delete an active key, else `None`.
    pub fn must_type(self, key: &AccessKeyId, status: KeyStatus) -> Option<String> {
        (self == Self::Delete && status == KeyStatus::Active).then(|| key.last4())
    }

    /// True for the writes that are not safe to repeat (every delete, `CreateAccessKey`,
    /// `DeleteLoginProfile`): made in one attempt, never retried.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Self::Deactivate | Self::Activate)
    }
}

/// What a write acts on: one of a user's credentials.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// An access key.
    AccessKey(AccessKeyId),
    /// An SSH public key, signing certificate or service-specific credential.
    Credential(CredentialRef),
    /// The user's console password (login profile).
    ConsolePassword,
}

impl Target {
    /// The access key, for [`Target::AccessKey`].
    pub fn access_key(&self) -> Option<&AccessKeyId> {
        match self {
            Self::AccessKey(k) => Some(k),
            _ => None,
        }
    }

    /// The credential, for [`Target::Credential`].
    pub fn credential(&self) -> Option<&CredentialRef> {
        match self {
            Self::Credential(c) => Some(c),
            _ => None,
        }
    }

    /// Words for a person: `access key`, `SSH public key`, `console password`.
    pub fn kind_label(&self) -> &'static str {
        match self {
            Self::AccessKey(_) => "access key",
            Self::Credential(c) => c.kind.label(),
            Self::ConsolePassword => "console password",
        }
    }

    /// True when `action` can be made on this kind of target: deactivate, activate and
    /// delete on keys and credentials, rotate on access keys only, disable console access on
    /// the console password only.
    pub fn allows(&self, action: KeyAction) -> bool {
        match (self, action) {
            // An exception is written to the exceptions file, never to AWS.
            (_, KeyAction::Except) => false,
            (Self::ConsolePassword, a) => a == KeyAction::DisableConsole,
            (_, KeyAction::DisableConsole) => false,
            (Self::Credential(_), KeyAction::Rotate) => false,
            _ => true,
        }
    }
}

impl Target {
    /// Why `action` cannot be made on this kind of target (see [`Target::allows`]), e.g.
    /// `only access keys can be rotated, not SSH public keys`; `None` when it can.
    pub fn refuses(&self, action: KeyAction) -> Option<String> {
        if self.allows(action) {
            return None;
        }
        Some(match (self, action) {
            (_, KeyAction::Except) => "an exception is written to the exceptions file, not to AWS".to_owned(),
            (Self::ConsolePassword, _) => "a console password can only be deleted (disable console access)".to_owned(),
            (_, KeyAction::DisableConsole) => format!(
                "disable console access works on console passwords, not {}s",
                self.kind_label()
            ),
            _ => format!("only access keys can be rotated, not {}s", self.kind_label()),
        })
    }
}

impl fmt::Display for Target {
    /// The id: `AKIA…`, `APKA…`, a certificate id, `ACCA…`; `console password` for the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccessKey(k) => f.write_str(k.as_str()),
            Self::Credential(c) => f.write_str(&c.id),
            Self::ConsolePassword => f.write_str("console password"),
        }
    }
}

/// Whether an access key can be used. Source: `iam:ListAccessKeys` `Status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyStatus {
    /// Usable.
    Active,
    /// Deactivated; still exists and can be reactivated.
    Inactive,
}

impl KeyStatus {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
        }
    }
}

/// The last use of an access key. Source: the credential report's
/// `access_key_N_last_used_*` columns or `iam:GetAccessKeyLastUsed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLastUsed {
    /// When the key last signed a request (UTC).
    pub date: Timestamp,
    /// Service it called, e.g. `s3`; `None` when AWS reports `N/A`.
    pub service: Option<String>,
    /// Region it called, e.g. `eu-west-1`; `None` when AWS reports `N/A`.
    pub region: Option<String>,
}

/// An IAM user's access key (never its secret). Source: `iam:ListAccessKeys`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    /// `AKIA…`
    pub id: AccessKeyId,
    /// Active or Inactive.
    pub status: KeyStatus,
    /// Creation time (UTC); a key's age is counted from here.
    pub created: Timestamp,
    /// `None` when the key was never used (or not since IAM began tracking, 2015-04-22).
    pub last_used: Option<KeyLastUsed>,
}

impl AccessKey {
    /// True when the key is Active.
    pub fn is_active(&self) -> bool {
        self.status == KeyStatus::Active
    }
}

/// The kind of an MFA device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaKind {
    /// An authenticator app (serial is an `arn:…:mfa/…` ARN).
    Virtual,
    /// A hardware TOTP token or FIDO security key.
    Hardware,
}

impl MfaKind {
    /// Classifies a device by its serial number: virtual devices have `:mfa/` ARNs;
    /// hardware TOTP tokens have plain serials and FIDO keys `:u2f/` ARNs.
    pub fn from_serial(serial: &str) -> Self {
        if serial.starts_with("arn:") && serial.contains(":mfa/") {
            Self::Virtual
        } else {
            Self::Hardware
        }
    }

    /// `virtual` or `hardware`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Virtual => "virtual",
            Self::Hardware => "hardware",
        }
    }
}

/// An MFA device assigned to a user. Source: `iam:ListVirtualMFADevices`, `iam:ListMFADevices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaDevice {
    /// Serial number or ARN.
    pub serial: String,
    /// Virtual or hardware.
    pub kind: MfaKind,
}

/// An IAM user and its long-lived credentials.
/// Sources: `iam:ListUsers`, the credential report, `iam:ListAccessKeys`, MFA listings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// User name.
    pub name: String,
    /// User ARN.
    pub arn: String,
    /// IAM path, e.g. `/robots/`.
    pub path: String,
    /// Creation time (UTC).
    pub created: Timestamp,
    /// Has a console password (login profile).
    pub password_enabled: bool,
    /// Last console sign-in; `None` when never used or no password.
    pub password_last_used: Option<Timestamp>,
    /// At least one MFA device is active.
    pub mfa_active: bool,
    /// The MFA devices (kind known even when the serial is not listed).
    pub mfa_devices: Vec<MfaDevice>,
    /// Access keys, in creation order.
    pub access_keys: Vec<AccessKey>,
    /// The user's other long-lived credentials: SSH public keys, signing certificates and
    /// service-specific credentials, in that kind order, each in AWS's listing order. Only
    /// the kinds that were read (`--credentials`); absent from the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<Credential>,
}

/// A kind of long-lived IAM user credential besides access keys and the console password.
/// Serialised snake_case (`ssh_public_key`); `--credentials` and the config name the kinds
/// (with `access_key`) the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// An SSH public key for CodeCommit. Source: `iam:ListSSHPublicKeys` (no last use exists).
    SshPublicKey,
    /// An X.509 signing certificate. Source: `iam:ListSigningCertificates`, expiry from the
    /// certificate's NotAfter.
    SigningCertificate,
    /// A service-specific credential (CodeCommit or Keyspaces password, Amazon Bedrock API
    /// key). Source: `iam:ListServiceSpecificCredentials`.
    ServiceSpecific,
    /// An IAM role (not a user credential: never in [`User::credentials`]). Names the role a
    /// finding is about ([`CredentialRef`] id = the role ARN) and the `role` kind of
    /// `--credentials`. Source: `iam:GetAccountAuthorizationDetails`.
    Role,
}

impl CredentialKind {
    /// Every kind a user holds, in the order a user's credentials are listed ([`Self::Role`]
    /// is not one).
    pub const ALL: [CredentialKind; 3] = [Self::SshPublicKey, Self::SigningCertificate, Self::ServiceSpecific];

    /// The serialised name, e.g. `ssh_public_key`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SshPublicKey => "ssh_public_key",
            Self::SigningCertificate => "signing_certificate",
            Self::ServiceSpecific => "service_specific",
            Self::Role => "role",
        }
    }

    /// Words for a person, e.g. `SSH public key`.
    pub fn label(self) -> &'static str {
        match self {
            Self::SshPublicKey => "SSH public key",
            Self::SigningCertificate => "signing certificate",
            Self::ServiceSpecific => "service-specific credential",
            Self::Role => "role",
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Status of a [`Credential`], AWS's spelling (`Active`, `Inactive`, `Expired`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CredentialStatus {
    /// Usable.
    Active,
    /// Deactivated; can be reactivated.
    Inactive,
    /// Past its expiration date (service-specific credentials only); still present.
    Expired,
}

impl CredentialStatus {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
            Self::Expired => "Expired",
        }
    }
}

/// One long-lived credential of a user other than an access key (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// What it is.
    pub kind: CredentialKind,
    /// AWS's id: `SSHPublicKeyId` (`APKA…`), `CertificateId`, `ServiceSpecificCredentialId`
    /// (`ACCA…`).
    pub id: String,
    /// Active, Inactive or (service-specific only) Expired.
    pub status: CredentialStatus,
    /// `UploadDate` (SSH key, certificate) or `CreateDate` (service-specific), UTC.
    pub created: Timestamp,
    /// When it stops working (UTC): a certificate's NotAfter, a service-specific credential's
    /// `ExpirationDate`; `None` for SSH keys, for a service-specific credential that never
    /// expires, and for a certificate whose body could not be parsed.
    pub expires: Option<Timestamp>,
    /// Service-specific credentials only: `ServiceName`, e.g. `bedrock.amazonaws.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl Credential {
    /// True when the status is Active.
    pub fn is_active(&self) -> bool {
        self.status == CredentialStatus::Active
    }

    /// The reference a finding carries.
    pub fn reference(&self) -> CredentialRef {
        CredentialRef {
            kind: self.kind,
            id: self.id.clone(),
        }
    }
}

/// Names one [`Credential`] of a user: its kind and id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CredentialRef {
    /// What it is.
    pub kind: CredentialKind,
    /// Its AWS id.
    pub id: String,
}

impl User {
    /// Number of Active access keys.
    pub fn active_key_count(&self) -> usize {
        self.access_keys.iter().filter(|k| k.is_active()).count()
    }

    /// The strongest MFA kind the user has: hardware beats virtual; `None` without MFA.
    pub fn mfa_kind(&self) -> Option<MfaKind> {
        if !self.mfa_active {
            return None;
        }
        self.mfa_devices
            .iter()
            .map(|d| d.kind)
            .max()
            .or(Some(MfaKind::Hardware))
    }

    /// Most recent use of any credential (password or any key), UTC; `None` when none was ever used.
    pub fn last_activity(&self) -> Option<Timestamp> {
        let keys = self
            .access_keys
            .iter()
            .filter_map(|k| k.last_used.as_ref().map(|u| u.date));
        keys.chain(self.password_last_used).max()
    }

    /// Creation time of the oldest Active key, UTC.
    pub fn oldest_active_key(&self) -> Option<Timestamp> {
        self.access_keys
            .iter()
            .filter(|k| k.is_active())
            .map(|k| k.created)
            .min()
    }
}

/// Facts about the account's root user. Source: the credential report's `<root_account>` row,
/// else `iam:GetAccountSummary`; MFA kind from `iam:ListVirtualMFADevices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootUser {
    /// The root user has at least one access key.
    pub access_keys_present: bool,
    /// The root user has MFA.
    pub mfa_enabled: bool,
    /// Virtual when a virtual device is assigned to `arn:<partition>:iam::<id>:root`; otherwise
    /// hardware when MFA is enabled; `None` without MFA.
    pub mfa_kind: Option<MfaKind>,
    /// The root user's keys as the credential report's `<root_account>` row describes them
    /// (root keys have no listable id); empty when the facts came from `GetAccountSummary`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_keys: Vec<RootKey>,
    /// The root user's X.509 signing certificates as the report's `<root_account>` row
    /// describes them (`cert_N_active`, `cert_N_last_rotated`; they cannot be listed with a
    /// role's credentials); empty without a readable row. Absent from the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signing_certificates: Vec<RootCertificate>,
}

/// One of the root user's signing certificates. Source: the credential report's
/// `<root_account>` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCertificate {
    /// `cert_N_active`.
    pub active: bool,
    /// `cert_N_last_rotated` (its upload), UTC; `None` when the cell is empty or unreadable.
    pub uploaded: Option<Timestamp>,
}

/// One of the root user's access keys. Source: the credential report's `<root_account>` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootKey {
    /// `access_key_N_active`.
    pub active: bool,
    /// `access_key_N_last_rotated` (its creation), UTC.
    pub created: Timestamp,
    /// `None` when never used.
    pub last_used: Option<KeyLastUsed>,
}

/// How an account's scan ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanStatus {
    /// Inventory complete.
    Ok,
    /// Could not be scanned, or only partly (see `error` and `partial`).
    Failed,
    /// Not scanned on purpose (account not ACTIVE).
    Skipped,
}

/// Why an account's scan failed or was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanError {
    /// The AWS error code (`AccessDenied`, `Throttling`…) or one of ours
    /// (`Transport`, `CredentialReportTimeout`, `AccountNotActive`).
    pub code: String,
    /// What failed and what to do, e.g. `AssumeRole arn:aws:iam::…:role/X: access denied`.
    pub message: String,
}

/// The result of scanning one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountScan {
    /// The account.
    #[serde(flatten)]
    pub account: Account,
    /// Outcome.
    pub scan: ScanOutcome,
    /// Root user facts; `None` when not scanned (or when a failure came before they were read).
    pub root: Option<RootUser>,
    /// IAM users, sorted by name; empty when not scanned; only those read in full when
    /// `scan.partial`.
    pub users: Vec<User>,
    /// The account's IAM roles, sorted by name; `None` when they were not read (the `role`
    /// kind left out of `--credentials`, the listing denied, or the account not scanned in
    /// full). Absent from the JSON when `None` (additive field of v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Role>>,
}

/// Status and error of one account's scan (the `scan` object of the JSON contract).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanOutcome {
    /// ok, failed or skipped.
    pub status: ScanStatus,
    /// Set when failed or skipped.
    pub error: Option<ScanError>,
    /// Warnings that did not fail the scan, e.g. a user deleted while it was being read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// True when the scan failed (`status: failed`, with its `error`) after part of the account
    /// was read: `root` and `users` then hold only what was read in full before the failure
    /// (each user kept is complete: keys, password, MFA), and the other users are missing.
    /// Findings cover only what is there, so a partial account is never shown as clean.
    /// Always false for `ok` and `skipped`. Absent from the JSON when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

impl ScanOutcome {
    /// `ok`, `failed` or `skipped`.
    pub fn status_word(&self) -> &'static str {
        match self.status {
            ScanStatus::Ok => "ok",
            ScanStatus::Failed => "failed",
            ScanStatus::Skipped => "skipped",
        }
    }
}

impl AccountScan {
    /// A finished, complete scan.
    pub fn ok(account: Account, root: RootUser, users: Vec<User>, warnings: Vec<String>) -> Self {
        Self {
            account,
            scan: ScanOutcome {
                status: ScanStatus::Ok,
                error: None,
                warnings,
                partial: false,
            },
            root: Some(root),
            users,
            roles: None,
        }
    }

    /// A scan that did not happen or broke off, with its cause.
    pub fn not_scanned(account: Account, status: ScanStatus, error: ScanError) -> Self {
        Self {
            account,
            scan: ScanOutcome {
                status,
                error: Some(error),
                warnings: Vec::new(),
                partial: false,
            },
            root: None,
            users: Vec::new(),
            roles: None,
        }
    }

    /// A scan that failed after part of the account was read: `failed`, `partial`, with the
    /// root user and the users read in full before `error`.
    pub fn partial(
        account: Account,
        root: RootUser,
        users: Vec<User>,
        warnings: Vec<String>,
        error: ScanError,
    ) -> Self {
        Self {
            account,
            scan: ScanOutcome {
                status: ScanStatus::Failed,
                error: Some(error),
                warnings,
                partial: true,
            },
            root: Some(root),
            users,
            roles: None,
        }
    }
}

/// Where one account's scan is. Sent as progress while scanning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScanPhase {
    /// Waiting for a free slot.
    Queued,
    /// Assuming the audit role.
    Assuming,
    /// Generating and downloading the credential report.
    CredentialReport,
    /// Listing IAM users and MFA devices.
    ListingUsers,
    /// Reading each user's keys: `done` of `total` users.
    ReadingUsers {
        /// Users finished.
        done: usize,
        /// Users in the account.
        total: usize,
    },
}

/// An IAM role of an account, with when it was last used and whom its trust policy lets
/// assume it. Source: `iam:GetAccountAuthorizationDetails` (`Filter=Role`): `RoleName`,
/// `Path`, `Arn`, `RoleId`, `CreateDate`, `RoleLastUsed`, `AssumeRolePolicyDocument`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Role name, e.g. `vendor-audit`.
    pub name: String,
    /// IAM path, e.g. `/` or `/aws-service-role/elasticloadbalancing.amazonaws.com/`.
    pub path: String,
    /// Role ARN.
    pub arn: String,
    /// `RoleId` (`AROA…`).
    pub id: String,
    /// Creation time (UTC).
    pub created: Timestamp,
    /// The last time the role was assumed, and in which region; `None` when never used
    /// (IAM tracks the trailing 400 days only).
    pub last_used: Option<RoleLastUsed>,
    /// Every principal the trust policy's `Allow` statements name, in policy order; empty
    /// when the trust policy could not be read (the scan warns).
    pub trusted: Vec<TrustedPrincipal>,
}

impl Role {
    /// True for the roles AWS creates and manages itself: service-linked roles (path
    /// `/aws-service-role/`) and IAM Identity Center roles (path
    /// `/aws-reserved/sso.amazonaws.com/`, names `AWSReservedSSO_…`). They are never judged
    /// unused (their owner is an AWS service, not a person who could delete them).
    pub fn is_aws_managed(&self) -> bool {
        self.path.starts_with("/aws-service-role/")
            || self.path.starts_with("/aws-reserved/sso.amazonaws.com/")
            || self.name.starts_with("AWSReservedSSO_")
    }

    /// The reference a finding about this role carries (kind `role`, id = its ARN).
    pub fn reference(&self) -> CredentialRef {
        CredentialRef {
            kind: CredentialKind::Role,
            id: self.arn.clone(),
        }
    }

    /// The principals outside the organization: accounts that are not members (and
    /// not this account), and anyone (`*`), with or without a condition.
    pub fn outside_principals(&self) -> impl Iterator<Item = &TrustedPrincipal> {
        self.trusted.iter().filter(|p| p.is_outside())
    }
}

/// When a role was last used. Source: `RoleLastUsed` of `iam:GetAccountAuthorizationDetails`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleLastUsed {
    /// `LastUsedDate` (UTC).
    pub date: Timestamp,
    /// `Region`, e.g. `eu-west-1`; `None` when AWS gives none.
    pub region: Option<String>,
}

/// The kind of a principal in a trust policy (`Principal` element's key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// `"Principal": "*"` or `{"AWS": "*"}`: anyone with AWS credentials, in any account
    /// (also an `Allow` with `NotPrincipal`, which trusts everyone but those named).
    Anyone,
    /// `{"AWS": …}`: an account (`123456789012`, `arn:aws:iam::123456789012:root`) or a
    /// user or role of one (`arn:aws:iam::123456789012:role/x`).
    Aws,
    /// `{"Service": "ec2.amazonaws.com"}`: an AWS service.
    Service,
    /// `{"Federated": …}`: a SAML or OIDC identity provider (`arn:aws:iam::…:saml-provider/x`,
    /// `cognito-identity.amazonaws.com`).
    Federated,
    /// `{"CanonicalUser": …}`: an S3 canonical user id.
    CanonicalUser,
}

impl PrincipalKind {
    /// The serialised name, e.g. `aws`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anyone => "anyone",
            Self::Aws => "aws",
            Self::Service => "service",
            Self::Federated => "federated",
            Self::CanonicalUser => "canonical_user",
        }
    }
}

/// One principal a role's trust policy lets assume the role (from an `Allow` statement).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedPrincipal {
    /// What kind of principal.
    pub kind: PrincipalKind,
    /// The principal exactly as the policy writes it: `*`, `999999999999`,
    /// `arn:aws:iam::999999999999:root`, `ec2.amazonaws.com`.
    pub principal: String,
    /// The account an [`PrincipalKind::Aws`] principal belongs to (the bare id, or the
    /// account field of its ARN); `None` for the other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// For a principal with an `account`: whether that account was one of the
    /// organization's (`organizations:ListAccounts`, or the account itself) when scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_organization: Option<bool>,
    /// The condition keys of its statement, as written (`sts:ExternalId`,
    /// `aws:PrincipalOrgID`…); empty without a `Condition`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
}

impl TrustedPrincipal {
    /// True when its statement has a condition on `sts:ExternalId` (case-insensitive, as IAM
    /// compares condition keys).
    pub fn has_external_id(&self) -> bool {
        self.conditions.iter().any(|c| c.eq_ignore_ascii_case("sts:ExternalId"))
    }

    /// True for anyone (`*`) and for an account outside the organization.
    pub fn is_outside(&self) -> bool {
        self.kind == PrincipalKind::Anyone || self.in_organization == Some(false)
    }

    /// The principal for a person: `*` with its condition keys (`* (if aws:PrincipalOrgID)`),
    /// an account principal with its external id (`999999999999 (external id)`), else as
    /// written.
    pub fn describe(&self) -> String {
        let name = match (&self.kind, &self.account) {
            (PrincipalKind::Aws, Some(a))
                if self.principal == a.as_str() || self.principal.ends_with(&format!(":{a}:root")) =>
            {
                a.to_string()
            }
            _ => self.principal.clone(),
        };
        if self.kind == PrincipalKind::Anyone && !self.conditions.is_empty() {
            format!("{name} (if {})", self.conditions.join(", "))
        } else if self.has_external_id() {
            format!("{name} (external id)")
        } else {
            name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn no_target_takes_an_exception_as_an_aws_write() {
        let targets = [
            Target::AccessKey(AccessKeyId("AKIAEXAMPLE000000001".into())),
            Target::Credential(CredentialRef {
                kind: CredentialKind::SshPublicKey,
                id: "APKAEXAMPLE000000001".into(),
            }),
            Target::ConsolePassword,
        ];
        for t in targets {
            assert!(!t.allows(KeyAction::Except), "{t}");
            assert_eq!(
                t.refuses(KeyAction::Except).as_deref(),
                Some("an exception is written to the exceptions file, not to AWS")
            );
            assert!(t.allows(KeyAction::Delete) || t == Target::ConsolePassword);
        }
    }

    #[test]
    fn account_id_needs_twelve_digits() {
        assert_eq!(
            AccountId::parse(" 123456789012 ").map(String::from),
            Ok("123456789012".into())
        );
        assert_eq!(
            format!("{:?}", AccountId::parse("123456789012").unwrap()),
            "AccountId(\"123456789012\")"
        );
        assert!(AccountId::parse("1234567890123").is_err(), "13 digits");
        assert!(
            AccountId::parse("１２３４５６７８９０１２").is_err(),
            "not ASCII digits"
        );
        assert_eq!(AccountId::parse("12345"), Err(InvalidAccountId("12345".into())));
        assert!(AccountId::parse("12345678901a").is_err());
    }

    #[test]
    fn age_counts_whole_days_down() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        assert_eq!(age_days(now - chrono::Duration::hours(90 * 24 - 1), now), 89);
        assert_eq!(age_days(now - chrono::Duration::days(90), now), 90);
        assert_eq!(age_days(now + chrono::Duration::days(3), now), 0);
    }

    #[test]
    fn mfa_kind_from_serial() {
        assert_eq!(
            MfaKind::from_serial("arn:aws:iam::123456789012:mfa/alice"),
            MfaKind::Virtual
        );
        assert_eq!(MfaKind::from_serial("GAHT12345678"), MfaKind::Hardware);
        assert_eq!(
            MfaKind::from_serial("arn:aws:iam::123456789012:u2f/user/a/k"),
            MfaKind::Hardware
        );
    }
}

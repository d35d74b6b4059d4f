//! Remediation: the safe path around every write. For one access key: refuse unless writes
//! are on; re-read the key live (`ListAccessKeys` + `GetAccessKeyLastUsed`) and refuse if its
//! status changed, it vanished, or it was used more recently than the operator saw; journal
//! the intent (synced to disk); make the call; journal the outcome; re-read the user's keys so
//! the caller can show the truth. Rotation's first step, [`Remediator::create_key`],
//! pre-flights the two-key quota.
//!
//! The same path serves the other targets of a [`WriteRequest`] ([`Target`]): an SSH public
//! key, signing certificate or service-specific credential (re-read with its kind's list call
//! for the user; deactivate, activate, delete) and the console password (re-read with
//! `GetLoginProfile` + `GetUser`; disable console access, `DeleteLoginProfile`). Their journal
//! lines carry the credential's kind and id ([`journal::Entry::credential`]).
//!
//! When a write gets no answer (connection lost, timeout, 5xx) it may have taken effect: the
//! outcome is journaled `unknown`, the keys are re-read, and [`RemediateError::Unknown`] says
//! what is true now and what to do. No UI here: the TUI and the headless commands both use it,
//! with the shared rules of [`WriteRequest`] (nothing to do, what to type to confirm).

pub mod bulk;
pub mod plan;

use crate::aws::remediate::{self as calls, NewKey, WriteError};
use crate::aws::{self, AwsContext, RoleOptions, credentials, inventory};
use crate::journal::{self, ActionResult, Entry, Journal, JournalError, Phase};
use crate::model::{AccessKey, AccessKeyId, Account, Credential, KeyAction, KeyLastUsed, KeyStatus, Target};
use aws_config::SdkConfig;
use std::sync::Arc;

/// Why a write was not made, or failed.
#[derive(Debug, thiserror::Error)]
pub enum RemediateError {
    /// Writes are off.
    #[error("read-only: start keytriage with --write to change keys (nothing was changed)")]
    ReadOnly,
    /// The key is not as the operator saw it; nothing was done.
    #[error("{0}; nothing was changed — rescan the account")]
    Changed(String),
    /// The key was used more recently than the operator saw when confirming; nothing was
    /// done. `live` is the key as just read (status and last use), to confirm again against.
    #[error(
        "access key {} was used since you confirmed (last use now {}; you saw {}); nothing was changed — confirm again",
        live.id,
        last_use_utc(live.last_used.as_ref()),
        last_use_utc(seen.as_ref())
    )]
    UsedSince {
        /// The key as read live just before the write.
        live: AccessKey,
        /// The last use the operator confirmed against.
        seen: Option<KeyLastUsed>,
    },
    /// Rotation pre-flight: the user already has two keys (the IAM quota).
    #[error("{user} already has two access keys (the IAM limit)")]
    QuotaFull {
        /// The user.
        user: String,
        /// An inactive key that could be deleted first, if there is one.
        inactive: Option<AccessKeyId>,
    },
    /// The journal could not record the intent; the AWS call was not made.
    #[error("{0}; the AWS call was not made")]
    Journal(#[from] JournalError),
    /// AWS refused or failed the call (or the pre-check read).
    #[error("{error}{}", request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Aws {
        /// The classified error.
        error: aws::Error,
        /// AWS's request id, when there was a response.
        request_id: Option<String>,
    },
    /// The write got no answer (connection lost, timeout, 5xx) and may have taken effect.
    /// Journaled `unknown`; `found` says what the re-read shows and what to do, e.g. `access
    /// key AKIA… was created, whose secret nobody has: deactivate and delete it`.
    #[error("no answer from AWS to {what}, which may have taken effect ({error}); {found}")]
    Unknown {
        /// The write, e.g. `delete access key AKIA… of bob`.
        what: String,
        /// The transport error or 5xx.
        error: aws::Error,
        /// What is true now, and what to do.
        found: String,
        /// The user's keys as re-read; `None` when the re-read failed.
        keys: Option<Vec<AccessKey>>,
    },
    /// Activating a service-specific credential past its expiry (`Expired`): IAM cannot
    /// make it usable again; nothing was done. The message names it and its expiry date.
    #[error("{0}: activating cannot make it usable; create a new one (nothing was changed)")]
    Expired(String),
    /// [`KeyAction::Rotate`] asked of [`Remediator::apply`] (it is [`Remediator::create_key`]).
    #[error("rotate is not a change of an existing key; nothing was changed")]
    NotAKeyChange,
}

impl From<aws::Error> for RemediateError {
    fn from(error: aws::Error) -> Self {
        Self::Aws {
            error,
            request_id: None,
        }
    }
}

impl From<WriteError> for RemediateError {
    fn from(e: WriteError) -> Self {
        Self::Aws {
            error: e.error,
            request_id: e.request_id,
        }
    }
}

/// A last use as `2026-11-29 07:58 UTC by s3 in eu-west-1`, or `never used`.
pub fn last_use_utc(u: Option<&KeyLastUsed>) -> String {
    match u {
        None => "never used".into(),
        Some(u) => {
            let mut s = u.date.format("%Y-%m-%d %H:%M UTC").to_string();
            if let Some(svc) = &u.service {
                s.push_str(&format!(" by {svc}"));
            }
            if let Some(r) = &u.region {
                s.push_str(&format!(" in {r}"));
            }
            s
        }
    }
}

/// True when `live` is a use the operator did not see: later than `seen`, or any use when
/// `seen` was never.
pub fn used_since(seen: Option<&KeyLastUsed>, live: Option<&KeyLastUsed>) -> bool {
    match (seen, live) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(s), Some(l)) => l.date > s.date,
    }
}

/// One write on one credential of a user, as the operator confirmed it: what, where, and
/// the target's status and last use as the operator saw them (re-checked live before the
/// write).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteRequest {
    /// What to do.
    pub action: KeyAction,
    /// The account.
    pub account: Account,
    /// The IAM user.
    pub user: String,
    /// What it acts on: an access key (for [`KeyAction::Rotate`]: the key being replaced),
    /// another kind of credential, or the console password.
    pub target: Target,
    /// Its status as the operator saw it. For an SSH key, certificate or service-specific
    /// credential, `Expired` counts as `Inactive` (it cannot be used); for the console
    /// password, `Active` (it exists).
    pub status: KeyStatus,
    /// Its last use as the operator saw it (`None`: never used, or no last use exists, as
    /// for SSH keys, certificates and service-specific credentials). For the console
    /// password: its last sign-in (date only).
    pub last_used: Option<KeyLastUsed>,
}

/// The status a write request sees for a credential: `Active` when usable, else `Inactive`
/// (an `Expired` service-specific credential cannot be used).
pub fn credential_status(c: &Credential) -> KeyStatus {
    if c.is_active() {
        KeyStatus::Active
    } else {
        KeyStatus::Inactive
    }
}

/// A console password's last sign-in as a last use (no service, no region).
fn password_use(date: Option<crate::model::Timestamp>) -> Option<KeyLastUsed> {
    date.map(|date| KeyLastUsed {
        date,
        service: None,
        region: None,
    })
}

impl WriteRequest {
    /// `action` on `key` of `user` in `account`, as `key` shows it.
    pub fn new(action: KeyAction, account: &Account, user: &str, key: &AccessKey) -> Self {
        Self {
            action,
            account: account.clone(),
            user: user.to_owned(),
            target: Target::AccessKey(key.id.clone()),
            status: key.status,
            last_used: key.last_used.clone(),
        }
    }

    /// `action` on `credential` (an SSH public key, signing certificate or service-specific
    /// credential) of `user` in `account`, as `credential` shows it.
    pub fn for_credential(action: KeyAction, account: &Account, user: &str, credential: &Credential) -> Self {
        Self {
            action,
            account: account.clone(),
            user: user.to_owned(),
            target: Target::Credential(credential.reference()),
            status: credential_status(credential),
            last_used: None,
        }
    }

    /// Disabling console access of `user` (deleting its console password), with the last
    /// sign-in the operator saw (`password_last_used`).
    pub fn disable_console(account: &Account, user: &str, password_last_used: Option<crate::model::Timestamp>) -> Self {
        Self {
            action: KeyAction::DisableConsole,
            account: account.clone(),
            user: user.to_owned(),
            target: Target::ConsolePassword,
            status: KeyStatus::Active,
            last_used: password_use(password_last_used),
        }
    }

    /// The access key acted on; `None` for other targets.
    pub fn key(&self) -> Option<&AccessKeyId> {
        self.target.access_key()
    }

    /// Why there is nothing to do (`AKIA… is already inactive`; an action this kind of
    /// credential does not have), or `None`.
    pub fn nothing_to_do(&self) -> Option<String> {
        if let Some(why) = self.target.refuses(self.action) {
            return Some(why);
        }
        (self.action.no_op_status() == Some(self.status))
            .then(|| format!("{} is already {}", self.target, self.status.as_str().to_lowercase()))
    }

    /// What the operator must type to confirm: the id's last 4 characters to delete an
    /// active access key or credential; the user name to disable console access; else
    /// `None`.
    pub fn must_type(&self) -> Option<String> {
        match &self.target {
            Target::AccessKey(key) => self.action.must_type(key, self.status),
            Target::Credential(c) => self.action.must_type(&AccessKeyId::from(c.id.clone()), self.status),
            Target::ConsolePassword => (self.action == KeyAction::DisableConsole).then(|| self.user.clone()),
        }
    }

    /// `deactivate access key AKIA… (Active) of bob in account 111111111111`;
    /// `disable console access of bob (console password) in account 111111111111`.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::ConsolePassword => format!(
                "{} {} (console password) in account {}",
                self.action.verb(),
                self.user,
                self.account.id
            ),
            target => format!(
                "{} {} {} ({}) of {} in account {}",
                self.action.verb(),
                target.kind_label(),
                target,
                self.status.as_str(),
                self.user,
                self.account.id
            ),
        }
    }
}

/// A write's target as read live, just before its confirmation or its write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Live {
    /// An access key: status (`ListAccessKeys`) and last use (`GetAccessKeyLastUsed`).
    Key(AccessKey),
    /// An SSH public key, signing certificate or service-specific credential, as its kind's
    /// list call for the user answers.
    Credential(Credential),
    /// The console password exists (`GetLoginProfile`); its last sign-in (`GetUser`
    /// `PasswordLastUsed`, UTC; `None`: never used).
    Password {
        /// Last sign-in.
        last_used: Option<crate::model::Timestamp>,
    },
}

impl Live {
    /// The status as a [`WriteRequest`] compares it.
    pub fn status(&self) -> KeyStatus {
        match self {
            Self::Key(k) => k.status,
            Self::Credential(c) => credential_status(c),
            Self::Password { .. } => KeyStatus::Active,
        }
    }

    /// The last use as a [`WriteRequest`] compares it.
    pub fn last_used(&self) -> Option<KeyLastUsed> {
        match self {
            Self::Key(k) => k.last_used.clone(),
            Self::Credential(_) => None,
            Self::Password { last_used } => password_use(*last_used),
        }
    }
}

/// The remediation role named by `--remediation-role` (`None`: none named), with the audit
/// role's external id and session length. Pass it to [`Remediator::with_roles`].
pub fn remediation_role(audit: &RoleOptions, name: Option<&str>) -> Option<RoleOptions> {
    name.map(|n| RoleOptions {
        role_name: n.to_owned(),
        ..audit.clone()
    })
}

/// What a successful write left behind.
#[derive(Debug)]
pub struct Done {
    /// The user's keys as re-read after a write on an access key; `None` when the re-read
    /// failed, or the write was on another target.
    pub keys: Option<Vec<AccessKey>>,
    /// After a write on an SSH key, certificate or service-specific credential: the user's
    /// credentials of that kind as re-read; `None` when the re-read failed or for other
    /// targets.
    pub credentials: Option<Vec<Credential>>,
    /// After disabling console access: whether the user still has a console password, as
    /// re-read (`Some(false)`: gone); `None` when the re-read failed or for other targets.
    pub password_enabled: Option<bool>,
    /// AWS's request id of the write.
    pub request_id: Option<String>,
}

/// Makes write calls for one operator.
#[derive(Clone, Debug)]
pub struct Remediator {
    ctx: Arc<AwsContext>,
    /// The role of write calls.
    role: RoleOptions,
    /// The role of reads that are not part of a write (key states for the operator).
    audit: RoleOptions,
    /// A remediation role was named: writes assume it in every account, the caller's own too.
    assume_everywhere: bool,
    journal: Journal,
    writes_enabled: bool,
}

impl Remediator {
    /// `role` is the remediation role (or the audit role when there is none). Prefer
    /// [`Remediator::with_roles`], which keeps reads on the audit role.
    pub fn new(ctx: Arc<AwsContext>, role: RoleOptions, journal: Journal, writes_enabled: bool) -> Self {
        Self {
            ctx,
            audit: role.clone(),
            role,
            assume_everywhere: false,
            journal,
            writes_enabled,
        }
    }

    /// Reads with the `audit` role, writes with the `remediation` role when one is named
    /// (`--remediation-role`), in every account: in the caller's own account too, where the
    /// remediation role is assumed rather than the caller's credentials used. Without one,
    /// writes use the audit role (the caller's own credentials in its own account).
    pub fn with_roles(
        ctx: Arc<AwsContext>,
        audit: RoleOptions,
        remediation: Option<RoleOptions>,
        journal: Journal,
        writes_enabled: bool,
    ) -> Self {
        Self {
            ctx,
            role: remediation.clone().unwrap_or_else(|| audit.clone()),
            audit,
            assume_everywhere: remediation.is_some(),
            journal,
            writes_enabled,
        }
    }

    /// The journal written to.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    async fn config(&self, account: &Account) -> Result<SdkConfig, RemediateError> {
        if !self.writes_enabled {
            return Err(RemediateError::ReadOnly);
        }
        if self.assume_everywhere {
            return Ok(self.ctx.assumed_config(account, &self.role).await?);
        }
        Ok(self.ctx.account_config(account, &self.role).await?)
    }

    async fn live_keys(&self, config: &SdkConfig, user: &str) -> Result<Vec<AccessKey>, RemediateError> {
        match inventory::read_user_keys(config, user).await {
            Err(e) if e.is_no_such_entity() => Err(RemediateError::Changed(format!("user {user} no longer exists"))),
            other => Ok(other?),
        }
    }

    fn entry(&self, account: &Account, user: &str, key: Option<&AccessKeyId>, action: KeyAction, id: &str) -> Entry {
        Entry {
            time: chrono::Utc::now(),
            action_id: id.to_owned(),
            phase: Phase::Intent,
            operator: self.ctx.caller.arn.clone(),
            account_id: account.id.clone(),
            user: user.to_owned(),
            access_key_id: key.cloned(),
            credential: None,
            action,
            result: None,
            request_id: None,
            error_code: None,
            message: None,
            batch_id: None,
        }
    }

    /// Journals the outcome of `intent`: `ok`, `failed`, or `unknown` with `found` (what the
    /// re-read shows). A failure to write it is logged, not returned: the AWS call has
    /// happened and its result must still reach the operator.
    fn outcome(
        &self,
        intent: &Entry,
        key: Option<&AccessKeyId>,
        result: Result<Option<&str>, (&WriteError, Option<&str>)>,
    ) {
        let mut e = intent.clone();
        e.time = chrono::Utc::now();
        e.phase = Phase::Outcome;
        if key.is_some() {
            e.access_key_id = key.cloned();
        }
        match result {
            Ok(request_id) => {
                e.result = Some(ActionResult::Ok);
                e.request_id = request_id.map(str::to_owned);
            }
            Err((w, found)) => {
                e.result = Some(if found.is_some() {
                    ActionResult::Unknown
                } else {
                    ActionResult::Failed
                });
                e.request_id = w.request_id.clone();
                e.error_code = Some(w.error.code().to_owned());
                e.message = Some(match found {
                    Some(f) => format!("{}; {f}", w.error),
                    None => w.error.to_string(),
                });
            }
        }
        if let Err(err) = self.journal.append(&e) {
            tracing::error!(error = %err, action_id = %e.action_id, "journal outcome not written");
        }
    }

    /// Reads `key` of `user` live: its status (`ListAccessKeys`) and its last use
    /// (`GetAccessKeyLastUsed` for that key, never the credential report). Needs writes on:
    /// it is the read every write confirmation is built from, and the pre-check of every
    /// write ([`Remediator::apply`] makes the same read just before the call).
    ///
    /// # Errors
    /// [`RemediateError::Changed`] when the user or key is gone; read-only; AWS failures.
    pub async fn live_key(
        &self,
        account: &Account,
        user: &str,
        key: &AccessKeyId,
    ) -> Result<AccessKey, RemediateError> {
        let config = self.config(account).await?;
        self.live_key_in(&config, user, key).await
    }

    async fn live_key_in(
        &self,
        config: &SdkConfig,
        user: &str,
        key: &AccessKeyId,
    ) -> Result<AccessKey, RemediateError> {
        let live = self.live_keys(config, user).await?;
        live.into_iter()
            .find(|k| &k.id == key)
            .ok_or_else(|| RemediateError::Changed(format!("access key {key} of {user} no longer exists")))
    }

    /// Deactivates, activates or deletes the request's key, provided it still has the status
    /// the operator saw and was not used since (a newer live last use is
    /// [`RemediateError::UsedSince`]: confirm again against `live`).
    ///
    /// # Errors
    /// [`RemediateError`]: read-only, changed, vanished or used key, journal failure, AWS
    /// failure, [`RemediateError::Unknown`] when the call got no answer.
    pub async fn apply(&self, request: &WriteRequest) -> Result<Done, RemediateError> {
        self.apply_in(request, None).await
    }

    /// [`Remediator::apply`] as part of batch `batch_id` (its journal lines carry the id).
    ///
    /// # Errors
    /// As [`Remediator::apply`].
    pub async fn apply_in(&self, request: &WriteRequest, batch_id: Option<&str>) -> Result<Done, RemediateError> {
        if request.action == KeyAction::Rotate {
            return Err(RemediateError::NotAKeyChange);
        }
        let config = self.config(&request.account).await?;
        self.apply_with(&config, request, batch_id).await
    }

    /// [`Remediator::apply_in`] with the account's credentials already at hand (a batch
    /// assumes the role once per account).
    async fn apply_with(
        &self,
        config: &SdkConfig,
        request: &WriteRequest,
        batch_id: Option<&str>,
    ) -> Result<Done, RemediateError> {
        let config = config.clone();
        let WriteRequest {
            action,
            account,
            user,
            target,
            ..
        } = request;
        if *action == KeyAction::Rotate {
            return Err(RemediateError::NotAKeyChange);
        }
        if let Some(why) = target.refuses(*action) {
            return Err(RemediateError::Changed(why));
        }
        let key = match target {
            Target::AccessKey(key) => key,
            _ => return self.apply_other(&config, request, batch_id).await,
        };
        let current = self.live_key_in(&config, user, key).await?;
        if current.status != request.status {
            return Err(RemediateError::Changed(format!(
                "access key {key} is now {} (it was {} when scanned)",
                current.status.as_str(),
                request.status.as_str()
            )));
        }
        if used_since(request.last_used.as_ref(), current.last_used.as_ref()) {
            return Err(RemediateError::UsedSince {
                live: current,
                seen: request.last_used.clone(),
            });
        }
        let mut intent = self.entry(
            account,
            user,
            Some(key),
            *action,
            &journal::new_action_id(chrono::Utc::now()),
        );
        intent.batch_id = batch_id.map(str::to_owned);
        self.journal.append(&intent)?;
        let result = match action {
            KeyAction::Delete => calls::delete(&config, user, key).await,
            KeyAction::Activate => calls::set_status(&config, user, key, KeyStatus::Active).await,
            _ => calls::set_status(&config, user, key, KeyStatus::Inactive).await,
        };
        match result {
            Ok(request_id) => {
                self.outcome(&intent, None, Ok(request_id.as_deref()));
                let keys = self.live_keys(&config, user).await.ok();
                Ok(Done {
                    keys,
                    credentials: None,
                    password_enabled: None,
                    request_id,
                })
            }
            Err(w) if w.uncertain => {
                let reread = self.live_keys(&config, user).await;
                let found = match &reread {
                    Err(e) => format!("the keys could not be re-read ({e}): check {user}'s keys before trying again"),
                    Ok(keys) => match (action, keys.iter().find(|k| &k.id == key)) {
                        (KeyAction::Delete, None) => format!("access key {key} is gone: the delete took effect"),
                        (KeyAction::Delete, Some(k)) => format!(
                            "access key {key} still exists ({}): the delete did not take effect; try again",
                            k.status.as_str()
                        ),
                        (_, None) => format!("access key {key} no longer exists: rescan the account"),
                        (_, Some(k)) if Some(k.status) == action.no_op_status() => format!(
                            "access key {key} is now {}: the {} took effect",
                            k.status.as_str(),
                            action.verb()
                        ),
                        (_, Some(k)) => format!(
                            "access key {key} is still {}: the {} did not take effect; try again",
                            k.status.as_str(),
                            action.verb()
                        ),
                    },
                };
                self.outcome(&intent, None, Err((&w, Some(&found))));
                Err(RemediateError::Unknown {
                    what: format!("{} access key {key} of {user}", action.verb()),
                    error: w.error,
                    found,
                    keys: reread.ok(),
                })
            }
            Err(w) => {
                self.outcome(&intent, None, Err((&w, None)));
                Err(w.into())
            }
        }
    }

    /// Reads the request's target live, with the write role: for an access key as
    /// [`Remediator::live_key`]; for an SSH key, certificate or service-specific credential
    /// its kind's list call for the user; for the console password `GetLoginProfile` and
    /// `GetUser`. Needs writes on: every confirmation is built from it.
    ///
    /// # Errors
    /// [`RemediateError::Changed`] when the user or the target is gone; read-only; AWS
    /// failures.
    pub async fn live_target(&self, request: &WriteRequest) -> Result<Live, RemediateError> {
        let config = self.config(&request.account).await?;
        self.live_target_in(&config, &request.user, &request.target).await
    }

    async fn live_target_in(&self, config: &SdkConfig, user: &str, target: &Target) -> Result<Live, RemediateError> {
        let gone = |e: aws::Error| match e {
            e if e.is_no_such_entity() => RemediateError::Changed(format!("user {user} no longer exists")),
            e => e.into(),
        };
        match target {
            Target::AccessKey(key) => Ok(Live::Key(self.live_key_in(config, user, key).await?)),
            Target::Credential(c) => credentials::read_user_credentials(config, user, c.kind)
                .await
                .map_err(gone)?
                .into_iter()
                .find(|x| x.id == c.id)
                .map(Live::Credential)
                .ok_or_else(|| {
                    RemediateError::Changed(format!("{} {} of {user} no longer exists", c.kind.label(), c.id))
                }),
            Target::ConsolePassword => match credentials::read_console_password(config, user).await.map_err(gone)? {
                Some(last_used) => Ok(Live::Password { last_used }),
                None => Err(RemediateError::Changed(format!(
                    "{user} no longer has a console password"
                ))),
            },
        }
    }

    /// The state of the user's `target` kind after a write: `(credentials, password)`.
    async fn reread_other(
        &self,
        config: &SdkConfig,
        user: &str,
        target: &Target,
    ) -> (Option<Vec<Credential>>, Option<bool>) {
        match target {
            Target::Credential(c) => (
                credentials::read_user_credentials(config, user, c.kind).await.ok(),
                None,
            ),
            Target::ConsolePassword => (
                None,
                credentials::read_console_password(config, user)
                    .await
                    .ok()
                    .map(|p| p.is_some()),
            ),
            Target::AccessKey(_) => (None, None),
        }
    }

    /// [`Remediator::apply_with`] for an SSH public key, signing certificate,
    /// service-specific credential or the console password: re-read live (gone or changed
    /// status: [`RemediateError::Changed`]; a password used since: changed too), journal the
    /// intent (with the credential's kind and id), call, journal the outcome, re-read.
    async fn apply_other(
        &self,
        config: &SdkConfig,
        request: &WriteRequest,
        batch_id: Option<&str>,
    ) -> Result<Done, RemediateError> {
        let WriteRequest {
            action,
            account,
            user,
            target,
            ..
        } = request;
        let current = self.live_target_in(config, user, target).await?;
        if let (KeyAction::Activate, Live::Credential(c)) = (action, &current)
            && c.status == crate::model::CredentialStatus::Expired
        {
            return Err(RemediateError::Expired(format!(
                "{} {target} expired on {}",
                target.kind_label(),
                c.expires
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_else(|| "an unknown date".into())
            )));
        }
        if current.status() != request.status {
            return Err(RemediateError::Changed(format!(
                "{} {target} is now {} (it was {} when scanned)",
                target.kind_label(),
                current.status().as_str(),
                request.status.as_str()
            )));
        }
        if used_since(request.last_used.as_ref(), current.last_used().as_ref()) {
            return Err(RemediateError::Changed(format!(
                "the {} of {user} was used since you confirmed (last use now {}; you saw {})",
                target.kind_label(),
                last_use_utc(current.last_used().as_ref()),
                last_use_utc(request.last_used.as_ref())
            )));
        }
        let mut intent = self.entry(
            account,
            user,
            None,
            *action,
            &journal::new_action_id(chrono::Utc::now()),
        );
        intent.credential = target.credential().cloned();
        intent.batch_id = batch_id.map(str::to_owned);
        self.journal.append(&intent)?;
        let result = match (target, action) {
            (Target::ConsolePassword, _) => calls::delete_login_profile(config, user).await,
            (Target::Credential(c), KeyAction::Delete) => calls::delete_credential(config, user, c).await,
            (Target::Credential(c), KeyAction::Activate) => {
                calls::set_credential_status(config, user, c, KeyStatus::Active).await
            }
            (Target::Credential(c), _) => calls::set_credential_status(config, user, c, KeyStatus::Inactive).await,
            (Target::AccessKey(_), _) => return Err(RemediateError::NotAKeyChange),
        };
        match result {
            Ok(request_id) => {
                self.outcome(&intent, None, Ok(request_id.as_deref()));
                let (credentials, password_enabled) = self.reread_other(config, user, target).await;
                Ok(Done {
                    keys: None,
                    credentials,
                    password_enabled,
                    request_id,
                })
            }
            Err(w) if w.uncertain => {
                let found = match self.live_target_in(config, user, target).await {
                    Err(RemediateError::Changed(_))
                        if matches!(action, KeyAction::Delete | KeyAction::DisableConsole) =>
                    {
                        format!(
                            "the {} {target} is gone: the {} took effect",
                            target.kind_label(),
                            action.verb()
                        )
                    }
                    Err(RemediateError::Changed(why)) => format!("{why}: rescan the account"),
                    Err(e) => format!("it could not be re-read ({e}): check {user}'s credentials before trying again"),
                    Ok(_) if matches!(action, KeyAction::Delete | KeyAction::DisableConsole) => format!(
                        "the {} {target} still exists: the {} did not take effect; try again",
                        target.kind_label(),
                        action.verb()
                    ),
                    Ok(live) if Some(live.status()) == action.no_op_status() => format!(
                        "the {} {target} is now {}: the {} took effect",
                        target.kind_label(),
                        live.status().as_str(),
                        action.verb()
                    ),
                    Ok(live) => format!(
                        "the {} {target} is still {}: the {} did not take effect; try again",
                        target.kind_label(),
                        live.status().as_str(),
                        action.verb()
                    ),
                };
                self.outcome(&intent, None, Err((&w, Some(&found))));
                Err(RemediateError::Unknown {
                    what: format!("{} {} {target} of {user}", action.verb(), target.kind_label()),
                    error: w.error,
                    found,
                    keys: None,
                })
            }
            Err(w) => {
                self.outcome(&intent, None, Err((&w, None)));
                Err(w.into())
            }
        }
    }

    /// Rotation's first step: pre-flight the two-key quota, then `CreateAccessKey` (one
    /// attempt). Returns the new key (with its secret, to show once) and the user's keys
    /// re-read.
    ///
    /// # Errors
    /// [`RemediateError::QuotaFull`] when the user has two keys (with the inactive one to
    /// delete first, if any); [`RemediateError::Unknown`] when the call got no answer (naming
    /// any key created all the same, whose secret nobody has); otherwise as
    /// [`Remediator::apply`].
    pub async fn create_key(
        &self,
        account: &Account,
        user: &str,
    ) -> Result<(NewKey, Option<Vec<AccessKey>>), RemediateError> {
        let config = self.config(account).await?;
        let live = self.live_keys(&config, user).await?;
        if live.len() >= 2 {
            let inactive = live.iter().find(|k| !k.is_active()).map(|k| k.id.clone());
            return Err(RemediateError::QuotaFull {
                user: user.to_owned(),
                inactive,
            });
        }
        let intent = self.entry(
            account,
            user,
            None,
            KeyAction::Rotate,
            &journal::new_action_id(chrono::Utc::now()),
        );
        self.journal.append(&intent)?;
        match calls::create(&config, user).await {
            Ok(new_key) => {
                self.outcome(&intent, Some(&new_key.id), Ok(new_key.request_id.as_deref()));
                let keys = self.live_keys(&config, user).await.ok();
                Ok((new_key, keys))
            }
            Err(w) if w.uncertain => {
                let reread = self.live_keys(&config, user).await;
                let created: Vec<&AccessKey> = match &reread {
                    Ok(keys) => keys.iter().filter(|k| !live.iter().any(|o| o.id == k.id)).collect(),
                    Err(_) => Vec::new(),
                };
                let found = match (&reread, created.as_slice()) {
                    (Err(e), _) => format!(
                        "the keys could not be re-read ({e}): look for a key of {user} created just now, whose secret nobody has, and delete it"
                    ),
                    (Ok(_), []) => format!("no new key exists for {user}: nothing was created; rotate again"),
                    (Ok(_), new) => {
                        let ids: Vec<String> = new.iter().map(|k| k.id.to_string()).collect();
                        format!(
                            "access key {} was created, whose secret nobody has: deactivate and delete it, then rotate again",
                            ids.join(", ")
                        )
                    }
                };
                let orphan = created.first().map(|k| k.id.clone());
                self.outcome(&intent, orphan.as_ref(), Err((&w, Some(&found))));
                Err(RemediateError::Unknown {
                    what: format!("create a new access key for {user}"),
                    error: w.error,
                    found,
                    keys: reread.ok(),
                })
            }
            Err(w) => {
                self.outcome(&intent, None, Err((&w, None)));
                Err(w.into())
            }
        }
    }

    /// What is true now of an SSH key, certificate, service-specific credential or console
    /// password, read with the audit role, for the operator: `the SSH public key is now
    /// Inactive`, `… no longer exists`, `the console password still exists`.
    async fn current_state(&self, account: &Account, user: &str, target: &Target) -> String {
        let config = match self.ctx.account_config(account, &self.audit).await {
            Ok(c) => c,
            Err(e) => return format!("its state could not be read: {e}"),
        };
        if let Target::ConsolePassword = target {
            return match credentials::console_password_exists(&config, user).await {
                Ok(true) => "the console password still exists".into(),
                Ok(false) => "the console password no longer exists".into(),
                Err(e) if e.is_no_such_entity() => format!("user {user} no longer exists"),
                Err(e) => format!("its state could not be read: {e}"),
            };
        }
        match (self.live_target_in(&config, user, target).await, target) {
            (Ok(Live::Credential(c)), t) => format!("the {} is now {}", t.kind_label(), c.status.as_str()),
            (Ok(live), t) => format!("the {} is now {}", t.kind_label(), live.status().as_str()),
            (Err(RemediateError::Changed(_)), t) => format!("the {} no longer exists", t.kind_label()),
            (Err(e), _) => format!("its state could not be read: {e}"),
        }
    }

    /// Reads the live status of a key for the operator, with the audit role: `Ok(None)` when
    /// the key (or user) is gone.
    ///
    /// # Errors
    /// AWS failures of the read.
    pub async fn current_status(
        &self,
        account: &Account,
        user: &str,
        key: &AccessKeyId,
    ) -> Result<Option<KeyStatus>, RemediateError> {
        let config = self.ctx.account_config(account, &self.audit).await?;
        match self.live_keys(&config, user).await {
            Ok(keys) => Ok(keys.iter().find(|k| &k.id == key).map(|k| k.status)),
            Err(RemediateError::Changed(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A Secrets Manager destination for a new key, as the operator types it:
/// `sm:[ACCOUNT:][REGION:]NAME` (ACCOUNT 12 digits, default the key's account; REGION default
/// the session's region; NAME a secret name, which cannot hold `:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretDestination {
    /// The account to store in; `None`: the key's own.
    pub account: Option<crate::model::AccountId>,
    /// The region; `None`: the session's.
    pub region: Option<String>,
    /// The secret's name.
    pub name: String,
}

impl SecretDestination {
    /// Parses `sm:[ACCOUNT:][REGION:]NAME`; `None` when `text` does not start with `sm:`.
    ///
    /// # Errors
    /// `Some(Err(..))` for an empty name or too many `:`-separated parts.
    pub fn parse(text: &str) -> Option<Result<Self, String>> {
        let rest = text.trim().strip_prefix("sm:")?;
        let parts: Vec<&str> = rest.split(':').collect();
        let (account, region, name) = match parts.as_slice() {
            [name] => (None, None, *name),
            [a, name] if crate::model::AccountId::parse(a).is_ok() => (Some(*a), None, *name),
            [r, name] => (None, Some(*r), *name),
            [a, r, name] => (Some(*a), Some(*r), *name),
            _ => return Some(Err(format!("'{text}': expected sm:[ACCOUNT:][REGION:]NAME"))),
        };
        if name.is_empty() {
            return Some(Err(format!("'{text}': the secret name is empty")));
        }
        let account = match account.map(crate::model::AccountId::parse).transpose() {
            Ok(a) => a,
            Err(e) => return Some(Err(format!("'{text}': {e}"))),
        };
        Some(Ok(Self {
            account,
            region: region.filter(|r| !r.is_empty()).map(str::to_owned),
            name: name.to_owned(),
        }))
    }
}

impl Remediator {
    /// Hands a rotation's new `key` of `user` (created in `key_account`) off to Secrets
    /// Manager at `dest` ([`crate::aws::secretsmanager::store_key`]), with the remediation
    /// role in the destination account. Returns a line for the operator, e.g. `Secrets Manager
    /// secret prod/ci (created) arn:aws:secretsmanager:…` — never the value.
    ///
    /// # Errors
    /// Read-only; the role cannot be assumed; AWS refused the call.
    pub async fn hand_off(
        &self,
        key_account: &Account,
        user: &str,
        dest: &SecretDestination,
        key: &NewKey,
    ) -> Result<String, RemediateError> {
        let account = match &dest.account {
            Some(id) if id != &key_account.id => Account::from_id(id.clone()),
            _ => key_account.clone(),
        };
        let mut config = self.config(&account).await?;
        if let Some(r) = &dest.region {
            config = config
                .to_builder()
                .region(aws_types::region::Region::new(r.clone()))
                .build();
        }
        let stored = crate::aws::secretsmanager::store_key(&config, &dest.name, user, key).await?;
        tracing::info!(key = %key.id, secret = %stored.arn, created = stored.created, "new access key handed off to Secrets Manager");
        Ok(format!(
            "Secrets Manager secret {} ({}) {}",
            dest.name,
            if stored.created { "created" } else { "new version" },
            stored.arn
        ))
    }
}

/// How long a new key is tried before its verification fails: IAM can take seconds to
/// accept a key it just created.
pub const VERIFY_WINDOW: std::time::Duration = std::time::Duration::from_secs(15);

/// The pause between two tries of a new key.
pub const VERIFY_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// Why a new key could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Every try within the window failed; `error` is the last one.
    #[error(
        "the new access key {key} was not accepted by sts:GetCallerIdentity within {waited_secs} s ({attempts} tries; last: {error})"
    )]
    NotAccepted {
        /// The new key.
        key: AccessKeyId,
        /// Tries made.
        attempts: u32,
        /// Seconds waited in all.
        waited_secs: u64,
        /// The last failure.
        error: aws::Error,
    },
    /// The key signs as another identity than the user it was created for.
    #[error("the new access key {key} signs as {arn}, not as {user} in account {account}")]
    WrongIdentity {
        /// The new key.
        key: AccessKeyId,
        /// What `GetCallerIdentity` answered.
        arn: String,
        /// The user it was created for.
        user: String,
        /// The account it was created in.
        account: crate::model::AccountId,
    },
}

/// True when `arn` is the IAM user `user` (any path) of `account`.
fn is_user_arn(arn: &str, account: &crate::model::AccountId, user: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, acct, resource) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next().unwrap_or_default(),
    );
    service == Some("iam")
        && acct == Some(account.as_str())
        && resource.starts_with("user/")
        && resource.rsplit('/').next() == Some(user)
}

impl Remediator {
    /// Rotation's check before the old key is offered for deactivation: signs
    /// `sts:GetCallerIdentity` with the new `key` of `user` in `account` (the caller's
    /// endpoint and region), trying every `pause` until it is accepted or `window` has passed
    /// (IAM's propagation delay). Before each pause, `progress(tries so far, time left)` is
    /// called, for a countdown. Returns the ARN the key signs as. Makes no write and journals
    /// nothing; the secret goes only into the call's credentials provider.
    ///
    /// # Errors
    /// [`VerifyError::NotAccepted`] when no try succeeded within `window`;
    /// [`VerifyError::WrongIdentity`] (at once) when the key signs as someone else.
    pub async fn verify_new_key(
        &self,
        account: &Account,
        user: &str,
        key: &NewKey,
        window: std::time::Duration,
        pause: std::time::Duration,
        mut progress: impl FnMut(u32, std::time::Duration),
    ) -> Result<String, VerifyError> {
        let start = tokio::time::Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match calls::caller_arn_of_new_key(&self.ctx.base, key).await {
                Ok(arn) if is_user_arn(&arn, &account.id, user) => {
                    tracing::info!(key = %key.id, %arn, attempts, "new access key verified");
                    return Ok(arn);
                }
                Ok(arn) => {
                    return Err(VerifyError::WrongIdentity {
                        key: key.id.clone(),
                        arn,
                        user: user.to_owned(),
                        account: account.id.clone(),
                    });
                }
                Err(error) => {
                    let left = window.saturating_sub(start.elapsed());
                    if left.is_zero() {
                        return Err(VerifyError::NotAccepted {
                            key: key.id.clone(),
                            attempts,
                            waited_secs: start.elapsed().as_secs(),
                            error,
                        });
                    }
                    progress(attempts, left);
                    tokio::time::sleep(pause.min(left)).await;
                }
            }
        }
    }
}

impl Remediator {
    /// What every session that can write calls at its start (the TUI once connected, each
    /// headless write command before its write): makes the journal private
    /// ([`Journal::tighten`]) and handles interrupted actions
    /// ([`Remediator::close_interrupted`]). Returns lines for the operator: the permission
    /// notices, then one `interrupted write action: …` line per action.
    pub async fn session_start(&self) -> Vec<String> {
        let mut lines = match self.journal.tighten() {
            Ok(notices) => notices,
            Err(e) => vec![format!("cannot make the journal private: {e}")],
        };
        lines.extend(
            self.close_interrupted()
                .await
                .into_iter()
                .map(|l| format!("interrupted write action: {l}")),
        );
        lines
    }

    /// Finds the journal's interrupted actions (an intent without an outcome whose process is
    /// gone, or older than [`journal::STALE_AFTER`]; see [`journal::interrupted`]: another
    /// keytriage's action in flight is left alone), reads each key's state live with the
    /// audit role, and closes each with an `interrupted` outcome saying what was found.
    /// Returns one line per action for the operator, e.g. `2026-11-29 07:58:54 deactivate
    /// AKIA… of alice in 111111111111: the key is now Inactive`. Makes no AWS write and never
    /// assumes the remediation role.
    ///
    /// In a read-only session nothing is written: the journal is left as it is and each line
    /// ends with `(read-only session: left open in the journal)`.
    pub async fn close_interrupted(&self) -> Vec<String> {
        let journal = self.journal.clone();
        let read = tokio::task::spawn_blocking(move || journal.read_from(0)).await;
        let (entries, read_up_to) = match read {
            Ok(Ok(Some(read))) => read,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read the journal for interrupted actions");
                return Vec::new();
            }
            _ => return Vec::new(),
        };
        let found: Vec<Entry> = journal::interrupted(&entries, chrono::Utc::now(), journal::process_alive)
            .into_iter()
            .cloned()
            .collect();
        drop(entries);
        let mut lines = Vec::new();
        for intent in found {
            let account = Account {
                id: intent.account_id.clone(),
                name: intent.account_id.to_string(),
                email: String::new(),
                state: crate::model::AccountState::Active,
                ou_path: String::new(),
            };
            let other = match (&intent.credential, intent.action) {
                (Some(c), _) => Some(Target::Credential(c.clone())),
                (None, KeyAction::DisableConsole) => Some(Target::ConsolePassword),
                _ => None,
            };
            let state = match (&intent.access_key_id, &other) {
                (_, Some(target)) => self.current_state(&account, &intent.user, target).await,
                (Some(k), None) => match self.current_status(&account, &intent.user, k).await {
                    Ok(Some(s)) => format!("the key is now {}", s.as_str()),
                    Ok(None) => "the key no longer exists".into(),
                    Err(e) => format!("its state could not be read: {e}"),
                },
                (None, None) => "a new key may have been created: check the user's keys".into(),
            };
            let key = match (&other, &intent.access_key_id) {
                (Some(Target::ConsolePassword), _) => "the console password".to_owned(),
                (Some(t), _) => format!("{} {t}", t.kind_label()),
                (None, Some(k)) => k.to_string(),
                (None, None) => "(new key)".into(),
            };
            let line = format!(
                "{} {} {key} of {} in {}: {state}",
                intent.time.format("%Y-%m-%d %H:%M:%S"),
                intent.action.journal_name(),
                intent.user,
                intent.account_id
            );
            if !self.writes_enabled {
                lines.push(format!("{line} (read-only session: left open in the journal)"));
                continue;
            }
            // Another keytriage may have closed it while the key was read.
            let closed_meanwhile = self
                .journal
                .read_from(read_up_to)
                .ok()
                .flatten()
                .is_some_and(|(new, _)| {
                    new.iter()
                        .any(|e| e.phase == Phase::Outcome && e.action_id == intent.action_id)
                });
            if closed_meanwhile {
                continue;
            }
            lines.push(line);
            let mut closed = intent.clone();
            closed.time = chrono::Utc::now();
            closed.phase = Phase::Outcome;
            closed.result = Some(ActionResult::Interrupted);
            closed.message = Some(format!("found unfinished at a later start; {state}"));
            if let Err(e) = self.journal.append(&closed) {
                tracing::error!(error = %e, "cannot close an interrupted action in the journal");
            }
        }
        lines
    }
}

/// Saving a new key to a credentials file lives in [`crate::secret_file`].
pub use crate::secret_file::write_secret_file;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccountId;

    fn key(status: KeyStatus, used_days_ago: Option<i64>) -> AccessKey {
        let now = chrono::Utc::now();
        AccessKey {
            id: AccessKeyId("AKIAEXAMPLE000001234".into()),
            status,
            created: now - chrono::Duration::days(400),
            last_used: used_days_ago.map(|d| KeyLastUsed {
                date: now - chrono::Duration::days(d),
                service: Some("s3".into()),
                region: None,
            }),
        }
    }

    fn request(action: KeyAction, status: KeyStatus) -> WriteRequest {
        let account = Account::from_id(AccountId::parse("111111111111").unwrap());
        WriteRequest::new(action, &account, "bob", &key(status, Some(3)))
    }

    #[test]
    fn the_write_rules_live_in_one_place() {
        use KeyAction::*;
        use KeyStatus::*;
        assert_eq!(
            request(Deactivate, Inactive).nothing_to_do().as_deref(),
            Some("AKIAEXAMPLE000001234 is already inactive")
        );
        assert_eq!(
            request(Activate, Active).nothing_to_do().as_deref(),
            Some("AKIAEXAMPLE000001234 is already active")
        );
        for (action, status) in [
            (Deactivate, Active),
            (Activate, Inactive),
            (Delete, Active),
            (Rotate, Active),
        ] {
            assert_eq!(request(action, status).nothing_to_do(), None, "{action:?} {status:?}");
        }
        assert_eq!(request(Delete, Active).must_type().as_deref(), Some("1234"));
        assert_eq!(request(Delete, Inactive).must_type(), None);
        assert_eq!(request(Deactivate, Active).must_type(), None);
        assert_eq!(
            request(Delete, Active).describe(),
            "delete access key AKIAEXAMPLE000001234 (Active) of bob in account 111111111111"
        );
    }

    #[test]
    fn the_write_rules_of_other_credentials_and_the_password() {
        use crate::model::{CredentialKind, CredentialStatus};
        let account = Account::from_id(AccountId::parse("111111111111").unwrap());
        let mut ssh = Credential {
            kind: CredentialKind::SshPublicKey,
            id: "APKAEXAMPLE000005678".into(),
            status: CredentialStatus::Active,
            created: chrono::Utc::now(),
            expires: None,
            service: None,
        };
        let r = |a: KeyAction, c: &Credential| WriteRequest::for_credential(a, &account, "bob", c);
        assert_eq!(r(KeyAction::Delete, &ssh).must_type().as_deref(), Some("5678"));
        assert_eq!(r(KeyAction::Deactivate, &ssh).nothing_to_do(), None);
        assert_eq!(
            r(KeyAction::Rotate, &ssh).nothing_to_do().as_deref(),
            Some("only access keys can be rotated, not SSH public keys")
        );
        assert_eq!(
            r(KeyAction::DisableConsole, &ssh).nothing_to_do().as_deref(),
            Some("disable console access works on console passwords, not SSH public keys")
        );
        assert_eq!(
            r(KeyAction::Deactivate, &ssh).describe(),
            "deactivate SSH public key APKAEXAMPLE000005678 (Active) of bob in account 111111111111"
        );
        ssh.status = CredentialStatus::Expired;
        assert_eq!(
            r(KeyAction::Deactivate, &ssh).nothing_to_do().as_deref(),
            Some("APKAEXAMPLE000005678 is already inactive"),
            "an expired credential cannot be used: as inactive"
        );
        assert_eq!(r(KeyAction::Delete, &ssh).must_type(), None);

        let mut p = WriteRequest::disable_console(&account, "bob", None);
        assert_eq!(p.must_type().as_deref(), Some("bob"));
        assert_eq!(p.nothing_to_do(), None);
        p.action = KeyAction::Deactivate;
        assert_eq!(
            p.nothing_to_do().as_deref(),
            Some("a console password can only be deleted (disable console access)")
        );
    }

    #[test]
    fn a_use_is_new_when_later_than_the_one_seen() {
        let (old, new) = (key(KeyStatus::Active, Some(3)), key(KeyStatus::Active, Some(0)));
        assert!(used_since(None, new.last_used.as_ref()));
        assert!(used_since(old.last_used.as_ref(), new.last_used.as_ref()));
        assert!(!used_since(new.last_used.as_ref(), old.last_used.as_ref()));
        assert!(!used_since(old.last_used.as_ref(), old.last_used.as_ref()));
        assert!(!used_since(None, None));
        assert!(!used_since(old.last_used.as_ref(), None));
    }

    #[test]
    fn key_action_words_and_journal_names() {
        let words: Vec<_> = [
            KeyAction::Deactivate,
            KeyAction::Activate,
            KeyAction::Delete,
            KeyAction::Rotate,
        ]
        .iter()
        .map(|a| (a.label(), a.verb(), a.ing(), a.ed(), a.journal_name()))
        .collect();
        assert_eq!(
            words,
            [
                ("Deactivate", "deactivate", "deactivating", "deactivated", "deactivate"),
                ("Activate", "activate", "activating", "activated", "activate"),
                ("Delete", "delete", "deleting", "deleted", "delete"),
                (
                    "Rotate",
                    "rotate",
                    "creating a new key for",
                    "created a new key for",
                    "create"
                ),
            ]
        );
        for a in [
            KeyAction::Deactivate,
            KeyAction::Activate,
            KeyAction::Delete,
            KeyAction::Rotate,
        ] {
            assert_eq!(
                serde_json::to_value(a).unwrap(),
                a.journal_name(),
                "the journal's spelling"
            );
        }
        assert!(!KeyAction::Delete.is_idempotent() && !KeyAction::Rotate.is_idempotent());
        let d = KeyAction::DisableConsole;
        assert_eq!(
            (d.label(), d.journal_name(), serde_json::to_value(d).unwrap()),
            (
                "Disable console access",
                "disable_console",
                serde_json::json!("disable_console")
            )
        );
        assert!(!d.is_idempotent(), "DeleteLoginProfile is made once");
    }

    #[test]
    fn secret_destinations_parse() {
        let p = |t: &str| SecretDestination::parse(t);
        assert_eq!(p("~/creds"), None, "a file path");
        assert_eq!(
            p("sm:prod/app"),
            Some(Ok(SecretDestination {
                account: None,
                region: None,
                name: "prod/app".into()
            }))
        );
        assert_eq!(
            p("sm:eu-west-1:prod/app").unwrap().unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        let full = p("sm:222222222222:eu-west-1:prod/app").unwrap().unwrap();
        assert_eq!(
            (
                full.account.unwrap().as_str(),
                full.region.unwrap().as_str(),
                full.name.as_str()
            ),
            ("222222222222", "eu-west-1", "prod/app")
        );
        assert_eq!(
            p("sm:222222222222:app")
                .unwrap()
                .unwrap()
                .account
                .map(|a| a.to_string())
                .as_deref(),
            Some("222222222222")
        );
        assert!(p("sm:").unwrap().unwrap_err().contains("the secret name is empty"));
        assert!(p("sm:a:b:c:d").unwrap().is_err());
        assert!(p("sm:42:eu-west-1:x").unwrap().is_err(), "a bad account id");
    }

    #[test]
    fn writes_use_the_remediation_role_when_set() {
        let audit = RoleOptions {
            role_name: "Audit".into(),
            external_id: Some("x".into()),
            session_length: None,
        };
        let fix = remediation_role(&audit, Some("Fix")).unwrap();
        assert_eq!(fix.role_name, "Fix");
        assert_eq!(fix.external_id.as_deref(), Some("x"));
        assert!(remediation_role(&audit, None).is_none());
    }
}

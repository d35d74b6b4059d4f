//! Remediation: the safe path around every write. For one access key: refuse unless writes
//! are on; re-read the key live and refuse if it changed or vanished since the scan; journal
//! the intent (synced to disk); make the call; journal the outcome; re-read the user's keys so
//! the caller can show the truth. Rotation's first step, [`Remediator::create_key`],
//! pre-flights the two-key quota. No UI here: the TUI and the headless commands both use it.

use crate::aws::remediate::{self as calls, NewKey, WriteError};
use crate::aws::{self, AwsContext, RoleOptions, inventory};
use crate::journal::{self, Action, Entry, Journal, JournalError, Phase};
use crate::model::{AccessKey, AccessKeyId, Account, KeyStatus};
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

/// A write on an existing key (a new key is made by [`Remediator::create_key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyWrite {
    /// `UpdateAccessKey` → Inactive.
    Deactivate,
    /// `UpdateAccessKey` → Active.
    Activate,
    /// `DeleteAccessKey`.
    Delete,
}

impl KeyWrite {
    /// The journal's name for it.
    pub fn action(self) -> Action {
        match self {
            Self::Deactivate => Action::Deactivate,
            Self::Activate => Action::Activate,
            Self::Delete => Action::Delete,
        }
    }
}

/// What a successful write left behind.
#[derive(Debug)]
pub struct Done {
    /// The user's keys as re-read after the write; `None` when the re-read failed.
    pub keys: Option<Vec<AccessKey>>,
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

    fn entry(&self, account: &Account, user: &str, key: Option<&AccessKeyId>, action: Action, id: &str) -> Entry {
        Entry {
            time: chrono::Utc::now(),
            action_id: id.to_owned(),
            phase: Phase::Intent,
            operator: self.ctx.caller.arn.clone(),
            account_id: account.id.clone(),
            user: user.to_owned(),
            access_key_id: key.cloned(),
            action,
            result: None,
            request_id: None,
            error_code: None,
            message: None,
        }
    }

    /// Journals the outcome of `intent`. A failure to write it is logged, not returned: the
    /// AWS call has happened and its result must still reach the operator.
    fn outcome<T>(
        &self,
        intent: &Entry,
        key: Option<&AccessKeyId>,
        result: &Result<T, WriteError>,
        request_id: Option<&str>,
    ) {
        let mut e = intent.clone();
        e.time = chrono::Utc::now();
        e.phase = Phase::Outcome;
        if key.is_some() {
            e.access_key_id = key.cloned();
        }
        match result {
            Ok(_) => {
                e.result = Some(journal::Result::Ok);
                e.request_id = request_id.map(str::to_owned);
            }
            Err(w) => {
                e.result = Some(journal::Result::Failed);
                e.request_id = w.request_id.clone();
                e.error_code = Some(w.error.code().to_owned());
                e.message = Some(w.error.to_string());
            }
        }
        if let Err(err) = self.journal.append(&e) {
            tracing::error!(error = %err, action_id = %e.action_id, "journal outcome not written");
        }
    }

    /// Deactivates, activates or deletes `key` of `user` in `account`, provided it still has
    /// `expected` status (what the operator saw).
    ///
    /// # Errors
    /// [`RemediateError`]: read-only, changed or vanished key, journal failure, AWS failure.
    pub async fn apply(
        &self,
        account: &Account,
        user: &str,
        key: &AccessKeyId,
        expected: KeyStatus,
        write: KeyWrite,
    ) -> Result<Done, RemediateError> {
        let config = self.config(account).await?;
        let live = self.live_keys(&config, user).await?;
        let Some(current) = live.iter().find(|k| &k.id == key) else {
            return Err(RemediateError::Changed(format!(
                "access key {key} of {user} no longer exists"
            )));
        };
        if current.status != expected {
            return Err(RemediateError::Changed(format!(
                "access key {key} is now {} (it was {} when scanned)",
                current.status.as_str(),
                expected.as_str()
            )));
        }
        let intent = self.entry(
            account,
            user,
            Some(key),
            write.action(),
            &journal::new_action_id(chrono::Utc::now()),
        );
        self.journal.append(&intent)?;
        let result = match write {
            KeyWrite::Deactivate => calls::set_status(&config, user, key, KeyStatus::Inactive).await,
            KeyWrite::Activate => calls::set_status(&config, user, key, KeyStatus::Active).await,
            KeyWrite::Delete => calls::delete(&config, user, key).await,
        };
        let request_id = result.as_ref().ok().cloned().flatten();
        self.outcome(&intent, None, &result, request_id.as_deref());
        result?;
        let keys = self.live_keys(&config, user).await.ok();
        Ok(Done { keys, request_id })
    }

    /// Rotation's first step: pre-flight the two-key quota, then `CreateAccessKey`.
    /// Returns the new key (with its secret, to show once) and the user's keys re-read.
    ///
    /// # Errors
    /// [`RemediateError::QuotaFull`] when the user has two keys (with the inactive one to
    /// delete first, if any); otherwise as [`Remediator::apply`].
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
            Action::Create,
            &journal::new_action_id(chrono::Utc::now()),
        );
        self.journal.append(&intent)?;
        let result = calls::create(&config, user).await;
        let (key, request_id) = match &result {
            Ok(k) => (Some(k.id.clone()), k.request_id.clone()),
            Err(_) => (None, None),
        };
        self.outcome(&intent, key.as_ref(), &result, request_id.as_deref());
        let new_key = result?;
        let keys = self.live_keys(&config, user).await.ok();
        Ok((new_key, keys))
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
            let state = match &intent.access_key_id {
                Some(k) => match self.current_status(&account, &intent.user, k).await {
                    Ok(Some(s)) => format!("the key is now {}", s.as_str()),
                    Ok(None) => "the key no longer exists".into(),
                    Err(e) => format!("its state could not be read: {e}"),
                },
                None => "a new key may have been created: check the user's keys".into(),
            };
            let key = intent
                .access_key_id
                .as_ref()
                .map(|k| k.to_string())
                .unwrap_or_else(|| "(new key)".into());
            let line = format!(
                "{} {} {key} of {} in {}: {state}",
                intent.time.format("%Y-%m-%d %H:%M:%S"),
                intent.action.verb(),
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
            closed.result = Some(journal::Result::Interrupted);
            closed.message = Some(format!("found unfinished at a later start; {state}"));
            if let Err(e) = self.journal.append(&closed) {
                tracing::error!(error = %e, "cannot close an interrupted action in the journal");
            }
        }
        lines
    }
}

/// Writes a new key to `path` in the AWS credentials-file format under `[profile]`, with mode
/// 0600, refusing to overwrite an existing file (`O_EXCL`).
///
/// # Errors
/// The file exists (`AlreadyExists`), or cannot be created.
pub fn write_secret_file(path: &std::path::Path, profile: &str, key: &NewKey) -> std::io::Result<()> {
    use secrecy::ExposeSecret;
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // Reserved up front so the text holding the secret is never reallocated (a reallocation
    // would leave a copy behind that Zeroizing cannot wipe).
    let secret = key.secret.expose_secret();
    let mut text = zeroize::Zeroizing::new(String::with_capacity(profile.len() + secret.len() + 128));
    text.push_str(&format!("[{profile}]\naws_access_key_id = {}\n", key.id));
    text.push_str("aws_secret_access_key = ");
    text.push_str(secret);
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

//! Scan orchestration: discover the organization, then scan its accounts with bounded
//! concurrency, each in its own task, reporting progress as [`ScanEvent`]s on a channel.
//!
//! One account's failure never stops the others: it becomes that account's
//! [`ScanStatus::Failed`] with AWS's error code. Dropping the [`ScanHandle`] aborts the scan.

use crate::aws::credential_report::Polling;
use crate::aws::inventory::{self, InventoryOptions, ReadFailure};
use crate::aws::{AwsContext, RoleOptions, org, roles};
use crate::model::{
    Account, AccountId, AccountScan, AccountState, CredentialKind, Organization, ScanError, ScanPhase, ScanStatus,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// Which accounts to scan and how hard to push.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The audit role in member accounts.
    pub role: RoleOptions,
    /// Only these accounts (`--accounts`); empty = all.
    pub only: Vec<AccountId>,
    /// Never these (`--exclude-accounts`).
    pub exclude: Vec<AccountId>,
    /// Accounts scanned at once (`--concurrency`, default 8).
    pub account_concurrency: usize,
    /// Users read at once within one account (default 8).
    pub user_concurrency: usize,
    /// Users read at once across the whole organization (32 permits): shared by every scan
    /// and rescan made with these options.
    pub org_permits: Arc<Semaphore>,
    /// Credential report polling.
    pub polling: Polling,
    /// The kinds of credential read (`--credentials`; default all).
    pub kinds: crate::aws::credentials::CredentialKinds,
    /// The organization's account ids, every account `ListAccounts` returned (selected or
    /// not), as the last discovery found them; shared by every scan and rescan made with
    /// these options. Roles trusted by an account outside it are reported. Empty until a
    /// discovery ran: then only the scanned account itself is inside.
    pub members: Arc<std::sync::RwLock<BTreeSet<AccountId>>>,
}

impl ScanOptions {
    /// Defaults with the given audit role.
    pub fn new(role: RoleOptions) -> Self {
        Self {
            role,
            only: Vec::new(),
            exclude: Vec::new(),
            account_concurrency: 8,
            user_concurrency: 8,
            org_permits: Arc::new(Semaphore::new(32)),
            polling: Polling::default(),
            kinds: Default::default(),
            members: Default::default(),
        }
    }

    fn selects(&self, id: &AccountId) -> bool {
        (self.only.is_empty() || self.only.contains(id)) && !self.exclude.contains(id)
    }
}

/// Identifies one scan run; events of an older run are stale and ignored by the UI.
pub type ScanId = u64;

/// A backend fact about a scan, in the order they happen. Every variant carries the
/// `scan_id` of the run that sent it ([`start`]'s argument), so a receiver can drop events
/// of an older run.
#[derive(Clone, Debug)]
pub enum ScanEvent {
    /// The organization was read: these accounts will be reported on (selected ones only).
    Discovered {
        #[allow(missing_docs)]
        scan_id: ScanId,
        /// `None` for a standalone account.
        organization: Option<Organization>,
        /// Accounts selected, sorted by name.
        accounts: Vec<Account>,
        /// Non-fatal discovery problems.
        warnings: Vec<String>,
        /// Accounts asked for with `--accounts` that the organization does not have.
        missing: Vec<AccountId>,
    },
    /// An account moved to another phase.
    Progress {
        #[allow(missing_docs)]
        scan_id: ScanId,
        /// Which account.
        account_id: AccountId,
        /// Where it is.
        phase: ScanPhase,
    },
    /// An account finished (ok, failed or skipped).
    AccountDone {
        #[allow(missing_docs)]
        scan_id: ScanId,
        /// Its result.
        scan: Box<AccountScan>,
    },
    /// The organization could not be read; nothing else follows.
    DiscoveryFailed {
        #[allow(missing_docs)]
        scan_id: ScanId,
        /// What went wrong, with what to do.
        error: crate::aws::Error,
    },
    /// Every account has reported.
    Finished {
        #[allow(missing_docs)]
        scan_id: ScanId,
    },
}

/// A running scan; dropping it aborts every task of the scan.
pub struct ScanHandle {
    _tasks: JoinSet<()>,
}

/// Starts a scan of the whole organization (as filtered by `opts`) in the background.
/// Events arrive on `tx`; the receiver may be dropped at any time.
pub fn start(
    ctx: Arc<AwsContext>,
    opts: Arc<ScanOptions>,
    scan_id: ScanId,
    tx: mpsc::UnboundedSender<ScanEvent>,
) -> ScanHandle {
    let mut tasks = JoinSet::new();
    tasks.spawn(async move {
        let discovery = match org::discover(&ctx).await {
            Ok(d) => d,
            Err(error) => {
                let _ = tx.send(ScanEvent::DiscoveryFailed { scan_id, error });
                return;
            }
        };
        let missing: Vec<AccountId> = opts
            .only
            .iter()
            .filter(|id| !discovery.accounts.iter().any(|a| &a.id == *id))
            .cloned()
            .collect();
        if let Ok(mut members) = opts.members.write() {
            *members = discovery.accounts.iter().map(|a| a.id.clone()).collect();
        }
        let mut warnings = discovery.warnings;
        warnings.extend(
            missing
                .iter()
                .map(|id| format!("account {id} (from --accounts) is not in the organization")),
        );
        let accounts: Vec<Account> = discovery.accounts.into_iter().filter(|a| opts.selects(&a.id)).collect();
        let _ = tx.send(ScanEvent::Discovered {
            scan_id,
            organization: discovery.organization,
            accounts: accounts.clone(),
            warnings,
            missing,
        });
        scan_accounts(ctx, opts, scan_id, accounts, tx.clone()).await;
        let _ = tx.send(ScanEvent::Finished { scan_id });
    });
    ScanHandle { _tasks: tasks }
}

/// Scans the given accounts (already discovered), at most `account_concurrency` at once, and
/// returns when all have reported `AccountDone`. Used for the first scan and for rescans.
pub async fn scan_accounts(
    ctx: Arc<AwsContext>,
    opts: Arc<ScanOptions>,
    scan_id: ScanId,
    accounts: Vec<Account>,
    tx: mpsc::UnboundedSender<ScanEvent>,
) {
    let account_slots = Arc::new(Semaphore::new(opts.account_concurrency.max(1)));
    let mut set = JoinSet::new();
    let mut by_task = std::collections::HashMap::new();
    for account in accounts {
        let (ctx, opts, tx) = (ctx.clone(), opts.clone(), tx.clone());
        let (slots, permits) = (account_slots.clone(), opts.org_permits.clone());
        let task_account = account.clone();
        let handle = set.spawn(async move {
            let _slot = slots.acquire_owned().await.ok();
            let scan = scan_account(&ctx, &opts, permits, scan_id, account, &tx).await;
            let _ = tx.send(ScanEvent::AccountDone {
                scan_id,
                scan: Box::new(scan),
            });
        });
        by_task.insert(handle.id(), task_account);
    }
    // A task that panicked still reports its account, as failed: nothing stays "queued".
    while let Some(joined) = set.join_next_with_id().await {
        if let Err(e) = joined
            && let Some(account) = by_task.remove(&e.id())
        {
            tracing::error!(account = %account.id, error = %e, "account scan task failed");
            let error = ScanError {
                code: "InternalError".into(),
                message: format!("the scan of this account stopped unexpectedly ({e}); rescan it"),
            };
            let scan = AccountScan::not_scanned(account, ScanStatus::Failed, error);
            let _ = tx.send(ScanEvent::AccountDone {
                scan_id,
                scan: Box::new(scan),
            });
        }
    }
}

/// Scans one account: skipped when not ACTIVE; otherwise assume the audit role and read
/// the inventory, then (kind `role`) its roles against [`ScanOptions::members`]: a denied
/// role listing is a warning; any other failure there makes the account `failed`,
/// `partial` (users kept, roles unknown). Never fails: failures are recorded in the returned scan (`failed` with the
/// error code; `partial` with the users read in full when the failure came while users were
/// being read, see [`ReadFailure`]).
pub async fn scan_account(
    ctx: &AwsContext,
    opts: &ScanOptions,
    org_permits: Arc<Semaphore>,
    scan_id: ScanId,
    account: Account,
    tx: &mpsc::UnboundedSender<ScanEvent>,
) -> AccountScan {
    if account.state != AccountState::Active {
        let error = ScanError {
            code: "AccountNotActive".into(),
            message: format!("account is {}; only ACTIVE accounts are scanned", account.state),
        };
        return AccountScan::not_scanned(account, ScanStatus::Skipped, error);
    }
    let progress = {
        let (tx, id) = (tx.clone(), account.id.clone());
        move |phase| {
            let _ = tx.send(ScanEvent::Progress {
                scan_id,
                account_id: id.clone(),
                phase,
            });
        }
    };
    progress(ScanPhase::Assuming);
    let config = match ctx.account_config(&account, &opts.role).await {
        Ok(c) => c,
        Err(e) => return AccountScan::not_scanned(account, ScanStatus::Failed, e.to_scan_error()),
    };
    let inv_opts = InventoryOptions {
        user_concurrency: opts.user_concurrency,
        org_permits,
        polling: opts.polling,
        kinds: opts.kinds.clone(),
    };
    match inventory::read_account(&config, &account, &ctx.caller.partition, &inv_opts, &progress).await {
        Ok(inv) if opts.kinds.reads(CredentialKind::Role) => {
            let members = opts.members.read().map(|m| m.clone()).unwrap_or_default();
            let mut warnings = inv.warnings;
            match roles::read_roles(&config, &account.id, &members).await {
                Ok(read) => {
                    warnings.extend(read.warnings);
                    let mut scan = AccountScan::ok(account, inv.root, inv.users, warnings);
                    scan.roles = Some(read.roles);
                    scan
                }
                // Like the other kinds: a denied listing is one warning, the scan stays ok.
                Err(e @ crate::aws::Error::AccessDenied { .. }) => {
                    warnings.push(format!("roles not read ({e})"));
                    AccountScan::ok(account, inv.root, inv.users, warnings)
                }
                Err(error) => {
                    tracing::warn!(account = %account.id, error = %error, "reading roles failed");
                    AccountScan::partial(account, inv.root, inv.users, warnings, error.to_scan_error())
                }
            }
        }
        Ok(inv) => AccountScan::ok(account, inv.root, inv.users, inv.warnings),
        Err(ReadFailure { error, partial }) => {
            tracing::warn!(account = %account.id, error = %error, partial = partial.is_some(), "account scan failed");
            match partial {
                Some(inv) => AccountScan::partial(account, inv.root, inv.users, inv.warnings, error.to_scan_error()),
                None => AccountScan::not_scanned(account, ScanStatus::Failed, error.to_scan_error()),
            }
        }
    }
}

/// The whole organization's result, for the headless report.
#[derive(Clone, Debug)]
pub struct OrgScan {
    /// `None` for a standalone account.
    pub organization: Option<Organization>,
    /// Every selected account's scan, sorted by account name.
    pub accounts: Vec<AccountScan>,
    /// Non-fatal discovery problems.
    pub warnings: Vec<String>,
    /// Accounts asked for with `--accounts` that the organization does not have.
    pub missing: Vec<AccountId>,
}

/// Runs a scan to the end, calling `on_event` for each event (progress display).
///
/// # Errors
/// Only when the organization itself cannot be read; per-account failures are in the result.
pub async fn run_to_end(
    ctx: Arc<AwsContext>,
    opts: Arc<ScanOptions>,
    mut on_event: impl FnMut(&ScanEvent),
) -> Result<OrgScan, crate::aws::Error> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _handle = start(ctx, opts, 1, tx);
    let mut result = OrgScan {
        organization: None,
        accounts: Vec::new(),
        warnings: Vec::new(),
        missing: Vec::new(),
    };
    let mut finished = false;
    while let Some(event) = rx.recv().await {
        on_event(&event);
        match event {
            ScanEvent::Discovered {
                organization,
                warnings,
                missing,
                ..
            } => {
                result.organization = organization;
                result.warnings = warnings;
                result.missing = missing;
            }
            ScanEvent::AccountDone { scan, .. } => result.accounts.push(*scan),
            ScanEvent::DiscoveryFailed { error, .. } => return Err(error),
            ScanEvent::Finished { .. } => {
                finished = true;
                break;
            }
            ScanEvent::Progress { .. } => {}
        }
    }
    if !finished {
        return Err(crate::aws::Error::Unexpected {
            action: "scan",
            code: "InternalError".into(),
            message: "the scan stopped before every account reported; see the log".into(),
        });
    }
    result.accounts.sort_by(|a, b| {
        a.account
            .name
            .cmp(&b.account.name)
            .then_with(|| a.account.id.cmp(&b.account.id))
    });
    Ok(result)
}

//! One account's inventory: IAM users, their access keys, passwords and MFA, and the root user.
//!
//! Call budget (per account, `n` users): `GenerateCredentialReport` ×2 (AWS answers
//! STARTED, then COMPLETE), `GetCredentialReport` ×1, `ListUsers` ×⌈n/100⌉,
//! `ListVirtualMFADevices` ×1, `ListAccessKeys` per user (every user when the report was
//! reused — AWS reuses one for up to 4 hours, so a key created since would be missing from
//! it; when this scan made AWS generate it, only users whose row may show a key),
//! `ListSSHPublicKeys` ×n (no report column, no account-wide listing), `ListSigningCertificates`
//! per user (when this scan made AWS generate the report, only users whose row may show a
//! certificate), `ListServiceSpecificCredentials` ×⌈c/100⌉ (all users at once; the kinds
//! `--credentials` leaves out cost nothing), and only where the report cannot answer (no row, a recreated user, an unreadable cell, a key it cannot match by
//! `last_rotated == CreateDate` to exactly one slot — two keys or two slots of one second
//! are ambiguous): `GetAccessKeyLastUsed` per key, `GetLoginProfile`,
//! `ListMFADevices` per user, `GetAccountSummary` ×1 for the root user. MFA comes from the
//! report's `mfa_active` and the account-wide virtual devices (active and not virtual =
//! hardware). Without a report (denied) every user costs `ListAccessKeys`,
//! `GetAccessKeyLastUsed` per key, `GetLoginProfile`, `ListMFADevices`.
//!
//! Data that cannot be true is not trusted silently: a user with two report rows, or a row
//! that says a user or key was created in the future or a key was used before it was
//! created, is read with the per-user calls instead, with a warning; the same impossibilities
//! in the API's own answer are kept (nothing truer exists) with a warning.
//!
//! Faults: the SDK retries throttling, 5xx and broken connections (its retry config); a user
//! deleted between `ListUsers` and its own calls (`NoSuchEntity`) is left out with a warning
//! naming it; any other failure while users are read stops the account, keeping the root
//! user and the users read in full so far ([`ReadFailure::partial`]).

use super::credential_report::{self, Cell, KeySlot, Polling, ReportRow};
use super::credentials::{self, CredentialKinds};
use super::{Error, classify, to_utc};
use crate::model::{
    AccessKey, AccessKeyId, Account, Credential, CredentialKind, KeyLastUsed, KeyStatus, MfaDevice, MfaKind, ROOT_USER,
    RootCertificate, RootKey, RootUser, ScanPhase, Timestamp, User,
};
use aws_config::SdkConfig;
use aws_sdk_iam::Client;
use aws_sdk_iam::config::retry::RetryPartition;
use aws_sdk_iam::types::{AssignmentStatusType, StatusType, SummaryKeyType};
use futures::{StreamExt, stream};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// Tuning of one account's inventory.
#[derive(Clone, Debug)]
pub struct InventoryOptions {
    /// Users read at once within the account.
    pub user_concurrency: usize,
    /// Org-wide cap on users being read at once (shared by every account's scan).
    pub org_permits: Arc<Semaphore>,
    /// Credential report polling.
    pub polling: Polling,
    /// The kinds of credential read (default: all).
    pub kinds: CredentialKinds,
}

/// What one account holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inventory {
    /// Root user facts.
    pub root: RootUser,
    /// IAM users sorted by name.
    pub users: Vec<User>,
    /// Non-fatal problems (report unavailable, a user deleted while being read…).
    pub warnings: Vec<String>,
}

/// An account read that broke off: the failure, and what had been read in full before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadFailure {
    /// What failed (its code is the account's `scan.error.code`).
    pub error: Error,
    /// `Some` when the failure came while users were being read: the root user and every user
    /// read in full before it (each complete; the others missing), with the warnings so far.
    /// `None` when it came earlier (credential report, `ListUsers`, `ListVirtualMFADevices`,
    /// root user): nothing is kept, since nothing was read in full.
    pub partial: Option<Inventory>,
}

impl From<Error> for ReadFailure {
    fn from(error: Error) -> Self {
        Self { error, partial: None }
    }
}

/// Reads the inventory of `account` with `config` (credentials already for that account).
///
/// # Errors
/// [`ReadFailure`] with the first failure that leaves the inventory incomplete: the credential
/// report (other than denied or unreadable), `ListUsers`, `ListVirtualMFADevices`, the root
/// user's `GetAccountSummary`, or any per-user call other than `NoSuchEntity`. A per-user
/// failure stops the reading of further users and keeps those read in full
/// ([`ReadFailure::partial`]). Not errors: a denied or unreadable credential report (the
/// per-user calls replace it, with a warning) and a user deleted meanwhile (left out, with a
/// warning naming it).
pub async fn read_account(
    config: &SdkConfig,
    account: &Account,
    partition: &str,
    opts: &InventoryOptions,
    progress: &(dyn Fn(ScanPhase) + Send + Sync),
) -> Result<Inventory, ReadFailure> {
    // IAM throttles each account on its own; so does the SDK's retry quota here: a throttling
    // storm in one account cannot spend the retries of the others (the default partition,
    // `iam-<region>`, is one 500-token bucket for the whole process).
    let client = Client::from_conf(
        aws_sdk_iam::config::Builder::from(config)
            .retry_partition(RetryPartition::new(format!("iam-{}", account.id)))
            .build(),
    );
    let mut warnings = Vec::new();
    let now = chrono::Utc::now();

    progress(ScanPhase::CredentialReport);
    let report = match credential_report::fetch(&client, opts.polling).await {
        Ok(r) => {
            warnings.extend(r.cell_errors.iter().map(ToString::to_string));
            if let Some(generated) = r.generated {
                let hours = (chrono::Utc::now() - generated).num_hours();
                if hours >= 1 {
                    warnings.push(format!(
                        "credential report generated {hours} h ago (AWS reuses one for up to 4 h): last use may lag"
                    ));
                }
            }
            for name in &r.duplicates {
                warnings.push(format!(
                    "credential report has more than one row for '{name}'; read from the API instead"
                ));
            }
            Some(r)
        }
        Err(e @ (Error::AccessDenied { .. } | Error::CredentialReportUnreadable(_))) => {
            warnings.push(format!(
                "credential report unavailable ({e}); read user by user instead"
            ));
            None
        }
        Err(e) => return Err(e.into()),
    };

    progress(ScanPhase::ListingUsers);
    let iam_users: Vec<aws_sdk_iam::types::User> = client
        .list_users()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListUsers", e))?;
    let virtual_mfa = virtual_mfa_by_user(&client).await?;
    // One paged call for every user's service-specific credentials. Denied (or refused as a
    // request this partition does not support): a warning, and the kind is left unread.
    let service_specific = if opts.kinds.reads(CredentialKind::ServiceSpecific) {
        match credentials::service_specific_all_users(&client).await {
            Ok(map) => Some(map),
            Err(e @ (Error::AccessDenied { .. } | Error::Unexpected { .. })) => {
                warnings.push(format!("service-specific credentials not read ({e})"));
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };

    let root_arn = format!("arn:{partition}:iam::{}:root", account.id);
    let root_row = report
        .as_ref()
        .and_then(|r| r.root.as_ref().filter(|_| !r.duplicates.iter().any(|d| d == ROOT_USER)))
        .filter(|row| trusted(row, now, &mut warnings));
    let root = root_user(&client, root_row, virtual_mfa.contains_key(&root_arn)).await?;

    // A user with two rows gets neither: the report contradicts itself.
    let rows: HashMap<&str, &ReportRow> = report
        .as_ref()
        .map(|r| {
            r.users
                .iter()
                .filter(|row| !r.duplicates.contains(&row.user))
                .map(|row| (row.user.as_str(), row))
                .collect()
        })
        .unwrap_or_default();
    let fresh = report.as_ref().is_some_and(|r| r.fresh);
    let total = iam_users.len();
    let done = AtomicUsize::new(0);
    progress(ScanPhase::ReadingUsers { done: 0, total });
    // Futures are collected first: a closure inside the stream would make the scan task's
    // future not `Send` for every lifetime (rustc's higher-ranked closure limitation).
    let reads: Vec<_> = iam_users
        .iter()
        .map(|u| {
            let row = rows.get(u.user_name()).copied();
            let ssc = service_specific
                .as_ref()
                .map(|m| m.get(u.user_name()).cloned().unwrap_or_default());
            // A report this scan made AWS generate lists every key that existed when the scan
            // began: a user whose row shows no key slot needs no `ListAccessKeys`. A reused
            // report (up to 4 h old) may miss a key created since: every user is listed.
            let list_keys = !(fresh && row.is_some_and(ReportRow::shows_no_access_key));
            // Certificates alike: a reused report may miss one uploaded since.
            let list_certs = !(fresh && row.is_some_and(|r| !r.may_have_certificates()));
            read_user_counted(
                &client,
                u,
                row,
                Listings {
                    keys: list_keys,
                    certificates: list_certs,
                },
                ssc,
                &virtual_mfa,
                opts,
                now,
                &done,
                total,
                progress,
            )
        })
        .collect();
    let mut results = stream::iter(reads).buffer_unordered(opts.user_concurrency.max(1));

    let mut users = Vec::with_capacity(total);
    let mut failure = None;
    // Kind → (the first error, users whose listing of that kind was denied): one warning per
    // kind, not one per user (an audit role without the action denies it for every user).
    let mut denied: std::collections::BTreeMap<CredentialKind, (String, Vec<String>)> = Default::default();
    while let Some((name, result)) = results.next().await {
        match result {
            Ok(UserRead {
                user,
                warnings: user_warnings,
                denied: user_denied,
            }) => {
                for (kind, error) in user_denied {
                    let entry = denied.entry(kind).or_insert_with(|| (error, Vec::new()));
                    entry.1.push(user.name.clone());
                }
                users.push(user);
                warnings.extend(user_warnings);
            }
            Err(e) if e.is_no_such_entity() => {
                warnings.push(format!(
                    "user '{name}' was deleted while it was being read ({e}); left out"
                ));
            }
            Err(e) => {
                // Stop here: the reads still in flight are dropped (cancelled).
                failure = Some(e);
                break;
            }
        }
    }
    drop(results);
    for (kind, (error, mut names)) in denied {
        names.sort();
        let who = match names.as_slice() {
            [one] => format!("'{one}'"),
            many => {
                let shown: Vec<String> = many.iter().take(5).map(|n| format!("'{n}'")).collect();
                let more = if many.len() > 5 { ", …" } else { "" };
                format!("{} users ({}{more})", many.len(), shown.join(", "))
            }
        };
        warnings.push(format!("{}s of {who} not read ({error})", kind.label()));
    }
    users.sort_by(|a, b| a.name.cmp(&b.name));
    let inventory = Inventory { root, users, warnings };
    match failure {
        None => Ok(inventory),
        Some(error) => Err(ReadFailure {
            error,
            partial: Some(inventory),
        }),
    }
}

/// [`read_user`] under an org-wide permit, counting progress; returns the user's name with
/// the result.
#[allow(clippy::too_many_arguments)]
async fn read_user_counted<'a>(
    client: &Client,
    u: &'a aws_sdk_iam::types::User,
    row: Option<&ReportRow>,
    listings: Listings,
    service_specific: Option<Vec<Credential>>,
    virtual_mfa: &HashMap<String, String>,
    opts: &InventoryOptions,
    now: Timestamp,
    done: &AtomicUsize,
    total: usize,
    progress: &(dyn Fn(ScanPhase) + Send + Sync),
) -> (&'a str, Result<UserRead, Error>) {
    let _permit = opts.org_permits.acquire().await.ok();
    let user = read_user(client, u, row, listings, virtual_mfa, &opts.kinds, now)
        .await
        .map(|mut read| {
            read.user.credentials.extend(service_specific.unwrap_or_default());
            read
        });
    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
    progress(ScanPhase::ReadingUsers { done: n, total });
    (u.user_name(), user)
}

/// Virtual MFA devices assigned in the account: user (or root) ARN → serial.
async fn virtual_mfa_by_user(client: &Client) -> Result<HashMap<String, String>, Error> {
    let devices: Vec<aws_sdk_iam::types::VirtualMfaDevice> = client
        .list_virtual_mfa_devices()
        .assignment_status(AssignmentStatusType::Assigned)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListVirtualMFADevices", e))?;
    Ok(devices
        .iter()
        .filter_map(|d| d.user().map(|u| (u.arn().to_owned(), d.serial_number().to_owned())))
        .collect())
}

/// False (with a warning) when the report row says what cannot be true at `now`
/// ([`ReportRow::impossibilities`]): its user is then read with the per-user calls.
fn trusted(row: &ReportRow, now: Timestamp, warnings: &mut Vec<String>) -> bool {
    let wrong = row.impossibilities(now);
    if !wrong.is_empty() {
        warnings.push(format!(
            "credential report row of '{}' cannot be true ({}); read from the API instead",
            row.user,
            wrong.join("; ")
        ));
    }
    wrong.is_empty()
}

/// What in `user` (as read, from the report or the API) cannot be true at `now`, one warning
/// per impossibility: the user or a key created in the future, a key last used before it was
/// created or in the future (beyond [`credential_report::CLOCK_SLACK`]).
fn impossibilities(user: &User, now: Timestamp) -> Vec<String> {
    let later = |a: Timestamp, b: Timestamp| a > b + credential_report::CLOCK_SLACK;
    let name = &user.name;
    let mut out = Vec::new();
    if later(user.created, now) {
        out.push(format!(
            "user '{name}' was created in the future ({}) per iam:ListUsers; check the data",
            user.created.to_rfc3339()
        ));
    }
    for key in &user.access_keys {
        let id = &key.id;
        if later(key.created, now) {
            out.push(format!(
                "user '{name}' key {id} was created in the future ({}) per iam:ListAccessKeys; check the data",
                key.created.to_rfc3339()
            ));
        }
        let Some(used) = &key.last_used else { continue };
        if later(key.created, used.date) {
            out.push(format!(
                "user '{name}' key {id} was last used ({}) before it was created ({}); check the data",
                used.date.to_rfc3339(),
                key.created.to_rfc3339()
            ));
        }
        if later(used.date, now) {
            out.push(format!(
                "user '{name}' key {id} was last used in the future ({}); check the data",
                used.date.to_rfc3339()
            ));
        }
    }
    out
}

async fn root_user(client: &Client, row: Option<&ReportRow>, root_virtual: bool) -> Result<RootUser, Error> {
    // The root row is trusted only when every cell it is read from is readable.
    let from_row = row.and_then(|row| {
        let mfa = *row.mfa_active.value()?;
        let mut keys = Vec::new();
        let mut present = false;
        for slot in &row.keys {
            let active = *slot.active.value()?;
            present |= active || slot.has_key();
            if let Some(created) = slot.last_rotated.value() {
                keys.push(RootKey {
                    active,
                    created: *created,
                    last_used: slot_last_used(slot).flatten(),
                });
            }
        }
        Some((present, mfa, keys))
    });
    // Certificates: any slot that says active or carries an upload date.
    let signing_certificates = row
        .map(|row| {
            row.certs
                .iter()
                .filter(|c| c.active == Cell::Value(true) || c.last_rotated.value().is_some())
                .map(|c| RootCertificate {
                    active: c.active == Cell::Value(true),
                    uploaded: c.last_rotated.value().copied(),
                })
                .collect()
        })
        .unwrap_or_default();
    let (access_keys_present, mfa_enabled, access_keys) = match from_row {
        Some(facts) => facts,
        None => {
            let out = client
                .get_account_summary()
                .send()
                .await
                .map_err(|e| classify("iam:GetAccountSummary", e))?;
            let get = |k: SummaryKeyType| out.summary_map().and_then(|m| m.get(&k)).copied().unwrap_or(0);
            (
                get(SummaryKeyType::AccountAccessKeysPresent) > 0,
                get(SummaryKeyType::AccountMfaEnabled) > 0,
                Vec::new(),
            )
        }
    };
    let mfa_kind = mfa_enabled.then_some(if root_virtual {
        MfaKind::Virtual
    } else {
        MfaKind::Hardware
    });
    Ok(RootUser {
        access_keys_present,
        mfa_enabled,
        mfa_kind,
        access_keys,
        signing_certificates,
    })
}

/// Which per-user listings the credential report cannot spare (each still made when the
/// user's row turns out not to be this user's or not trusted).
#[derive(Clone, Copy, Debug)]
struct Listings {
    /// `ListAccessKeys`: false only when this scan's own (fresh) report row shows no key.
    keys: bool,
    /// `ListSigningCertificates`: false only when this scan's own (fresh) report row shows no
    /// certificate.
    certificates: bool,
}

/// One user as read, with the warnings about it (data that cannot be true) and the kinds of
/// credential whose listing was denied (kind, the error in words).
struct UserRead {
    user: User,
    warnings: Vec<String>,
    denied: Vec<(CredentialKind, String)>,
}

/// Reads one user, with the warnings about it (data that cannot be true).
/// `Err(NoSuchEntity)` means the user vanished meanwhile.
async fn read_user(
    client: &Client,
    u: &aws_sdk_iam::types::User,
    row: Option<&ReportRow>,
    listings: Listings,
    virtual_mfa: &HashMap<String, String>,
    kinds: &CredentialKinds,
    now: Timestamp,
) -> Result<UserRead, Error> {
    let name = u.user_name();
    let mut warnings = Vec::new();
    // The report row must be this user, not an earlier one of the same name.
    let row = row
        .filter(|r| {
            r.user_creation_time
                .value()
                .is_none_or(|t| *t == to_utc(u.create_date()))
        })
        .filter(|r| trusted(r, now, &mut warnings));
    // Listed unless this scan's own report shows none: AWS reuses a report for up to 4 hours,
    // so a key created since (a fresh persistence key, say) would be missing from it.
    // `listings.keys` false counts only when the row is this user's and trusted (checked just
    // above), else keys are listed all the same.
    let access_keys = if kinds.access_keys && (listings.keys || row.is_none()) {
        access_keys(client, name, row).await?
    } else {
        Vec::new()
    };
    let mut denied = Vec::new();
    let credentials = other_credentials(
        client,
        name,
        row.filter(|_| !listings.certificates),
        kinds,
        &mut warnings,
        &mut denied,
    )
    .await?;

    let password_enabled = match row.map(|r| &r.password_enabled) {
        Some(Cell::Value(b)) => *b,
        _ => login_profile_exists(client, name).await?,
    };

    let virtual_serial = virtual_mfa.get(u.arn());
    let report_mfa = row.and_then(|r| r.mfa_active.value().copied());
    let (mfa_active, mfa_devices) = match (report_mfa, virtual_serial) {
        (Some(active), Some(serial)) => (
            active,
            vec![MfaDevice {
                serial: serial.clone(),
                kind: MfaKind::Virtual,
            }],
        ),
        // MFA on and no virtual device assigned: a hardware token or FIDO key. Its serial is
        // not needed for any rule, so it is not listed (one call per such user saved).
        (Some(active), None) => (active, Vec::new()),
        _ => {
            let devices = mfa_devices(client, name).await?;
            (!devices.is_empty(), devices)
        }
    };

    let user = User {
        name: name.to_owned(),
        arn: u.arn().to_owned(),
        path: u.path().to_owned(),
        created: to_utc(u.create_date()),
        password_enabled,
        password_last_used: if password_enabled {
            u.password_last_used().map(to_utc)
        } else {
            None
        },
        mfa_active,
        mfa_devices,
        access_keys,
        credentials,
    };
    warnings.extend(impossibilities(&user, now));
    Ok(UserRead { user, warnings, denied })
}

/// SSH public keys and signing certificates of `user`, the kinds in `kinds`. Certificates are
/// listed unless `spare_certs` is a row that shows none ([`ReportRow::may_have_certificates`]):
/// the caller passes a row only when it is this scan's own (fresh) report's. Access denied on either call goes to `denied` (the caller makes one warning
/// per kind naming the users) and the kind is left out for that user; any other failure (a
/// user deleted meanwhile: `NoSuchEntity`) is the user's failure.
async fn other_credentials(
    client: &Client,
    user: &str,
    spare_certs: Option<&ReportRow>,
    kinds: &CredentialKinds,
    warnings: &mut Vec<String>,
    denied: &mut Vec<(CredentialKind, String)>,
) -> Result<Vec<Credential>, Error> {
    let mut out = Vec::new();
    if kinds.reads(CredentialKind::SshPublicKey) {
        match credentials::ssh_public_keys(client, user).await {
            Ok(keys) => out.extend(keys),
            Err(e @ Error::AccessDenied { .. }) => denied.push((CredentialKind::SshPublicKey, e.to_string())),
            Err(e) => return Err(e),
        }
    }
    if kinds.reads(CredentialKind::SigningCertificate) && spare_certs.is_none_or(ReportRow::may_have_certificates) {
        match credentials::signing_certificates(client, user).await {
            Ok((certs, w)) => {
                out.extend(certs);
                warnings.extend(w);
            }
            Err(e @ Error::AccessDenied { .. }) => denied.push((CredentialKind::SigningCertificate, e.to_string())),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// `ListAccessKeys`, with last use from the matching report slot ([`match_slots`]) or else
/// `GetAccessKeyLastUsed`.
async fn access_keys(client: &Client, user: &str, row: Option<&ReportRow>) -> Result<Vec<AccessKey>, Error> {
    let metas: Vec<aws_sdk_iam::types::AccessKeyMetadata> = client
        .list_access_keys()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListAccessKeys", e))?;
    let listed: Vec<(&str, Timestamp, &aws_sdk_iam::types::AccessKeyMetadata)> = metas
        .iter()
        .filter_map(|m| Some((m.access_key_id()?, to_utc(m.create_date()?), m)))
        .collect();
    let created: Vec<Timestamp> = listed.iter().map(|(_, c, _)| *c).collect();
    let slots = match_slots(&created, row);
    let mut keys = Vec::with_capacity(listed.len());
    for (&(id, created, m), slot) in listed.iter().zip(slots) {
        let last_used = match slot.and_then(slot_last_used) {
            Some(known) => known,
            None => match last_used(client, id).await {
                Ok(v) => v,
                // The key was deleted between listing and describing: leave it out.
                Err(e) if e.is_no_such_entity() => continue,
                Err(e) => return Err(e),
            },
        };
        let status = if m.status() == Some(&StatusType::Active) {
            KeyStatus::Active
        } else {
            KeyStatus::Inactive
        };
        keys.push(AccessKey {
            id: AccessKeyId::from(id.to_owned()),
            status,
            created,
            last_used,
        });
    }
    keys.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    Ok(keys)
}

/// The report slot of each listed key (`created[i]` = `ListAccessKeys.CreateDate`, UTC): the
/// one slot whose `access_key_N_last_rotated` is that second, when exactly one key has it too.
/// The report has no key ids, so two keys created in the same second, or two slots with the
/// same `last_rotated`, cannot be told apart: those keys get `None` (ask the API).
fn match_slots<'r>(created: &[Timestamp], row: Option<&'r ReportRow>) -> Vec<Option<&'r KeySlot>> {
    created
        .iter()
        .map(|c| {
            let row = row?;
            let mut slots = row.keys.iter().filter(|s| s.last_rotated.value() == Some(c));
            let slot = slots.next()?;
            let unique = slots.next().is_none() && created.iter().filter(|o| *o == c).count() == 1;
            unique.then_some(slot)
        })
        .collect()
}

/// The last use a report slot knows: `Some(None)` = never used; `None` = the slot cannot say.
fn slot_last_used(slot: &KeySlot) -> Option<Option<KeyLastUsed>> {
    match &slot.last_used_date {
        Cell::Value(date) => Some(Some(KeyLastUsed {
            date: *date,
            service: slot.last_used_service.value().cloned(),
            region: slot.last_used_region.value().cloned(),
        })),
        Cell::NotApplicable => Some(None),
        Cell::NoInformation | Cell::NotSupported | Cell::Unknown => None,
    }
}

/// `GetAccessKeyLastUsed`: `None` when never used (no `LastUsedDate`).
pub(crate) async fn last_used(client: &Client, key: &str) -> Result<Option<KeyLastUsed>, Error> {
    let out = client
        .get_access_key_last_used()
        .access_key_id(key)
        .send()
        .await
        .map_err(|e| classify("iam:GetAccessKeyLastUsed", e))?;
    let Some(used) = out.access_key_last_used() else {
        return Ok(None);
    };
    let known = |s: &str| (!s.is_empty() && s != "N/A").then(|| s.to_owned());
    Ok(used.last_used_date().map(|d| KeyLastUsed {
        date: to_utc(d),
        service: known(used.service_name()),
        region: known(used.region()),
    }))
}

/// `GetLoginProfile`: `NoSuchEntity` means no console password.
async fn login_profile_exists(client: &Client, user: &str) -> Result<bool, Error> {
    match client.get_login_profile().user_name(user).send().await {
        Ok(_) => Ok(true),
        Err(e) => match classify("iam:GetLoginProfile", e) {
            // "Login Profile for User X cannot be found" = no password; "The user with name X
            // cannot be found" = the user itself is gone.
            Error::NoSuchEntity { message, .. } if message.to_ascii_lowercase().contains("login profile") => Ok(false),
            other => Err(other),
        },
    }
}

/// `ListMFADevices` for one user.
async fn mfa_devices(client: &Client, user: &str) -> Result<Vec<MfaDevice>, Error> {
    let devices: Vec<aws_sdk_iam::types::MfaDevice> = client
        .list_mfa_devices()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListMFADevices", e))?;
    Ok(devices
        .iter()
        .map(|d| MfaDevice {
            serial: d.serial_number().to_owned(),
            kind: MfaKind::from_serial(d.serial_number()),
        })
        .collect())
}

/// Re-reads one user's access keys live (`ListAccessKeys` + `GetAccessKeyLastUsed` each):
/// the truth before and after a write.
///
/// # Errors
/// [`Error::NoSuchEntity`] when the user is gone; any other classified failure.
pub async fn read_user_keys(config: &SdkConfig, user: &str) -> Result<Vec<AccessKey>, Error> {
    access_keys(&Client::new(config), user, None).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};

    fn t(s: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap() + TimeDelta::seconds(s)
    }

    fn row(rotated: [Option<Timestamp>; 2]) -> ReportRow {
        let mut r = ReportRow::default();
        for (slot, at) in r.keys.iter_mut().zip(rotated) {
            slot.last_rotated = at.map_or(Cell::NotApplicable, Cell::Value);
        }
        r
    }

    /// Which slot (0 or 1) each key got; `None` = ask the API.
    fn matched(created: &[Timestamp], row: &ReportRow) -> Vec<Option<usize>> {
        match_slots(created, Some(row))
            .into_iter()
            .map(|s| s.map(|s| usize::from(!std::ptr::eq(s, &row.keys[0]))))
            .collect()
    }

    #[test]
    fn keys_match_slots_only_when_unambiguous() {
        // One key per second: each finds its own slot, in either order.
        assert_eq!(
            matched(&[t(0), t(1)], &row([Some(t(0)), Some(t(1))])),
            [Some(0), Some(1)]
        );
        assert_eq!(
            matched(&[t(1), t(0)], &row([Some(t(0)), Some(t(1))])),
            [Some(1), Some(0)]
        );
        // Two keys created in the same second: the report cannot say which slot is which.
        assert_eq!(matched(&[t(0), t(0)], &row([Some(t(0)), Some(t(0))])), [None, None]);
        // Two slots of one second for one listed key (a stale report): ambiguous too.
        assert_eq!(matched(&[t(0)], &row([Some(t(0)), Some(t(0))])), [None]);
        // Two keys of one second, one slot (a key created since the report): neither.
        assert_eq!(matched(&[t(0), t(0)], &row([Some(t(0)), None])), [None, None]);
        // No slot of that second, or no row at all.
        assert_eq!(matched(&[t(5)], &row([Some(t(0)), None])), [None]);
        assert_eq!(match_slots(&[t(0)], None).len(), 1);
        assert!(match_slots(&[t(0)], None)[0].is_none());
    }

    fn user(created: Timestamp, key: (Timestamp, Option<Timestamp>)) -> User {
        User {
            name: "eve".into(),
            arn: "arn:aws:iam::111111111111:user/eve".into(),
            path: "/".into(),
            created,
            password_enabled: false,
            password_last_used: None,
            mfa_active: false,
            mfa_devices: vec![],
            access_keys: vec![AccessKey {
                id: AccessKeyId("AKIAEXAMPLE000000001".into()),
                status: KeyStatus::Active,
                created: key.0,
                last_used: key.1.map(|date| KeyLastUsed {
                    date,
                    service: None,
                    region: None,
                }),
            }],
            credentials: vec![],
        }
    }

    #[test]
    fn impossibilities_of_a_user_as_read() {
        let now = t(0);
        let d = TimeDelta::days;
        assert!(impossibilities(&user(now - d(9), (now - d(5), Some(now - d(1)))), now).is_empty());
        assert_eq!(
            impossibilities(&user(now + d(1), (now - d(5), None)), now),
            ["user 'eve' was created in the future (2026-11-02T10:00:00+00:00) per iam:ListUsers; check the data"]
        );
        assert_eq!(
            impossibilities(&user(now - d(9), (now + d(1), None)), now),
            [
                "user 'eve' key AKIAEXAMPLE000000001 was created in the future (2026-11-02T10:00:00+00:00) per iam:ListAccessKeys; check the data"
            ]
        );
        assert_eq!(
            impossibilities(&user(now - d(9), (now - d(2), Some(now - d(3)))), now),
            [
                "user 'eve' key AKIAEXAMPLE000000001 was last used (2026-10-29T10:00:00+00:00) before it was created (2026-10-30T10:00:00+00:00); check the data"
            ]
        );
        assert_eq!(
            impossibilities(&user(now - d(9), (now - d(2), Some(now + d(3)))), now),
            [
                "user 'eve' key AKIAEXAMPLE000000001 was last used in the future (2026-11-04T10:00:00+00:00); check the data"
            ]
        );
    }
}

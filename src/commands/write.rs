//! `keytriage deactivate|activate|delete`: one write on one access key, headless, with the
//! same pre-checks, journal and rules as the TUI ([`crate::remediate`]).
//!
//! The key is read live first (status and last use); "already inactive/active" ends with
//! nothing to do (exit 0). Unless `--yes`, the operator confirms on the terminal after
//! seeing the live last use (`yes`, or the key's last 4 characters to delete an active
//! key); without a terminal and without `--yes` nothing is done. With `--yes` a use in the
//! last 7 days is printed as a warning. Either way the write carries the last use that was
//! read: if the key is used between that read and the write, nothing is written and the
//! command fails (exit 1) asking to run it again. Progress and results go to stderr.

use crate::aws::{self, ConnectOptions, RoleOptions};
use crate::cli::KeyArgs;
use crate::journal::Journal;
use crate::model::{AccessKeyId, Account, KeyAction, age_days};
use crate::remediate::{RemediateError, Remediator, WriteRequest, last_use_utc, remediation_role};
use crate::settings::Settings;
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::io::IsTerminal;
use std::sync::Arc;

/// Runs the command; returns the exit code (0 done or nothing to do, 1 not confirmed).
///
/// # Errors
/// Writes off, AWS unreachable, key not found, refused without a terminal, a write that
/// failed or got no answer (the message says what is true now and what to do).
pub async fn run(
    connect: &ConnectOptions,
    settings: &Settings,
    journal: Journal,
    write_mode: bool,
    args: &KeyArgs,
    action: KeyAction,
) -> Result<i32> {
    if !write_mode {
        return Err(eyre!(
            "writes are off: add --write to {} keys (nothing was changed)",
            action.verb()
        ));
    }
    let ctx = Arc::new(
        aws::connect_reporting(connect, |line| eprintln!("keytriage: {line}"))
            .await
            .wrap_err("cannot reach AWS as the caller")?,
    );
    let audit = RoleOptions {
        role_name: settings.role_name.clone(),
        external_id: settings.external_id.clone(),
        session_length: None,
    };
    let remediation = remediation_role(&audit, settings.remediation_role.as_deref());
    let account = Account::from_id(args.account.clone());
    let key = AccessKeyId::from(args.key.trim().to_owned());
    let remediator = Remediator::with_roles(ctx, audit, remediation, journal, true);
    // Actions a crash left unfinished are closed first, as the TUI does at start.
    for line in remediator.session_start().await {
        eprintln!("keytriage: {line}");
    }
    let live = match remediator.live_key(&account, &args.user, &key).await {
        Ok(k) => k,
        Err(RemediateError::Changed(_)) => {
            return Err(eyre!(
                "access key {key} of {} not found in account {}; nothing was changed",
                args.user,
                args.account
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let request = WriteRequest::new(action, &account, &args.user, &live);
    if let Some(why) = request.nothing_to_do() {
        eprintln!("keytriage: {why}; nothing to do");
        return Ok(0);
    }
    let what = request.describe();
    let now = chrono::Utc::now();
    let recent = matches!(action, KeyAction::Deactivate | KeyAction::Delete)
        && live.last_used.as_ref().is_some_and(|u| age_days(u.date, now) <= 7);
    let last_use = format!("last use (read live): {}", last_use_utc(live.last_used.as_ref()));
    let warning = recent.then(|| {
        format!(
            "used in the last 7 days: {} it may break the workload that uses it",
            action.ing()
        )
    });
    if args.yes {
        if let Some(w) = &warning {
            eprintln!("keytriage: warning: {what}: {last_use}; {w}");
        }
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(eyre!("refusing to {what} without --yes (no terminal to ask on)"));
        }
        let expected = request.must_type().unwrap_or_else(|| "yes".to_owned());
        eprintln!("{what}?\n{last_use}");
        if let Some(w) = &warning {
            eprintln!("! {w}");
        }
        eprint!(
            "type '{}' to confirm: ",
            if request.must_type().is_none() {
                "yes"
            } else {
                "the key's last 4 characters"
            }
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !answer.trim().eq_ignore_ascii_case(&expected) {
            eprintln!("keytriage: not confirmed; nothing was changed");
            return Ok(1);
        }
    }
    let done = match remediator.apply(&request).await {
        Ok(done) => done,
        Err(e @ RemediateError::UsedSince { .. }) => return Err(eyre!("{e}: run the command again")),
        Err(e) => return Err(e.into()),
    };
    let rid = done
        .request_id
        .map(|r| format!(" (request id {r})"))
        .unwrap_or_default();
    eprintln!(
        "keytriage: done: {what}{rid}; journal {}",
        remediator.journal().path().display()
    );
    Ok(0)
}

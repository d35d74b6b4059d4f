//! `keytriage --write apply PLAN`: apply a plan written by `keytriage plan`
//! ([`crate::remediate::plan`]). Refused before anything (no AWS call, no journal line)
//! without `--write`, for a file that is not a plan, was edited (digest mismatch), or is
//! older than `max_plan_age_hours`. Unless `--yes`, the operator confirms on the terminal
//! (`yes`, or the number of keys for a plan that deletes active keys); without a terminal
//! and without `--yes` nothing is done.
//!
//! The targets run as one batch whose id is the plan's id
//! ([`crate::remediate::Remediator::run_batch`]): each key is re-read live and skipped, with
//! the reason, when its status differs from the plan or it was used since the plan was made
//! (the reason gives the plan's time); every target
//! leaves an intent and an outcome line in the journal. Ctrl-C stops launching new writes
//! (those in flight finish and are journaled). Exit codes: 0 every target done, 1 could not
//! run, 3 some target skipped, failed, unknown or not started (each listed on stderr).

use crate::aws::{self, ConnectOptions, RoleOptions};
use crate::cli::ApplyArgs;
use crate::journal::Journal;
use crate::model::{KeyAction, KeyStatus};
use crate::remediate::bulk::{Basis, BatchLimits, Outcome, tally};
use crate::remediate::plan::Plan;
use crate::remediate::{Remediator, remediation_role};
use crate::settings::Settings;
use crate::text::plural;
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code when some target was not done.
pub const EXIT_INCOMPLETE: i32 = 3;

/// Reads and checks the plan at `path` at `now` (schema, digest, age).
///
/// # Errors
/// The file unreadable or not JSON of a plan (naming the file), or
/// [`crate::remediate::plan::PlanError`].
pub fn load(path: &std::path::Path, now: crate::model::Timestamp, max_age_hours: u32) -> Result<Plan> {
    let text = std::fs::read_to_string(path).wrap_err_with(|| format!("cannot read the plan {}", path.display()))?;
    let plan: Plan =
        serde_json::from_str(&text).wrap_err_with(|| format!("{} is not a keytriage plan", path.display()))?;
    plan.verify(now, max_age_hours)
        .wrap_err_with(|| format!("refusing the plan {}", path.display()))?;
    Ok(plan)
}

/// Runs the command; returns 0 (all done) or [`EXIT_INCOMPLETE`].
///
/// # Errors
/// Writes off, the plan refused (see [`load`]), not confirmed, AWS unreachable, the journal
/// unwritable.
pub async fn run(
    connect: &ConnectOptions,
    settings: &Settings,
    journal: Journal,
    write_mode: bool,
    args: &ApplyArgs,
) -> Result<i32> {
    if !write_mode {
        return Err(eyre!(
            "writes are off: add --write to apply a plan (nothing was changed)"
        ));
    }
    let plan = load(&args.plan, chrono::Utc::now(), settings.max_plan_age_hours)?;
    let action = plan.action;
    let n = plan.targets.len();
    if n == 0 {
        eprintln!("keytriage: plan {} has no target; nothing to do", plan.id);
        return Ok(0);
    }
    let accounts: std::collections::BTreeSet<_> = plan.targets.iter().map(|t| &t.account_id).collect();
    let what = format!(
        "{} {} in {} (plan {}, scanned {} by {})",
        action.verb(),
        plural(n, "access key", "access keys"),
        plural(accounts.len(), "account", "accounts"),
        plan.id,
        plan.scanned_at.format("%Y-%m-%d %H:%M UTC"),
        plan.caller
    );
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(eyre!("refusing to {what} without --yes (no terminal to ask on)"));
        }
        let deletes_active = action == KeyAction::Delete && plan.targets.iter().any(|t| t.status == KeyStatus::Active);
        let expected = if deletes_active {
            n.to_string()
        } else {
            "yes".to_owned()
        };
        eprintln!("{what}?");
        eprint!(
            "type '{expected}' to confirm{}: ",
            if deletes_active {
                " (the number of keys: active keys are deleted)"
            } else {
                ""
            }
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != expected {
            eprintln!("keytriage: not confirmed; nothing was changed");
            return Ok(1);
        }
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
    let remediator = Remediator::with_roles(ctx, audit, remediation, journal, true);
    for line in remediator.session_start().await {
        eprintln!("keytriage: {line}");
    }
    let requests = plan.requests();
    let stop = Arc::new(AtomicBool::new(false));
    let on_ctrl_c = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("keytriage: stopping: no new write is launched; those in flight finish");
                stop.store(true, Ordering::SeqCst);
            }
        })
    };
    let (events, _progress) = tokio::sync::mpsc::unbounded_channel();
    eprintln!("keytriage: applying: {what}");
    let outcomes = remediator
        .run_batch_on(
            Basis::Plan {
                made_at: plan.scanned_at,
            },
            &plan.id,
            &requests,
            BatchLimits::default(),
            stop,
            events,
        )
        .await;
    on_ctrl_c.abort();
    let outcomes = outcomes?;
    for (request, outcome) in requests.iter().zip(&outcomes) {
        let line = match outcome {
            Outcome::Done { .. } => format!("done: {}", request.describe()),
            Outcome::NotStarted => format!("not started: {}", request.describe()),
            other => format!(
                "{}: {}: {}",
                other.word(),
                request.describe(),
                other.reason().unwrap_or_default()
            ),
        };
        eprintln!("keytriage: {line}");
    }
    let [done, skipped, failed, unknown, not_started] = tally(&outcomes);
    eprintln!(
        "keytriage: plan {}: {done} done, {skipped} skipped, {failed} failed, {unknown} unknown, {not_started} not started (journal batch id {})",
        plan.id, plan.id
    );
    Ok(if done == n { 0 } else { EXIT_INCOMPLETE })
}

//! `keytriage plan`: scan headless, select the keys an action would change
//! ([`crate::remediate::plan::select`]) and write the plan ([`crate::remediate::plan::Plan`])
//! to `--output` (through a temporary file: a failed run leaves nothing) or stdout. Makes no
//! write call; needs no `--write`. Progress and a one-line summary go to stderr.

use crate::audit;
use crate::aws::{self, ConnectOptions};
use crate::cli::PlanArgs;
use crate::model::KeyAction;
use crate::remediate::plan::{self, Criteria, Plan};
use crate::scan;
use crate::settings::Settings;
use crate::text::plural;
use color_eyre::eyre::{Result, WrapErr};
use std::io::Write;
use std::sync::Arc;

/// Runs the command; returns 0 once the plan is written (also when it selects no key).
///
/// # Errors
/// A bad `--users` glob or an unwritable `--output` (both before any AWS call), AWS
/// unreachable, the organization unreadable, writing the plan.
pub async fn run(connect: &ConnectOptions, settings: &Settings, args: &PlanArgs) -> Result<i32> {
    let action = KeyAction::from(args.action);
    let criteria = Criteria {
        rule: args.rule,
        min_age_days: args.min_age,
        unused_for_days: args.unused_for,
        accounts: settings.accounts.clone(),
        users: args.users.clone(),
    };
    // A bad glob is refused before the scan.
    plan::select(&[], &[], action, &criteria, chrono::Utc::now())?;
    if let Some(path) = &args.output {
        super::scan::check_output(path)?;
    }
    let ctx = Arc::new(
        aws::connect_reporting(connect, |line| {
            if !args.quiet {
                eprintln!("keytriage: {line}");
            }
        })
        .await
        .wrap_err("cannot reach AWS as the caller")?,
    );
    let progress = super::scan::Progress::new(args.quiet);
    progress.say(&format!("scanning as {}", ctx.caller.arn));
    let org = scan::run_to_end(ctx.clone(), Arc::new(super::scan_options(settings)), |e| progress.on(e))
        .await
        .wrap_err("cannot list the organization's accounts")?;
    progress.finish();
    let now = chrono::Utc::now();
    let findings = audit::audit_all(&org.accounts, &settings.policy, now);
    let targets = plan::select(&org.accounts, &findings, action, &criteria, now)?;
    for a in org
        .accounts
        .iter()
        .filter(|a| a.scan.status != crate::model::ScanStatus::Ok)
    {
        eprintln!(
            "keytriage: warning: {} ({}) was not scanned in full ({}): the plan may miss its keys",
            a.account.id,
            a.account.name,
            a.scan.status_word()
        );
    }
    let plan = Plan::new(now, &ctx.caller.arn, action, criteria, targets)?;
    let mut buf = serde_json::to_vec_pretty(&plan)?;
    buf.push(b'\n');
    match &args.output {
        Some(path) => super::scan::write_output(path, &buf)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&buf).and_then(|()| out.flush())?;
        }
    }
    let accounts: std::collections::BTreeSet<_> = plan.targets.iter().map(|t| &t.account_id).collect();
    eprintln!(
        "keytriage: plan {}: {} {} in {}{}",
        plan.id,
        action.verb(),
        plural(plan.targets.len(), "key", "keys"),
        plural(accounts.len(), "account", "accounts"),
        args.output
            .as_ref()
            .map(|p| format!(", written to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(0)
}

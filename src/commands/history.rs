//! `keytriage history` (list the recorded scans), and the history step every scan runs
//! ([`triage_and_record`]): load the previous scan, triage, record — skipping the history
//! with a warning, never failing the scan.

use crate::audit::Finding;
use crate::exceptions::Exception;
use crate::history::{History, HistoryError};
use crate::scan::OrgScan;
use crate::settings::Settings;
use crate::triage::{self, Outcome};
use color_eyre::eyre::{Result, eyre};
use std::io::Write;

/// Triages `findings` against the previous recorded scan and `exceptions`, records this scan,
/// and returns the triage. `history`: the database ([`Settings::history`]); `None`, history
/// off: everything is triaged against no previous scan. A
/// history that cannot be opened, read or written (locked, corrupt, newer) is reported
/// through `warn` (one line, what happened and that this scan is not recorded) and the
/// triage goes on without it. Exceptions matching nothing are reported through `warn` too.
pub fn triage_and_record(
    history: Option<&std::path::Path>,
    org: &OrgScan,
    findings: &[Finding],
    exceptions: &[Exception],
    caller: Option<&str>,
    now: crate::model::Timestamp,
    mut warn: impl FnMut(String),
) -> Outcome {
    let mut db = history.and_then(|path| match History::open(path) {
        Ok(h) => Some(h),
        Err(e) => {
            warn(format!("{e}; this scan is not recorded"));
            None
        }
    });
    let previous = match db.as_ref().map(History::previous) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            warn(format!("{e}; this scan is not recorded"));
            db = None;
            None
        }
        None => None,
    };
    if let Some(db) = db.as_ref() {
        warn_unknown_rules(db, &mut warn);
    }
    let outcome = triage::triage(findings, &org.accounts, exceptions, previous.as_ref(), now);
    if let Some(db) = db.as_mut()
        && let Err(e) = db.record(now, caller, &org.accounts, findings, &outcome)
    {
        warn(format!("{e}; this scan is not recorded"));
    }
    for i in &outcome.stale_exceptions {
        if let Some(e) = exceptions.get(*i) {
            warn(format!(
                "exception at line {} ({} in {}{}) matches no finding; remove it",
                e.line,
                e.rule,
                e.account.as_str(),
                e.user.as_deref().map(|u| format!(", user {u}")).unwrap_or_default()
            ));
        }
    }
    outcome
}

/// One warning when reads of `db` skipped findings of rules this keytriage does not know
/// (recorded by a newer keytriage); nothing otherwise.
pub fn warn_unknown_rules(db: &History, mut warn: impl FnMut(String)) {
    let unknown = db.unknown_rules();
    if !unknown.is_empty() {
        warn(format!(
            "history {} holds findings of rules this keytriage does not know ({}); they are skipped — upgrade keytriage to compare them",
            db.path().display(),
            unknown.join(", ")
        ));
    }
}

/// Opens the history for reading by `history` and `diff`.
///
/// # Errors
/// History off, or it cannot be opened.
pub fn open(settings: &Settings) -> Result<History> {
    let path = settings
        .history
        .as_deref()
        .ok_or_else(|| eyre!("history is off (--no-history); pass --history PATH"))?;
    if !path.exists() {
        return Err(eyre!(
            "no scan history at {}: run `keytriage scan` first (or pass --history PATH)",
            path.display()
        ));
    }
    History::open(path).map_err(|e: HistoryError| eyre!(e))
}

/// `keytriage history`: one line per recorded scan, oldest first:
/// `ID  TIME (UTC)  ACCOUNTS ok/failed  CRIT HIGH MED LOW INFO  EXCEPTED  NEW  RESOLVED  CALLER`.
///
/// # Errors
/// No history, or it cannot be read; writing stdout.
pub fn run(settings: &Settings) -> Result<i32> {
    let db = open(settings)?;
    let scans = db.list()?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:>4}  {:<20}  {:>9}  {:>4} {:>4} {:>4} {:>4} {:>4}  {:>8}  {:>5}  {:>8}  CALLER",
        "ID", "TIME (UTC)", "ACCOUNTS", "CRIT", "HIGH", "MED", "LOW", "INFO", "EXCEPTED", "NEW", "RESOLVED"
    )?;
    for s in &scans {
        let [c, h, m, l, i] = s.by_severity;
        writeln!(
            out,
            "{:>4}  {:<20}  {:>9}  {c:>4} {h:>4} {m:>4} {l:>4} {i:>4}  {:>8}  {:>5}  {:>8}  {}",
            s.id,
            s.generated_at.format("%Y-%m-%d %H:%M:%S"),
            format!("{}/{}", s.accounts_ok, s.accounts_failed),
            s.excepted,
            s.new,
            s.resolved,
            s.caller.as_deref().unwrap_or("-")
        )?;
    }
    if scans.is_empty() {
        writeln!(out, "no scans recorded in {}", db.path().display())?;
    }
    Ok(0)
}

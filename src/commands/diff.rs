//! `keytriage diff [FROM] [TO]`: new, resolved, unchecked and changed findings, and access
//! keys whose status changed, between two recorded scans (ids from `keytriage history`) or
//! two scan JSON documents (`keytriage scan` output kept in S3 or CI artefacts). Both kinds
//! reduce to the same [`Snapshot`], so the same two scans diff identically either way.

use crate::audit::Severity;
use crate::cli::{DiffArgs, DiffFormat};
use crate::history::History;
use crate::model::{AccessKeyId, AccountId, KeyStatus};
use crate::settings::Settings;
use crate::triage::{self, Diff, FindingId, Snapshot, Status};
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::io::Write;
use std::path::Path;

/// Runs `diff` and returns 0.
///
/// # Errors
/// A scan id not recorded, a file that is not a keytriage scan document, no history when an
/// id (or no argument) is given.
pub fn run(settings: &Settings, args: &DiffArgs) -> Result<i32> {
    let is_file = |a: &Option<String>| {
        a.as_deref()
            .is_some_and(|s| s.parse::<i64>().is_err() || Path::new(s).exists())
    };
    let db = if is_file(&args.from) && is_file(&args.to) {
        None
    } else {
        Some(super::history::open(settings)?)
    };
    let to_id = match (&args.to, &db) {
        (Some(s), _) if is_file(&args.to) => Source::File(s.clone()),
        (Some(s), _) => Source::Id(s.parse()?),
        (None, Some(db)) => Source::Id(db.latest()?.ok_or_else(|| eyre!("no scans recorded yet"))?),
        (None, None) => return Err(eyre!("diff needs TO")),
    };
    let from_id = match (&args.from, &db, &to_id) {
        (Some(s), _, _) if is_file(&args.from) => Source::File(s.clone()),
        (Some(s), _, _) => Source::Id(s.parse()?),
        (None, Some(_), Source::Id(to)) if *to > 1 => Source::Id(to - 1),
        (None, _, _) => return Err(eyre!("only one scan recorded: nothing to diff against")),
    };
    let (from, to) = match (&from_id, &to_id, db.as_ref()) {
        // Two recorded scans: the interned subjects are read once for both.
        (Source::Id(a), Source::Id(b), Some(db)) => {
            let missing = |id: &i64| eyre!("no recorded scan {id}; see `keytriage history`");
            let (from, to) = db.snapshots(*a, *b)?;
            (from.ok_or_else(|| missing(a))?, to.ok_or_else(|| missing(b))?)
        }
        _ => (load(db.as_ref(), &from_id)?, load(db.as_ref(), &to_id)?),
    };
    if let Some(db) = db.as_ref() {
        super::history::warn_unknown_rules(db, |w| eprintln!("keytriage: warning: {w}"));
    }
    let d = triage::diff(&from, &to);
    let mut out = std::io::stdout().lock();
    match args.format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &d)?;
            writeln!(out)?;
        }
        DiffFormat::Text => write_text(&mut out, &d)?,
    }
    Ok(0)
}

enum Source {
    Id(i64),
    File(String),
}

fn load(db: Option<&History>, src: &Source) -> Result<Snapshot> {
    match (src, db) {
        (Source::Id(id), Some(db)) => db
            .snapshot(*id)?
            .ok_or_else(|| eyre!("no recorded scan {id}; see `keytriage history`")),
        (Source::Id(id), None) => Err(eyre!("scan {id}: no history open")),
        (Source::File(path), _) => {
            let text = std::fs::read_to_string(path).wrap_err_with(|| format!("cannot read {path}"))?;
            snapshot_of_document(&text).map_err(|e| eyre!("{path} is not a keytriage scan document: {e}"))
        }
    }
}

/// Reduces a scan document (schema `keytriage.scan/v1`) to a [`Snapshot`]: account outcomes
/// (`accounts[].scan.status`/`partial`), findings (identity, severity, `status` when present)
/// and access keys (`accounts[].users[].access_keys[].status`).
///
/// # Errors
/// Not JSON, another schema, or a missing or mistyped field (named).
pub fn snapshot_of_document(text: &str) -> Result<Snapshot, String> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    struct Doc {
        schema: String,
        generated_at: Option<crate::model::Timestamp>,
        accounts: Vec<Acc>,
        findings: Vec<F>,
    }
    #[derive(Deserialize)]
    struct Acc {
        id: AccountId,
        scan: Outcome,
        #[serde(default)]
        users: Vec<U>,
    }
    #[derive(Deserialize)]
    struct Outcome {
        status: crate::model::ScanStatus,
        #[serde(default)]
        partial: bool,
    }
    #[derive(Deserialize)]
    struct U {
        name: String,
        #[serde(default)]
        access_keys: Vec<K>,
    }
    #[derive(Deserialize)]
    struct K {
        id: AccessKeyId,
        status: KeyStatus,
    }
    // FindingId's fields spelled out: `#[serde(flatten)]` would buffer every finding's fields
    // (detail, controls, exception…) before reading them.
    #[derive(Deserialize)]
    struct F {
        rule: crate::audit::Rule,
        account_id: AccountId,
        user: String,
        access_key_id: Option<AccessKeyId>,
        severity: Severity,
        status: Option<Status>,
    }
    let doc: Doc = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if doc.schema != crate::report::SCHEMA {
        return Err(format!("schema is {}, not {}", doc.schema, crate::report::SCHEMA));
    }
    let mut s = Snapshot {
        generated_at: doc.generated_at,
        ..Snapshot::default()
    };
    for a in doc.accounts {
        s.accounts.insert(
            a.id.clone(),
            a.scan.status == crate::model::ScanStatus::Ok && !a.scan.partial,
        );
        for u in a.users {
            for k in u.access_keys {
                s.add_key(&a.id, &u.name, k.id.as_str(), k.status);
            }
        }
    }
    for f in doc.findings {
        let id = FindingId {
            rule: f.rule,
            account_id: f.account_id,
            user: f.user,
            access_key_id: f.access_key_id,
        };
        s.add_finding(&id, f.severity, f.status);
    }
    Ok(s)
}

fn subject(id: &FindingId) -> String {
    let key = id
        .access_key_id
        .as_ref()
        .map(|k| format!(" {}", k.as_str()))
        .unwrap_or_default();
    format!("{} {} {}{key}", id.account_id.as_str(), id.user, id.rule)
}

fn status_word(s: (Severity, Option<Status>)) -> String {
    match s.1 {
        Some(st) => format!("{} {}", s.0, st.as_str()),
        None => s.0.to_string(),
    }
}

/// Writes the diff as text: a count line, then `+ SEVERITY ACCOUNT USER RULE [KEY]` per new
/// finding, `-` resolved, `?` unchecked (its account not scanned in full in TO), `~` changed
/// (`SEVERITY STATUS -> SEVERITY STATUS`), and `key ACCOUNT USER KEY: Active -> Inactive`.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_text(out: &mut dyn Write, d: &Diff) -> std::io::Result<()> {
    writeln!(
        out,
        "{} new, {} resolved, {} unchecked, {} changed, {} key changes",
        d.new.len(),
        d.resolved.len(),
        d.unchecked.len(),
        d.changed.len(),
        d.keys.len()
    )?;
    for (id, sev) in &d.new {
        writeln!(out, "+ {sev} {}", subject(id))?;
    }
    for (id, sev) in &d.resolved {
        writeln!(out, "- {sev} {}", subject(id))?;
    }
    for (id, sev) in &d.unchecked {
        writeln!(out, "? {sev} {}", subject(id))?;
    }
    for c in &d.changed {
        writeln!(
            out,
            "~ {}: {} -> {}",
            subject(&c.id),
            status_word(c.from),
            status_word(c.to)
        )?;
    }
    let word = |s: &Option<KeyStatus>| s.map_or("absent", KeyStatus::as_str);
    for k in &d.keys {
        writeln!(
            out,
            "key {} {} {}: {} -> {}",
            k.account_id.as_str(),
            k.user,
            k.access_key_id.as_str(),
            word(&k.from),
            word(&k.to)
        )?;
    }
    Ok(())
}

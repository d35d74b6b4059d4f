//! `keytriage scan`: scan the organization headless, write the JSON document or the CSV to
//! stdout or `--output`, show progress on stderr, and return the exit code that
//! [`report::verdict`] decides.
//!
//! `--output` is written only once the document is complete, through a fresh temporary file
//! beside it that is renamed over it: a failed scan leaves nothing behind, and a reader never
//! sees half a report.

use crate::audit;
use crate::aws::{self, ConnectOptions};
use crate::cli::{Format, ScanArgs};
use crate::report;
use crate::scan::{self, ScanEvent};
use crate::settings::Settings;
use crate::text::plural;
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

/// Runs the headless scan, records it in the history (unless off; a history that cannot be
/// used is a warning, never a failure) and returns its exit code (0, 1 or 2, see [`report::verdict`]);
/// the reasons for 1 and 2 are printed on stderr, one line each.
///
/// # Errors
/// `--output` in a directory that cannot be written or a malformed exceptions file (both
/// checked before any AWS call), AWS
/// unreachable or the caller refused, the organization unreadable, or writing the output.
/// Then nothing is written to `--output`.
pub async fn run(connect: &ConnectOptions, settings: &Settings, args: &ScanArgs) -> Result<i32> {
    if let Some(path) = &args.output {
        check_output(path)?;
    }
    let exceptions = crate::exceptions::load(
        settings.exceptions.as_deref(),
        settings.exception_max_days,
        chrono::Utc::now(),
    )?;
    let connecting = |line: &str| {
        if !args.quiet {
            eprintln!("keytriage: {line}");
        }
    };
    let ctx = Arc::new(
        aws::connect_reporting(connect, connecting)
            .await
            .wrap_err("cannot reach AWS as the caller")?,
    );
    let progress = Progress::new(args.quiet);
    progress.say(&format!("scanning as {}", ctx.caller.arn));
    let caller = ctx.caller.arn.clone();
    let org = scan::run_to_end(ctx.clone(), Arc::new(super::scan_options(settings)), |e| progress.on(e))
        .await
        .wrap_err("cannot list the organization's accounts")?;
    progress.finish();
    // Whole seconds: the history keeps seconds, so a finding's first_seen equals the
    // generated_at of the scan that first saw it.
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0);
    let findings = audit::audit_all(&org.accounts, &settings.policy, now);
    let outcome = super::history::triage_and_record(
        settings.history.as_deref(),
        &org,
        &findings,
        &exceptions,
        Some(&caller),
        now,
        |w| {
            eprintln!("keytriage: warning: {w}");
        },
    );

    let dest = report::asff::Destination {
        partition: ctx.caller.partition.clone(),
        account_id: ctx.caller.account_id.clone(),
        region: args
            .security_hub_region
            .clone()
            .or_else(|| ctx.base.region().map(ToString::to_string))
            .unwrap_or_else(|| "us-east-1".into()),
    };
    // Excepted findings are accepted risks: never sent to Security Hub as active (one that was
    // is archived by the sync), and Suppressed in OCSF.
    let statuses: Vec<crate::triage::Status> = outcome.per_finding.iter().map(|t| t.status).collect();
    let active: Vec<crate::audit::Finding> = findings
        .iter()
        .zip(&statuses)
        .filter(|(_, s)| **s != crate::triage::Status::Excepted)
        .map(|(f, _)| f.clone())
        .collect();
    let mut buf = Vec::new();
    match args.format {
        Format::Json => report::write_json(
            &mut buf,
            &report::ScanDocument::new(&org, &settings.policy, &findings, now)
                .with_caller(&caller)
                .with_triage(&outcome, &exceptions),
        )?,
        Format::Csv => report::write_csv(&mut buf, &org, &findings)?,
        Format::Asff => report::asff::write_asff(&mut buf, &report::asff::findings(&org, &active, &dest, now))?,
        Format::Ocsf => report::ocsf::write_ocsf(&mut buf, &report::ocsf::events(&org, &findings, &statuses, now))?,
    }
    let mut hub_failed = false;
    if args.security_hub {
        let asff = report::asff::findings(&org, &active, &dest, now);
        let audited: std::collections::BTreeSet<String> = org
            .accounts
            .iter()
            .filter(|a| a.scan.status == crate::model::ScanStatus::Ok)
            .map(|a| a.account.id.to_string())
            .collect();
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (ctx, dest) = (ctx.clone(), dest.clone());
        hub_failed =
            aws::securityhub::on_large_stack(
                async move { send_to_security_hub(&ctx, &dest, asff, &audited, &stamp).await },
            )
            .await
            .wrap_err("cannot run the Security Hub import")??;
    }
    match &args.output {
        Some(path) => write_output(path, &buf)?,
        None => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&buf).and_then(|()| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
        }
    }
    let verdict = report::verdict(
        &org,
        &findings,
        Some(&outcome),
        args.fail_on.or(settings.fail_on),
        args.fail_on_new,
    );
    for reason in &verdict.reasons {
        eprintln!("keytriage: {reason}");
    }
    Ok(if hub_failed { verdict.code.max(1) } else { verdict.code })
}

/// `scan --security-hub`: imports the findings into the caller's account in `dest.region`,
/// archives the ones fixed since the last import (only in accounts audited in full), then
/// reads keytriage's active findings back and prints their count by severity on stderr.
/// Returns true when Security Hub refused some findings (each printed with its id).
/// `audited`: the accounts scanned in full; `stamp`: the scan time, RFC 3339.
///
/// # Errors
/// Security Hub unreachable, not enabled in the region, or access denied.
async fn send_to_security_hub(
    ctx: &aws::AwsContext,
    dest: &report::asff::Destination,
    asff: Vec<report::asff::AsffFinding>,
    audited: &std::collections::BTreeSet<String>,
    stamp: &str,
) -> Result<bool> {
    use aws::securityhub;
    let client = securityhub::client(ctx, &dest.region);
    let product = dest.product_arn();
    let done = securityhub::sync(&client, &product, asff, audited, stamp)
        .await
        .wrap_err_with(|| format!("cannot import findings into Security Hub in {}", dest.region))?;
    for f in &done.failed {
        eprintln!(
            "keytriage: security hub refused finding {}: {}: {}",
            f.id, f.code, f.message
        );
    }
    let stored = securityhub::stored_findings(&client, &product)
        .await
        .wrap_err_with(|| format!("cannot read findings back from Security Hub in {}", dest.region))?;
    let counts: Vec<String> = audit::Severity::ALL
        .iter()
        .map(|s| {
            let label = report::asff::severity_label(*s);
            let n = stored.iter().filter(|f| f.severity_label == label).count();
            format!("{n} {s}")
        })
        .collect();
    eprintln!(
        "keytriage: security hub ({}, account {}): {} imported, {} archived, {} refused in {}; {} active: {}",
        dest.region,
        dest.account_id,
        plural(done.active, "finding", "findings"),
        done.archived,
        done.failed.len(),
        plural(done.calls, "call", "calls"),
        stored.len(),
        counts.join(", ")
    );
    Ok(!done.failed.is_empty())
}

/// The directory `--output` goes into (`.` for a bare file name).
fn output_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Fails before any scan when `--output` could not be written: `path` is a directory, or
/// its directory does not exist or refuses a new file. Creates nothing that stays: the
/// check makes (and at once removes) a temporary file in that directory; `path` itself is
/// never created or touched.
///
/// # Errors
/// `cannot write --output PATH: …` naming the cause.
pub fn check_output(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(eyre!("cannot write --output {}: it is a directory", path.display()));
    }
    tempfile::NamedTempFile::new_in(output_dir(path))
        .map(drop)
        .wrap_err_with(|| format!("cannot write --output {}", path.display()))
}

/// Writes `data` to `path` atomically: into a new temporary file beside it (created
/// exclusively, so never through a symlink or over another file; randomly named
/// `.NAME.XXXXXX.tmp`; mode 0600), synced, then renamed over `path`. The written file keeps
/// mode 0600. On any error the temporary file is removed and `path` is left as it was.
///
/// # Errors
/// `cannot write PATH: …` when the directory refuses the file, the disk is full or the
/// rename fails.
pub fn write_output(path: &Path, data: &[u8]) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(output_dir(path))
        .wrap_err_with(|| format!("cannot write {}", path.display()))?;
    tmp.write_all(data)
        .and_then(|()| tmp.as_file().sync_all())
        .wrap_err_with(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map(drop)
        .map_err(|e| e.error)
        .wrap_err_with(|| format!("cannot write {}", path.display()))
}

/// Headless progress on stderr: a bar on a terminal, a line per account otherwise, nothing
/// with `--quiet`.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
}

impl Progress {
    pub(crate) fn new(quiet: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} scanning {pos}/{len} accounts {wide_bar} {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Self {
            bar,
            lines: !quiet && !tty,
        }
    }

    pub(crate) fn on(&self, event: &ScanEvent) {
        match event {
            ScanEvent::Discovered { accounts, warnings, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(accounts.len() as u64);
                }
                for w in warnings {
                    self.say(&format!("warning: {w}"));
                }
                if self.lines {
                    let n = accounts.len();
                    eprintln!("keytriage: scanning {}", plural(n, "account", "accounts"));
                }
            }
            ScanEvent::AccountDone { scan, .. } => {
                let a = &scan.account;
                let line = match &scan.scan.error {
                    None => format!(
                        "{} ({}): ok, {}",
                        a.id,
                        a.name,
                        plural(scan.users.len(), "user", "users")
                    ),
                    Some(e) => format!("{} ({}): {} — {}", a.id, a.name, scan.scan.status_word(), e.message),
                };
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                    if scan.scan.error.is_some() {
                        bar.println(&line);
                    }
                } else if self.lines {
                    eprintln!("keytriage: {line}");
                }
            }
            _ => {}
        }
    }

    pub(crate) fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.lines => eprintln!("keytriage: {line}"),
            None => {}
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn check_output_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scan.json");
        check_output(&path).unwrap();
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
        let e = check_output(&dir.path().join("missing/scan.json")).unwrap_err();
        assert!(format!("{e:#}").starts_with("cannot write --output "), "{e:#}");
        let e = check_output(dir.path()).unwrap_err();
        assert!(format!("{e:#}").ends_with("it is a directory"), "{e:#}");
    }

    #[cfg(unix)]
    #[test]
    fn check_output_refuses_a_read_only_directory() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
        let probe = std::fs::File::create(dir.path().join("probe"));
        if probe.is_ok() {
            return; // running as root: permissions do not bind
        }
        assert!(check_output(&dir.path().join("scan.json")).is_err());
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn output_never_goes_through_a_planted_symlink() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        // The names the old writer used for `-o scan.json` and `-o scan.csv`.
        std::os::unix::fs::symlink(&victim, dir.path().join("scan.keytriage-tmp")).unwrap();
        let path = dir.path().join("scan.json");
        write_output(&path, b"{}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_file(), "a regular file, not a link");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        assert_eq!(entries(dir.path()), ["scan.json", "scan.keytriage-tmp", "victim"]);
    }

    #[test]
    fn two_outputs_in_one_directory_do_not_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json"), dir.path().join("a.csv"));
        std::thread::scope(|s| {
            for i in 0..20 {
                let (a, b) = (&a, &b);
                s.spawn(move || write_output(a, format!("json {i}\n").repeat(2000).as_bytes()).unwrap());
                s.spawn(move || write_output(b, format!("csv {i}\n").repeat(2000).as_bytes()).unwrap());
            }
        });
        let (ja, cb) = (
            std::fs::read_to_string(&a).unwrap(),
            std::fs::read_to_string(&b).unwrap(),
        );
        assert!(ja.starts_with("json ") && ja.lines().all(|l| l == ja.lines().next().unwrap()));
        assert!(cb.starts_with("csv ") && cb.lines().all(|l| l == cb.lines().next().unwrap()));
        assert_eq!(entries(dir.path()), ["a.csv", "a.json"]);
    }

    #[test]
    fn bare_file_name_goes_in_the_current_directory() {
        assert_eq!(output_dir(Path::new("scan.json")), Path::new("."));
        assert_eq!(output_dir(Path::new("out/scan.json")), Path::new("out"));
    }
}

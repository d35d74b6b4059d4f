//! The `keytriage` binary: parses flags, loads the config, sets up logging, and runs the
//! headless scan or the TUI. All logic lives in the library.

use clap::Parser as _;
use color_eyre::eyre::{Result, WrapErr, eyre};
use keytriage::aws::{self, AwsContext, ConnectOptions, RoleOptions};
use keytriage::cli::{Cli, Command, Format, KeyArgs, ScanArgs, Settings};
use keytriage::emulator::{DUMMY_CREDENTIALS, Emulator};
use keytriage::journal::Journal;
use keytriage::model::{AccessKeyId, Account, AccountState, KeyStatus, ScanStatus};
use keytriage::remediate::{KeyWrite, Remediator};
use keytriage::scan::{self, ScanEvent, ScanOptions};
use keytriage::{audit, config, report};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

fn main() {
    let code = match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keytriage: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

fn run() -> Result<i32> {
    color_eyre::install()?;
    // Usage errors exit 1 ("the tool failed"): 2 is reserved for --fail-on.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return Ok(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let file = config::load(cli.global.config.as_deref())?;
    let settings = Settings::resolve(&cli.global, &file);
    let _log_guard = init_logging();

    let demo = cli.global.demo || matches!(cli.command, Some(Command::Demo));
    let tui = matches!(cli.command, None | Some(Command::Demo));
    if tui && !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        return Err(eyre!(
            "the TUI needs a terminal; for cron or CI use `keytriage scan --format json`"
        ));
    }
    let emulator = if demo {
        if keytriage::emulator::is_installed() {
            eprintln!("keytriage: starting the emulated demo organization…");
        } else {
            eprintln!(
                "keytriage: starting the emulated demo organization (first run: installing moto, about a minute)…"
            );
        }
        Some(Emulator::demo().wrap_err("cannot start the demo")?)
    } else {
        None
    };
    let connect = ConnectOptions {
        profile: settings.profile.clone(),
        region: settings.region.clone(),
        endpoint_url: emulator
            .as_ref()
            .map(Emulator::endpoint)
            .or_else(|| settings.endpoint_url.clone()),
        isolated_credentials: emulator
            .as_ref()
            .map(|_| (DUMMY_CREDENTIALS.0.to_owned(), DUMMY_CREDENTIALS.1.to_owned())),
        max_attempts: 10,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let write_mode = demo || cli.global.write;
    let journal_path =
        Journal::default_path().ok_or_else(|| eyre!("no data directory for the journal (HOME unset?)"))?;
    // The demo's writes hit an emulator reset at every start: they never go into the real
    // journal (even one named by KEYTRIAGE_JOURNAL), and each demo starts a clean one.
    let journal = if demo {
        Journal::start_demo(&journal_path).wrap_err("cannot start the demo's journal")?
    } else {
        Journal::at(journal_path)
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Scan(args)) => headless_scan(&connect, &settings, &args).await,
            Some(Command::Deactivate(k)) => {
                headless_write(&connect, &settings, journal, write_mode, &k, KeyWrite::Deactivate).await
            }
            Some(Command::Activate(k)) => {
                headless_write(&connect, &settings, journal, write_mode, &k, KeyWrite::Activate).await
            }
            Some(Command::Delete(k)) => {
                headless_write(&connect, &settings, journal, write_mode, &k, KeyWrite::Delete).await
            }
            Some(Command::Demo) | None => {
                let opts = keytriage::tui::TuiOptions {
                    connect: connect.clone(),
                    scan: scan_options(&settings),
                    policy: settings.policy,
                    write_mode,
                    remediation_role: settings.remediation_role.clone(),
                    journal,
                };
                keytriage::tui::run(opts).await.wrap_err("terminal error")?;
                Ok(0)
            }
        }
    });
    drop(emulator);
    result
}

/// Logs go to `<data dir>/keytriage.log`, never to the terminal. `RUST_LOG` sets the level.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = directories::ProjectDirs::from("", "", "keytriage")?
        .data_local_dir()
        .to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "keytriage.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    // The SDK's HTTP layer is capped at info whatever RUST_LOG says: at trace it can log
    // bodies (LOG_SENSITIVE_BODIES), and CreateAccessKey's body holds the new secret.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("keytriage=info"))
        .add_directive("aws_smithy_runtime=info".parse().expect("a valid directive"))
        .add_directive("aws_smithy_runtime_api=info".parse().expect("a valid directive"))
        .add_directive("aws_smithy_http_client=info".parse().expect("a valid directive"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

fn scan_options(s: &Settings) -> ScanOptions {
    let mut o = ScanOptions::new(RoleOptions {
        role_name: s.role_name.clone(),
        external_id: s.external_id.clone(),
        session_length: None,
    });
    o.only = s.accounts.clone();
    o.exclude = s.exclude_accounts.clone();
    o.account_concurrency = s.concurrency;
    o.user_concurrency = s.user_concurrency;
    o
}

async fn headless_scan(connect: &ConnectOptions, settings: &Settings, args: &ScanArgs) -> Result<i32> {
    if let Some(path) = &args.output {
        check_writable(path)?;
    }
    let ctx: Arc<AwsContext> = Arc::new(aws::connect(connect).await.wrap_err("cannot reach AWS as the caller")?);
    let progress = Progress::new(args.quiet);
    let org = scan::run_to_end(ctx, Arc::new(scan_options(settings)), |e| progress.on(e))
        .await
        .wrap_err("cannot list the organization's accounts")?;
    progress.finish();
    let now = chrono::Utc::now();
    let findings = audit::audit_all(&org.accounts, &settings.policy, now);

    let mut buf = Vec::new();
    match args.format {
        Format::Json => report::write_json(
            &mut buf,
            &report::ScanDocument::new(&org, &settings.policy, &findings, now),
        )?,
        Format::Csv => report::write_csv(&mut buf, &org, &findings)?,
    }
    match &args.output {
        Some(path) => write_atomically(path, &buf)?,
        None => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&buf).and_then(|()| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
        }
    }
    let fail_on = args.fail_on.or(settings.fail_on);
    let code = report::exit_code(&findings, fail_on);
    if !org.missing.is_empty() {
        let ids: Vec<String> = org.missing.iter().map(ToString::to_string).collect();
        eprintln!(
            "keytriage: --accounts names accounts not in the organization: {}",
            ids.join(", ")
        );
        return Ok(code.max(1));
    }
    let failed = org
        .accounts
        .iter()
        .filter(|a| a.scan.status == ScanStatus::Failed)
        .count();
    if code == 0 && fail_on.is_some() && failed > 0 {
        // A gate must not pass on an account it could not see.
        eprintln!("keytriage: {failed} account(s) could not be scanned: their findings are unknown");
        return Ok(1);
    }
    Ok(code)
}

/// `keytriage deactivate|activate|delete`: the same pre-checks and journal as the TUI.
/// Asks on the terminal unless `--yes`; deleting an active key asks for its last 4 characters.
async fn headless_write(
    connect: &ConnectOptions,
    settings: &Settings,
    journal: Journal,
    write_mode: bool,
    args: &KeyArgs,
    write: KeyWrite,
) -> Result<i32> {
    if !write_mode {
        return Err(eyre!(
            "writes are off: add --write to {} keys (nothing was changed)",
            write.action().verb()
        ));
    }
    let ctx = Arc::new(aws::connect(connect).await.wrap_err("cannot reach AWS as the caller")?);
    let audit = scan_options(settings).role;
    let remediation = settings.remediation_role.as_ref().map(|name| RoleOptions {
        role_name: name.clone(),
        ..audit.clone()
    });
    let account = Account {
        id: args.account.clone(),
        name: args.account.to_string(),
        email: String::new(),
        state: AccountState::Active,
        ou_path: String::new(),
    };
    let key = AccessKeyId(args.key.trim().to_owned());
    let remediator = Remediator::with_roles(ctx, audit, remediation, journal, true);
    for line in remediator.session_start().await {
        eprintln!("keytriage: {line}");
    }
    let Some(status) = remediator.current_status(&account, &args.user, &key).await? else {
        return Err(eyre!(
            "access key {key} of {} not found in account {}; nothing was changed",
            args.user,
            args.account
        ));
    };
    match (write, status) {
        (KeyWrite::Deactivate, KeyStatus::Inactive) | (KeyWrite::Activate, KeyStatus::Active) => {
            eprintln!("keytriage: {key} is already {}; nothing to do", status.as_str());
            return Ok(0);
        }
        _ => {}
    }
    let what = format!(
        "{} access key {key} ({}) of {} in account {}",
        write.action().verb(),
        status.as_str(),
        args.user,
        args.account
    );
    if !args.yes {
        let expected = if write == KeyWrite::Delete && status == KeyStatus::Active {
            key.last4()
        } else {
            "yes".to_owned()
        };
        if !std::io::stdin().is_terminal() {
            return Err(eyre!("refusing to {what} without --yes (no terminal to ask on)"));
        }
        eprint!(
            "{what}?\ntype '{}' to confirm: ",
            if expected == "yes" {
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
    let done = remediator.apply(&account, &args.user, &key, status, write).await?;
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

/// Fails before any scan when `--output` cannot be written; never truncates an existing file.
fn check_writable(path: &Path) -> Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(drop)
        .wrap_err_with(|| format!("cannot write --output {}", path.display()))
}

/// Writes beside `path` then renames, so a reader never sees half a report.
fn write_atomically(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("keytriage-tmp");
    std::fs::write(&tmp, data).wrap_err_with(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).wrap_err_with(|| format!("cannot write {}", path.display()))
}

/// Headless progress on stderr: a bar on a terminal, a line per account otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
}

impl Progress {
    fn new(quiet: bool) -> Self {
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

    fn on(&self, event: &ScanEvent) {
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
                    eprintln!("keytriage: scanning {n} account{}", if n == 1 { "" } else { "s" });
                }
            }
            ScanEvent::AccountDone { scan, .. } => {
                let a = &scan.account;
                let line = match &scan.scan.error {
                    None => format!("{} ({}): ok, {} users", a.id, a.name, scan.users.len()),
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

    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.lines => eprintln!("keytriage: {line}"),
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

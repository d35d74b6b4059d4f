//! The `keytriage` binary: parses flags, loads the config, sets up logging, and runs the
//! headless scan (`keytriage::commands::scan`), a headless write or the TUI. All logic
//! lives in the library.

use clap::Parser as _;
use color_eyre::eyre::{Result, WrapErr, eyre};
use keytriage::aws::ConnectOptions;
use keytriage::cli::{Cli, Command};
use keytriage::commands::write;
use keytriage::emulator::{DUMMY_CREDENTIALS, Emulator};
use keytriage::journal::Journal;
use keytriage::model::KeyAction;
use keytriage::settings::Settings;
use std::io::IsTerminal;

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
    let mut settings = Settings::load(&cli.global)?;
    let _log_guard = init_logging();

    let demo = cli.global.demo || matches!(cli.command, Some(Command::Demo));
    let tui = matches!(cli.command, None | Some(Command::Demo));
    if tui && !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        return Err(eyre!(
            "the TUI needs a terminal; for cron or CI use `keytriage scan --format json`"
        ));
    }
    if demo
        && cli.global.history.is_none()
        && let Some(p) = settings.history.as_mut()
        && Some(&*p) == keytriage::history::default_path().as_ref()
    {
        // The demo's scans are of the emulator: keep them out of the real history.
        p.set_file_name("history-demo.db");
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
    // The TUI starts without a malformed exceptions file and says so; `scan` refuses it.
    let (exceptions, notice) = if tui {
        match keytriage::exceptions::load(
            settings.exceptions.as_deref(),
            settings.exception_max_days,
            chrono::Utc::now(),
        ) {
            Ok(e) => (e, None),
            Err(e) => (Vec::new(), Some(format!("{e} — running WITHOUT exceptions"))),
        }
    } else {
        (Vec::new(), None)
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let write_mode = demo || cli.global.write;
    let mut journal_path =
        Journal::default_path().ok_or_else(|| eyre!("no data directory for the journal (HOME unset?)"))?;
    if demo && std::env::var_os("KEYTRIAGE_JOURNAL").is_none() {
        // The demo's writes hit the emulator: keep them out of the real audit trail.
        journal_path.set_file_name("journal-demo.jsonl");
    }
    let journal = Journal::at(journal_path);
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Scan(args)) => keytriage::commands::scan::run(&connect, &settings, &args).await,
            Some(Command::Deactivate(k)) => {
                write::run(&connect, &settings, journal, write_mode, &k, KeyAction::Deactivate).await
            }
            Some(Command::Activate(k)) => {
                write::run(&connect, &settings, journal, write_mode, &k, KeyAction::Activate).await
            }
            Some(Command::Delete(k)) => {
                write::run(&connect, &settings, journal, write_mode, &k, KeyAction::Delete).await
            }
            Some(Command::History) => keytriage::commands::history::run(&settings),
            Some(Command::Diff(args)) => keytriage::commands::diff::run(&settings, &args),
            Some(Command::Demo) | None => {
                let opts = keytriage::tui::TuiOptions {
                    connect: connect.clone(),
                    scan: keytriage::commands::scan_options(&settings),
                    policy: settings.policy,
                    write_mode,
                    remediation_role: settings.remediation_role.clone(),
                    journal,
                    history: settings.history.clone(),
                    exceptions,
                    notice,
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

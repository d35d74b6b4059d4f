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
    // The SDK logs HTTP bodies (a new key's secret among them) when this is set; the log filter
    // drops those events anyway, and the variable goes before any thread could read it.
    // SAFETY: no other thread exists yet.
    unsafe { std::env::remove_var("LOG_SENSITIVE_BODIES") };
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
    // Generated from the flags alone: a broken config must not block them.
    match cli.command {
        Some(Command::Completions { shell }) => {
            return print(|out| keytriage::commands::generate::completions(shell, out));
        }
        Some(Command::Man) => return print(keytriage::commands::generate::man),
        _ => {}
    }
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
    // Where `e` in the TUI appends: the file named, else the default one; the demo's
    // exceptions (of the emulated organization) go beside its history, never into the real
    // file.
    let exceptions_path = match (&settings.exceptions, demo) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => keytriage::history::default_path().map(|p| p.with_file_name("exceptions-demo.toml")),
        (None, false) => keytriage::exceptions::default_path(),
    };
    if demo && settings.exceptions.is_none() {
        settings.exceptions = exceptions_path.clone().filter(|p| p.exists());
    }
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
    if write_mode && let Err(e) = keytriage::secret_file::disable_core_dumps() {
        eprintln!("keytriage: cannot turn core dumps off ({e}); a crash could write a new secret key to a core file");
    }
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
            Some(Command::Plan(args)) => keytriage::commands::plan::run(&connect, &settings, &args).await,
            Some(Command::Apply(args)) => {
                keytriage::commands::apply::run(&connect, &settings, journal, write_mode, &args).await
            }
            Some(Command::Completions { .. } | Command::Man) => Ok(0),
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
                    exceptions_path: exceptions_path.clone(),
                    exception_max_days: settings.exception_max_days,
                    notice,
                };
                match keytriage::tui::run(opts).await.wrap_err("terminal error")? {
                    // The screen is gone: the reason the TUI had no data must stay visible.
                    Some(error) => {
                        eprintln!("keytriage: {error}");
                        Ok(1)
                    }
                    None => Ok(0),
                }
            }
        }
    });
    drop(emulator);
    result
}

/// Writes what `write` produces to stdout; a closed pipe (`| head`) is not an error.
fn print(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> Result<i32> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(0),
    }
}

/// Logs go to `<data dir>/keytriage.log` (0600), never to the terminal; see
/// [`keytriage::logging`]. Without a log file keytriage runs on, saying why on stderr.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = keytriage::logging::default_dir()?;
    match keytriage::logging::init(&dir) {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("keytriage: no log file in {}: {e}", dir.display());
            None
        }
    }
}

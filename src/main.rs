//! The `keytriage` binary: parses flags, loads the config, sets up logging, and runs the
//! headless scan (`keytriage::commands::scan`), a headless write or the TUI. All logic
//! lives in the library.

use clap::Parser as _;
use color_eyre::eyre::{Result, WrapErr, eyre};
use keytriage::aws::{self, ConnectOptions, RoleOptions};
use keytriage::cli::{Cli, Command, KeyArgs, Settings};
use keytriage::config;
use keytriage::emulator::{DUMMY_CREDENTIALS, Emulator};
use keytriage::journal::Journal;
use keytriage::model::{AccessKeyId, Account, AccountState, KeyStatus};
use keytriage::remediate::{KeyWrite, Remediator};
use std::io::IsTerminal;
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
    // Generated from the flags alone: a broken config must not block them.
    match cli.command {
        Some(Command::Completions { shell }) => {
            return print(|out| keytriage::commands::generate::completions(shell, out));
        }
        Some(Command::Man) => return print(keytriage::commands::generate::man),
        _ => {}
    }
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
                headless_write(&connect, &settings, journal, write_mode, &k, KeyWrite::Deactivate).await
            }
            Some(Command::Activate(k)) => {
                headless_write(&connect, &settings, journal, write_mode, &k, KeyWrite::Activate).await
            }
            Some(Command::Delete(k)) => {
                headless_write(&connect, &settings, journal, write_mode, &k, KeyWrite::Delete).await
            }
            Some(Command::Completions { .. } | Command::Man) => Ok(0),
            Some(Command::Demo) | None => {
                let opts = keytriage::tui::TuiOptions {
                    connect: connect.clone(),
                    scan: keytriage::commands::scan_options(&settings),
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

/// Writes what `write` produces to stdout; a closed pipe (`| head`) is not an error.
fn print(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> Result<i32> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(0),
    }
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
    let role = RoleOptions {
        role_name: settings
            .remediation_role
            .clone()
            .unwrap_or_else(|| settings.role_name.clone()),
        external_id: settings.external_id.clone(),
        session_length: None,
    };
    let account = Account {
        id: args.account.clone(),
        name: args.account.to_string(),
        email: String::new(),
        state: AccountState::Active,
        ou_path: String::new(),
    };
    let key = AccessKeyId(args.key.trim().to_owned());
    let remediator = Remediator::new(ctx, role, journal, true);
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

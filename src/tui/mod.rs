//! The interactive terminal UI.
//!
//! One loop merges terminal events, scan events and a tick; handlers are synchronous
//! ([`app::App`] does no I/O) and return effects that the loop carries out by spawning
//! background work. Nothing here awaits AWS, so the screen paints at once and never freezes.
//! This module must not import `aws_sdk_*`.

pub mod app;
pub mod bulk_flow;
pub mod commands;
pub mod detail;
pub mod dialog;
pub mod except_flow;
pub mod groups;
pub mod keymap;
pub mod marks;
pub mod panel;
pub mod render;
pub mod store;
pub mod table;
pub mod theme;
pub mod views;
pub mod write_flow;

use crate::audit::Policy;
use crate::aws::{self, AwsContext, ConnectOptions};
use crate::journal::{Journal, Tail, TailRead};
use crate::model::KeyAction;
use crate::remediate::{Remediator, WriteRequest, remediation_role};
use crate::scan::{self, ScanEvent, ScanOptions};
use app::{App, Effect, Flash, WriteEvent};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// What the TUI needs to start.
#[derive(Clone, Debug)]
pub struct TuiOptions {
    /// How to reach AWS (the connection is made in the background after the first paint).
    pub connect: ConnectOptions,
    /// Scan settings.
    pub scan: ScanOptions,
    /// Thresholds.
    pub policy: Policy,
    /// Writes enabled.
    pub write_mode: bool,
    /// Role for write calls; `None` = the audit role.
    pub remediation_role: Option<String>,
    /// Where write actions are journaled.
    pub journal: Journal,
    /// The scan history database; `None`: history off.
    pub history: Option<std::path::PathBuf>,
    /// Accepted risks (empty when the file is absent or could not be used).
    pub exceptions: Vec<crate::exceptions::Exception>,
    /// The exceptions file `e` appends to; `None`: none can be named.
    pub exceptions_path: Option<std::path::PathBuf>,
    /// The longest an exception may run, in days.
    pub exception_max_days: u32,
    /// Shown as an error at start (an exceptions file that could not be used).
    pub notice: Option<String>,
}

/// Runs the TUI until the user quits. The terminal is restored on return and on panic.
///
/// Returns the error that left the TUI without data, when it still stood at exit (AWS could
/// not be reached as the caller, or the organization's accounts could not be listed), for
/// the caller to print and exit non-zero; `None` otherwise.
///
/// # Errors
/// Terminal I/O errors only; AWS failures are shown on screen (and logged).
pub async fn run(opts: TuiOptions) -> std::io::Result<Option<String>> {
    // ratatui's hook (installed by try_init) restores raw mode and the main screen on panic;
    // ours, around it, also turns mouse capture off, before color-eyre prints the report.
    let mut terminal = ratatui::try_init()?;
    let restore = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        restore(info);
    }));
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let result = event_loop(&mut terminal, opts).await;
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    result
}

/// What the background connection reports.
enum ConnectEvent {
    /// What it waits for ("connecting to <url> as …").
    Status(String),
    /// Connected, or why not.
    Done(Box<Result<AwsContext, aws::Error>>),
}

/// The background side of the loop: channels, the AWS context once connected, tasks.
struct Backend {
    connect_opts: ConnectOptions,
    connect_tx: mpsc::UnboundedSender<ConnectEvent>,
    /// A connection attempt is running.
    connecting: bool,
    /// The error that left the TUI without data (connection or discovery), until a later
    /// discovery succeeds; printed on exit.
    last_error: Option<String>,
    scan_opts: Arc<ScanOptions>,
    scan_tx: mpsc::UnboundedSender<ScanEvent>,
    write_tx: mpsc::UnboundedSender<WriteEvent>,
    ctx: Option<Arc<AwsContext>>,
    remediator: Option<Remediator>,
    full_scan: Option<scan::ScanHandle>,
    tasks: JoinSet<()>,
    /// Follows the journal for `:journal`: each write reads only the lines it appended.
    journal_tail: Arc<std::sync::Mutex<Tail>>,
    /// The journal (exceptions are journaled by the loop; AWS writes by the remediator).
    journal: Journal,
}

impl Backend {
    /// Connects in the background; the result arrives as [`ConnectEvent::Done`].
    fn spawn_connect(&mut self) {
        self.connecting = true;
        let (opts, tx) = (self.connect_opts.clone(), self.connect_tx.clone());
        tokio::spawn(async move {
            let status = tx.clone();
            let result = aws::connect_reporting(&opts, move |line| {
                let _ = status.send(ConnectEvent::Status(line.to_owned()));
            })
            .await;
            let _ = tx.send(ConnectEvent::Done(Box::new(result)));
        });
    }

    /// A connection attempt ended.
    fn on_connect(&mut self, app: &mut App, event: ConnectEvent, opts: &TuiOptions) {
        match event {
            ConnectEvent::Status(line) => app.identity = line,
            ConnectEvent::Done(result) => match *result {
                Ok(ctx) => {
                    self.connecting = false;
                    self.connected(app, ctx, opts);
                }
                Err(e) => {
                    self.connecting = false;
                    tracing::error!(error = %e, "cannot reach AWS as the caller");
                    let text = format!("cannot reach AWS as the caller: {e}");
                    app.identity = "not connected".into();
                    app.store.discovery_error = Some(text.clone());
                    self.last_error = Some(text);
                }
            },
        }
    }

    /// Notes discovery's outcome (for the log and the exit message) before the app sees it.
    fn on_scan_event(&mut self, app: &App, event: &ScanEvent) {
        match event {
            ScanEvent::DiscoveryFailed { scan_id, error } if *scan_id == app.store.scan_id => {
                tracing::error!(error = %error, "cannot list the organization's accounts");
                self.last_error = Some(format!("cannot list the organization's accounts: {error}"));
            }
            ScanEvent::Discovered { scan_id, .. } if *scan_id == app.store.scan_id => self.last_error = None,
            _ => {}
        }
    }

    fn connected(&mut self, app: &mut App, ctx: AwsContext, opts: &TuiOptions) {
        app.identity = ctx.caller.arn.clone();
        let ctx = Arc::new(ctx);
        let audit = self.scan_opts.role.clone();
        let remediation = remediation_role(&audit, opts.remediation_role.as_deref());
        let remediator = Remediator::with_roles(ctx.clone(), audit, remediation, opts.journal.clone(), opts.write_mode);
        self.full_scan = Some(scan::start(
            ctx.clone(),
            self.scan_opts.clone(),
            app.store.scan_id,
            self.scan_tx.clone(),
        ));
        self.check_interrupted(&remediator);
        self.remediator = Some(remediator);
        self.ctx = Some(ctx);
    }

    /// Interrupted actions from an earlier run, in the background: read each key live, tell
    /// the operator, and close them in the journal (see [`Remediator::session_start`]; the
    /// permission notices were shown by [`Backend::read_journal`]).
    fn check_interrupted(&mut self, remediator: &Remediator) {
        let (r, tx, tail) = (remediator.clone(), self.write_tx.clone(), self.journal_tail.clone());
        self.tasks.spawn(async move {
            let lines = r.close_interrupted().await;
            if !lines.is_empty() {
                let _ = tx.send(WriteEvent::Interrupted(lines));
                send_journal(tail, tx).await;
            }
        });
    }

    /// At start, off the UI loop: make the journal private (a notice when it was not), then
    /// read it for `:journal`.
    fn read_journal(&mut self, journal: Journal) {
        let (tx, tail) = (self.write_tx.clone(), self.journal_tail.clone());
        self.tasks.spawn(async move {
            let notices = tokio::task::spawn_blocking(move || journal.tighten()).await;
            match notices {
                Ok(Ok(notices)) if !notices.is_empty() => {
                    let _ = tx.send(WriteEvent::Notice(notices.join("; ")));
                }
                Ok(Err(e)) => {
                    let _ = tx.send(WriteEvent::Notice(format!("cannot make the journal private: {e}")));
                }
                _ => {}
            }
            send_journal(tail, tx).await;
        });
    }

    fn run(&mut self, app: &mut App, effect: Effect) -> bool {
        match effect {
            Effect::Quit => return false,
            Effect::Discover => match &self.ctx {
                Some(c) => {
                    tracing::info!(scan_id = app.store.scan_id, "retrying discovery");
                    self.full_scan = Some(scan::start(
                        c.clone(),
                        self.scan_opts.clone(),
                        app.store.scan_id,
                        self.scan_tx.clone(),
                    ));
                }
                None if self.connecting => {}
                None => {
                    tracing::info!("connecting to AWS again");
                    app.identity = "connecting…".into();
                    self.spawn_connect();
                }
            },
            Effect::Rescan(account) => match &self.ctx {
                Some(c) => {
                    let (c, o, tx, id) = (
                        c.clone(),
                        self.scan_opts.clone(),
                        self.scan_tx.clone(),
                        app.store.scan_id,
                    );
                    self.tasks.spawn(scan::scan_accounts(c, o, id, vec![account], tx));
                }
                None => {
                    app.flash = Some(Flash {
                        text: "not connected to AWS".into(),
                        error: true,
                    })
                }
            },
            Effect::ReadKey(request) => match &self.remediator {
                Some(r) => {
                    let (r, tx) = (r.clone(), self.write_tx.clone());
                    self.tasks.spawn(async move {
                        let result = r.live_target(&request).await;
                        let _ = tx.send(WriteEvent::KeyRead { request, result });
                    });
                }
                None => {
                    app.write = write_flow::WriteFlow::default();
                    app.flash = Some(Flash {
                        text: "not connected to AWS".into(),
                        error: true,
                    });
                }
            },
            Effect::Batch {
                batch_id,
                targets,
                stop,
            } => match &self.remediator {
                Some(r) => {
                    let (r, tx, tail) = (r.clone(), self.write_tx.clone(), self.journal_tail.clone());
                    self.tasks.spawn(async move {
                        let (btx, mut brx) = mpsc::unbounded_channel();
                        let limits = crate::remediate::bulk::BatchLimits::default();
                        let run = r.run_batch(&batch_id, &targets, limits, stop, btx);
                        let forward = async {
                            while let Some(e) = brx.recv().await {
                                let _ = tx.send(WriteEvent::Batch(e));
                            }
                        };
                        let (result, ()) = tokio::join!(run, forward);
                        let _ = tx.send(WriteEvent::BatchEnded(result.map_err(|e| e.to_string())));
                        send_journal(tail, tx).await;
                    });
                }
                None => {
                    app.bulk = bulk_flow::BulkFlow::default();
                    app.flash = Some(Flash {
                        text: "not connected to AWS".into(),
                        error: true,
                    });
                }
            },
            Effect::Write(request) => match &self.remediator {
                Some(r) => {
                    let (r, tx, tail) = (r.clone(), self.write_tx.clone(), self.journal_tail.clone());
                    self.tasks.spawn(async move {
                        let event = write(&r, request).await;
                        let _ = tx.send(event);
                        send_journal(tail, tx).await;
                    });
                }
                None => {
                    app.write = write_flow::WriteFlow::default();
                    app.flash = Some(Flash {
                        text: "not connected to AWS".into(),
                        error: true,
                    });
                }
            },
            Effect::AppendExceptions {
                path,
                entries,
                max_days,
            } => {
                let (tx, tail, journal) = (self.write_tx.clone(), self.journal_tail.clone(), self.journal.clone());
                let operator = app.identity.clone();
                self.tasks.spawn(async move {
                    let now = chrono::Utc::now();
                    let written = tokio::task::spawn_blocking(move || {
                        except_flow::write(&journal, &operator, &path, entries, max_days, now)
                    })
                    .await
                    .unwrap_or_else(|e| Err(format!("the exceptions file was not written: {e}")));
                    let _ = tx.send(WriteEvent::Excepted(written));
                    send_journal(tail, tx).await;
                });
            }
            Effect::WritePlan { path, plan } => {
                let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
                let target = match (path.strip_prefix("~/"), home) {
                    (Some(rest), Some(home)) => home.join(rest),
                    _ => std::path::PathBuf::from(&path),
                };
                let written = serde_json::to_vec_pretty(&*plan)
                    .map_err(|e| color_eyre::eyre::eyre!(e))
                    .and_then(|mut buf| {
                        buf.push(b'\n');
                        crate::commands::scan::write_output(&target, &buf)
                    });
                app.flash = Some(match written {
                    Ok(()) => Flash {
                        text: format!(
                            "plan {} written to {path}: {} {}; apply with keytriage --write apply {path}",
                            plan.id,
                            plan.action.verb(),
                            crate::text::plural(plan.targets.len(), "key", "keys")
                        ),
                        error: false,
                    },
                    Err(e) => Flash {
                        text: format!("cannot write the plan: {e:#}"),
                        error: true,
                    },
                });
            }
            Effect::VerifyKey { account, user, key } => match &self.remediator {
                Some(r) => {
                    let (r, tx) = (r.clone(), self.write_tx.clone());
                    self.tasks.spawn(async move {
                        use crate::remediate::{VERIFY_PAUSE, VERIFY_WINDOW};
                        let tick = |tries: u32, left: std::time::Duration| {
                            let _ = tx.send(WriteEvent::VerifyTick(key.id.clone(), tries, left.as_secs()));
                        };
                        let result = r
                            .verify_new_key(&account, &user, &key, VERIFY_WINDOW, VERIFY_PAUSE, tick)
                            .await
                            .map_err(|e| e.to_string());
                        let _ = tx.send(WriteEvent::Verified(key.id.clone(), result));
                    });
                }
                None => {
                    let _ = self.write_tx.send(WriteEvent::Verified(
                        key.id.clone(),
                        Err("not connected to AWS: the new key could not be verified".into()),
                    ));
                }
            },
            Effect::SaveSecret {
                path,
                account,
                profile,
                key,
            } if crate::remediate::SecretDestination::parse(&path).is_some() => {
                let dest = crate::remediate::SecretDestination::parse(&path);
                match (&self.remediator, dest) {
                    (Some(r), Some(Ok(dest))) => {
                        let (r, tx) = (r.clone(), self.write_tx.clone());
                        self.tasks.spawn(async move {
                            let result = r
                                .hand_off(&account, &profile, &dest, &key)
                                .await
                                .map_err(|e| format!("cannot store in Secrets Manager: {e}"));
                            drop(key);
                            let _ = tx.send(WriteEvent::Saved(result));
                        });
                    }
                    (_, Some(Err(e))) => {
                        if let Some(e) = app.on_write_event(WriteEvent::Saved(Err(e))) {
                            return self.run(app, e);
                        }
                    }
                    _ => {
                        let e = "not connected to AWS: cannot store in Secrets Manager".to_owned();
                        if let Some(e) = app.on_write_event(WriteEvent::Saved(Err(e))) {
                            return self.run(app, e);
                        }
                    }
                }
            }
            Effect::SaveSecret { path, profile, key, .. } => {
                // `~/…` as a shell would expand it.
                let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
                let target = match (path.strip_prefix("~/"), home) {
                    (Some(rest), Some(home)) => home.join(rest),
                    _ => std::path::PathBuf::from(&path),
                };
                let result = crate::remediate::write_secret_file(&target, &profile, &key)
                    .map(|()| target.display().to_string())
                    .map_err(|e| format!("cannot write {path}: {e}"));
                drop(key);
                if let Some(e) = app.on_write_event(WriteEvent::Saved(result)) {
                    return self.run(app, e);
                }
            }
        }
        true
    }
}

/// Reads what was appended to the journal since the last read (the whole journal the first
/// time) on a blocking thread, and sends it to the loop. The send happens under the tail's
/// lock, so the loop receives the reads in the order they were made.
async fn send_journal(tail: Arc<std::sync::Mutex<Tail>>, tx: mpsc::UnboundedSender<WriteEvent>) {
    let read = tokio::task::spawn_blocking(move || {
        let Ok(mut tail) = tail.lock() else { return };
        match tail.read_new() {
            Ok(TailRead::All(entries)) => {
                let _ = tx.send(WriteEvent::Journal(entries));
            }
            Ok(TailRead::New(entries)) if !entries.is_empty() => {
                let _ = tx.send(WriteEvent::JournalAppended(entries));
            }
            Ok(TailRead::New(_)) => {}
            Err(e) => tracing::error!(error = %e, "cannot read the journal"),
        }
    });
    let _ = read.await;
}

/// Carries out one write request with the remediator.
async fn write(r: &Remediator, request: WriteRequest) -> WriteEvent {
    if request.action == KeyAction::Rotate {
        let result = r
            .create_key(&request.account, &request.user)
            .await
            .map(|(k, keys)| (Arc::new(k), keys));
        return WriteEvent::Rotated { request, result };
    }
    let result = r.apply(&request).await;
    WriteEvent::Applied { request, result }
}

/// What recording one scan gave: the findings triaged, the triage, the warnings.
type Recorded = (Vec<crate::audit::Finding>, crate::triage::Outcome, Vec<String>);

/// How many recorded scans the accounts panel's sparkline reads (a year of weekly scans).
const TREND_SCANS: usize = 52;

/// Reads the open findings per recorded scan from the history at `path` (blocking: call it
/// off the UI loop). `None` when there is no history file yet or it cannot be read (the
/// recording step reports that).
fn read_trend(path: Option<&std::path::Path>) -> Option<crate::history::Trend> {
    let path = path.filter(|p| p.exists())?;
    let h = crate::history::History::open(path).ok()?;
    match h.trend(TREND_SCANS) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the trend of open findings");
            None
        }
    }
}

/// Reads the trend off the UI loop and sends it on `tx`.
fn load_trend(
    tasks: &mut JoinSet<()>,
    path: Option<std::path::PathBuf>,
    tx: mpsc::UnboundedSender<crate::history::Trend>,
) {
    tasks.spawn_blocking(move || {
        if let Some(t) = read_trend(path.as_deref()) {
            let _ = tx.send(t);
        }
    });
}

/// Triages the store's scan against the previous recorded one and records it, off the UI
/// thread; the result comes back on `tx`, then the trend with this scan on `trend_tx`.
fn record_history(
    tasks: &mut JoinSet<()>,
    app: &App,
    opts: &TuiOptions,
    tx: mpsc::UnboundedSender<Recorded>,
    trend_tx: mpsc::UnboundedSender<crate::history::Trend>,
) {
    let (org, findings) = app.store.org_scan();
    // The session's exceptions: the file's at start and every one added with `e` since.
    let (history, exceptions) = (opts.history.clone(), app.except.exceptions.clone());
    let caller = app.identity.clone();
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0);
    tasks.spawn_blocking(move || {
        let mut warnings = Vec::new();
        let outcome = crate::commands::history::triage_and_record(
            history.as_deref(),
            &org,
            &findings,
            &exceptions,
            Some(&caller),
            now,
            |w| warnings.push(w),
        );
        let _ = tx.send((findings, outcome, warnings));
        if let Some(t) = read_trend(history.as_deref()) {
            let _ = trend_tx.send(t);
        }
    });
}

async fn event_loop(terminal: &mut ratatui::DefaultTerminal, opts: TuiOptions) -> std::io::Result<Option<String>> {
    let theme = theme::Theme::from_env();
    let mut app = App::new(opts.policy, chrono::Utc::now(), "connecting…".into(), opts.write_mode);
    app.except.path = opts.exceptions_path.clone();
    app.except.max_days = opts.exception_max_days;
    app.except.exceptions = opts.exceptions.clone();
    if let Some(text) = &opts.notice {
        app.flash = Some(Flash {
            text: text.clone(),
            error: true,
        });
    }
    let (history_tx, mut history_rx) = mpsc::unbounded_channel::<Recorded>();
    let (trend_tx, mut trend_rx) = mpsc::unbounded_channel::<crate::history::Trend>();
    // Record after the full scan, and after every rescan once it is done.
    let mut full_scan_done = false;
    let (scan_tx, mut scan_rx) = mpsc::unbounded_channel::<ScanEvent>();
    let (write_tx, mut write_rx) = mpsc::unbounded_channel::<WriteEvent>();
    let (connect_tx, mut connect_rx) = mpsc::unbounded_channel::<ConnectEvent>();
    let mut backend = Backend {
        connect_opts: opts.connect.clone(),
        connect_tx,
        connecting: false,
        last_error: None,
        scan_opts: Arc::new(opts.scan.clone()),
        scan_tx,
        write_tx,
        ctx: None,
        remediator: None,
        full_scan: None,
        tasks: JoinSet::new(),
        journal_tail: Arc::new(std::sync::Mutex::new(Tail::new(opts.journal.clone()))),
        journal: opts.journal.clone(),
    };
    backend.spawn_connect();
    backend.read_journal(opts.journal.clone());
    load_trend(&mut backend.tasks, opts.history.clone(), trend_tx.clone());
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    // kill (TERM) and a closed terminal (HUP) quit like `q`: the terminal is restored and
    // the demo's emulator stopped on the way out.
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;

    loop {
        terminal.draw(|f| render::draw(&app, &theme, f))?;
        let effect = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press => {
                    let e = app.on_key(k);
                    app.refresh();
                    e
                }
                Some(Ok(Event::Mouse(m))) => { app.on_mouse(m); None }
                Some(Ok(_)) => None,
                Some(Err(_)) | None => Some(Effect::Quit),
            },
            Some(event) = scan_rx.recv() => {
                let mut record = false;
                let mut apply = |app: &mut App, event: ScanEvent| {
                    match &event {
                        ScanEvent::Finished { .. } => {
                            full_scan_done = true;
                            record = true;
                        }
                        ScanEvent::AccountDone { .. } => record |= full_scan_done,
                        _ => {}
                    }
                    backend.on_scan_event(app, &event);
                    app.on_scan_event(event);
                };
                apply(&mut app, event);
                // Coalesce a burst: apply what is already queued before drawing again.
                while let Ok(more) = scan_rx.try_recv() {
                    apply(&mut app, more);
                }
                if record {
                    record_history(&mut backend.tasks, &app, &opts, history_tx.clone(), trend_tx.clone());
                }
                None
            }
            Some((findings, outcome, warnings)) = history_rx.recv() => {
                app.on_recorded(&outcome.changes, &warnings);
                app.store.set_triage(&findings, outcome);
                None
            }
            Some(trend) = trend_rx.recv() => {
                app.trend = Some(trend);
                None
            }
            Some(event) = write_rx.recv() => app.on_write_event(event),
            Some(event) = connect_rx.recv() => {
                backend.on_connect(&mut app, event, &opts);
                None
            }
            _ = tick.tick() => { app.tick(chrono::Utc::now()); None }
            _ = terminate.recv() => Some(Effect::Quit),
            _ = hangup.recv() => Some(Effect::Quit),
        };
        if let Some(effect) = effect
            && !backend.run(&mut app, effect)
        {
            return Ok(backend.last_error);
        }
        while let Some(joined) = backend.tasks.try_join_next() {
            if let Err(e) = joined {
                tracing::error!(error = %e, "background task failed");
                app.task_failed(&e.to_string());
            }
        }
    }
}

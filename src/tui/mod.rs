//! The interactive terminal UI.
//!
//! One loop merges terminal events, scan events and a tick; handlers are synchronous
//! ([`app::App`] does no I/O) and return effects that the loop carries out by spawning
//! background work. Nothing here awaits AWS, so the screen paints at once and never freezes.
//! This module must not import `aws_sdk_*`.

pub mod app;
pub mod detail;
pub mod dialog;
pub mod keymap;
pub mod panel;
pub mod render;
pub mod store;
pub mod table;
pub mod theme;
pub mod views;
pub mod write_flow;

use crate::audit::Policy;
use crate::aws::{self, AwsContext, ConnectOptions};
use crate::journal::{self, Journal};
use crate::model::KeyAction;
use crate::remediate::{Remediator, WriteRequest, write_role};
use crate::scan::{self, ScanEvent, ScanOptions};
use app::{App, Effect, Flash, WriteEvent};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};
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
}

/// Runs the TUI until the user quits. The terminal is restored on return and on panic.
///
/// # Errors
/// Terminal I/O errors only; AWS failures are shown on screen.
pub async fn run(opts: TuiOptions) -> std::io::Result<()> {
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

/// The background side of the loop: channels, the AWS context once connected, tasks.
struct Backend {
    scan_opts: Arc<ScanOptions>,
    scan_tx: mpsc::UnboundedSender<ScanEvent>,
    write_tx: mpsc::UnboundedSender<WriteEvent>,
    ctx: Option<Arc<AwsContext>>,
    remediator: Option<Remediator>,
    full_scan: Option<scan::ScanHandle>,
    tasks: JoinSet<()>,
}

impl Backend {
    fn connected(&mut self, app: &mut App, ctx: AwsContext, opts: &TuiOptions) {
        app.identity = ctx.caller.arn.clone();
        let ctx = Arc::new(ctx);
        let role = write_role(&self.scan_opts.role, opts.remediation_role.as_deref());
        let remediator = Remediator::new(ctx.clone(), role, opts.journal.clone(), opts.write_mode);
        self.full_scan = Some(scan::start(
            ctx.clone(),
            self.scan_opts.clone(),
            app.store.scan_id,
            self.scan_tx.clone(),
        ));
        self.check_interrupted(&remediator, app);
        self.remediator = Some(remediator);
        self.ctx = Some(ctx);
    }

    /// Interrupted actions from an earlier run: read each key live, tell the operator, and
    /// close them in the journal (see [`Remediator::close_interrupted`]).
    fn check_interrupted(&mut self, remediator: &Remediator, app: &App) {
        if journal::unfinished(&app.store.journal).is_empty() {
            return;
        }
        let (r, tx) = (remediator.clone(), self.write_tx.clone());
        self.tasks.spawn(async move {
            let lines = r.close_interrupted().await;
            let _ = tx.send(WriteEvent::Interrupted(lines));
            let _ = tx.send(WriteEvent::Journal(r.journal().read().unwrap_or_default()));
        });
    }

    fn run(&mut self, app: &mut App, effect: Effect) -> bool {
        match effect {
            Effect::Quit => return false,
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
            Effect::Write(request) => match &self.remediator {
                Some(r) => {
                    let (r, tx) = (r.clone(), self.write_tx.clone());
                    self.tasks.spawn(async move {
                        let event = write(&r, request).await;
                        let _ = tx.send(event);
                        let _ = tx.send(WriteEvent::Journal(r.journal().read().unwrap_or_default()));
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
            Effect::SaveSecret { path, profile, key } => {
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

async fn event_loop(terminal: &mut ratatui::DefaultTerminal, opts: TuiOptions) -> std::io::Result<()> {
    let theme = theme::Theme::from_env();
    let mut app = App::new(opts.policy, chrono::Utc::now(), "connecting…".into(), opts.write_mode);
    app.store.journal = opts.journal.read().unwrap_or_default();
    let (scan_tx, mut scan_rx) = mpsc::unbounded_channel::<ScanEvent>();
    let (write_tx, mut write_rx) = mpsc::unbounded_channel::<WriteEvent>();
    let (ctx_tx, mut ctx_rx) = oneshot::channel::<Result<AwsContext, aws::Error>>();
    let connect = opts.connect.clone();
    tokio::spawn(async move {
        let _ = ctx_tx.send(aws::connect(&connect).await);
    });
    let mut backend = Backend {
        scan_opts: Arc::new(opts.scan.clone()),
        scan_tx,
        write_tx,
        ctx: None,
        remediator: None,
        full_scan: None,
        tasks: JoinSet::new(),
    };
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut connecting = true;
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
                app.on_scan_event(event);
                // Coalesce a burst: apply what is already queued before drawing again.
                while let Ok(more) = scan_rx.try_recv() {
                    app.on_scan_event(more);
                }
                None
            }
            Some(event) = write_rx.recv() => app.on_write_event(event),
            // Polled once: a finished oneshot must not be polled again.
            connected = &mut ctx_rx, if connecting => {
                connecting = false;
                match connected {
                    Ok(Ok(c)) => backend.connected(&mut app, c, &opts),
                    Ok(Err(e)) => {
                        app.identity = "not connected".into();
                        app.store.discovery_error = Some(format!("cannot reach AWS as the caller: {e} (then restart)"));
                    }
                    Err(_) => {}
                }
                None
            }
            _ = tick.tick() => { app.tick(chrono::Utc::now()); None }
            _ = terminate.recv() => Some(Effect::Quit),
            _ = hangup.recv() => Some(Effect::Quit),
        };
        if let Some(effect) = effect
            && !backend.run(&mut app, effect)
        {
            return Ok(());
        }
        while let Some(joined) = backend.tasks.try_join_next() {
            if let Err(e) = joined {
                tracing::error!(error = %e, "background task failed");
                app.task_failed(&e.to_string());
            }
        }
    }
}

//! The interactive terminal UI.
//!
//! One loop merges terminal events, scan events and a tick; handlers are synchronous
//! ([`app::App`] does no I/O) and return effects that the loop carries out by spawning
//! background work. Nothing here awaits AWS, so the screen paints at once and never freezes.
//! This module must not import `aws_sdk_*`.

pub mod app;
pub mod keymap;
pub mod render;
pub mod store;
pub mod table;
pub mod theme;
pub mod views;

use crate::audit::Policy;
use crate::aws::{self, AwsContext, ConnectOptions};
use crate::scan::{self, ScanEvent, ScanOptions};
use app::{App, Effect, Flash};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
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
}

/// Runs the TUI until the user quits. The terminal is restored on return and on panic.
///
/// # Errors
/// Terminal I/O errors only; AWS failures are shown on screen.
pub async fn run(opts: TuiOptions) -> std::io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let result = event_loop(&mut terminal, opts).await;
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    result
}

async fn event_loop(terminal: &mut ratatui::DefaultTerminal, opts: TuiOptions) -> std::io::Result<()> {
    let theme = theme::Theme::from_env();
    let mut app = App::new(opts.policy, chrono::Utc::now(), "connecting…".into(), opts.write_mode);
    app.store.scan_id = 1;
    let scan_opts = Arc::new(opts.scan);
    let (scan_tx, mut scan_rx) = mpsc::unbounded_channel::<ScanEvent>();
    let (ctx_tx, mut ctx_rx) = oneshot::channel::<Result<AwsContext, aws::Error>>();
    let connect = opts.connect.clone();
    tokio::spawn(async move {
        let _ = ctx_tx.send(aws::connect(&connect).await);
    });
    let mut ctx: Option<Arc<AwsContext>> = None;
    let mut _full_scan = None;
    let mut rescans = JoinSet::new();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));

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
            connected = &mut ctx_rx, if ctx.is_none() => {
                match connected {
                    Ok(Ok(c)) => {
                        app.identity = c.caller.arn.clone();
                        let c = Arc::new(c);
                        _full_scan = Some(scan::start(c.clone(), scan_opts.clone(), app.store.scan_id, scan_tx.clone()));
                        ctx = Some(c);
                    }
                    Ok(Err(e)) => {
                        app.identity = "not connected".into();
                        app.store.discovery_error = Some(format!("cannot reach AWS as the caller: {e}"));
                    }
                    Err(_) => {}
                }
                None
            }
            _ = tick.tick() => { app.tick(chrono::Utc::now()); None }
        };
        match effect {
            Some(Effect::Quit) => return Ok(()),
            Some(Effect::Rescan(account)) => match &ctx {
                Some(c) => {
                    let (c, o, tx, id) = (c.clone(), scan_opts.clone(), scan_tx.clone(), app.store.scan_id);
                    rescans.spawn(scan::scan_accounts(c, o, id, vec![account], tx));
                }
                None => {
                    app.flash = Some(Flash {
                        text: "not connected to AWS".into(),
                        error: true,
                    })
                }
            },
            None => {}
        }
        while rescans.try_join_next().is_some() {}
    }
}

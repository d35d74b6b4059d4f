//! Renders the accounts view of the demo organization to HTML (colours kept), for the
//! README's screenshot: `cargo run --example screenshot -- assets/screenshot.html`, then
//! `chromium --headless --screenshot=assets/screenshot-accounts.png --window-size=1180,560
//! assets/screenshot.html`.

use keytriage::aws::{self, ConnectOptions};
use keytriage::emulator::{DUMMY_CREDENTIALS, Emulator};
use keytriage::scan::{self, ScanEvent, ScanOptions};
use keytriage::tui::{app::App, render, theme::Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use std::sync::Arc;

fn css(c: Color, default: &str) -> String {
    match c {
        Color::Reset => default.into(),
        Color::Red => "#e06c75".into(),
        Color::White => "#ffffff".into(),
        Color::LightRed => "#ff8b8b".into(),
        Color::Yellow => "#e5c07b".into(),
        Color::Cyan => "#56b6c2".into(),
        Color::Gray => "#abb2bf".into(),
        Color::DarkGray => "#5c6370".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        _ => default.into(),
    }
}

fn to_html(buf: &Buffer) -> String {
    let mut out = String::from(
        "<html><body style=\"margin:0;background:#1e2127\"><pre style=\"font:15px 'DejaVu Sans Mono',monospace;\
         color:#dcdfe4;margin:12px;line-height:1.25\">",
    );
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            let (mut fg, mut bg) = (css(cell.fg, "#dcdfe4"), css(cell.bg, "transparent"));
            if cell.modifier.contains(Modifier::REVERSED) {
                (fg, bg) = (if bg == "transparent" { "#1e2127".into() } else { bg }, fg);
            }
            let weight = if cell.modifier.contains(Modifier::BOLD) {
                "bold"
            } else {
                "normal"
            };
            let sym = cell
                .symbol()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            out.push_str(&format!(
                "<span style=\"color:{fg};background:{bg};font-weight:{weight}\">{sym}</span>"
            ));
        }
        out.push('\n');
    }
    out.push_str("</pre></body></html>\n");
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "assets/screenshot.html".into());
    let emu = Emulator::demo()?;
    let ctx = Arc::new(
        aws::connect(&ConnectOptions {
            endpoint_url: Some(emu.endpoint()),
            isolated_credentials: Some((DUMMY_CREDENTIALS.0.into(), DUMMY_CREDENTIALS.1.into())),
            max_attempts: 3,
            ..Default::default()
        })
        .await?,
    );
    let opts = ScanOptions::new(aws::RoleOptions {
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_length: None,
    });
    let mut app = App::new(Default::default(), chrono::Utc::now(), ctx.caller.arn.clone(), true);
    app.store.scan_id = 1;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _scan = scan::start(ctx, Arc::new(opts), 1, tx);
    while let Some(e) = rx.recv().await {
        let done = matches!(e, ScanEvent::Finished { .. });
        app.on_scan_event(e);
        if done {
            break;
        }
    }
    app.refresh();
    let area = Rect::new(0, 0, 118, 20);
    let mut buf = Buffer::empty(area);
    render::render(&app, &Theme { no_color: false }, area, &mut buf);
    std::fs::write(&path, to_html(&buf))?;
    println!("wrote {path}");
    Ok(())
}

//! Renders the README's pictures of the demo organization to HTML (colours kept): the
//! accounts view with its panel, `:keys`, and the detail (`i`) of the root user's finding.
//!
//! `cargo run --example screenshot -- DIR` (default `assets`) writes each picture as HTML
//! to the temporary directory and, when `chromium` is on PATH, rasterises it to
//! `DIR/screenshot-{accounts,keys,detail}.png` (headless, one window the size of the
//! terminal picture). Chromium is only needed to refresh the
//! pictures, never to build or test (`apt-get install chromium` on Debian).

use crossterm::event::{KeyCode, KeyEvent};
use keytriage::aws::{self, ConnectOptions};
use keytriage::emulator::{DUMMY_CREDENTIALS, Emulator};
use keytriage::scan::{self, ScanEvent, ScanOptions};
use keytriage::tui::{app::App, render, theme::Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use std::path::Path;
use std::sync::Arc;

/// The pixel size of a `cols` × `rows` picture (15 px DejaVu Sans Mono, 1.25 line height,
/// 12 px margin).
fn window_size(cols: u16, rows: u16) -> (u32, u32) {
    let w = (f64::from(cols) * 9.04 + 24.0).ceil() as u32;
    let h = (f64::from(rows) * 18.75 + 24.0).ceil() as u32;
    (w, h)
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        app.on_key(KeyEvent::from(code));
        app.refresh();
    }
}

/// Draws `app` at `cols` × `rows` into `name.html` in the temporary directory, and
/// `dir/name.png` when chromium is there.
fn shoot(app: &App, cols: u16, rows: u16, dir: &Path, name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let area = Rect::new(0, 0, cols, rows);
    let mut buf = Buffer::empty(area);
    render::render(app, &Theme { no_color: false }, area, &mut buf);
    let html = std::env::temp_dir().join(format!("keytriage-{name}.html"));
    std::fs::write(&html, to_html(&buf))?;
    println!("wrote {}", html.display());
    let (w, h) = window_size(cols, rows);
    let png = dir.join(format!("{name}.png"));
    let status = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            &format!("--screenshot={}", png.display()),
            &format!("--window-size={w},{h}"),
        ])
        .arg(&html)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => println!("wrote {}", png.display()),
        _ => println!("chromium not run: rasterise {} yourself ({w}x{h} px)", html.display()),
    }
    Ok(())
}

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
            // A full block as a coloured background: glyphs leave gaps between lines.
            if cell.symbol() == "█" {
                bg = fg.clone();
            }
            let sym = cell
                .symbol()
                .replace('█', " ")
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
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "assets".into()));
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
    shoot(&app, 120, 24, &dir, "screenshot-accounts")?;
    keys(&mut app, ":keys\n");
    shoot(&app, 140, 24, &dir, "screenshot-keys")?;
    // The worst finding (the root user's access key) sorts first in :findings.
    keys(&mut app, ":findings\ni");
    shoot(&app, 120, 28, &dir, "screenshot-detail")?;
    Ok(())
}

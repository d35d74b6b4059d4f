//! Drawing: a pure function of [`App`] state (the tables remember the last drawn height
//! for PageDown). Header, body (a table or the user detail), status, footer, help overlay,
//! and [`centered`], the place of every popup. Never panics at any size, down to 0×0.
//!
//! The help and footer text come from the keymap and the view registry; this module must
//! not hard-code a key or a view name, and must not change state.

use super::app::{App, Mode};
use super::keymap::{self, Action};
use super::table::Order;
use super::theme::Theme;
use super::views::{ViewKind, ago, mfa_word, sev_label};
use crate::audit::Severity;
use crate::model::{ScanStatus, age_days};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

/// A `width` × `height` rectangle centred in `area` (rounded towards the top left), clamped
/// to it: the place of every popup (help, dialogs). Never larger than `area`, so drawing in
/// it cannot index outside the buffer on a small terminal.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    Rect::new(
        area.x + area.width.saturating_sub(width) / 2,
        area.y + area.height.saturating_sub(height) / 2,
        width,
        height,
    )
    .clamp(area)
}

/// Draws the whole screen.
pub fn draw(app: &App, theme: &Theme, frame: &mut Frame<'_>) {
    render(app, theme, frame.area(), frame.buffer_mut());
}

/// Draws the whole screen into `buf` (used by [`draw`] and the snapshot tests).
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    // A long status message wraps onto up to three lines (read in full at 80 columns); the
    // selected account's error takes the rows the table leaves free too.
    let (status_lines, status_style) = status_lines(app, theme, area.width, status_max_lines(app, area.height));
    let status_height = u16::try_from(status_lines.len()).unwrap_or(1).max(1);
    let [header, body, status, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(status_height),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(app, theme, header, buf);
    match &app.view().kind {
        ViewKind::User(..) => render_user(app, theme, body, buf),
        ViewKind::Accounts if has_room_for_panel(app, body) => {
            // The table needs its rows (border and header included); the panel grows into
            // the rest (thicker bars, taller sparklines), and what it cannot use stays the
            // table's.
            // No rows: the table's text (a discovery error, wrapped) keeps the room.
            let room = if app.view().table.counts().0 == 0 {
                0
            } else {
                body.height.saturating_sub(accounts_table_height(app))
            };
            let [table, panel] = Layout::vertical([
                Constraint::Fill(1),
                Constraint::Length(super::panel::height_in(&app.store, room)),
            ])
            .areas(body);
            app.view().table.render(
                table,
                buf,
                table_title(app, theme),
                &empty_text(app, &ViewKind::Accounts),
                theme,
            );
            let selected = match app.view().table.selected_row().map(|r| &r.id) {
                Some(super::table::RowId::Account(a)) => app.store.entry(a),
                _ => None,
            };
            super::panel::render(&app.store, selected, app.trend.as_ref(), app.now, theme, panel, buf);
        }
        kind => app
            .view()
            .table
            .render(body, buf, table_title(app, theme), &empty_text(app, kind), theme),
    }
    let lines: Vec<Line<'static>> = status_lines
        .into_iter()
        .map(|l| Line::styled(l, status_style))
        .collect();
    Paragraph::new(lines).render(status, buf);
    render_footer(app, theme, footer, buf);
    if app.mode == Mode::Help {
        render_help(app, theme, area, buf);
    }
    if app.mode == Mode::Detail {
        let detail = app
            .detail
            .as_ref()
            .and_then(|id| super::detail::build(id, &app.store, &app.policy, app.now, theme))
            .unwrap_or_else(|| super::detail::Detail {
                title: "gone".into(),
                lines: vec![Line::raw("this row is no longer in the latest scan")],
            });
        let used = super::detail::render(&detail, app.detail_scroll.get(), area, buf, theme);
        app.detail_scroll.set(used);
    }
    app.write.render(area, buf, theme);
    app.bulk.render(area, buf, theme);
    app.except.render(area, buf, theme, &app.store);
}

/// Rows the accounts table needs to show every shown row: borders, header and at least one
/// row (the empty or no-match text).
fn accounts_table_height(app: &App) -> u16 {
    let rows = u16::try_from(app.view().table.counts().0).unwrap_or(u16::MAX);
    rows.max(1).saturating_add(3)
}

/// True when the accounts table shows every row with the picture panel below it (its
/// charts at least: the strip of changes below them only where it fits too).
fn has_room_for_panel(app: &App, body: Rect) -> bool {
    body.width >= super::panel::MIN_WIDTH
        && body.height >= accounts_table_height(app).saturating_add(super::panel::HEIGHT)
}

fn render_header(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let mode = if app.write_mode { " WRITE " } else { " READ-ONLY " };
    let org = app
        .store
        .organization
        .as_ref()
        .map(|o| format!("org {}", o.id))
        .unwrap_or_default();
    let mut first = vec![
        Span::styled(" keytriage ", theme.accent()),
        Span::styled(
            format!("[{mode}]"),
            if app.write_mode { theme.error() } else { theme.accent() },
        ),
        Span::raw(format!(" {org} ")),
    ];
    // The identity takes what is left, cut in the middle (its account and name both show).
    let used: usize = first.iter().map(Span::width).sum();
    let room = u16::try_from(usize::from(area.width).saturating_sub(used)).unwrap_or(0);
    if room >= 8 {
        first.push(Span::styled(
            super::table::truncate_middle(&app.identity, room),
            theme.muted(),
        ));
    }
    let second = header_counts(app, theme, area.width);
    Paragraph::new(vec![Line::from(first), second]).render(area, buf);
}

/// The header's second line: the scan's progress, the accounts not scanned (by the SCAN
/// column's word), the findings per severity and the marks, fitted to `width`. Every
/// severity count stays whole: when the line is too long, whole parts give way, the least
/// useful first (the "findings:" label, the progress bar, the marks' wording to `●N`, the
/// skipped accounts, the word "accounts", then on a very narrow screen all but the counts).
fn header_counts(app: &App, theme: &Theme, width: u16) -> Line<'static> {
    let (done, total, _) = app.store.progress();
    // Unscanned accounts counted by the SCAN column's word (denied, failed, partial,
    // skipped), so the header and the table say the same thing.
    let mut outcomes: Vec<(String, usize)> = Vec::new();
    for e in app.store.accounts.iter().filter(|e| !e.scanning()) {
        let ok = e.scan.as_ref().is_some_and(|s| s.scan.status == ScanStatus::Ok);
        if !ok {
            let word = e.scan_cell();
            match outcomes.iter_mut().find(|(w, _)| *w == word) {
                Some((_, n)) => *n += 1,
                None => outcomes.push((word, 1)),
            }
        }
    }
    // Failures first, skipped last, whatever order the accounts come in.
    outcomes.sort_by_key(|(word, _)| word == "skipped");
    let counts = app.store.severity_counts;
    let marks = app.marks.summary();
    // Each level gives up one more part; the last one is the shortest line there is.
    let build = |level: u8| -> Vec<Span<'static>> {
        let accounts = |n: usize| match (level >= 5, n) {
            (true, _) => "",
            (false, 1) => " account",
            (false, _) => " accounts",
        };
        let mut spans = vec![];
        if level >= 6 {
            // The narrowest: the counts (and marks) alone; the table says the rest.
        } else if app.store.discovery_error.is_some() {
            // The error itself is in the body, wrapped: a header line would cut its hint.
            let text = if level >= 5 {
                " discovery failed; R retries"
            } else {
                " discovery failed (details below); press R to retry"
            };
            spans.push(Span::styled(text, theme.error()));
        } else if !app.store.discovered {
            spans.push(Span::raw(if level >= 5 {
                " listing accounts…"
            } else {
                " listing the organization's accounts…"
            }));
        } else if done < total {
            let mut text = format!(" scanning {done}/{total}{}", accounts(total));
            if level < 2 {
                let bar_w = if width >= 100 { 20 } else { 10 };
                let filled = (done * bar_w).checked_div(total).unwrap_or(0);
                text.push_str(&format!(" [{}{}]", "█".repeat(filled), "·".repeat(bar_w - filled)));
            }
            spans.push(Span::raw(text));
        } else {
            spans.push(Span::raw(format!(" scanned {total}{}", accounts(total))));
        }
        for (word, n) in &outcomes {
            let skipped = word == "skipped";
            if (skipped && level >= 4) || level >= 6 {
                continue;
            }
            let style = if skipped { theme.muted() } else { theme.error() };
            spans.push(Span::styled(format!(" · {n} {word}"), style));
        }
        spans.push(Span::raw(match level {
            0 => "  findings:",
            6 => "",
            _ => " ",
        }));
        for (s, n) in Severity::ALL.iter().zip(counts).take(4) {
            spans.push(Span::raw(" "));
            spans.push(Span::styled(format!("{} {n}", sev_label(*s)), theme.severity(*s)));
        }
        if let Some(m) = &marks {
            let text = if level >= 3 {
                format!(" ●{}", app.marks.len())
            } else {
                format!("  {m}")
            };
            spans.push(Span::styled(text, theme.accent()));
        }
        spans
    };
    let fits = |spans: &[Span<'_>]| spans.iter().map(Span::width).sum::<usize>() <= usize::from(width);
    let spans = (0..6).map(build).find(|s| fits(s)).unwrap_or_else(|| build(6));
    Line::from(spans)
}

fn table_title<'a>(app: &App, theme: &Theme) -> Line<'a> {
    let view = app.view();
    let (shown, total) = view.table.counts();
    let (col, order) = view.table.sort();
    let arrow = if order == Order::Asc { "▲" } else { "▼" };
    let mut spans = vec![
        Span::styled(format!(" {} ", view.kind.title(&app.store)), theme.accent()),
        Span::raw(format!("[{shown}/{total}] sort {col}{arrow} ")),
    ];
    if !view.table.filter().is_empty() || app.mode == Mode::Filter {
        spans.push(Span::styled(
            format!("filter /{} ", view.table.filter()),
            theme.header(),
        ));
    }
    Line::from(spans)
}

fn render_user(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let ViewKind::User(account_id, name) = &app.view().kind else {
        return;
    };
    let entry = app.store.entry(account_id);
    let user = entry
        .and_then(|e| e.scan.as_ref())
        .and_then(|s| s.users.iter().find(|u| &u.name == name));
    let Some((entry, user)) = entry.zip(user) else {
        Paragraph::new(format!(
            "user {name} is not in the latest scan of {account_id} (deleted?)"
        ))
        .block(Block::default().borders(Borders::ALL))
        .render(area, buf);
        return;
    };
    let now = app.now;
    // A role may share the user's name: its findings are not the user's.
    let findings: Vec<_> = entry
        .findings
        .iter()
        .filter(|f| f.user == name && f.role().is_none())
        .collect();
    // One row per credential: the console password, access keys and the other kinds.
    let rows = user.access_keys.len() + user.credentials.len() + usize::from(user.password_enabled);
    let keys_h = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(3).max(4);
    let rotation = crate::audit::rotation::in_progress(user, &app.policy, now);
    let info_h = if rotation.is_some() { 8 } else { 7 };
    let [info, keys, fnd] = Layout::vertical([
        Constraint::Length(info_h),
        Constraint::Length(keys_h),
        Constraint::Fill(1),
    ])
    .areas(area);

    let password = match (user.password_enabled, user.password_last_used) {
        (false, _) => "no console password".to_owned(),
        (true, Some(t)) => format!("console password, last used {} ({})", ago(t, now), t.format("%Y-%m-%d")),
        (true, None) => "console password, never used".to_owned(),
    };
    let mfa = if user.mfa_devices.is_empty() {
        mfa_word(user.mfa_kind()).to_owned()
    } else {
        user.mfa_devices
            .iter()
            .map(|d| format!("{} {}", d.kind.as_str(), d.serial))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let lines = vec![
        Line::from(format!("ARN      {}", user.arn)),
        Line::from(format!("path     {}", user.path)),
        Line::from(format!(
            "created  {} ({} ago)",
            user.created.format("%Y-%m-%d"),
            crate::text::plural(age_days(user.created, now), "day", "days")
        )),
        Line::from(format!("password {password}")),
        Line::from(format!("MFA      {mfa}")),
    ];
    let mut lines = lines;
    if let Some(r) = rotation {
        lines.push(Line::styled(
            format!("keys     rotation in progress: {}", r.summary(now)),
            theme.accent(),
        ));
    }
    Paragraph::new(lines)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border())
                .title(Span::styled(
                    format!(" {} ", app.view().kind.title(&app.store)),
                    theme.accent(),
                )),
        )
        .render(info, buf);

    let keys_title = Line::from(Span::styled(" credentials ", theme.accent()));
    app.view().table.render(keys, buf, keys_title, "no credentials", theme);

    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(format!(" findings ({}) ", findings.len()), theme.accent()));
    let inner = block.inner(fnd);
    block.render(fnd, buf);
    let texts: Vec<(Severity, String)> = findings
        .iter()
        .map(|f| {
            let key = f.access_key_id.as_ref().map(|k| format!(" {k}")).unwrap_or_default();
            let text = format!(
                "{:<4} {}{key}: {}{}",
                sev_label(f.severity),
                f.rule.id(),
                f.detail,
                controls_suffix(f.controls)
            );
            (f.severity, text)
        })
        .collect();
    let lines = findings_lines(&texts, inner.width, inner.height, info_key());
    let lines: Vec<Line> = if findings.is_empty() {
        vec![Line::from("no findings")]
    } else {
        lines
            .into_iter()
            .map(|(tag, l)| match tag {
                // The severity word in its colour, the rest plain.
                Pane::First(s) if l.starts_with(sev_label(s)) => {
                    let (word, rest) = l.split_at(sev_label(s).len());
                    Line::from(vec![
                        Span::styled(word.to_owned(), theme.severity(s)),
                        Span::raw(rest.to_owned()),
                    ])
                }
                Pane::First(_) | Pane::Rest => Line::raw(l),
                Pane::More => Line::styled(l, theme.accent()),
            })
            .collect()
    };
    Paragraph::new(lines).render(inner, buf);
}

/// The key that opens the detail popup (`i`), as the footer names it.
fn info_key() -> String {
    keymap::KEYMAP
        .iter()
        .find(|b| b.action == Action::Details)
        .map_or_else(|| "i".to_owned(), |b| keymap::key_name(b.keys[0]))
}

/// What a line of the user page's findings pane is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pane {
    /// The first line of a finding of this severity (it starts with the severity's word).
    First(Severity),
    /// A finding's next line.
    Rest,
    /// The "+N more" line.
    More,
}

/// The lines of the user page's findings pane, `width` × `rows`: each finding (severity and
/// its text, in `texts`) wrapped whole, in order, as many as fit; when some do not fit, the
/// last line says how many more there are and that `key` shows every one in full (a finding
/// is never shown in part).
fn findings_lines(texts: &[(Severity, String)], width: u16, rows: u16, key: String) -> Vec<(Pane, String)> {
    let rows = usize::from(rows);
    let wrapped: Vec<Vec<String>> = texts.iter().map(|(_, t)| wrap(t, width, usize::MAX)).collect();
    let total: usize = wrapped.iter().map(Vec::len).sum();
    let mut out = Vec::new();
    if total <= rows {
        for ((sev, _), lines) in texts.iter().zip(wrapped) {
            for (n, l) in lines.into_iter().enumerate() {
                out.push((if n == 0 { Pane::First(*sev) } else { Pane::Rest }, l));
            }
        }
        return out;
    }
    let n = texts.len();
    let marker = |shown: usize| format!("+{} more · {key} shows all {n} in full", n - shown);
    let mut shown = 0;
    let mut used = 0;
    for lines in &wrapped {
        if used + lines.len() + 1 > rows {
            break;
        }
        used += lines.len();
        shown += 1;
    }
    for ((sev, _), lines) in texts.iter().zip(wrapped).take(shown) {
        for (i, l) in lines.into_iter().enumerate() {
            out.push((if i == 0 { Pane::First(*sev) } else { Pane::Rest }, l));
        }
    }
    if rows > 0 {
        for l in wrap(&marker(shown), width, rows - used) {
            out.push((Pane::More, l));
        }
    }
    out
}

fn controls_suffix(controls: &[&str]) -> String {
    if controls.is_empty() {
        String::new()
    } else {
        format!(" [{}]", controls.join(", "))
    }
}

/// What an empty table says: still scanning, nothing found, or why the account has no data.
fn empty_text(app: &App, kind: &ViewKind) -> String {
    if let Some(e) = &app.store.discovery_error {
        return format!("{e}\n\npress R to retry");
    }
    if !app.store.discovered || app.store.accounts.iter().any(|e| e.scanning()) {
        return "scanning…".into();
    }
    match kind {
        ViewKind::Users(Some(id)) => match app.store.entry(id).and_then(|e| e.scan.as_ref()) {
            Some(s) => match &s.scan.error {
                Some(e) => format!("not scanned: {} [{}]", e.message, e.code),
                None => "no IAM users in this account".into(),
            },
            None => "scanning…".into(),
        },
        ViewKind::Findings => "no findings".into(),
        _ => "nothing to show".into(),
    }
}

/// Most lines a long status message takes (more is cut with `…`), unless the table leaves
/// more free ([`status_max_lines`]).
const STATUS_MAX_LINES: usize = 3;

/// Most lines the status takes on a screen `height` rows tall: [`STATUS_MAX_LINES`], or on
/// the accounts view every row its table leaves free (header, footer and the table's own
/// rows taken), so that the selected account's error shows whole, hint included.
fn status_max_lines(app: &App, height: u16) -> usize {
    if app.flash.is_some() || !matches!(app.view().kind, ViewKind::Accounts) {
        return STATUS_MAX_LINES;
    }
    let free = height.saturating_sub(3 + accounts_table_height(app));
    STATUS_MAX_LINES.max(usize::from(free))
}

/// `text` wrapped at spaces into lines of at most `width` cells (a longer word is split),
/// at most `max` lines, the last one ending with `…` when text is left over.
pub fn wrap(text: &str, width: u16, max: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let w = usize::from(width);
    if w == 0 || max == 0 {
        return Vec::new();
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: &str = word;
        loop {
            let sep = usize::from(!line.is_empty());
            if line.width() + sep + word.width() <= w {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word wider than a line: split it at the width (at least one character).
            let mut used = 0;
            let mut cut = word.len();
            for (i, ch) in word.char_indices() {
                let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
                if used + cw > w {
                    cut = i;
                    break;
                }
                used += cw;
            }
            if cut == 0 {
                cut = word.chars().next().map_or(word.len(), char::len_utf8);
            }
            lines.push(word[..cut].to_owned());
            word = &word[cut..];
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    if lines.len() > max {
        let rest = lines[max - 1..].join(" ");
        lines.truncate(max - 1);
        lines.push(super::table::truncate(&rest, width));
    }
    lines
}

/// The status message and its style: the answer to the last key (cleared when stale), else
/// the selected account's scan error.
fn status_line(app: &App, theme: &Theme) -> Option<(String, ratatui::style::Style)> {
    let selected_account = match app.view().table.selected_row().map(|r| &r.id) {
        Some(super::table::RowId::Account(a)) => app.store.entry(a),
        _ => None,
    };
    let text = selected_account.and_then(|e| {
        let s = e.scan.as_ref()?;
        let err = s.scan.error.as_ref()?;
        // A skipped account (not ACTIVE) is not an error: said plainly, without the code.
        Some(if s.scan.status == crate::model::ScanStatus::Skipped {
            let t = format!("{} ({}): skipped: {}", e.account.name, e.account.id, err.message);
            (t, theme.muted())
        } else {
            let t = format!("{} ({}): {} [{}]", e.account.name, e.account.id, err.message, err.code);
            (t, theme.error())
        })
    });
    // The answer to the last key comes first; the selected account's error otherwise
    // (in full with i).
    match (&app.flash, text) {
        (Some(f), _) => Some((f.text.clone(), if f.error { theme.error() } else { theme.accent() })),
        (None, Some(t)) => Some(t),
        (None, None) => None,
    }
}

/// The status line(s) above the footer ([`status_line`]) wrapped at `width` to at most `max`
/// lines, and their style. The selected account's error ends with where to read it in full
/// (`i`), which stays when the error itself is cut.
fn status_lines(app: &App, theme: &Theme, width: u16, max: usize) -> (Vec<String>, ratatui::style::Style) {
    let Some((text, style)) = status_line(app, theme) else {
        return (Vec::new(), ratatui::style::Style::default());
    };
    if app.flash.is_some() {
        return (wrap(&text, width, max), style);
    }
    let suffix = format!("({} shows it in full)", info_key());
    let whole = wrap(&format!("{text} {suffix}"), width, usize::MAX);
    if whole.len() <= max {
        return (whole, style);
    }
    let mut lines = wrap(&text, width, max.saturating_sub(1));
    lines.extend(wrap(&suffix, width, 1));
    (lines, style)
}

fn render_footer(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let line = match app.mode {
        Mode::Filter => Line::from(vec![
            Span::styled(format!("/{}█", app.view().table.filter()), theme.header()),
            Span::styled("  Enter keep · Esc clear", theme.muted()),
        ]),
        Mode::Command => Line::from(vec![
            Span::styled(format!(":{}█", app.command), theme.header()),
            Span::styled(format!("  {}", super::commands::hint(&app.command)), theme.muted()),
        ]),
        _ => {
            // As many hints as fit, whole; `? help` always stays, last.
            // Actions on the rows of this view first (the key actions in a user's view).
            let mut bindings: Vec<&keymap::Binding> = keymap::active(&app.contexts())
                .filter(|b| b.footer && b.action != Action::Help)
                .collect();
            bindings.sort_by_key(|b| b.context == keymap::Context::Global);
            let hints: Vec<(String, &str)> = bindings
                .into_iter()
                .map(|b| {
                    // The footer keeps the verb; `?` has the full text.
                    let verb = b.help.split_whitespace().next().unwrap_or(b.help);
                    (keymap::key_name(b.keys[0]), verb)
                })
                .collect();
            let help_hint = ("?".to_owned(), "help");
            let width = |(k, h): &(String, &str)| k.chars().count() + h.chars().count() + 3;
            let mut room = usize::from(area.width).saturating_sub(width(&help_hint));
            let mut spans = Vec::new();
            for hint in hints.iter().chain(std::iter::once(&help_hint)) {
                let is_help = hint.0 == "?";
                if !is_help && width(hint) > room {
                    continue;
                }
                if !is_help {
                    room -= width(hint);
                }
                spans.push(Span::styled(format!(" {} ", hint.0), theme.header()));
                spans.push(Span::styled(format!("{} ", hint.1), theme.muted()));
            }
            Line::from(spans)
        }
    };
    Paragraph::new(line).render(area, buf);
}

fn render_help(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let mut lines = vec![Line::styled("keyboard (what works in this view)", theme.header())];
    // Two spans (keys, text): a long text wraps under the text, not under the keys.
    for bnd in keymap::active(&app.contexts()) {
        let keys: Vec<String> = bnd.keys.iter().map(|k| keymap::key_name(*k)).collect();
        lines.push(Line::from(vec![
            Span::raw(format!("  {:<14} ", keys.join(" "))),
            Span::raw(bnd.help),
        ]));
    }
    lines.push(Line::styled(
        "commands (type : then the name, Tab completes)",
        theme.header(),
    ));
    for c in super::commands::all() {
        let text = if c.args.is_empty() {
            c.help.to_owned()
        } else {
            format!("{} — {}", c.args, c.help)
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  :{:<13} ", c.name)),
            Span::raw(text),
        ]));
    }
    // What the one-cell marker before each row means, in the marker's own style.
    let mut legend = vec![Span::styled("rows: ", theme.muted())];
    for s in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low] {
        legend.push(Span::styled(super::table::marker_glyph(s), theme.severity(s)));
        legend.push(Span::styled(format!(" {}  ", sev_label(s)), theme.muted()));
    }
    legend.push(Span::styled(super::table::FAILED_MARKER, theme.error()));
    legend.push(Span::styled(" not read  ● marked", theme.muted()));
    lines.push(Line::from(legend));
    lines.push(Line::styled(
        "filter: / then terms, all must hold (Esc clears): jenkins any",
        theme.muted(),
    ));
    lines.push(Line::styled(
        "  column, user:jenkins one column, sev:high, ! negates;",
        theme.muted(),
    ));
    lines.push(Line::styled(
        "  a status or date from its start (status:active)",
        theme.muted(),
    ));
    lines.push(Line::styled(
        "status: long messages wrap to 3 lines; i: an error in full",
        theme.muted(),
    ));
    // The detail popup's frame (scrolls with the moves, says "more" when cut), 64 wide.
    let w = 68.min(area.width);
    let narrow = Rect::new(area.x + (area.width - w) / 2, area.y, w, area.height);
    let help = super::detail::Detail {
        title: "help".into(),
        lines,
    };
    let used = super::detail::render(&help, app.detail_scroll.get(), narrow, buf, theme);
    app.detail_scroll.set(used);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_splits_long_words_and_cuts_past_the_last_line() {
        assert_eq!(wrap("rescan started", 80, 3), ["rescan started"]);
        assert_eq!(wrap("aa bb cc", 5, 3), ["aa bb", "cc"]);
        assert_eq!(wrap("arn:aws:iam::1", 6, 3), ["arn:aw", "s:iam:", ":1"]);
        assert_eq!(wrap("one two three four", 5, 2), ["one", "two …"]);
        assert_eq!(wrap("", 10, 3), [""]);
        assert!(wrap("x", 0, 3).is_empty());
    }

    #[test]
    fn the_findings_pane_shows_whole_findings_then_how_many_more() {
        let texts = vec![
            (Severity::High, "HIGH one two".to_owned()),
            (Severity::Medium, "MED  three four five".to_owned()),
            (Severity::Low, "LOW  six".to_owned()),
        ];
        let text = |lines: Vec<(Pane, String)>| lines.into_iter().map(|(_, l)| l).collect::<Vec<_>>();
        // Room for all: every line, no marker.
        assert_eq!(
            text(findings_lines(&texts, 12, 4, "i".into())),
            ["HIGH one two", "MED  three", "four five", "LOW  six"]
        );
        // One row short: the findings that fit whole, and the marker on the last row.
        let lines = findings_lines(&texts, 40, 2, "i".into());
        assert_eq!(
            lines,
            [
                (Pane::First(Severity::High), "HIGH one two".to_owned()),
                (Pane::More, "+2 more · i shows all 3 in full".to_owned())
            ]
        );
        // A finding is never shown in part: the second (two lines) waits for the popup.
        assert_eq!(
            text(findings_lines(&texts, 12, 3, "i".into())),
            ["HIGH one two", "+2 more · i", "shows all 3…"]
        );
        assert!(findings_lines(&texts, 12, 0, "i".into()).is_empty());
    }

    #[test]
    fn centered_rounds_to_the_top_left_and_clamps() {
        assert_eq!(centered(Rect::new(0, 0, 80, 24), 64, 10), Rect::new(8, 7, 64, 10));
        assert_eq!(centered(Rect::new(2, 1, 81, 25), 64, 10), Rect::new(10, 8, 64, 10));
        assert_eq!(centered(Rect::new(0, 0, 20, 5), 64, 10), Rect::new(0, 0, 20, 5));
        assert_eq!(centered(Rect::new(0, 0, 0, 0), 64, 10), Rect::new(0, 0, 0, 0));
    }
}

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
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

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
    // A long status message wraps onto up to three lines (read in full at 80 columns).
    let status_lines = status_line(app, theme).map_or(Vec::new(), |(t, _)| wrap(&t, area.width, STATUS_MAX_LINES));
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
    render_status(app, theme, status, buf);
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
    app.except.render(area, buf, theme);
}

/// Rows the accounts table needs to show every shown row: borders, header and at least one
/// row (the empty or no-match text).
fn accounts_table_height(app: &App) -> u16 {
    let rows = u16::try_from(app.view().table.counts().0).unwrap_or(u16::MAX);
    rows.max(1).saturating_add(3)
}

/// True when the accounts table shows every row with the picture panel below it.
fn has_room_for_panel(app: &App, body: Rect) -> bool {
    body.width >= super::panel::MIN_WIDTH
        && body.height >= accounts_table_height(app).saturating_add(super::panel::height(&app.store))
}

fn render_header(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let mode = if app.write_mode { " WRITE " } else { " READ-ONLY " };
    let org = app
        .store
        .organization
        .as_ref()
        .map(|o| format!("org {}", o.id))
        .unwrap_or_default();
    let first = Line::from(vec![
        Span::styled(" keytriage ", theme.accent()),
        Span::styled(
            format!("[{mode}]"),
            if app.write_mode { theme.error() } else { theme.accent() },
        ),
        Span::raw(format!(" {org} ")),
        Span::styled(app.identity.clone(), theme.muted()),
    ]);
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
    let accounts = |n: usize| if n == 1 { "account" } else { "accounts" };
    let mut second = vec![];
    if app.store.discovery_error.is_some() {
        // The error itself is in the body, wrapped: a header line would cut its hint.
        second.push(Span::styled(
            " discovery failed (details below); press R to retry",
            theme.error(),
        ));
    } else if !app.store.discovered {
        second.push(Span::raw(" listing the organization's accounts…"));
    } else if done < total {
        let bar_w = if area.width >= 100 { 20 } else { 10 };
        let filled = (done * bar_w).checked_div(total).unwrap_or(0);
        second.push(Span::raw(format!(
            " scanning {done}/{total} {} [{}{}]",
            accounts(total),
            "█".repeat(filled),
            "·".repeat(bar_w - filled)
        )));
    } else {
        second.push(Span::raw(format!(" scanned {total} {}", accounts(total))));
    }
    for (word, n) in &outcomes {
        let style = if word == "skipped" {
            theme.muted()
        } else {
            theme.error()
        };
        second.push(Span::styled(format!(" · {n} {word}"), style));
    }
    let counts = app.store.severity_counts;
    let used: usize = second.iter().map(|s| s.width()).sum();
    // "findings:" only when the counts still fit after it.
    if used + 40 <= usize::from(area.width) {
        second.push(Span::raw("  findings:"));
    } else {
        second.push(Span::raw(" "));
    }
    for (s, n) in Severity::ALL.iter().zip(counts).take(4) {
        second.push(Span::raw(" "));
        second.push(Span::styled(format!("{} {n}", sev_label(*s)), theme.severity(*s)));
    }
    if let Some(m) = app.marks.summary() {
        second.push(Span::styled(format!("  {m}"), theme.accent()));
    }
    Paragraph::new(vec![first, Line::from(second)]).render(area, buf);
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

    let items: Vec<Line> = if findings.is_empty() {
        vec![Line::from("no findings")]
    } else {
        findings
            .iter()
            .map(|f| {
                let key = f.access_key_id.as_ref().map(|k| format!(" {k}")).unwrap_or_default();
                Line::from(vec![
                    Span::styled(format!("{:<4} ", sev_label(f.severity)), theme.severity(f.severity)),
                    Span::raw(format!(
                        "{}{key}: {}{}",
                        f.rule.id(),
                        f.detail,
                        controls_suffix(f.controls)
                    )),
                ])
            })
            .collect()
    };
    Paragraph::new(items)
        .wrap(Wrap { trim: true })
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border())
                .title(Span::styled(format!(" findings ({}) ", findings.len()), theme.accent())),
        )
        .render(fnd, buf);
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

/// Most lines a long status message takes (more is cut with `…`).
const STATUS_MAX_LINES: usize = 3;

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

/// The status line(s) above the footer ([`status_line`]), wrapped to the area's height.
fn render_status(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if let Some((t, style)) = status_line(app, theme) {
        let lines: Vec<Line<'static>> = wrap(&t, area.width, usize::from(area.height))
            .into_iter()
            .map(|l| Line::styled(l, style))
            .collect();
        Paragraph::new(lines).render(area, buf);
    }
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
    let mut lines = vec![Line::styled("keys in this view", theme.header())];
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
    fn centered_rounds_to_the_top_left_and_clamps() {
        assert_eq!(centered(Rect::new(0, 0, 80, 24), 64, 10), Rect::new(8, 7, 64, 10));
        assert_eq!(centered(Rect::new(2, 1, 81, 25), 64, 10), Rect::new(10, 8, 64, 10));
        assert_eq!(centered(Rect::new(0, 0, 20, 5), 64, 10), Rect::new(0, 0, 20, 5));
        assert_eq!(centered(Rect::new(0, 0, 0, 0), 64, 10), Rect::new(0, 0, 0, 0));
    }
}

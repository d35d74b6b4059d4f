//! The accounts view's picture panel, drawn below the table when the screen has room: the
//! ages of the active access keys (0–30, 31–90, 91–180, 181–365, over 365 days) and the
//! findings by severity (bars labelled in days and severities), for the selected account and for the whole organization, as
//! horizontal bar charts each scaled to its own largest bar.
//!
//! Once a scan was recorded, a strip below the charts says, for the selected account and for
//! the organization, how many findings are new and resolved since the previous recorded scan
//! and, with two or more recorded scans, draws a sparkline of the open findings per scan (the
//! [`Trend`] read from the history off the UI loop).
//!
//! This module owns the panel's numbers and drawing. It reads the [`Store`] and must not
//! change state.

use super::store::{AccountEntry, Store};
use super::table::truncate_middle;
use super::theme::Theme;
use super::views::sev_label;
use crate::audit::Severity;
use crate::history::Trend;
use crate::model::{AccountId, Timestamp, age_days};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Paragraph, Sparkline, Widget};

/// Fewest rows the charts take: five one-row bars and the border. Given more rows, their
/// bars grow thicker (see [`bar_layout`]).
pub const HEIGHT: u16 = 7;

/// Fewest rows the strip of changes and trends takes below the charts: two lines and the
/// border. Given more, each sparkline grows up to [`MAX_SPARK_ROWS`] rows.
pub const TREND_HEIGHT: u16 = 4;

/// Tallest sparkline of the strip, in rows.
pub const MAX_SPARK_ROWS: u16 = 8;

/// Thickest bar of a chart, in rows (thicker reads as a block, not a bar).
pub const MAX_BAR_ROWS: u16 = 3;

/// Thickness of each bar and the gap between bars (rows) for `bars` horizontal bars in a
/// chart whose inside is `rows` tall: one-row bars without gaps until there is room for
/// gaps, then the thickest bars that fit with one-row gaps, up to [`MAX_BAR_ROWS`].
pub fn bar_layout(bars: u16, rows: u16) -> (u16, u16) {
    let gaps = bars.saturating_sub(1);
    if bars == 0 || rows < bars + gaps {
        return (1, 0);
    }
    (((rows - gaps) / bars).min(MAX_BAR_ROWS), 1)
}

/// Rows of the charts with five bars of [`MAX_BAR_ROWS`] and their border.
const MAX_CHART_HEIGHT: u16 = 5 * MAX_BAR_ROWS + 4 + 2;

/// Rows of each sparkline of the strip in a panel `rows` tall: one until the charts have
/// their thickest bars, then as many as the rest allows, up to [`MAX_SPARK_ROWS`].
fn spark_rows(rows: u16) -> u16 {
    (rows.saturating_sub(MAX_CHART_HEIGHT + 2) / 2).clamp(1, MAX_SPARK_ROWS)
}

/// Rows the panel uses when `room` rows are free for it (at least [`height`]): its charts'
/// bars and the strip's sparklines grow with the room, up to [`MAX_BAR_ROWS`] and
/// [`MAX_SPARK_ROWS`]; rows beyond that are left to the table.
pub fn height_in(store: &Store, room: u16) -> u16 {
    if room <= HEIGHT {
        return HEIGHT;
    }
    // The charts as tall as their bars use (no blank rows inside their borders).
    let charts = |rows: u16| {
        let (width, gap) = bar_layout(5, rows.min(MAX_CHART_HEIGHT).saturating_sub(2));
        (5 * width + 4 * gap + 2).max(HEIGHT)
    };
    if store.changes.is_some() && room >= HEIGHT + TREND_HEIGHT {
        let strip = 2 * spark_rows(room) + 2;
        strip + charts(room.saturating_sub(strip))
    } else {
        charts(room)
    }
}

/// Rows the panel wants at least: the charts, plus the strip once a scan was recorded (the
/// store knows its changes); [`height_in`] says how many it uses given more. With fewer
/// rows, down to [`HEIGHT`], the charts are drawn without the strip.
pub fn height(store: &Store) -> u16 {
    if store.changes.is_some() {
        HEIGHT + TREND_HEIGHT
    } else {
        HEIGHT
    }
}

/// Findings new and resolved since the previous recorded scan, in `account` (`None`: the
/// whole organization). Source: the store's triage of the last recorded scan.
pub fn changes(store: &Store, account: Option<&AccountId>) -> (usize, usize) {
    let mine = |id: &AccountId| account.is_none_or(|a| a == id);
    let new = store
        .accounts
        .iter()
        .filter(|e| mine(&e.account.id))
        .flat_map(|e| &e.findings)
        .filter(|f| {
            store
                .triage
                .get(&crate::triage::FindingId::of(f))
                .is_some_and(|t| t.status == crate::triage::Status::New)
        })
        .count();
    let resolved = store
        .changes
        .as_ref()
        .map_or(0, |(_, r)| r.iter().filter(|r| mine(&r.id.account_id)).count());
    (new, resolved)
}

/// Narrowest screen the panel is drawn on.
pub const MIN_WIDTH: u16 = 60;

/// Labels of the key-age buckets, in days.
pub const AGE_BUCKETS: [&str; 5] = ["0–30", "31–90", "91–180", "181–365", ">365"];

/// Counts of active keys per age bucket (whole days, UTC, at `now`): `[0–30, 31–90,
/// 91–180, 181–365, >365]`. Source: each key's `CreateDate` (`iam:ListAccessKeys` or the
/// credential report).
pub fn key_ages<'a>(entries: impl IntoIterator<Item = &'a AccountEntry>, now: Timestamp) -> [u64; 5] {
    let mut out = [0u64; 5];
    let keys = entries
        .into_iter()
        .filter_map(|e| e.scan.as_ref())
        .flat_map(|s| &s.users)
        .flat_map(|u| &u.access_keys)
        .filter(|k| k.is_active());
    for k in keys {
        let bucket = match age_days(k.created, now) {
            ..=30 => 0,
            31..=90 => 1,
            91..=180 => 2,
            181..=365 => 3,
            _ => 4,
        };
        out[bucket] += 1;
    }
    out
}

/// Findings per severity, `[critical, high, medium, low]`, excepted ones left out (as in
/// the header's totals; `triage` says which, by identity).
pub fn severities<'a>(
    entries: impl IntoIterator<Item = &'a AccountEntry>,
    triage: &std::collections::HashMap<crate::triage::FindingId, crate::triage::Triage>,
) -> [u64; 4] {
    let mut out = [0u64; 4];
    let excepted = |f: &crate::audit::Finding| {
        !triage.is_empty()
            && triage
                .get(&crate::triage::FindingId::of(f))
                .is_some_and(|t| t.status == crate::triage::Status::Excepted)
    };
    for f in entries.into_iter().flat_map(|e| &e.findings).filter(|f| !excepted(f)) {
        if let Some(i) = Severity::ALL.iter().take(4).position(|s| *s == f.severity) {
            out[i] += 1;
        }
    }
    out
}

/// ` {chart} · {name} `, fitted to `width` (the chart's, borders included). The chart's
/// name always leads, in its long form while one of `names` fits whole beside it, else its
/// short form (`charts`: long first); `names` are the subject's names, most telling first
/// (an account's whole name, then without the prefix every account shares). With no name
/// whole, the last one is cut in the middle (both ends show) beside the short chart name;
/// with no room even for that, the chart's short name alone.
fn title(charts: [&str; 2], names: &[&str], width: u16) -> String {
    let room = usize::from(width).saturating_sub(2);
    for chart in charts {
        for name in names {
            let full = format!(" {chart} · {name} ");
            if full.chars().count() <= room {
                return full;
            }
        }
    }
    let chart = charts[1];
    // " {chart} · " and a trailing space around the cut name; at least 4 cells of it.
    let around = chart.chars().count() + 5;
    match (names.last(), room.checked_sub(around)) {
        (Some(name), Some(left)) if left >= 4 => {
            let left = u16::try_from(left).unwrap_or(u16::MAX);
            format!(" {chart} · {} ", truncate_middle(name, left))
        }
        _ => format!(
            " {} ",
            super::table::truncate(chart, u16::try_from(room.saturating_sub(2)).unwrap_or(0))
        ),
    }
}

/// The chart names: key ages and findings by severity, long and short.
const AGE_CHART: [&str; 2] = ["key age", "age"];
const SEV_CHART: [&str; 2] = ["findings", "sev"];

/// `name` without the prefix every account's name shares, up to its last `-`, `_` or `.`
/// (`acme-prod-web` among `acme-…` accounts: `prod-web`); `name` itself when there is no
/// such prefix, fewer than two accounts, or nothing would be left.
fn without_shared_prefix<'a>(name: &'a str, store: &Store) -> &'a str {
    if store.accounts.len() < 2 {
        return name;
    }
    let mut shared = name.len();
    for e in &store.accounts {
        let other = e.account.name.as_str();
        shared = shared.min(
            name.char_indices()
                .zip(other.chars())
                .find(|((_, a), b)| a != b)
                .map_or(name.len().min(other.len()), |((i, _), _)| i),
        );
    }
    match name[..shared].rfind(['-', '_', '.']) {
        Some(i) if i + 1 < name.len() => &name[i + 1..],
        _ => name,
    }
}

/// Why an account's numbers are unknown: still being read, skipped (not ACTIVE: nothing
/// wrong), or not read (denied or failed: an error).
fn why_unknown(e: Option<&AccountEntry>, theme: &Theme) -> Line<'static> {
    let skipped = e
        .and_then(|e| e.scan.as_ref())
        .is_some_and(|s| s.scan.status == crate::model::ScanStatus::Skipped);
    if e.is_some_and(AccountEntry::scanning) {
        Line::styled("scanning…", theme.muted())
    } else if skipped {
        Line::styled("skipped: only ACTIVE accounts are read", theme.muted())
    } else {
        Line::styled("unknown: the account was not read", theme.error())
    }
}

/// A chart's place for an account whose numbers are unknown: its title and why.
fn unknown(title: String, why: Line<'static>, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(title, theme.accent()));
    Paragraph::new(why)
        .wrap(ratatui::widgets::Wrap { trim: true })
        .block(block)
        .render(area, buf);
}

/// One bar of a chart: its label, count and style.
type BarSpec = (String, u64, ratatui::style::Style);

/// The value each bar is drawn at so that every non-zero count draws at least one cell
/// beyond its number (the number is written over the bar: a count of 3 beside 133 draws
/// `3█`, not a bare `3`), in the `cells` a bar may take; zero stays zero, and no bar
/// outgrows the largest. Bars are scaled to the largest value.
pub fn drawn_values(counts: &[u64], cells: u16) -> Vec<u64> {
    let max = counts.iter().copied().max().unwrap_or(0);
    let cells = u64::from(cells.max(1));
    counts
        .iter()
        .map(|&n| {
            if n == 0 {
                return 0;
            }
            // A bar is value × cells / max long, rounded down: `len` cells need
            // max × len / cells, rounded up.
            let len = u64::try_from(n.to_string().len()).unwrap_or(u64::MAX) + 1;
            n.max((max * len).div_ceil(cells)).min(max)
        })
        .collect()
}

fn chart(title: String, bars: Vec<BarSpec>, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(title, theme.accent()));
    let inner = block.inner(area);
    // The bars' room: the inside less the widest label and its margin.
    let label_w = bars
        .iter()
        .map(|(l, _, _)| u16::try_from(l.chars().count()).unwrap_or(u16::MAX))
        .max()
        .unwrap_or(0);
    let cells = inner.width.saturating_sub(label_w + 1);
    let counts: Vec<u64> = bars.iter().map(|(_, n, _)| *n).collect();
    let bars: Vec<Bar<'static>> = bars
        .into_iter()
        .zip(drawn_values(&counts, cells))
        .map(|((label, n, style), drawn)| {
            Bar::default()
                .label(Line::from(label))
                .value(drawn)
                .text_value(n.to_string())
                .style(style)
        })
        .collect();
    // Every chart sized as the five-bar one, so bars line up across the panel.
    let (width, gap) = bar_layout(5, inner.height);
    BarChart::default()
        .direction(Direction::Horizontal)
        .block(block)
        .bar_width(width)
        .bar_gap(gap)
        .data(BarGroup::default().bars(&bars))
        .render(area, buf);
}

/// One line of the strip: `name  +N new  -N resolved  ▁▃▅█ open N (±d) in LO–HI` (the
/// sparkline of the latest scans that fit, scaled from the lowest (▁) to the highest (█)
/// count of the scans shown, so a week-to-week change is visible on a large backlog; ±d
/// against the scan before; "trend after 2 recorded scans" before there are two).
fn trend_line(
    label: &str,
    (new, resolved): (usize, usize),
    series: &[u64],
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let text = format!(
        "{:<16} {:>4} new {:>4} resolved ",
        truncate_middle(label, 16),
        format!("+{new}"),
        format!("-{resolved}")
    );
    // The words on the last row, beside the sparkline's base; the sparkline takes every row.
    let base = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: area.height.min(1),
        ..area
    };
    let head = u16::try_from(text.chars().count()).unwrap_or(u16::MAX).min(area.width);
    Paragraph::new(Line::from(text)).render(Rect { width: head, ..base }, buf);
    let rest = Rect {
        x: area.x + head,
        width: area.width - head,
        ..area
    };
    let rest_base = Rect {
        x: rest.x,
        width: rest.width,
        ..base
    };
    if series.len() < 2 {
        Paragraph::new(Line::styled(" trend after 2 recorded scans", theme.muted())).render(rest_base, buf);
        return;
    }
    let (shown, tail) = spark_window(series, rest.width);
    let tail_w = u16::try_from(tail.chars().count()).unwrap_or(u16::MAX).min(rest.width);
    let spark_w = u16::try_from(shown.len()).unwrap_or(0).min(rest.width - tail_w);
    Sparkline::default()
        .data(spark_levels(shown))
        .max(8)
        .style(theme.accent())
        .render(Rect { width: spark_w, ..rest }, buf);
    Paragraph::new(Line::from(tail)).render(
        Rect {
            x: rest.x + spark_w,
            width: tail_w,
            ..rest_base
        },
        buf,
    );
}

/// The latest scans of `series` (two or more) that fit in `width` cells beside their label
/// ` open N (±d) in LO–HI` (N the latest count, d its change since the scan before, LO and HI
/// the lowest and highest count of the scans shown), and that label.
fn spark_window(series: &[u64], width: u16) -> (&[u64], String) {
    let last = series.last().copied().unwrap_or(0);
    let before = series.len().checked_sub(2).map_or(last, |i| series[i]);
    let d = i128::from(last) - i128::from(before);
    let label = |w: &[u64]| match (w.iter().min(), w.iter().max()) {
        (Some(lo), Some(hi)) => format!(" open {last} ({d:+}) in {lo}–{hi}"),
        _ => format!(" open {last} ({d:+})"),
    };
    let fit = |label: &str| usize::from(width).saturating_sub(label.chars().count());
    // The label of the window depends on the window: size it by the whole series' label, then
    // shrink once if the window's own label came out longer.
    let mut room = fit(&label(series));
    let mut shown = &series[series.len().saturating_sub(room)..];
    let mut tail = label(shown);
    if fit(&tail) < shown.len() {
        room = fit(&tail);
        shown = &series[series.len().saturating_sub(room)..];
        tail = label(shown);
    }
    (shown, tail)
}

/// `shown` as sparkline levels of 8: the lowest count 1 (▁), the highest 8 (█), linear
/// between; every level 4 (▄) when they are all equal.
fn spark_levels(shown: &[u64]) -> Vec<u64> {
    let lo = shown.iter().min().copied().unwrap_or(0);
    let hi = shown.iter().max().copied().unwrap_or(0);
    shown
        .iter()
        .map(|v| if hi == lo { 4 } else { 1 + (v - lo) * 7 / (hi - lo) })
        .collect()
}

/// Draws the strip: changes since the previous recorded scan and the trend of open findings,
/// for the account `selected` and the organization.
fn render_trend(
    store: &Store,
    selected: Option<&AccountEntry>,
    trend: Option<&Trend>,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let since = store
        .changes
        .as_ref()
        .and_then(|(c, _)| c.previous_scan_at)
        .map_or_else(
            || "first recorded scan".to_owned(),
            |t| format!("since {}", t.format("%Y-%m-%d %H:%M UTC")),
        );
    let scans = trend.map_or(0, |t| t.scans.len());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(
            format!(
                " changes {since} · open findings over {} ",
                crate::text::plural(scans, "scan", "scans")
            ),
            theme.accent(),
        ));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    // Two lines (the account's, the organization's), each as tall as the strip allows.
    let rows = (inner.height / 2).clamp(1, MAX_SPARK_ROWS);
    let line = |i: u16| {
        let y = inner.y + i * rows;
        Rect {
            y,
            height: rows.min(inner.bottom().saturating_sub(y)),
            ..inner
        }
    };
    let empty: Vec<u64> = Vec::new();
    if let Some(e) = selected {
        let series = trend.and_then(|t| t.by_account.get(&e.account.id)).unwrap_or(&empty);
        trend_line(
            &e.account.name,
            changes(store, Some(&e.account.id)),
            series,
            theme,
            line(0),
            buf,
        );
    }
    if inner.height > rows {
        let org = trend.map(Trend::org).unwrap_or_default();
        trend_line("organization", changes(store, None), &org, theme, line(1), buf);
    }
}

/// Draws the panel for the account `selected` (if any) and the organization in `area`, all
/// of it: the strip of changes and trends at the bottom when the area has room for it
/// ([`TREND_HEIGHT`] rows, more for taller sparklines in a tall area), the charts above with
/// bars as thick as their rows allow.
pub fn render(
    store: &Store,
    selected: Option<&AccountEntry>,
    trend: Option<&Trend>,
    now: Timestamp,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let area = if store.changes.is_some() && area.height >= HEIGHT + TREND_HEIGHT {
        let strip_h = 2 * spark_rows(area.height) + 2;
        let [charts, strip] = Layout::vertical([Constraint::Fill(1), Constraint::Length(strip_h)]).areas(area);
        render_trend(store, selected, trend, theme, strip, buf);
        charts
    } else {
        area
    };
    let parts = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Ratio(1, 4); 4])
        .split(area);
    let name = selected.map(|e| e.account.name.as_str()).unwrap_or("no account");
    let n = store.accounts.len();
    let org_long = format!("org, {}", crate::text::plural(n, "account", "accounts"));
    let org_short = format!("org ({n})");
    let org: [&str; 3] = [&org_long, &org_short, "org"];
    let names = [name, without_shared_prefix(name, store)];
    let age_bars = |counts: [u64; 5]| -> Vec<BarSpec> {
        AGE_BUCKETS
            .iter()
            .zip(counts)
            .map(|(label, n)| {
                // Older than a year is the worst bucket: it carries the high colour.
                let style = if *label == ">365" {
                    theme.severity(Severity::High)
                } else {
                    theme.muted()
                };
                (format!("{label:>7}"), n, style)
            })
            .collect()
    };
    let sev_bars = |counts: [u64; 4]| -> Vec<BarSpec> {
        Severity::ALL
            .iter()
            .zip(counts)
            .map(|(s, n)| (format!("{:>4}", sev_label(*s)), n, theme.severity(*s)))
            .collect()
    };
    let account = selected.into_iter();
    let read = selected.is_none_or(AccountEntry::was_read);
    let why = why_unknown(selected, theme);
    if read {
        chart(
            title(AGE_CHART, &names, parts[0].width),
            age_bars(key_ages(account.clone(), now)),
            theme,
            parts[0],
            buf,
        );
    } else {
        unknown(
            title(AGE_CHART, &names, parts[0].width),
            why.clone(),
            theme,
            parts[0],
            buf,
        );
    }
    chart(
        title(AGE_CHART, &org, parts[1].width),
        age_bars(key_ages(&store.accounts, now)),
        theme,
        parts[1],
        buf,
    );
    if read {
        chart(
            title(SEV_CHART, &names, parts[2].width),
            sev_bars(severities(account, &store.triage)),
            theme,
            parts[2],
            buf,
        );
    } else {
        unknown(title(SEV_CHART, &names, parts[2].width), why, theme, parts[2], buf);
    }
    chart(
        title(SEV_CHART, &org, parts[3].width),
        sev_bars(severities(&store.accounts, &store.triage)),
        theme,
        parts[3],
        buf,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Policy;
    use crate::model::{AccessKey, AccessKeyId, Account, AccountId, AccountScan, KeyStatus, RootUser, User};
    use chrono::{Duration, TimeZone, Utc};

    fn strip_line(series: &[u64], width: u16) -> String {
        let area = Rect::new(0, 0, width, 1);
        let mut buf = Buffer::empty(area);
        trend_line("prod", (1, 2), series, &Theme { no_color: true }, area, &mut buf);
        (0..width).map(|x| buf[(x, 0)].symbol().to_owned()).collect()
    }

    #[test]
    fn the_sparkline_is_scaled_from_the_lowest_count_shown_and_labelled() {
        // A backlog of ~130 open findings moving by a few a week: scaled from 0 it drew
        // "▇▇▇█", flat.
        let line = strip_line(&[130, 131, 129, 133], 80);
        assert!(line.contains("▂▄▁█ open 133 (+4) in 129–133"), "{line}");
        // Equal counts: a level line in the middle; a fall is signed.
        assert!(strip_line(&[7, 7, 7], 80).contains("▄▄▄ open 7 (+0) in 7–7"));
        assert!(strip_line(&[9, 4], 80).contains("█▁ open 4 (-5) in 4–9"));
        // Narrow: the latest scans that fit, labelled with their own range.
        let series: Vec<u64> = (0..52).map(|i| 100 + i).collect();
        let line = strip_line(&series, 80);
        assert!(line.ends_with("▁▁▂▂▃▃▄▄▅▅▆▆▇▇█ open 151 (+1) in 137–151"), "{line}");
        // No room for a sparkline: the count alone.
        assert!(
            strip_line(&series, 60).ends_with(" open 151 (+1)      "),
            "{}",
            strip_line(&series, 60)
        );
        for w in [0, 1, 10, 30] {
            strip_line(&series, w);
        }
    }

    #[test]
    fn every_non_zero_count_draws_a_bar_past_its_number() {
        // The demo's org: CRIT 3 beside HIGH 133 in 12 cells drew nothing (3 × 12 / 133 = 0).
        let drawn = drawn_values(&[3, 133, 34, 13], 12);
        let cells = |v: u64| v * 12 / 133;
        assert_eq!(drawn[1], 133, "the largest is itself");
        assert_eq!(cells(drawn[0]), 2, "CRIT 3 draws `3█`");
        assert_eq!(cells(drawn[2]), 3, "MED 34: `34█`");
        assert_eq!(cells(drawn[3]), 3, "LOW 13: `13█`");
        assert_eq!(drawn_values(&[0, 5], 10), [0, 5], "zero stays zero");
        assert_eq!(drawn_values(&[1, 2], 1), [2, 2], "never past the largest");
        assert_eq!(drawn_values(&[], 0), Vec::<u64>::new());
    }

    #[test]
    fn a_chart_title_keeps_the_chart_name_and_cuts_the_account_in_the_middle() {
        let web = ["acme-prod-web", "prod-web"];
        let org = ["org, 9 accounts", "org (9)", "org"];
        assert_eq!(title(AGE_CHART, &web, 40), " key age · acme-prod-web ");
        // 100 columns: four boxes of 25; 80 columns: of 20.
        assert_eq!(title(AGE_CHART, &web, 25), " key age · prod-web ");
        assert_eq!(title(SEV_CHART, &org, 25), " findings · org (9) ");
        assert_eq!(title(AGE_CHART, &web, 20), " age · prod-web ");
        assert_eq!(title(SEV_CHART, &web, 20), " sev · prod-web ");
        assert_eq!(title(SEV_CHART, &org, 20), " findings · org ");
        let research = ["acme-sandbox-research", "sandbox-research"];
        assert_eq!(title(AGE_CHART, &research, 20), " age · sand…earch ");
        // No room for a name: the chart's name alone.
        assert_eq!(title(SEV_CHART, &web, 10), " sev ");
        for w in 0..30 {
            assert!(title(AGE_CHART, &research, w).chars().count() <= usize::from(w.max(2)));
        }
    }

    #[test]
    fn the_shared_prefix_of_account_names_is_left_out() {
        let mut store = Store::new();
        let names = ["acme-prod-web", "acme-prod-payments", "acme-dev"];
        store.accounts = names
            .iter()
            .enumerate()
            .map(|(n, name)| {
                let mut a = Account::from_id(AccountId::parse(&format!("11111111111{n}")).unwrap());
                a.name = (*name).into();
                AccountEntry {
                    account: a,
                    phase: None,
                    scan: None,
                    findings: Vec::new(),
                    scanned_at: None,
                }
            })
            .collect();
        assert_eq!(without_shared_prefix("acme-prod-web", &store), "prod-web");
        assert_eq!(without_shared_prefix("acme-dev", &store), "dev");
        store.accounts.truncate(1);
        assert_eq!(without_shared_prefix("acme-prod-web", &store), "acme-prod-web");
    }

    #[test]
    fn bars_thicken_with_the_room_and_the_panel_takes_only_what_its_bars_use() {
        assert_eq!(bar_layout(5, 5), (1, 0), "the least: five rows, no gaps");
        assert_eq!(bar_layout(5, 8), (1, 0));
        assert_eq!(bar_layout(5, 9), (1, 1));
        assert_eq!(bar_layout(5, 14), (2, 1));
        assert_eq!(bar_layout(5, 40), (MAX_BAR_ROWS, 1), "never a block");
        assert_eq!(bar_layout(4, 3), (1, 0), "too few rows: one-row bars, clipped");
        let store = Store::new();
        assert_eq!(height_in(&store, 0), HEIGHT);
        assert_eq!(height_in(&store, 10), HEIGHT, "no blank rows inside the charts");
        assert_eq!(height_in(&store, 12), 11);
        assert_eq!(height_in(&store, 44), 21, "the rest stays the table's");
        // With a recorded scan the strip of sparklines grows once the bars are thickest.
        assert_eq!(spark_rows(HEIGHT + TREND_HEIGHT), 1);
        assert_eq!(spark_rows(MAX_CHART_HEIGHT + TREND_HEIGHT), 1);
        assert_eq!(spark_rows(MAX_CHART_HEIGHT + 8), 3);
        assert_eq!(spark_rows(60), MAX_SPARK_ROWS);
    }

    #[test]
    fn key_ages_fall_in_their_buckets_at_the_edges_and_skip_inactive_keys() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).single().unwrap();
        let key = |n: usize, days: i64, status| AccessKey {
            id: AccessKeyId::from(format!("AKIA{n:016}")),
            status,
            created: now - Duration::days(days),
            last_used: None,
        };
        let ages = [0, 30, 31, 90, 91, 180, 181, 365, 366, 2300];
        let mut keys: Vec<AccessKey> = ages
            .iter()
            .enumerate()
            .map(|(n, d)| key(n, *d, KeyStatus::Active))
            .collect();
        keys.push(key(99, 1000, KeyStatus::Inactive));
        let user = User {
            credentials: Vec::new(),
            name: "u".into(),
            arn: "arn:aws:iam::111111111111:user/u".into(),
            path: "/".into(),
            created: now - Duration::days(3000),
            password_enabled: false,
            password_last_used: None,
            mfa_active: false,
            mfa_devices: vec![],
            access_keys: keys,
        };
        let account = Account::from_id(AccountId::parse("111111111111").unwrap());
        let root = RootUser {
            signing_certificates: Vec::new(),
            access_keys_present: false,
            mfa_enabled: true,
            mfa_kind: None,
            access_keys: vec![],
        };
        let mut store = Store::new();
        store.apply(
            crate::scan::ScanEvent::Discovered {
                scan_id: Store::SCAN_ID,
                organization: None,
                accounts: vec![account.clone()],
                warnings: vec![],
                missing: vec![],
            },
            &Policy::default(),
            now,
        );
        store.apply(
            crate::scan::ScanEvent::AccountDone {
                scan_id: Store::SCAN_ID,
                scan: Box::new(AccountScan::ok(account, root, vec![user], vec![])),
            },
            &Policy::default(),
            now,
        );
        assert_eq!(key_ages(&store.accounts, now), [2, 2, 2, 2, 2]);
        // 6 old keys not rotated (high), several active keys (medium), the inactive key (low).
        let sev = severities(&store.accounts, &store.triage);
        assert_eq!(sev[0], 0, "no critical");
        assert_eq!(sev[1], 6, "key-not-rotated for the 6 keys over 90 days");
    }
}

//! The exception flow: `e` on a finding (or on the marked findings) opens a dialog — reason
//! (required), days until expiry (default [`DEFAULT_DAYS`], at most the configured cap) and
//! approver (default: the caller's ARN) — and on confirm appends one `[[exception]]` per
//! finding to the exceptions file ([`crate::exceptions::append_all`]: comments and layout
//! kept), journaled as `except` like any write. It writes no AWS state, so it works in a
//! read-only session (and says so). Once written, the findings show as excepted and leave
//! the severity totals at once ([`apply_to_store`]), without a rescan.
//!
//! This module owns the dialog's state and steps (edit → writing → closed, or back to edit
//! with the error and every typed field kept) and the background write ([`write`]). It does
//! no I/O on the UI loop: the write is an effect the loop runs off it.

use super::dialog::popup;
use super::store::Store;
use super::theme::Theme;
use crate::audit::Severity;
use crate::exceptions::{DEFAULT_MAX_DAYS, Exception};
use crate::journal::{ActionResult, Entry, Journal, Phase};
use crate::model::{KeyAction, Timestamp};
use crate::triage::{FindingId, Status, Triage};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use std::path::PathBuf;

/// Days until expiry the dialog proposes (never more than the configured cap).
pub const DEFAULT_DAYS: u32 = 90;

/// The targets the dialog lists in full; more are counted.
const LISTED: usize = 5;

/// A field of the dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Why the risk is accepted (required).
    Reason,
    /// Whole days from today (UTC) until the exception expires: 1 to the cap.
    Days,
    /// Who accepted it.
    Approver,
}

impl Field {
    const ALL: [Field; 3] = [Field::Reason, Field::Days, Field::Approver];

    fn label(self) -> &'static str {
        match self {
            Field::Reason => "reason",
            Field::Days => "days",
            Field::Approver => "approver",
        }
    }
}

/// The open dialog.
#[derive(Clone, Debug)]
pub struct Form {
    /// The findings to except, with their severity.
    pub targets: Vec<(FindingId, Severity)>,
    /// Marked rows that are not findings in the latest scan (said in the dialog).
    pub left_out: Vec<String>,
    /// Typed fields.
    pub reason: String,
    /// Days, as typed.
    pub days: String,
    /// Approver, as typed.
    pub approver: String,
    /// The field keys type into.
    pub focus: Field,
    /// Why the last confirm was refused or the write failed.
    pub error: Option<String>,
    /// The write is running in the background.
    pub writing: bool,
    /// The session is read-only (`--write` not given): said in the dialog.
    pub read_only: bool,
    /// The UTC day the dialog opened (the expiry shown is counted from it).
    pub today: chrono::NaiveDate,
}

impl Form {
    fn field_mut(&mut self) -> &mut String {
        match self.focus {
            Field::Reason => &mut self.reason,
            Field::Days => &mut self.days,
            Field::Approver => &mut self.approver,
        }
    }

    fn value(&self, f: Field) -> &str {
        match f {
            Field::Reason => &self.reason,
            Field::Days => &self.days,
            Field::Approver => &self.approver,
        }
    }
}

/// The flow: where exceptions go, the ones in force this session, and the open dialog.
#[derive(Clone, Debug)]
pub struct ExceptFlow {
    /// The exceptions file appended to; `None` when there is none to name (no config dir and
    /// no `--exceptions`).
    pub path: Option<PathBuf>,
    /// The longest an exception may run, in days (config `exception_max_days`).
    pub max_days: u32,
    /// The exceptions in force this session: the file's at start plus those appended since
    /// (the next recorded scan is triaged with them).
    pub exceptions: Vec<Exception>,
    form: Option<Form>,
}

impl Default for ExceptFlow {
    fn default() -> Self {
        Self {
            path: None,
            max_days: DEFAULT_MAX_DAYS,
            exceptions: Vec::new(),
            form: None,
        }
    }
}

/// What a key in the dialog asks of the app.
#[derive(Debug, PartialEq, Eq)]
pub enum Asked {
    /// Nothing beyond the dialog.
    Nothing,
    /// The dialog was closed without writing.
    Cancelled,
    /// Write these entries to the file (the dialog waits for [`ExceptFlow::finished`]).
    Write(PathBuf, Vec<Exception>),
}

impl ExceptFlow {
    /// True while the dialog is open.
    pub fn is_open(&self) -> bool {
        self.form.is_some()
    }

    /// The open dialog.
    pub fn form(&self) -> Option<&Form> {
        self.form.as_ref()
    }

    /// Opens the dialog on `targets`; `approver` is the caller's ARN.
    pub fn open(
        &mut self,
        targets: Vec<(FindingId, Severity)>,
        left_out: Vec<String>,
        approver: &str,
        read_only: bool,
        now: Timestamp,
    ) {
        self.form = Some(Form {
            targets,
            left_out,
            reason: String::new(),
            days: DEFAULT_DAYS.min(self.max_days).to_string(),
            approver: approver.to_owned(),
            focus: Field::Reason,
            error: None,
            writing: false,
            read_only,
            today: now.date_naive(),
        });
    }

    /// A key in the open dialog: Tab/↓ and Shift-Tab/↑ move between fields, Enter confirms,
    /// Esc cancels, Backspace and Ctrl-u edit, other characters are typed. While the write
    /// runs only Esc is refused (the dialog waits for the result).
    pub fn on_key(&mut self, key: KeyEvent, now: Timestamp) -> Asked {
        let Some(form) = self.form.as_mut() else {
            return Asked::Nothing;
        };
        if form.writing {
            return Asked::Nothing;
        }
        let at = Field::ALL.iter().position(|f| *f == form.focus).unwrap_or(0);
        match key.code {
            KeyCode::Esc => {
                self.form = None;
                return Asked::Cancelled;
            }
            KeyCode::Tab | KeyCode::Down => form.focus = Field::ALL[(at + 1) % Field::ALL.len()],
            KeyCode::BackTab | KeyCode::Up => form.focus = Field::ALL[(at + Field::ALL.len() - 1) % Field::ALL.len()],
            KeyCode::Backspace => {
                form.field_mut().pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => form.field_mut().clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => form.field_mut().push(c),
            KeyCode::Enter => {
                let path = self.path.clone();
                return match self.entries(now).and_then(|e| {
                    path.map(|p| (p, e))
                        .ok_or_else(|| "no exceptions file: start keytriage with --exceptions PATH".to_owned())
                }) {
                    Ok((path, entries)) => {
                        if let Some(form) = self.form.as_mut() {
                            form.error = None;
                            form.writing = true;
                        }
                        Asked::Write(path, entries)
                    }
                    Err(e) => {
                        if let Some(form) = self.form.as_mut() {
                            form.error = Some(e);
                        }
                        Asked::Nothing
                    }
                };
            }
            _ => {}
        }
        Asked::Nothing
    }

    /// The entries the dialog's fields make, one per target, expiring `days` after `now`'s
    /// UTC day.
    ///
    /// # Errors
    /// An empty reason or approver; days not a whole number from 1 to the cap.
    fn entries(&self, now: Timestamp) -> Result<Vec<Exception>, String> {
        let Some(form) = &self.form else {
            return Err("no dialog open".into());
        };
        let reason = form.reason.trim();
        if reason.is_empty() {
            return Err("a reason is required: say why this risk is accepted".into());
        }
        let days = form
            .days
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=self.max_days).contains(d))
            .ok_or_else(|| {
                format!(
                    "days must be a whole number from 1 to {} (the longest an exception may run), not '{}'",
                    self.max_days,
                    form.days.trim()
                )
            })?;
        let approver = form.approver.trim();
        if approver.is_empty() {
            return Err("an approver is required (a name or an ARN)".into());
        }
        let expires = now.date_naive() + chrono::Days::new(u64::from(days));
        form.targets
            .iter()
            .map(|(id, _)| {
                Exception::new(
                    id.rule,
                    id.account_id.clone(),
                    Some(id.user.clone()),
                    id.access_key_id.as_ref().map(|k| k.as_str().to_owned()),
                    reason.to_owned(),
                    approver.to_owned(),
                    expires,
                )
            })
            .collect()
    }

    /// The background write ended: on success the dialog closes and the entries join the
    /// session's exceptions (returned, to apply to the store); on failure the dialog stays
    /// with the error and every field as typed.
    pub fn finished(&mut self, result: Result<Vec<Exception>, String>) -> Option<Vec<Exception>> {
        match result {
            Ok(entries) => {
                self.form = None;
                self.exceptions.extend(entries.iter().cloned());
                Some(entries)
            }
            Err(e) => {
                if let Some(form) = self.form.as_mut() {
                    form.writing = false;
                    form.error = Some(e);
                }
                None
            }
        }
    }

    /// Draws the open dialog (nothing when closed) centred in `area`; each finding names
    /// its account by name and id (from `store`).
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme, store: &Store) {
        let Some(form) = &self.form else { return };
        let n = form.targets.len();
        let title = format!(" Except {}? ", crate::text::plural(n, "finding", "findings"));
        let mut lines: Vec<Line> = Vec::new();
        for (id, sev) in form.targets.iter().take(LISTED) {
            let key = id.access_key_id.as_ref().map(|k| format!(" · {k}")).unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(format!("{:<4} ", super::views::sev_label(*sev)), theme.severity(*sev)),
                Span::raw(format!(
                    "{} · {} ({}) · {}{key}",
                    id.rule,
                    super::views::account_name(store, &id.account_id),
                    id.account_id,
                    id.user
                )),
            ]));
        }
        if n > LISTED {
            lines.push(Line::from(format!("… and {} more", n - LISTED)));
        }
        for l in &form.left_out {
            lines.push(Line::styled(format!("left out: {l}"), theme.muted()));
        }
        let file = self.path.as_ref().map_or_else(
            || "none (start with --exceptions PATH)".to_owned(),
            |p| p.display().to_string(),
        );
        lines.push(Line::from(format!("file      {file}")));
        let mode = if form.read_only {
            "read-only session: this is allowed — it writes only the exceptions file (journaled), no AWS state"
        } else {
            "writes only the exceptions file (journaled), no AWS state"
        };
        lines.push(Line::styled(mode, theme.muted()));
        lines.push(Line::from(""));
        for f in Field::ALL {
            let focused = form.focus == f;
            let cursor = if focused && !form.writing { "_" } else { "" };
            let value = Span::styled(
                format!("{}{cursor}", form.value(f)),
                if focused {
                    theme.header().add_modifier(Modifier::UNDERLINED)
                } else {
                    theme.header()
                },
            );
            let mut spans = vec![
                Span::raw(format!("{} {:<9}", if focused { ">" } else { " " }, f.label())),
                value,
            ];
            if f == Field::Days {
                let hint = match form.days.trim().parse::<u64>() {
                    Ok(d) if d >= 1 && d <= u64::from(self.max_days) => format!(
                        "  expires {} (at most {})",
                        form.today + chrono::Days::new(d),
                        crate::text::plural(self.max_days, "day", "days")
                    ),
                    _ => format!("  (1 to {})", self.max_days),
                };
                spans.push(Span::styled(hint, theme.muted()));
            }
            lines.push(Line::from(spans));
        }
        if let Some(e) = &form.error {
            lines.push(Line::styled(format!("! {e}"), theme.error()));
        }
        lines.push(Line::from(""));
        let keys = if form.writing {
            "writing the exceptions file…"
        } else {
            "Tab next field · Enter except · Esc cancel"
        };
        lines.push(Line::styled(keys, theme.muted()));
        popup(&title, lines, area, buf, theme);
    }
}

/// Marks every finding of `store` that one of `entries` covers (and is in force at `now`)
/// as excepted, and recounts the severity totals without the excepted findings.
pub fn apply_to_store(store: &mut Store, entries: &[Exception], now: Timestamp) -> usize {
    let mut excepted = 0;
    let mut counts = [0usize; 5];
    for f in store.accounts.iter().flat_map(|e| &e.findings) {
        let id = FindingId::of(f);
        if let Some(e) = entries.iter().find(|e| e.in_force(now) && e.matches(&id)) {
            let t = store.triage.entry(id).or_insert_with(|| Triage {
                first_seen: now,
                status: Status::New,
                exception: None,
                exception_expired_on: None,
                reopened_after: None,
            });
            if t.status != Status::Excepted {
                excepted += 1;
            }
            t.status = Status::Excepted;
            t.exception = Some(e.clone());
            t.exception_expired_on = None;
        }
    }
    for f in store.accounts.iter().flat_map(|e| &e.findings) {
        let out = store
            .triage
            .get(&FindingId::of(f))
            .is_some_and(|t| t.status == Status::Excepted);
        if !out {
            let i = Severity::ALL.iter().position(|s| *s == f.severity).unwrap_or(4);
            counts[i] += 1;
        }
    }
    store.severity_counts = counts;
    if let Some((changes, _)) = store.changes.as_mut() {
        changes.excepted += excepted;
    }
    store.generation += 1;
    excepted
}

/// Before a fresh scan result of `account` replaces its findings in `store` (which then takes
/// every old finding out of the severity totals): puts its excepted findings, left out of
/// the totals, back in, so they are taken out once. Call [`account_scanned`] after.
pub fn before_account_scanned(store: &mut Store, account: &crate::model::AccountId) {
    let mut counts = store.severity_counts;
    for f in store.entry(account).map(|e| e.findings.as_slice()).unwrap_or_default() {
        if store
            .triage
            .get(&FindingId::of(f))
            .is_some_and(|t| t.status == Status::Excepted)
        {
            counts[Severity::ALL.iter().position(|s| *s == f.severity).unwrap_or(4)] += 1;
        }
    }
    store.severity_counts = counts;
}

/// A fresh scan result of `account` just replaced its findings in `store` (which counted
/// every new finding; see [`before_account_scanned`]): every finding an exception of
/// `entries` in force at `now` covers is marked excepted and leaves the severity totals at
/// once — not only once the scan is recorded. Returns how many are excepted.
pub fn account_scanned(
    store: &mut Store,
    account: &crate::model::AccountId,
    entries: &[Exception],
    now: Timestamp,
) -> usize {
    let mut counts = store.severity_counts;
    let mut excepted = 0;
    let findings = store.entry(account).map(|e| e.findings.clone()).unwrap_or_default();
    for f in &findings {
        let id = FindingId::of(f);
        let Some(e) = entries.iter().find(|e| e.in_force(now) && e.matches(&id)) else {
            continue;
        };
        let t = store.triage.entry(id).or_insert_with(|| Triage {
            first_seen: now,
            status: Status::New,
            exception: None,
            exception_expired_on: None,
            reopened_after: None,
        });
        t.status = Status::Excepted;
        t.exception = Some(e.clone());
        t.exception_expired_on = None;
        let i = Severity::ALL.iter().position(|s| *s == f.severity).unwrap_or(4);
        counts[i] = counts[i].saturating_sub(1);
        excepted += 1;
    }
    store.severity_counts = counts;
    store.generation += 1;
    excepted
}

/// Journals and writes `entries` to `path` (blocking; the loop runs it off the UI thread):
/// an `except` intent per entry (operator, account, user, key, what and until when), the
/// append of all of them in one atomic replacement (refused, file untouched, when the
/// existing file is malformed), then an outcome per entry (`ok`, or `failed` with why).
/// Returns `entries` with [`Exception::line`] set to each one's line in the file as written
/// (so a stale-exception warning names the real line).
///
/// # Errors
/// The text for the dialog: the journal or the file could not be written, or the existing
/// file is malformed (file, line and column). Nothing was appended then.
pub fn write(
    journal: &Journal,
    operator: &str,
    path: &std::path::Path,
    mut entries: Vec<Exception>,
    max_days: u32,
    now: Timestamp,
) -> Result<Vec<Exception>, String> {
    let batch = (entries.len() > 1).then(|| crate::journal::new_action_id(now));
    let intents: Vec<Entry> = entries
        .iter()
        .map(|e| Entry {
            time: now,
            action_id: crate::journal::new_action_id(now),
            phase: Phase::Intent,
            operator: operator.to_owned(),
            account_id: e.account.clone(),
            user: e.user.clone().unwrap_or_default(),
            access_key_id: e.credential_id.clone().map(crate::model::AccessKeyId::from),
            credential: None,
            action: KeyAction::Except,
            result: None,
            request_id: None,
            error_code: None,
            message: Some(format!(
                "{} excepted until {} in {} (approved by {}: {})",
                e.rule,
                e.expires,
                path.display(),
                e.approved_by,
                e.reason
            )),
            batch_id: batch.clone(),
        })
        .collect();
    for i in &intents {
        journal
            .append(i)
            .map_err(|e| format!("{e}; nothing was appended to the exceptions file"))?;
    }
    let result = crate::exceptions::append_all(path, &entries, Some((max_days, now)));
    for i in &intents {
        let mut o = i.clone();
        o.phase = Phase::Outcome;
        o.time = chrono::Utc::now();
        match &result {
            Ok(_) => o.result = Some(ActionResult::Ok),
            Err(e) => {
                o.result = Some(ActionResult::Failed);
                o.message = Some(e.to_string());
            }
        }
        if let Err(e) = journal.append(&o) {
            tracing::error!(error = %e, "cannot journal the outcome of an exception");
        }
    }
    let lines = result.map_err(|e| format!("{e}; nothing was appended"))?;
    for (e, line) in entries.iter_mut().zip(lines) {
        e.line = line;
    }
    Ok(entries)
}

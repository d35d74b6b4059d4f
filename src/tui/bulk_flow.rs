//! The bulk flow: one write (deactivate, activate, delete) on every marked access key, as one
//! state machine. [`Step`] names the steps; [`BulkFlow::transition`] is the one place that
//! says what follows each.
//!
//! `Confirm` (every target listed, per account: user, key, status, age, last use as scanned,
//! and a warning line for each key used in the last 7 days; Cancel focused; deleting active
//! keys asks to type how many) → `Running` (the batch runs in the background through
//! [`crate::remediate::Remediator::run_batch`], which re-reads each key and reads its last use
//! live just before its write and skips a changed, vanished or newly used one; a progress
//! line; Esc stops launching new writes) → `Summary` (done / skipped / failed / unknown / not
//! started, with each reason). The app forwards keys and batch events to the flow while it is
//! open and applies its [`Reaction`].

use super::app::{Effect, Flash};
use super::dialog::{self, last_use_text};
use super::table::{RowId, truncate};
use super::theme::Theme;
use crate::model::{AccessKey, AccountId, KeyAction, KeyStatus, Timestamp, age_days};
use crate::remediate::WriteRequest;
use crate::remediate::bulk::{BatchEvent, Outcome, new_batch_id, tally};
use crate::text::plural;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The confirmation of a bulk write.
#[derive(Debug)]
pub struct BulkConfirm {
    /// What to do.
    pub action: KeyAction,
    /// The keys, as the scan shows them, ordered by account name, user, key.
    pub targets: Vec<WriteRequest>,
    /// The listing: `(text, is a warning)`.
    pub body: Vec<(String, bool)>,
    /// First body line shown.
    pub scroll: usize,
    /// Focus on the confirm button (Cancel has it by default).
    pub confirm_focused: bool,
    /// Deleting active keys: the number of keys, to type.
    pub must_type: Option<String>,
    /// What was typed.
    pub typed: String,
}

/// A batch under way or finished.
#[derive(Debug)]
pub struct BulkRun {
    /// What is done.
    pub action: KeyAction,
    /// The batch id (in every journal line of the batch).
    pub batch_id: String,
    /// The keys.
    pub targets: Vec<WriteRequest>,
    /// Each target's outcome, once it ended.
    pub outcomes: Vec<Option<Outcome>>,
    /// Writes started and not yet ended.
    pub in_flight: usize,
    /// Set by Esc: no new write is launched.
    pub stop: Arc<AtomicBool>,
    /// The batch could not run at all (why).
    pub error: Option<String>,
    /// First line of the summary shown.
    pub scroll: usize,
}

/// The step the bulk flow is at.
#[derive(Debug, Default)]
pub enum Step {
    /// No bulk write; no dialog.
    #[default]
    Idle,
    /// Asking before the batch (Cancel focused).
    Confirm(BulkConfirm),
    /// The batch is running.
    Running(BulkRun),
    /// The batch ended: the summary.
    Summary(BulkRun),
}

/// What moves the flow on.
#[derive(Debug)]
pub enum Input {
    /// A key.
    Key(KeyEvent),
    /// A target started or ended.
    Event(BatchEvent),
    /// The batch ended (every target's outcome), or could not run (why).
    Ended(Result<Vec<Outcome>, String>),
    /// The batch's background task died without reporting (a bug).
    TaskFailed(String),
}

/// What the flow asks of the app after a transition.
#[derive(Debug, Default)]
pub struct Reaction {
    /// For the loop to carry out (the batch).
    pub effect: Option<Effect>,
    /// A footer message.
    pub flash: Option<Flash>,
    /// Users' keys as re-read after their write: `(account, user, keys)`.
    pub keys: Vec<(AccountId, String, Vec<AccessKey>)>,
    /// Marks to remove (the targets done, once the batch ended).
    pub unmark: Vec<RowId>,
    /// The batch ended.
    pub ended: bool,
}

/// The bulk flow's state.
#[derive(Debug, Default)]
pub struct BulkFlow {
    step: Step,
}

fn row_id(t: &WriteRequest) -> RowId {
    RowId::of_target(&t.account.id, &t.user, &t.target)
}

impl BulkConfirm {
    /// The confirmation of `action` on `targets` (`key` gives each target's key as scanned);
    /// `left_out` are notes on marked keys not in the batch (already in the wanted state…).
    pub fn new(
        action: KeyAction,
        mut targets: Vec<(WriteRequest, AccessKey)>,
        left_out: Vec<String>,
        now: Timestamp,
    ) -> Self {
        targets.sort_by(|(a, _), (b, _)| {
            (&a.account.name, &a.account.id, &a.user, &a.target).cmp(&(
                &b.account.name,
                &b.account.id,
                &b.user,
                &b.target,
            ))
        });
        let recent = |k: &AccessKey| k.last_used.as_ref().is_some_and(|u| age_days(u.date, now) <= 7);
        let accounts = {
            let mut ids: Vec<&AccountId> = targets.iter().map(|(t, _)| &t.account.id).collect();
            ids.dedup();
            ids.len()
        };
        let used = targets.iter().filter(|(_, k)| recent(k)).count();
        let mut body = vec![(
            format!(
                "{} {} in {}",
                action.label(),
                plural(targets.len(), "access key", "access keys"),
                plural(accounts, "account", "accounts")
            ),
            false,
        )];
        if used > 0 && matches!(action, KeyAction::Deactivate | KeyAction::Delete) {
            body.push((format!("{used} of them used in the last 7 days (marked ! below)"), true));
        }
        if action == KeyAction::Delete {
            body.push(("deleting cannot be undone".into(), true));
        }
        body.push((
            "each key is re-read, and its last use read live, just before its write; one changed or used since is skipped".into(),
            false,
        ));
        for note in &left_out {
            body.push((format!("left out: {note}"), false));
        }
        let user_w = targets
            .iter()
            .map(|(t, _)| t.user.chars().count())
            .max()
            .unwrap_or(0)
            .min(24);
        let mut account: Option<&AccountId> = None;
        for (t, k) in &targets {
            if account != Some(&t.account.id) {
                account = Some(&t.account.id);
                let n = targets.iter().filter(|(o, _)| o.account.id == t.account.id).count();
                body.push((String::new(), false));
                body.push((
                    format!("{} ({}) · {}", t.account.name, t.account.id, plural(n, "key", "keys")),
                    false,
                ));
            }
            body.push((
                format!(
                    "  {:<user_w$}  {}  {:<8}  {:>4}d  {}",
                    truncate(&t.user, user_w as u16),
                    k.id,
                    k.status.as_str(),
                    age_days(k.created, now),
                    match &k.last_used {
                        None => "never used".to_owned(),
                        Some(u) => format!(
                            "used {}{}",
                            super::views::ago(u.date, now),
                            u.service.as_deref().map(|s| format!(" by {s}")).unwrap_or_default()
                        ),
                    }
                ),
                false,
            ));
            if recent(k) && matches!(action, KeyAction::Deactivate | KeyAction::Delete) {
                let what = if k.is_active() {
                    "may break the workload that uses it"
                } else {
                    "it was in use until recently"
                };
                body.push((
                    format!(
                        "  ! {} {}: {}: {} {what}",
                        t.user,
                        k.id.last4(),
                        last_use_text(k, now),
                        action.ing()
                    ),
                    true,
                ));
            }
        }
        let must_type = (action == KeyAction::Delete && targets.iter().any(|(_, k)| k.status == KeyStatus::Active))
            .then(|| targets.len().to_string());
        Self {
            action,
            targets: targets.into_iter().map(|(t, _)| t).collect(),
            body,
            scroll: 0,
            confirm_focused: false,
            must_type,
            typed: String::new(),
        }
    }

    fn typed_ok(&self) -> bool {
        self.must_type.as_ref().is_none_or(|m| *m == self.typed)
    }
}

/// What the footer says when the confirmation of `c` is cancelled (Esc, Ctrl-c, n, or Enter
/// on Cancel): `cancelled: did not deactivate 2 access keys; nothing was changed`.
fn cancelled(c: &BulkConfirm) -> Reaction {
    Reaction {
        flash: Some(Flash {
            text: format!(
                "cancelled: did not {} {}; nothing was changed",
                c.action.verb(),
                plural(c.targets.len(), "access key", "access keys")
            ),
            error: false,
        }),
        ..Reaction::default()
    }
}

fn scroll_key(scroll: &mut usize, len: usize, key: &KeyEvent) -> bool {
    let max = len.saturating_sub(1);
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => *scroll = (*scroll + 1).min(max),
        KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
        KeyCode::PageDown => *scroll = (*scroll + 10).min(max),
        KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
        KeyCode::Home | KeyCode::Char('g') => *scroll = 0,
        _ => return false,
    }
    true
}

impl BulkRun {
    fn new(c: BulkConfirm, now: Timestamp) -> Self {
        let n = c.targets.len();
        Self {
            action: c.action,
            batch_id: new_batch_id(now),
            targets: c.targets,
            outcomes: vec![None; n],
            in_flight: 0,
            stop: Arc::new(AtomicBool::new(false)),
            error: None,
            scroll: 0,
        }
    }

    /// `[done, skipped, failed, unknown, not started]` so far.
    pub fn tally(&self) -> [usize; 5] {
        let ended: Vec<Outcome> = self.outcomes.iter().flatten().cloned().collect();
        tally(&ended)
    }

    /// The progress line, e.g. `deactivating 20 keys: 12 done · 1 skipped · 0 failed · 3 in
    /// flight · 4 waiting`.
    pub fn progress(&self) -> String {
        let [done, skipped, failed, unknown, not_started] = self.tally();
        let ended = done + skipped + failed + unknown + not_started;
        let waiting = self.targets.len() - ended - self.in_flight;
        let mut s = format!(
            "{} {}: {done} done · {skipped} skipped · {failed} failed",
            self.action.ing(),
            plural(self.targets.len(), "key", "keys")
        );
        if unknown > 0 {
            s.push_str(&format!(" · {unknown} unknown"));
        }
        s.push_str(&format!(" · {} in flight · {waiting} waiting", self.in_flight));
        s
    }

    /// The summary's lines: counts, then each target not done with its reason.
    pub fn summary(&self) -> Vec<(String, bool)> {
        let [done, skipped, failed, unknown, not_started] = self.tally();
        let mut lines = vec![(format!("batch {}", self.batch_id), false)];
        if let Some(e) = &self.error {
            lines.push((format!("the batch did not run: {e}"), true));
            return lines;
        }
        lines.push((
            format!(
                "{done} done · {skipped} skipped · {failed} failed · {unknown} unknown · {not_started} not started"
            ),
            skipped + failed + unknown + not_started > 0,
        ));
        for (t, o) in self.targets.iter().zip(&self.outcomes) {
            let (word, reason) = match o {
                Some(o @ (Outcome::Skipped(_) | Outcome::Failed(_) | Outcome::Unknown(_))) => {
                    (o.word(), o.reason().unwrap_or_default().to_owned())
                }
                Some(Outcome::NotStarted) => ("not started", "stopped with Esc before its write".into()),
                None => ("not started", "no outcome reported".into()),
                Some(Outcome::Done { .. }) => continue,
            };
            lines.push((
                format!("{word}: {} of {} in {}: {reason}", t.target, t.user, t.account.name),
                true,
            ));
        }
        if done > 0 {
            lines.push((
                "keys done are unmarked; the others stay marked (see :journal for every line of the batch)".into(),
                false,
            ));
        }
        lines
    }
}

impl BulkFlow {
    /// The current step.
    pub fn step(&self) -> &Step {
        &self.step
    }

    /// True when the bulk dialog is open.
    pub fn is_open(&self) -> bool {
        !matches!(self.step, Step::Idle)
    }

    /// Opens the confirmation (the app has checked that writes are on and built it).
    pub fn confirm(&mut self, confirm: BulkConfirm) {
        self.step = Step::Confirm(confirm);
    }

    /// Handles a key while the dialog is open.
    pub fn on_key(&mut self, key: KeyEvent, now: Timestamp) -> Reaction {
        self.transition(Input::Key(key), now)
    }

    /// Every transition of the flow; `now` dates the batch id.
    pub fn transition(&mut self, input: Input, now: Timestamp) -> Reaction {
        let none = Reaction::default;
        let ctrl_c = |k: &KeyEvent| k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c');
        let (next, reaction) = match (std::mem::take(&mut self.step), input) {
            // The confirmation.
            (Step::Confirm(c), Input::Key(k)) if k.code == KeyCode::Esc || ctrl_c(&k) => (Step::Idle, cancelled(&c)),
            (Step::Confirm(mut c), Input::Key(k)) => {
                let confirmed = match k.code {
                    _ if scroll_key(&mut c.scroll, c.body.len(), &k) => false,
                    KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right => {
                        c.confirm_focused = !c.confirm_focused;
                        false
                    }
                    KeyCode::Enter if !c.confirm_focused => return cancelled(&c),
                    KeyCode::Enter => c.typed_ok(),
                    KeyCode::Backspace => {
                        c.typed.pop();
                        false
                    }
                    KeyCode::Char(d) if d.is_ascii_digit() && c.must_type.is_some() => {
                        if c.typed.len() < 6 {
                            c.typed.push(d);
                        }
                        false
                    }
                    KeyCode::Char('y') if c.must_type.is_none() => true,
                    KeyCode::Char('n') => return cancelled(&c),
                    _ => false,
                };
                if confirmed {
                    let run = BulkRun::new(c, now);
                    let effect = Some(Effect::Batch {
                        batch_id: run.batch_id.clone(),
                        targets: run.targets.clone(),
                        stop: run.stop.clone(),
                    });
                    (Step::Running(run), Reaction { effect, ..none() })
                } else {
                    (Step::Confirm(c), none())
                }
            }

            // The batch.
            (Step::Running(run), Input::Key(k)) if k.code == KeyCode::Esc => {
                run.stop.store(true, Ordering::SeqCst);
                let flash = Some(Flash {
                    text: "stopping: no new write is launched; those in flight finish and are journaled".into(),
                    error: false,
                });
                (Step::Running(run), Reaction { flash, ..none() })
            }
            (Step::Running(mut run), Input::Event(BatchEvent::Started(_))) => {
                run.in_flight += 1;
                (Step::Running(run), none())
            }
            (Step::Running(mut run), Input::Event(BatchEvent::Finished(i, outcome))) => {
                if outcome != Outcome::NotStarted {
                    run.in_flight = run.in_flight.saturating_sub(1);
                }
                let mut reaction = none();
                if let (Outcome::Done { keys: Some(keys), .. }, Some(t)) = (&outcome, run.targets.get(i)) {
                    reaction.keys.push((t.account.id.clone(), t.user.clone(), keys.clone()));
                }
                if let Some(slot) = run.outcomes.get_mut(i) {
                    *slot = Some(outcome);
                }
                (Step::Running(run), reaction)
            }
            (Step::Running(mut run), Input::Ended(result)) => {
                run.in_flight = 0;
                match result {
                    Ok(outcomes) => {
                        for (slot, o) in run.outcomes.iter_mut().zip(outcomes) {
                            *slot = Some(o);
                        }
                    }
                    Err(e) => run.error = Some(e),
                }
                let [done, skipped, failed, unknown, not_started] = run.tally();
                let unmark = run
                    .targets
                    .iter()
                    .zip(&run.outcomes)
                    .filter(|(_, o)| matches!(o, Some(Outcome::Done { .. })))
                    .map(|(t, _)| row_id(t))
                    .collect();
                let flash = Some(Flash {
                    text: format!(
                        "{} batch: {done} done, {skipped} skipped, {failed} failed, {unknown} unknown, {not_started} not started",
                        run.action.verb()
                    ),
                    error: skipped + failed + unknown + not_started > 0 || run.error.is_some(),
                });
                (
                    Step::Summary(run),
                    Reaction {
                        flash,
                        unmark,
                        ended: true,
                        ..none()
                    },
                )
            }
            (Step::Running(mut run), Input::TaskFailed(what)) => {
                run.error = Some(format!(
                    "the batch stopped unexpectedly ({what}); check :journal and rescan with R"
                ));
                (Step::Summary(run), Reaction { ended: true, ..none() })
            }

            // The summary.
            (Step::Summary(mut run), Input::Key(k)) => {
                let len = run.summary().len();
                if scroll_key(&mut run.scroll, len, &k) {
                    (Step::Summary(run), none())
                } else if matches!(k.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) || ctrl_c(&k) {
                    (Step::Idle, none())
                } else {
                    (Step::Summary(run), none())
                }
            }

            // Anything else changes nothing.
            (step, _) => (step, none()),
        };
        self.step = next;
        reaction
    }

    /// Draws the open dialog (nothing when idle) centred in `area`.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let (title, body, scroll, footer): (String, Vec<(String, bool)>, usize, Vec<Line>) = match &self.step {
            Step::Idle => return,
            Step::Confirm(c) => {
                let mut footer = Vec::new();
                if let Some(m) = &c.must_type {
                    footer.push(Line::from(format!(
                        "type the number of keys to delete ({m}) to confirm: {}_",
                        c.typed
                    )));
                }
                footer.push(Line::from(vec![
                    Span::raw("      "),
                    button("Cancel", !c.confirm_focused, theme),
                    Span::raw("   "),
                    button(
                        &format!("{} {}", c.action.label(), c.targets.len()),
                        c.confirm_focused,
                        theme,
                    ),
                ]));
                let keys = if c.must_type.is_some() {
                    "j/k scroll · Tab switch · Enter choose · Esc cancel"
                } else {
                    "j/k scroll · Tab switch · Enter choose · y confirm · Esc cancel"
                };
                footer.push(Line::styled(keys, theme.muted()));
                (
                    format!(
                        " {} {}? ",
                        c.action.label(),
                        plural(c.targets.len(), "access key", "access keys")
                    ),
                    c.body.clone(),
                    c.scroll,
                    footer,
                )
            }
            Step::Running(run) => {
                let stopping = run.stop.load(Ordering::SeqCst);
                let mut body = vec![(run.progress(), false)];
                body.push((format!("batch {}", run.batch_id), false));
                for (t, o) in run.targets.iter().zip(&run.outcomes) {
                    if let Some(o @ (Outcome::Skipped(_) | Outcome::Failed(_) | Outcome::Unknown(_))) = o {
                        body.push((
                            format!(
                                "{}: {} of {}: {}",
                                o.word(),
                                t.target,
                                t.user,
                                o.reason().unwrap_or_default()
                            ),
                            true,
                        ));
                    }
                }
                let hint = if stopping {
                    "stopping: no new write is launched; waiting for those in flight"
                } else {
                    "Esc stops launching new writes (those in flight finish)"
                };
                (
                    format!(
                        " {} {} ",
                        run.action.ing(),
                        plural(run.targets.len(), "access key", "access keys")
                    ),
                    body,
                    0,
                    vec![Line::styled(hint, theme.muted())],
                )
            }
            Step::Summary(run) => (
                format!(" {} batch: summary ", run.action.label()),
                run.summary(),
                run.scroll,
                vec![Line::styled("j/k scroll · Enter or Esc closes", theme.muted())],
            ),
        };
        let width = 78.min(area.width);
        let inner_w = usize::from(width.saturating_sub(2)).max(1);
        let body: Vec<(String, bool)> = body
            .into_iter()
            .flat_map(|(text, warning)| wrap(&text, inner_w).into_iter().map(move |l| (l, warning)))
            .collect();
        let room = usize::from(area.height.saturating_sub(2)).saturating_sub(footer.len());
        let rows = body.len().min(room);
        let scroll = scroll.min(body.len().saturating_sub(rows));
        let title = if rows < body.len() {
            format!("{title}(lines {}–{} of {}) ", scroll + 1, scroll + rows, body.len())
        } else {
            title
        };
        let mut lines: Vec<Line> = body[scroll..scroll + rows]
            .iter()
            .map(|(text, warning)| {
                let text = truncate(text, inner_w as u16);
                if *warning {
                    Line::styled(text, theme.error())
                } else {
                    Line::from(text)
                }
            })
            .collect();
        lines.extend(footer.into_iter().map(|l| {
            if l.width() > inner_w {
                Line::from(truncate(&l.to_string(), inner_w as u16))
            } else {
                l
            }
        }));
        dialog::popup(&title, lines, area, buf, theme);
    }
}

fn button(label: &str, focused: bool, theme: &Theme) -> Span<'static> {
    if focused {
        Span::styled(
            format!("[> {label} <]"),
            theme.header().add_modifier(Modifier::REVERSED),
        )
    } else {
        Span::raw(format!("[  {label}  ]"))
    }
}

/// `text` cut into lines of at most `width` characters, at spaces where possible;
/// continuation lines are indented by 4.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    let mut indent = 0;
    while indent + rest.len() > width && width > indent + 8 {
        let room = width - indent;
        let cut = rest[..room]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|&p| p > room / 2)
            .unwrap_or(room);
        let head: String = rest[..cut].iter().collect();
        lines.push(format!("{}{}", " ".repeat(indent), head.trim_end()));
        rest = rest[cut..].iter().copied().skip_while(|c| *c == ' ').collect();
        indent = 4;
    }
    lines.push(format!("{}{}", " ".repeat(indent), rest.iter().collect::<String>()));
    lines
}

//! The application state and its update function. No I/O: keys, scan events and write
//! results come in, state changes, and effects the loop must carry out (rescan, write, save a
//! secret, quit) come out.

use super::bulk_flow::{self, BulkConfirm, BulkFlow};
use super::except_flow::{self, ExceptFlow};
use super::groups::GroupBy;
use super::keymap::{self, Action, Context};
use super::marks::Marks;
use super::store::Store;
use super::table::{RowId, Table};
use super::views::{ViewKind, is_root};
use super::write_flow::{Input, Reaction, WriteFlow};
use crate::audit::Policy;
use crate::aws::remediate::NewKey;
use crate::model::{AccessKey, Account, KeyAction, Timestamp};
use crate::remediate::bulk::{BatchEvent, Outcome};
use crate::remediate::{Done, RemediateError, WriteRequest};
use crate::scan::ScanEvent;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Views with more rows than this are rebuilt at most every 2 s by background changes.
const BIG_VIEW_ROWS: usize = 20_000;

/// What the loop must do after an update.
#[derive(Debug)]
pub enum Effect {
    /// Rescan this account (in the background).
    Rescan(Account),
    /// Discovery failed (or AWS could not be reached): connect again if not connected, then
    /// list the organization and scan every account, as the scan run `store.scan_id`.
    Discover,
    /// Read this request's target live in the background, for its confirmation (an access
    /// key's status and last use by `GetAccessKeyLastUsed`; another credential's status; the
    /// console password's existence and last sign-in); answered by [`WriteEvent::KeyRead`].
    ReadKey(WriteRequest),
    /// Make this write (pre-checked and journaled by the remediator), in the background.
    Write(WriteRequest),
    /// Run this batch in the background ([`crate::remediate::Remediator::run_batch`]),
    /// reporting through [`WriteEvent::Batch`] and [`WriteEvent::BatchEnded`].
    Batch {
        /// The batch id (in every journal line of the batch).
        batch_id: String,
        /// The writes, as the operator confirmed them.
        targets: Vec<WriteRequest>,
        /// Set when the operator stops the batch (Esc): no new write is launched.
        stop: Arc<AtomicBool>,
    },
    /// Verify a rotation's new key in the background
    /// ([`crate::remediate::Remediator::verify_new_key`]), reporting through
    /// [`WriteEvent::VerifyTick`] and [`WriteEvent::Verified`].
    VerifyKey {
        /// The account it was created in.
        account: Account,
        /// Its user.
        user: String,
        /// The key; the task drops its reference when done.
        key: Arc<NewKey>,
    },
    /// Save the new key to a credentials file at `path`, under `[profile]`, or hand it off to
    /// Secrets Manager when `path` is `sm:[ACCOUNT:][REGION:]NAME`
    /// ([`crate::remediate::SecretDestination`]).
    SaveSecret {
        /// Where (the operator typed it).
        path: String,
        /// The key's account (the default destination account of a hand-off).
        account: Account,
        /// Profile name (the user name).
        profile: String,
        /// The key; the loop drops its reference after writing.
        key: Arc<NewKey>,
    },
    /// Write `plan` (made from the marked keys by `:plan ACTION FILE`) to `path`.
    WritePlan {
        /// Where (the operator typed it; `~/` is the home folder).
        path: String,
        /// The plan.
        plan: Box<crate::remediate::plan::Plan>,
    },
    /// Journal and append these exceptions to the exceptions file at `path`, off the UI
    /// loop ([`except_flow::write`]); answered by [`WriteEvent::Excepted`].
    AppendExceptions {
        /// The exceptions file.
        path: std::path::PathBuf,
        /// One entry per finding excepted.
        entries: Vec<crate::exceptions::Exception>,
        /// The cap on `expires` the existing file is checked against, in days.
        max_days: u32,
    },
    /// Leave the TUI.
    Quit,
}

/// The result of a write, from the loop's background task.
#[derive(Debug)]
pub enum WriteEvent {
    /// The target of an [`Effect::ReadKey`] as read live, or why it could not be read.
    KeyRead {
        /// What was asked.
        request: WriteRequest,
        /// The target (status and last use) as AWS has it now.
        result: Result<crate::remediate::Live, RemediateError>,
    },
    /// Deactivate, activate or delete finished.
    Applied {
        /// What was asked.
        request: WriteRequest,
        /// The user's keys re-read, and the request id; or why it failed.
        result: Result<Done, RemediateError>,
    },
    /// The create step of a rotation finished.
    Rotated {
        /// What was asked.
        request: WriteRequest,
        /// The new key and the user's keys re-read; or why not.
        result: Result<(Arc<NewKey>, Option<Vec<AccessKey>>), RemediateError>,
    },
    /// The secret file was written (its path), or not (why).
    Saved(Result<String, String>),
    /// A try of a new key failed: the key, tries so far, whole seconds left.
    VerifyTick(crate::model::AccessKeyId, u32, u64),
    /// A new key's verification ended: the ARN it signs as, or why it failed.
    Verified(crate::model::AccessKeyId, Result<String, String>),
    /// A target of the running batch started or ended.
    Batch(BatchEvent),
    /// The batch ended (every target's outcome), or could not run (why).
    BatchEnded(Result<Vec<Outcome>, String>),
    /// The whole journal, read (at start, or when the file was replaced).
    Journal(Vec<crate::journal::Entry>),
    /// Lines appended to the journal since the last read.
    JournalAppended(Vec<crate::journal::Entry>),
    /// Something the operator should know that is not a failure of theirs (e.g. the journal
    /// was made private): shown in the footer.
    Notice(String),
    /// Actions found interrupted in the journal at start, with the keys' states read live.
    Interrupted(Vec<String>),
    /// The exceptions of an [`Effect::AppendExceptions`] were written, or why not.
    Excepted(Result<Vec<crate::exceptions::Exception>, String>),
}

/// Input mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Keys are actions.
    Normal,
    /// Typing the filter of the current view.
    Filter,
    /// Typing a `:` command.
    Command,
    /// The help overlay is open.
    Help,
    /// The detail popup of [`App::detail`] is open.
    Detail,
}

/// A one-line message in the footer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// The text.
    pub text: String,
    /// Shown as an error.
    pub error: bool,
}

/// One open view: what it shows and its table (selection, sort, filter survive going back).
#[derive(Debug)]
pub struct View {
    /// Which view.
    pub kind: ViewKind,
    /// Its table.
    pub table: Table,
    /// `(store.generation, store.progress_generation)` when the rows were built (the
    /// second only for views that show progress).
    built: Option<(u64, u64)>,
    /// When the rows were last built (the app's clock).
    built_at: Option<Timestamp>,
}

impl View {
    fn new(kind: ViewKind) -> Self {
        let (columns, _) = kind.columns();
        let (sort, order) = kind.default_sort();
        let mut table = Table::new(columns, sort, order);
        table.hide(&kind.constant_columns());
        Self {
            table,
            kind,
            built: None,
            built_at: None,
        }
    }
}

/// The whole TUI state.
#[derive(Debug)]
pub struct App {
    /// Scan data and findings.
    pub store: Store,
    /// Thresholds.
    pub policy: Policy,
    /// The clock, advanced by ticks (fixed in tests).
    pub now: Timestamp,
    /// Who is calling (caller ARN).
    pub identity: String,
    /// Writes enabled (`--write`).
    pub write_mode: bool,
    /// Open views; the last is on screen. Never empty.
    pub stack: Vec<View>,
    /// Input mode.
    pub mode: Mode,
    /// The `:` command being typed.
    pub command: String,
    /// Footer message.
    pub flash: Option<Flash>,
    /// The write flow, which owns the open dialog of a single write.
    pub write: WriteFlow,
    /// The bulk flow, which owns the open dialog of a write on every marked key.
    pub bulk: BulkFlow,
    /// The exception flow: the exceptions file, the exceptions in force, the `e` dialog.
    pub except: ExceptFlow,
    /// Open findings per recorded scan (the accounts panel's sparkline), read from the
    /// history off the UI loop at start and after each recorded scan; `None` until read.
    pub trend: Option<crate::history::Trend>,
    /// Marked rows, by identity (across views, sorts, filters and rescans).
    pub marks: Marks,
    /// The row the detail popup shows (in [`Mode::Detail`]).
    pub detail: Option<RowId>,
    /// Lines the open popup (the detail popup or the `?` help) is scrolled down; the
    /// drawing clamps it to the end and writes back what it used.
    pub detail_scroll: std::cell::Cell<u16>,
    /// Accounts rescanned by `R` whose result has not arrived: their result is announced.
    rescanning: Vec<crate::model::AccountId>,
    /// What the last rescan found, kept until the scan it completes is recorded, so the
    /// recording's message adds to it instead of replacing it.
    rescanned: Option<Flash>,
    /// The footer message on screen and since when (the app's clock), to clear it when stale.
    flash_since: Option<(String, Timestamp)>,
}

/// A message older than this (seconds) is cleared; errors stay three times as long.
const FLASH_SECONDS: i64 = 10;

impl App {
    /// A new app on the accounts view.
    pub fn new(policy: Policy, now: Timestamp, identity: String, write_mode: bool) -> Self {
        Self {
            store: Store::new(),
            policy,
            now,
            identity,
            write_mode,
            stack: vec![View::new(ViewKind::Accounts)],
            mode: Mode::Normal,
            command: String::new(),
            flash: None,
            write: WriteFlow::default(),
            bulk: BulkFlow::default(),
            except: ExceptFlow::default(),
            trend: None,
            marks: Marks::default(),
            detail: None,
            detail_scroll: std::cell::Cell::new(0),
            rescanning: Vec::new(),
            rescanned: None,
            flash_since: None,
        }
    }

    /// The view on screen.
    pub fn view(&self) -> &View {
        // The stack is never empty: `back` keeps the last view.
        &self.stack[self.stack.len() - 1]
    }

    fn view_mut(&mut self) -> &mut View {
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    /// Selects the row with this id in the current view, if shown.
    pub fn view_select(&mut self, id: &RowId) {
        self.view_mut().table.select_id(id);
    }

    /// Rebuilds the current view's rows when the data changed since it was built. A big view
    /// (a 100,000-row `:keys` costs ~0.5 s) is rebuilt at most every 2 s while accounts keep
    /// arriving, so moving around in it stays responsive; a view opened anew builds at once.
    pub fn refresh(&mut self) {
        let (store, policy, now) = (&self.store, &self.policy, self.now);
        let last = self.stack.len() - 1;
        let view = &mut self.stack[last];
        let progress = if view.kind.spec().shows_progress {
            store.progress_generation
        } else {
            0
        };
        let current = (store.generation, progress);
        let big = view.table.counts().1 > BIG_VIEW_ROWS;
        let recent = view.built_at.is_some_and(|t| (now - t).num_milliseconds() < 2_000);
        if view.built != Some(current) && !(big && recent) {
            view.table.set_rows(view.kind.rows(store, policy, now));
            view.built = Some(current);
            view.built_at = Some(now);
        }
        if view.table.marks != *self.marks {
            view.table.marks = (*self.marks).clone();
        }
    }

    /// Applies a backend event. The current view is rebuilt on the next [`App::refresh`]
    /// (the loop calls it once per tick, so bursts of events cost one rebuild).
    pub fn on_scan_event(&mut self, event: ScanEvent) {
        if let ScanEvent::DiscoveryFailed { error, .. } = &event {
            self.flash = Some(Flash {
                text: format!("cannot list the organization: {error}"),
                error: true,
            });
        }
        let done = match &event {
            ScanEvent::AccountDone { scan, scan_id, .. } if *scan_id == self.store.scan_id => {
                Some(scan.account.id.clone())
            }
            _ => None,
        };
        // Excepted findings stay out of the totals through a rescan, before it is recorded.
        if let Some(id) = done.as_ref() {
            except_flow::before_account_scanned(&mut self.store, id);
        }
        self.store.apply(event, &self.policy, self.now);
        if let Some(id) = done.as_ref() {
            except_flow::account_scanned(&mut self.store, id, &self.except.exceptions, self.now);
        }
        if done.is_some() && !self.bulk.is_open() {
            self.prune_marks();
        }
        if let Some(id) = done.filter(|id| self.rescanning.contains(id)) {
            self.rescanning.retain(|a| a != &id);
            if let Some(e) = self.store.entry(&id) {
                let mut text = format!(
                    "rescanned {} at {} UTC: {}, {}",
                    e.account.name,
                    self.now.format("%H:%M:%S"),
                    e.scan_cell(),
                    if e.was_read() {
                        crate::text::plural(e.findings.len(), "finding", "findings")
                    } else {
                        "findings unknown (not read)".to_owned()
                    }
                );
                let outcome = e.scan.as_ref().map(|s| &s.scan);
                if let Some(error) = outcome.and_then(|o| o.error.as_ref()) {
                    text.push_str(&format!(" — {} (i shows it in full)", error.message));
                }
                let flash = Flash {
                    text,
                    error: outcome.is_some_and(|o| o.status == crate::model::ScanStatus::Failed),
                };
                self.flash = Some(flash.clone());
                self.rescanned = Some(flash);
            }
        }
    }

    /// Says that a scan was recorded in the history: its warnings (an error), else what
    /// changed since the previous recorded scan, after what the last rescan found when this
    /// recording completes it (`rescanned acme-prod-web at 18:36:22 UTC: ok, 6 findings ·
    /// recorded: 0 new, 1 resolved, 0 excepted (since …)`).
    pub fn on_recorded(&mut self, changes: &crate::triage::Changes, warnings: &[String]) {
        let recorded = if warnings.is_empty() {
            let since = changes.previous_scan_at.map_or_else(
                || "first recorded scan".to_owned(),
                |t| format!("since {}", t.format("%Y-%m-%d %H:%M UTC")),
            );
            Flash {
                text: format!(
                    "{} new, {} resolved, {} excepted ({since})",
                    changes.new, changes.resolved, changes.excepted
                ),
                error: false,
            }
        } else {
            Flash {
                text: warnings.join("; "),
                error: true,
            }
        };
        self.flash = Some(match self.rescanned.take() {
            Some(rescan) => Flash {
                text: format!("{} · recorded: {}", rescan.text, recorded.text),
                error: rescan.error || recorded.error,
            },
            None => recorded,
        });
    }

    /// Advances the clock.
    pub fn tick(&mut self, now: Timestamp) {
        self.now = now;
        self.expire_flash();
        self.refresh();
    }

    /// Clears the footer message once it has been on screen for [`FLASH_SECONDS`] (three
    /// times that for an error).
    fn expire_flash(&mut self) {
        let Some(flash) = &self.flash else {
            self.flash_since = None;
            return;
        };
        match &self.flash_since {
            Some((text, since)) if *text == flash.text => {
                let limit = if flash.error { FLASH_SECONDS * 3 } else { FLASH_SECONDS };
                if (self.now - *since).num_seconds() >= limit {
                    self.flash = None;
                    self.flash_since = None;
                }
            }
            _ => self.flash_since = Some((flash.text.clone(), self.now)),
        }
    }

    /// The keymap contexts active in the current view.
    pub fn contexts(&self) -> Vec<Context> {
        let mut c = vec![Context::Global];
        c.extend_from_slice(self.view().kind.spec().contexts);
        c
    }

    /// Handles a key press.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Effect> {
        if self.except.is_open() {
            return match self.except.on_key(key, self.now) {
                except_flow::Asked::Write(path, entries) => Some(Effect::AppendExceptions {
                    path,
                    entries,
                    max_days: self.except.max_days,
                }),
                except_flow::Asked::Cancelled => {
                    self.say("nothing was excepted", false);
                    None
                }
                except_flow::Asked::Nothing => None,
            };
        }
        if self.bulk.is_open() {
            let reaction = self.bulk.on_key(key, self.now);
            return self.react_bulk(reaction);
        }
        if self.write.is_open() {
            // While a dialog is open it gets every key.
            let reaction = self.write.on_key(key, &self.store, self.now);
            return self.react(reaction);
        }
        match self.mode {
            Mode::Filter => {
                self.filter_key(key);
                None
            }
            Mode::Command => self.command_key(key),
            Mode::Help => {
                if self.popup_key(key) {
                    self.mode = Mode::Normal;
                }
                None
            }
            Mode::Detail => {
                if self.popup_key(key) {
                    self.close_details();
                }
                None
            }
            Mode::Normal => match keymap::lookup(&key, &self.contexts()) {
                Some(action) => self.update(action),
                None => {
                    self.nothing_here(key);
                    None
                }
            },
        }
    }

    /// Handles the mouse: the wheel scrolls the selection.
    pub fn on_mouse(&mut self, m: MouseEvent) {
        if self.mode != Mode::Normal {
            return;
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.view_mut().table.move_by(3),
            MouseEventKind::ScrollUp => self.view_mut().table.move_by(-3),
            _ => {}
        }
    }

    /// Carries out an action.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        self.flash = None;
        let last = self.stack.len() - 1;
        let table = &mut self.stack[last].table;
        match action {
            Action::Up => table.move_by(-1),
            Action::Down => table.move_by(1),
            Action::Top => table.top(),
            Action::Bottom => table.bottom(),
            Action::PageUp => table.page(false),
            Action::PageDown => table.page(true),
            Action::NextSort => table.cycle_sort(1),
            Action::PrevSort => table.cycle_sort(-1),
            Action::ReverseSort => table.reverse_sort(),
            Action::Filter => self.mode = Mode::Filter,
            Action::Command => {
                self.command.clear();
                self.mode = Mode::Command;
            }
            Action::Help => {
                self.detail_scroll.set(0);
                self.mode = Mode::Help;
            }
            Action::Open => self.open(),
            // On a user's page, i shows the user in full: every finding of the user, those of
            // no credential (stale-user) included, which the page's pane may not hold; Enter
            // still shows the selected credential.
            Action::Details => match &self.view().kind {
                ViewKind::User(a, u) => {
                    self.detail = Some(RowId::User(a.clone(), u.as_str().into()));
                    self.detail_scroll.set(0);
                    self.mode = Mode::Detail;
                }
                _ => self.show_details(),
            },
            Action::Back => self.back(),
            Action::Rescan => return self.rescan(),
            Action::Quit => return Some(Effect::Quit),
            Action::Key(a) if !matches!(a, KeyAction::Rotate | KeyAction::DisableConsole) && !self.marks.is_empty() => {
                return self.ask_bulk(a);
            }
            Action::Key(a) => return self.ask(a),
            Action::ToggleMark => {
                if let Some(id) = table.selected_row().map(|r| r.id.clone()) {
                    self.marks.toggle(id);
                    table.move_by(1);
                }
            }
            Action::MarkShown => {
                let n = self.marks.mark_all(table.shown().map(|r| r.id.clone()));
                self.say(format!("marked {} shown", crate::text::plural(n, "row", "rows")), false);
            }
            Action::Group => {
                let next = match &self.stack[last].kind {
                    ViewKind::Findings => Some(GroupBy::RuleAndAccount),
                    ViewKind::FindingGroups(by) => by.next(),
                    _ => return None,
                };
                let kind = next.map_or(ViewKind::Findings, ViewKind::FindingGroups);
                self.stack[last] = View::new(kind);
                self.refresh();
            }
            Action::ClearMarks => {
                let n = self.marks.clear();
                self.say(format!("cleared {}", crate::text::plural(n, "mark", "marks")), false);
            }
            Action::Except => self.ask_except(),
        }
        None
    }

    /// Opens the exception dialog on the marked findings, or else on the selected finding
    /// (or explains why not). Works in a read-only session: it writes no AWS state.
    fn ask_except(&mut self) {
        use crate::triage::FindingId;
        let marked: Vec<RowId> = self
            .marks
            .iter()
            .filter(|m| matches!(m, RowId::Finding(..)))
            .cloned()
            .collect();
        let ids = if marked.is_empty() {
            match self.view().table.selected_row().map(|r| r.id.clone()) {
                Some(id @ RowId::Finding(..)) => vec![id],
                _ => {
                    self.say("select a finding (or mark findings with Space) to except", true);
                    return;
                }
            }
        } else {
            marked
        };
        let mut targets = Vec::new();
        let mut left_out = Vec::new();
        for id in ids {
            let RowId::Finding(account, user, key, rule) = id else {
                continue;
            };
            // Matched on the finding itself, as its row was made: a finding's `FindingId`
            // holds a role's or other credential's id where its row holds none.
            let found = self
                .store
                .entry(&account)
                .into_iter()
                .flat_map(|e| &e.findings)
                .find(|f| f.user == user && f.access_key_id == key && f.rule.id() == rule);
            match found {
                Some(f) => targets.push((FindingId::of(f), f.severity)),
                None => left_out.push(format!("{rule} of {user} is not in the latest scan (resolved?)")),
            }
        }
        if targets.is_empty() {
            self.say(format!("nothing to except: {}", left_out.join("; ")), true);
            return;
        }
        targets.sort_by(|a, b| (b.1, &a.0.account_id, &a.0.user).cmp(&(a.1, &b.0.account_id, &b.0.user)));
        let identity = self.identity.clone();
        self.except
            .open(targets, left_out, &identity, !self.write_mode, self.now);
    }

    /// A key with no job in this view says so (and where it has one).
    fn nothing_here(&mut self, key: KeyEvent) {
        let Some(name) = (match key.code {
            KeyCode::Char(c) if !c.is_control() => Some(c.to_string()),
            KeyCode::Enter => Some("Enter".into()),
            KeyCode::Tab => Some("Tab".into()),
            KeyCode::Backspace => Some("Backspace".into()),
            KeyCode::Delete => Some("Delete".into()),
            _ => None,
        }) else {
            return;
        };
        let elsewhere = keymap::KEYMAP.iter().find(|b| b.keys.iter().any(|k| k.matches(&key)));
        let text = match elsewhere {
            Some(b) => format!(
                "{name}: nothing to do here ({} works {})",
                b.help.split(" — ").next().unwrap_or(b.help),
                match b.context {
                    Context::KeyRows => "on credentials: open a user, :keys or :credentials",
                    Context::AccountRows => "in views of accounts, users, keys and findings",
                    Context::Drillable => "in lists that open",
                    Context::Global => "everywhere",
                    Context::Groupable => "in :findings",
                    Context::FindingRows => "on findings: :findings or :changes",
                }
            ),
            None => format!("{name}: no such key here (? lists them)"),
        };
        self.say(text, false);
    }

    fn say(&mut self, text: impl Into<String>, error: bool) {
        self.flash = Some(Flash {
            text: text.into(),
            error,
        });
    }

    /// In a read-only session, says how to enable writes and returns true.
    fn refuse_read_only(&mut self, action: KeyAction) -> bool {
        if !self.write_mode {
            let what = match action {
                KeyAction::DisableConsole => "disable console access".to_owned(),
                a => format!("{} keys", a.verb()),
            };
            self.say(
                format!("read-only: start keytriage with --write to {what} (nothing was changed)"),
                true,
            );
        }
        !self.write_mode
    }

    /// Starts `action` on the selected key (or explains why not): the key is read live, then
    /// the confirmation opens.
    fn ask(&mut self, action: KeyAction) -> Option<Effect> {
        let selected = self.view().table.selected_row().map(|r| r.id.clone());
        let (account, user) = match &selected {
            Some(RowId::Key(a, u, _) | RowId::Credential(a, u, _) | RowId::Password(a, u)) => (a.clone(), u.clone()),
            _ if action == KeyAction::DisableConsole => {
                self.say("select a console password first (a user's view or :credentials)", true);
                return None;
            }
            _ => {
                self.say("select an access key or another credential first", true);
                return None;
            }
        };
        if self.refuse_read_only(action) {
            return None;
        }
        let Some(entry) = self.store.entry(&account) else {
            self.say(format!("{account} is not in the latest scan; rescan with R"), true);
            return None;
        };
        let request = match &selected {
            Some(RowId::Key(_, _, key)) => self
                .store
                .key(&account, &user, key)
                .map(|k| WriteRequest::new(action, &entry.account, &user, k)),
            Some(RowId::Credential(_, _, c)) => self
                .store
                .credential(&account, &user, c)
                .map(|x| WriteRequest::for_credential(action, &entry.account, &user, x)),
            _ => self
                .store
                .user(&account, &user)
                .filter(|u| u.password_enabled)
                .map(|u| {
                    let mut r = WriteRequest::disable_console(&entry.account, &user, u.password_last_used);
                    r.action = action;
                    r
                }),
        };
        let Some(request) = request else {
            let what = selected.map(|id| match id {
                RowId::Key(_, _, k) => k.to_string(),
                RowId::Credential(_, _, c) => c.id,
                _ => format!("the console password of {user}"),
            });
            self.say(
                format!("{} is not in the latest scan; rescan with R", what.unwrap_or_default()),
                true,
            );
            return None;
        };
        if entry.scanning() {
            // The rescan's result, read before this write, would overwrite the write's.
            self.say(
                format!("{} is being scanned; wait for it to finish", entry.account.name),
                true,
            );
            return None;
        }
        if let Some(why) = request.nothing_to_do() {
            let hint = match (&request.target, action) {
                (crate::model::Target::ConsolePassword, _) => "; P disables console access",
                (_, KeyAction::DisableConsole) => "; P works on a console password row",
                _ => "",
            };
            self.say(format!("{why}{hint}"), false);
            return None;
        }
        let reaction = self.write.ask(request);
        self.react(reaction)
    }

    /// Drops marks whose target vanished from the latest scan, saying so in the footer.
    fn prune_marks(&mut self) {
        if let Some(note) = self.marks.prune(&self.store) {
            self.say(note, false);
        }
    }

    /// Opens the confirmation of `action` on every marked access key (or explains why not).
    fn ask_bulk(&mut self, action: KeyAction) -> Option<Effect> {
        if self.refuse_read_only(action) {
            return None;
        }
        let keys = self.marks.keys();
        if keys.is_empty() {
            self.say(
                format!(
                    "no access key is marked ({}); mark keys with Space, or clear the marks with u",
                    self.marks.summary().unwrap_or_default()
                ),
                true,
            );
            return None;
        }
        let mut targets = Vec::new();
        let mut left_out = Vec::new();
        for m in keys {
            let RowId::Key(account, user, key) = m else { continue };
            let (Some(entry), Some(k)) = (self.store.entry(account), self.store.key(account, user, key)) else {
                left_out.push(format!("{key} of {user} is not in the latest scan"));
                continue;
            };
            if entry.scanning() {
                let text = format!(
                    "{} is being scanned; wait for it to finish (nothing was changed)",
                    entry.account.name
                );
                self.say(text, true);
                return None;
            }
            let request = WriteRequest::new(action, &entry.account, user, k);
            match request.nothing_to_do() {
                Some(why) => left_out.push(why),
                None => targets.push((request, k.clone())),
            }
        }
        if targets.is_empty() {
            self.say(format!("nothing to {}: {}", action.verb(), left_out.join("; ")), false);
            return None;
        }
        self.bulk.confirm(BulkConfirm::new(action, targets, left_out, self.now));
        None
    }

    /// Applies what the bulk flow asks: users' keys re-read, marks of the keys done removed,
    /// a footer message, and the effect for the loop.
    fn react_bulk(&mut self, reaction: bulk_flow::Reaction) -> Option<Effect> {
        let bulk_flow::Reaction {
            effect,
            flash,
            keys,
            unmark,
            ended,
        } = reaction;
        let changed = !keys.is_empty();
        for (account, user, keys) in keys {
            self.store
                .replace_user_keys(&account, &user, keys, &self.policy, self.now);
        }
        for id in &unmark {
            self.marks.unmark(id);
        }
        if ended {
            self.prune_marks();
        }
        if changed || ended {
            self.refresh();
        }
        if flash.is_some() {
            self.flash = flash;
        }
        effect
    }

    /// Applies what the write flow asks: the user's keys re-read, a footer message, and the
    /// effect for the loop.
    fn react(&mut self, reaction: Reaction) -> Option<Effect> {
        let Reaction {
            effect,
            flash,
            keys,
            user_update,
        } = reaction;
        if let Some((account, user, keys)) = keys {
            self.store
                .replace_user_keys(&account, &user, keys, &self.policy, self.now);
            self.refresh();
        }
        if let Some((account, user, update)) = user_update {
            self.store.update_user(&account, &user, update, &self.policy, self.now);
            self.refresh();
        }
        if flash.is_some() {
            self.flash = flash;
        }
        effect
    }

    /// A background task died without reporting (a bug): a dialog waiting for it would wait
    /// forever, so it becomes an error the operator can close.
    pub fn task_failed(&mut self, what: &str) {
        if self.bulk.is_open() {
            let reaction = self
                .bulk
                .transition(bulk_flow::Input::TaskFailed(what.to_owned()), self.now);
            self.react_bulk(reaction);
            return;
        }
        let reaction = self
            .write
            .transition(Input::TaskFailed(what.to_owned()), &self.store, self.now);
        self.react(reaction);
    }

    /// Applies the result of a background write (through the write flow, which may ask for
    /// the next step of a rotation), the journal re-read, or interrupted actions found.
    pub fn on_write_event(&mut self, event: WriteEvent) -> Option<Effect> {
        let input = match event {
            WriteEvent::KeyRead { request, result } => Input::Read(request, result),
            WriteEvent::Applied { request, result } => Input::Applied(request, result),
            WriteEvent::Rotated { request, result } => Input::Rotated(request, result),
            WriteEvent::Saved(result) => Input::Saved(result),
            WriteEvent::VerifyTick(key, tries, left) => Input::VerifyTick(key, tries, left),
            WriteEvent::Verified(key, result) => Input::Verified(key, result),
            WriteEvent::Batch(event) => {
                let reaction = self.bulk.transition(bulk_flow::Input::Event(event), self.now);
                return self.react_bulk(reaction);
            }
            WriteEvent::BatchEnded(result) => {
                let reaction = self.bulk.transition(bulk_flow::Input::Ended(result), self.now);
                return self.react_bulk(reaction);
            }
            WriteEvent::Journal(entries) => {
                self.store.journal = entries;
                self.store.generation += 1;
                self.refresh();
                return None;
            }
            WriteEvent::JournalAppended(entries) => {
                self.store.journal.extend(entries);
                self.store.generation += 1;
                self.refresh();
                return None;
            }
            WriteEvent::Notice(text) => {
                self.flash = Some(Flash { text, error: false });
                return None;
            }
            WriteEvent::Excepted(result) => {
                if let Some(entries) = self.except.finished(result) {
                    let n = except_flow::apply_to_store(&mut self.store, &entries, self.now);
                    for e in &entries {
                        self.marks.unmark(&RowId::Finding(
                            e.account.clone(),
                            e.user.as_deref().unwrap_or_default().into(),
                            e.credential_id.clone().map(crate::model::AccessKeyId::from),
                            e.rule.id(),
                        ));
                    }
                    self.refresh();
                    let until = entries.first().map(|e| e.expires.to_string()).unwrap_or_default();
                    let file = self
                        .except
                        .path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    self.say(
                        format!(
                            "excepted {} until {until} (written to {file})",
                            crate::text::plural(n, "finding", "findings")
                        ),
                        false,
                    );
                }
                return None;
            }
            WriteEvent::Interrupted(lines) => {
                if !lines.is_empty() && !self.write.is_open() {
                    let text = format!(
                        "These write actions were interrupted (no outcome in the journal):\n{}",
                        lines.join("\n")
                    );
                    self.write.message("unfinished actions", text, true);
                }
                return None;
            }
        };
        let reaction = self.write.transition(input, &self.store, self.now);
        self.react(reaction)
    }

    fn push(&mut self, kind: ViewKind) {
        self.stack.push(View::new(kind));
        self.refresh();
    }

    fn open(&mut self) {
        let Some(id) = self.view().table.selected_row().map(|r| r.id.clone()) else {
            return self.say("no row selected: nothing to open", false);
        };
        match id {
            // The root user has no user view: Enter shows its finding (or it) in full.
            RowId::Finding(_, u, _, _) | RowId::User(_, u) if is_root(&u) => self.show_details(),
            RowId::Account(a) => self.push(ViewKind::Users(Some(a))),
            RowId::User(a, u) => self.push(ViewKind::User(a, u.to_string())),
            // In a user's view the key has nowhere further to go: Enter shows it in full.
            RowId::Key(..) if matches!(self.view().kind, ViewKind::User(..)) => self.show_details(),
            RowId::Key(a, u, k) => {
                self.push(ViewKind::User(a.clone(), u.to_string()));
                self.view_mut().table.select_id(&RowId::Key(a, u, k));
            }
            // In a user's view a credential has nowhere further to go: Enter shows it in full.
            RowId::Credential(..) | RowId::Password(..) if matches!(self.view().kind, ViewKind::User(..)) => {
                self.show_details()
            }
            RowId::Credential(a, u, c) => {
                self.push(ViewKind::User(a.clone(), u.to_string()));
                self.view_mut().table.select_id(&RowId::Credential(a, u, c));
            }
            RowId::Password(a, u) => {
                self.push(ViewKind::User(a.clone(), u.to_string()));
                self.view_mut().table.select_id(&RowId::Password(a, u));
            }
            RowId::Journal(..) | RowId::Role(..) => self.show_details(),
            RowId::Group(rule, account) => self.push(ViewKind::FindingsIn(rule, account)),
            // A role's finding opens `:roles` on the role (roles have no user view).
            RowId::Finding(a, role, _, rule)
                if crate::audit::Rule::from_id(rule).is_some_and(|r| r.is_about_role()) =>
            {
                self.push(ViewKind::Roles);
                self.view_mut().table.select_id(&RowId::Role(a, role));
            }
            RowId::Finding(a, u, k, _) => {
                self.push(ViewKind::User(a.clone(), u.to_string()));
                if let Some(k) = k {
                    self.view_mut().table.select_id(&RowId::Key(a, u, k));
                }
            }
        }
    }

    /// Opens the detail popup on the selected row (or says there is none).
    fn show_details(&mut self) {
        match self.view().table.selected_row().map(|r| r.id.clone()) {
            Some(id) => {
                self.detail = Some(id);
                self.detail_scroll.set(0);
                self.mode = Mode::Detail;
            }
            None => self.say("no row selected: nothing to show", false),
        }
    }

    /// Keys in a popup (the detail popup or the help overlay), through the keymap: moves
    /// scroll it; returns true for a key that closes it (back, info, help, quit, Enter).
    fn popup_key(&mut self, key: KeyEvent) -> bool {
        let scroll = self.detail_scroll.get();
        let page = 10;
        let next = match keymap::lookup(&key, &[Context::Global]) {
            Some(Action::Down) => scroll.saturating_add(1),
            Some(Action::Up) => scroll.saturating_sub(1),
            Some(Action::PageDown) => scroll.saturating_add(page),
            Some(Action::PageUp) => scroll.saturating_sub(page),
            Some(Action::Top) => 0,
            Some(Action::Bottom) => u16::MAX,
            _ if key.code == KeyCode::Enter => return true,
            Some(Action::Back | Action::Details | Action::Quit | Action::Help) => return true,
            _ => scroll,
        };
        self.detail_scroll.set(next);
        false
    }

    fn close_details(&mut self) {
        self.detail = None;
        self.mode = Mode::Normal;
    }

    fn back(&mut self) {
        let table = &mut self.view_mut().table;
        if !table.filter().is_empty() {
            table.set_filter("");
        } else if self.stack.len() > 1 {
            self.stack.pop();
            self.refresh();
        }
    }

    fn rescan(&mut self) -> Option<Effect> {
        if self.store.discovery_error.is_some() {
            return Some(self.retry_discovery());
        }
        let id = match self.view().table.selected_row().map(|r| &r.id) {
            Some(
                RowId::Account(a)
                | RowId::User(a, _)
                | RowId::Key(a, _, _)
                | RowId::Finding(a, _, _, _)
                | RowId::Credential(a, _, _)
                | RowId::Password(a, _)
                | RowId::Role(a, _),
            ) => a.clone(),
            Some(RowId::Group(_, Some(a))) => a.clone(),
            Some(RowId::Journal(..) | RowId::Group(_, None)) | None => match &self.view().kind {
                ViewKind::Users(Some(a)) | ViewKind::User(a, _) => a.clone(),
                _ => {
                    self.say("nothing to rescan here: select an account, user, key or finding", false);
                    return None;
                }
            },
        };
        let entry = self.store.entry(&id)?;
        if entry.scanning() {
            self.flash = Some(Flash {
                text: format!("{} is being scanned already", entry.account.name),
                error: false,
            });
            return None;
        }
        let account = entry.account.clone();
        self.store.requeue(&id);
        if !self.rescanning.contains(&id) {
            self.rescanning.push(id.clone());
        }
        self.flash = Some(Flash {
            text: format!(
                "rescanning {} ({}) since {} UTC…",
                account.name,
                account.id,
                self.now.format("%H:%M:%S")
            ),
            error: false,
        });
        Some(Effect::Rescan(account))
    }

    /// Starts a new scan run from discovery: events of the failed run are ignored from now on.
    fn retry_discovery(&mut self) -> Effect {
        self.store.discovery_error = None;
        self.store.discovered = false;
        self.store.scan_id += 1;
        self.store.generation += 1;
        self.flash = Some(Flash {
            text: "retrying: connecting to AWS and listing the organization's accounts".into(),
            error: false,
        });
        Effect::Discover
    }

    fn filter_key(&mut self, key: KeyEvent) {
        let mut filter = self.view().table.filter().to_owned();
        match key.code {
            KeyCode::Esc => {
                filter.clear();
                self.mode = Mode::Normal;
            }
            KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Backspace => {
                filter.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => filter.clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => filter.push(c),
            _ => {}
        }
        self.view_mut().table.set_filter(&filter);
    }

    fn command_key(&mut self, key: KeyEvent) -> Option<Effect> {
        match key.code {
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Backspace if self.command.is_empty() => self.mode = Mode::Normal,
            KeyCode::Backspace => {
                self.command.pop();
            }
            KeyCode::Tab => {
                if let Some(c) = self.completions().first() {
                    self.command = (*c).to_owned();
                    // A command with arguments (`plan`) goes on to them.
                    if super::commands::resolve(c).is_some_and(|(c, _)| !c.args.is_empty()) {
                        self.command.push(' ');
                    }
                }
            }
            KeyCode::Enter => {
                self.mode = Mode::Normal;
                let cmd = std::mem::take(&mut self.command);
                match cmd.trim() {
                    "q" | "quit" => {
                        self.flash = Some(Flash {
                            text: "press q to quit".into(),
                            error: false,
                        })
                    }
                    line => match super::commands::resolve(line) {
                        Some((c, args)) if c.run == super::commands::Run::Plan => {
                            let mut words = args.split_whitespace();
                            let result = match (words.next(), words.next(), words.next()) {
                                (Some(action), Some(path), None) => self
                                    .marks
                                    .plan(&self.store, action, &self.identity, self.now)
                                    .map(|plan| (path, plan)),
                                _ => Err(format!("usage: {} (of the marked keys)", super::commands::usage(&c))),
                            };
                            match result {
                                Ok((path, plan)) => {
                                    return Some(Effect::WritePlan {
                                        path: path.to_owned(),
                                        plan: Box::new(plan),
                                    });
                                }
                                Err(text) => self.flash = Some(Flash { text, error: true }),
                            }
                        }
                        Some((c, args)) if !args.is_empty() => {
                            self.flash = Some(Flash {
                                text: format!("{} takes no arguments", super::commands::usage(&c)),
                                error: true,
                            });
                        }
                        Some((
                            super::commands::Command {
                                run: super::commands::Run::View(kind),
                                ..
                            },
                            _,
                        )) => {
                            if *kind != self.view().kind {
                                self.push(kind.clone());
                            }
                        }
                        _ => {
                            self.flash = Some(Flash {
                                text: format!(
                                    "unknown command ':{}' (try {})",
                                    line.trim_start_matches(':'),
                                    super::commands::suggestion()
                                ),
                                error: true,
                            });
                        }
                    },
                }
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => self.command.push(c),
            _ => {}
        }
        None
    }

    /// Command names (views and the others, such as `plan`) that complete what is typed
    /// after `:`.
    pub fn completions(&self) -> Vec<&'static str> {
        super::commands::completions(&self.command)
    }
}

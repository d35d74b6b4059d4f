//! The application state and its update function. No I/O: keys, scan events and write
//! results come in, state changes, and effects the loop must carry out (rescan, write, save a
//! secret, quit) come out.

use super::dialog::{Confirm, Dialog, DialogOutcome, KeyCommand, ShowSecret, WriteRequest};
use super::keymap::{self, Action, Context};
use super::store::Store;
use super::table::{RowId, Table};
use super::views::{COMMANDS, ViewKind, is_root};
use crate::audit::Policy;
use crate::aws::remediate::NewKey;
use crate::model::{AccessKey, Account, KeyStatus, Timestamp};
use crate::remediate::{Done, RemediateError};
use crate::scan::ScanEvent;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use std::sync::Arc;

/// Views with more rows than this are rebuilt at most every 2 s by background changes.
const BIG_VIEW_ROWS: usize = 20_000;

/// What the loop must do after an update.
#[derive(Debug)]
pub enum Effect {
    /// Rescan this account (in the background).
    Rescan(Account),
    /// Make this write (pre-checked and journaled by the remediator), in the background.
    Write(WriteRequest),
    /// Save the new key to a credentials file at `path`, under `[profile]`.
    SaveSecret {
        /// Where (the operator typed it).
        path: String,
        /// Profile name (the user name).
        profile: String,
        /// The key; the loop drops its reference after writing.
        key: Arc<NewKey>,
    },
    /// Leave the TUI.
    Quit,
}

/// The result of a write, from the loop's background task.
#[derive(Debug)]
pub enum WriteEvent {
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
    /// The whole journal, read (at start, or when the file was replaced).
    Journal(Vec<crate::journal::Entry>),
    /// Lines appended to the journal since the last read.
    JournalAppended(Vec<crate::journal::Entry>),
    /// Something the operator should know that is not a failure of theirs (e.g. the journal
    /// was made private): shown in the footer.
    Notice(String),
    /// Actions found interrupted in the journal at start, with the keys' states read live.
    Interrupted(Vec<String>),
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
        Self {
            table: Table::new(columns, sort, order),
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
    /// The open dialog (at most one).
    pub dialog: Option<Dialog>,
}

impl App {
    /// A new app on the accounts view.
    pub fn new(policy: Policy, now: Timestamp, identity: String, write_mode: bool) -> Self {
        Self {
            store: Store::default(),
            policy,
            now,
            identity,
            write_mode,
            stack: vec![View::new(ViewKind::Accounts)],
            mode: Mode::Normal,
            command: String::new(),
            flash: None,
            dialog: None,
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
        let progress = if view.kind == ViewKind::Accounts {
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
        self.store.apply(event, &self.policy, self.now);
    }

    /// Advances the clock.
    pub fn tick(&mut self, now: Timestamp) {
        self.now = now;
        self.refresh();
    }

    /// The keymap contexts active in the current view.
    pub fn contexts(&self) -> Vec<Context> {
        let mut c = vec![Context::Global];
        match self.view().kind {
            ViewKind::User(..) => c.extend([Context::AccountRows, Context::KeyRows]),
            ViewKind::Keys => c.extend([Context::AccountRows, Context::KeyRows, Context::Drillable]),
            ViewKind::Journal => {}
            _ => c.extend([Context::AccountRows, Context::Drillable]),
        }
        c
    }

    /// Handles a key press.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Effect> {
        if let Some(dialog) = self.dialog.as_mut() {
            // Ctrl-C closes a dialog (never a write in flight); it is never typed as 'c'.
            if key.modifiers.contains(KeyModifiers::CONTROL) {
                match (key.code, dialog) {
                    (KeyCode::Char('u'), Dialog::Secret(s)) if s.saved.is_none() => s.path.clear(),
                    (KeyCode::Char('c'), Dialog::Confirm(_) | Dialog::Message { .. }) => self.dialog = None,
                    _ => {}
                }
                return None;
            }
            let outcome = dialog.on_key(key);
            return self.dialog_outcome(outcome);
        }
        match self.mode {
            Mode::Filter => {
                self.filter_key(key);
                None
            }
            Mode::Command => {
                self.command_key(key);
                None
            }
            Mode::Help => {
                if matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
                ) {
                    self.mode = Mode::Normal;
                }
                None
            }
            Mode::Normal => {
                let action = keymap::lookup(&key, &self.contexts())?;
                self.update(action)
            }
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
        let table = &mut self.view_mut().table;
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
            Action::Help => self.mode = Mode::Help,
            Action::Open => self.open(),
            Action::Back => self.back(),
            Action::Rescan => return self.rescan(),
            Action::Quit => return Some(Effect::Quit),
            Action::Deactivate => self.ask(KeyCommand::Deactivate),
            Action::Activate => self.ask(KeyCommand::Activate),
            Action::Rotate => self.ask(KeyCommand::Rotate),
            Action::Delete => self.ask(KeyCommand::Delete),
        }
        None
    }

    fn say(&mut self, text: impl Into<String>, error: bool) {
        self.flash = Some(Flash {
            text: text.into(),
            error,
        });
    }

    /// Opens the confirmation of `command` on the selected key (or explains why not).
    fn ask(&mut self, command: KeyCommand) {
        let Some(RowId::Key(account, user, key)) = self.view().table.selected_row().map(|r| r.id.clone()) else {
            return self.say("select an access key first", true);
        };
        if !self.write_mode {
            let verb = command.label().to_lowercase();
            return self.say(
                format!("read-only: start keytriage with --write to {verb} keys (nothing was changed)"),
                true,
            );
        }
        let (Some(entry), Some(k)) = (self.store.entry(&account), self.store.key(&account, &user, &key)) else {
            return self.say(format!("{key} is not in the latest scan; rescan with R"), true);
        };
        if entry.scanning() {
            // The rescan's result, read before this write, would overwrite the write's.
            return self.say(
                format!("{} is being scanned; wait for it to finish", entry.account.name),
                true,
            );
        }
        match (command, k.status) {
            (KeyCommand::Deactivate, KeyStatus::Inactive) => {
                return self.say(format!("{key} is already inactive"), false);
            }
            (KeyCommand::Activate, KeyStatus::Active) => return self.say(format!("{key} is already active"), false),
            _ => {}
        }
        let confirm = Confirm::new(command, &entry.account, &user, k, self.now);
        self.dialog = Some(Dialog::Confirm(confirm));
    }

    fn dialog_outcome(&mut self, outcome: DialogOutcome) -> Option<Effect> {
        match outcome {
            DialogOutcome::Stay => None,
            DialogOutcome::Close => {
                self.dialog = None;
                None
            }
            DialogOutcome::Confirmed(request) => {
                let verb = match request.command {
                    KeyCommand::Deactivate => "deactivating",
                    KeyCommand::Activate => "activating",
                    KeyCommand::Delete => "deleting",
                    KeyCommand::Rotate => "creating a new key for",
                };
                let text = format!(
                    "{verb} {} of {} in {}… (checking the key live first)",
                    request.key, request.user, request.account.name
                );
                self.dialog = Some(Dialog::Working(text));
                Some(Effect::Write(request))
            }
            DialogOutcome::Save(path) => match &self.dialog {
                Some(Dialog::Secret(s)) => Some(Effect::SaveSecret {
                    path,
                    profile: s.user.clone(),
                    key: s.key.clone(),
                }),
                _ => None,
            },
            DialogOutcome::SecretClosed(old) => {
                self.dialog = None;
                let (account, user, key) = old?;
                let k = self.store.key(&account.id, &user, &key).filter(|k| k.is_active())?;
                let mut c = Confirm::new(KeyCommand::Deactivate, &account, &user, k, self.now);
                c.warnings
                    .push("the old key: deactivate it now, or later once every application uses the new one".into());
                c.cancel_label = "Later";
                self.dialog = Some(Dialog::Confirm(c));
                None
            }
        }
    }

    fn message(&mut self, title: &str, text: String, error: bool) {
        self.dialog = Some(Dialog::Message {
            title: title.into(),
            text,
            error,
        });
    }

    fn update_keys(&mut self, request: &WriteRequest, keys: Option<Vec<AccessKey>>) {
        if let Some(keys) = keys {
            self.store
                .replace_user_keys(&request.account.id, &request.user, keys, &self.policy, self.now);
            self.refresh();
        }
    }

    /// A background task died without reporting (a bug): a dialog waiting for it would wait
    /// forever, so it becomes an error the operator can close.
    pub fn task_failed(&mut self, what: &str) {
        if matches!(self.dialog, Some(Dialog::Working(_))) {
            self.message(
                "internal error",
                format!("the action stopped unexpectedly ({what}); check :journal and rescan with R"),
                true,
            );
        }
    }

    /// Applies the result of a background write; may ask for the next step of a rotation.
    pub fn on_write_event(&mut self, event: WriteEvent) -> Option<Effect> {
        match event {
            WriteEvent::Applied {
                request,
                result: Ok(done),
            } => {
                let verb = match request.command {
                    KeyCommand::Deactivate => "deactivated",
                    KeyCommand::Activate => "activated",
                    _ => "deleted",
                };
                let rid = done
                    .request_id
                    .as_deref()
                    .map(|r| format!(" (request id {r})"))
                    .unwrap_or_default();
                let reread = if done.keys.is_some() {
                    ""
                } else {
                    "; re-reading the keys failed: rescan with R"
                };
                self.update_keys(&request, done.keys);
                self.dialog = None;
                self.say(
                    format!(
                        "{verb} {} of {} in {}{rid}{reread}",
                        request.key, request.user, request.account.name
                    ),
                    false,
                );
                if let Some(key) = request.then_rotate {
                    let next = WriteRequest {
                        command: KeyCommand::Rotate,
                        key,
                        then_rotate: None,
                        ..request
                    };
                    self.dialog = Some(Dialog::Working(format!("creating a new key for {}…", next.user)));
                    return Some(Effect::Write(next));
                }
            }
            WriteEvent::Applied {
                request,
                result: Err(e),
            } => {
                self.message(&format!("{} failed", request.command.label()), e.to_string(), true);
            }
            WriteEvent::Rotated {
                request,
                result: Ok((key, keys)),
            } => {
                self.update_keys(&request, keys);
                let d = ShowSecret::new(
                    key,
                    request.account.clone(),
                    request.user.clone(),
                    Some(request.key.clone()),
                );
                self.dialog = Some(Dialog::Secret(d));
            }
            WriteEvent::Rotated {
                request,
                result:
                    Err(RemediateError::QuotaFull {
                        user,
                        inactive: Some(old),
                    }),
            } => match self.store.key(&request.account.id, &user, &old) {
                Some(k) => {
                    let mut c = Confirm::new(KeyCommand::Delete, &request.account, &user, k, self.now);
                    c.warnings.push(format!(
                        "{user} already has two keys (the IAM limit): delete this inactive key first, then the rotation continues"
                    ));
                    c.request.then_rotate = Some(request.key.clone());
                    self.dialog = Some(Dialog::Confirm(c));
                }
                None => self.message("Rotate", format!("{user} already has two keys; rescan with R"), true),
            },
            WriteEvent::Rotated {
                result: Err(e @ RemediateError::QuotaFull { .. }),
                ..
            } => {
                self.message(
                    "Rotate",
                    format!("{e}: both are active; deactivate and delete one before rotating"),
                    true,
                );
            }
            WriteEvent::Rotated { result: Err(e), .. } => self.message("Rotate failed", e.to_string(), true),
            WriteEvent::Saved(result) => {
                if let Some(Dialog::Secret(s)) = self.dialog.as_mut() {
                    match result {
                        Ok(path) => {
                            s.saved = Some(path);
                            s.note = None;
                        }
                        Err(e) => s.note = Some(e),
                    }
                }
            }
            WriteEvent::Journal(entries) => {
                self.store.journal = entries;
                self.store.generation += 1;
                self.refresh();
            }
            WriteEvent::JournalAppended(entries) => {
                self.store.journal.extend(entries);
                self.store.generation += 1;
                self.refresh();
            }
            WriteEvent::Notice(text) => self.flash = Some(Flash { text, error: false }),
            WriteEvent::Interrupted(lines) if !lines.is_empty() && self.dialog.is_none() => {
                let text = format!(
                    "These write actions were interrupted (no outcome in the journal):\n{}",
                    lines.join("\n")
                );
                self.message("unfinished actions", text, true);
            }
            WriteEvent::Interrupted(_) => {}
        }
        None
    }

    fn push(&mut self, kind: ViewKind) {
        self.stack.push(View::new(kind));
        self.refresh();
    }

    fn open(&mut self) {
        let Some(id) = self.view().table.selected_row().map(|r| r.id.clone()) else {
            return;
        };
        match id {
            RowId::Account(a) => self.push(ViewKind::Users(Some(a))),
            RowId::User(a, u) => self.push(ViewKind::User(a, u)),
            RowId::Key(a, u, k) => {
                self.push(ViewKind::User(a.clone(), u.clone()));
                self.view_mut().table.select_id(&RowId::Key(a, u, k));
            }
            RowId::Finding(a, u, _, _) if is_root(&u) => {
                self.push(ViewKind::Users(Some(a)));
                self.flash = Some(Flash {
                    text: "root user findings are fixed by signing in as the root user".into(),
                    error: false,
                });
            }
            RowId::Journal(..) => {}
            RowId::Finding(a, u, k, _) => {
                self.push(ViewKind::User(a.clone(), u.clone()));
                if let Some(k) = k {
                    self.view_mut().table.select_id(&RowId::Key(a, u, k));
                }
            }
        }
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
        let id = match self.view().table.selected_row().map(|r| &r.id) {
            Some(RowId::Account(a) | RowId::User(a, _) | RowId::Key(a, _, _) | RowId::Finding(a, _, _, _)) => a.clone(),
            Some(RowId::Journal(..)) | None => match &self.view().kind {
                ViewKind::Users(Some(a)) | ViewKind::User(a, _) => a.clone(),
                _ => return None,
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
        self.flash = Some(Flash {
            text: format!("rescanning {} ({})", account.name, account.id),
            error: false,
        });
        Some(Effect::Rescan(account))
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

    fn command_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Backspace if self.command.is_empty() => self.mode = Mode::Normal,
            KeyCode::Backspace => {
                self.command.pop();
            }
            KeyCode::Tab => {
                if let Some(c) = self.completions().first() {
                    self.command = (*c).to_owned();
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
                    other => match ViewKind::from_command(other) {
                        Some(kind) if kind == self.view().kind => {}
                        Some(kind) => self.push(kind),
                        None => {
                            let names: Vec<&str> = COMMANDS.iter().map(|c| c.0).collect();
                            self.flash = Some(Flash {
                                text: format!("command '{other}' is unrecognized (try {})", names.join(", ")),
                                error: true,
                            });
                        }
                    },
                }
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => self.command.push(c),
            _ => {}
        }
    }

    /// View names that complete what is typed after `:`.
    pub fn completions(&self) -> Vec<&'static str> {
        COMMANDS
            .iter()
            .map(|c| c.0)
            .filter(|n| n.starts_with(self.command.trim()))
            .collect()
    }
}

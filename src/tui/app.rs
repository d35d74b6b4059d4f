//! The application state and its update function. No I/O: keys and scan events come in,
//! state changes, and effects the loop must carry out (start a rescan, quit) come out.

use super::keymap::{self, Action, Context};
use super::store::Store;
use super::table::{RowId, Table};
use super::views::{COMMANDS, ViewKind, is_root};
use crate::audit::Policy;
use crate::model::{Account, Timestamp};
use crate::scan::ScanEvent;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

/// What the loop must do after an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Rescan this account (in the background).
    Rescan(Account),
    /// Leave the TUI.
    Quit,
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
    built: Option<u64>,
}

impl View {
    fn new(kind: ViewKind) -> Self {
        let (columns, _) = kind.columns();
        let (sort, order) = kind.default_sort();
        Self {
            table: Table::new(columns, sort, order),
            kind,
            built: None,
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

    /// Rebuilds the current view's rows when the data changed since it was built.
    pub fn refresh(&mut self) {
        let generation = self.store.generation;
        let (store, policy, now) = (&self.store, &self.policy, self.now);
        let last = self.stack.len() - 1;
        let view = &mut self.stack[last];
        if view.built != Some(generation) {
            view.table.set_rows(view.kind.rows(store, policy, now));
            view.built = Some(generation);
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
        let mut c = vec![Context::Global, Context::AccountRows];
        if !matches!(self.view().kind, ViewKind::User(..)) {
            c.push(Context::Drillable);
        }
        c
    }

    /// Handles a key press.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Effect> {
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
            MouseEventKind::ScrollDown => self.view_mut().table.scroll(3),
            MouseEventKind::ScrollUp => self.view_mut().table.scroll(-3),
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
            None => match &self.view().kind {
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
            KeyCode::Backspace if self.command.pop().is_none() => self.mode = Mode::Normal,
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
            KeyCode::Char(c) => self.command.push(c),
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

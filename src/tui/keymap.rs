//! The keymap: one table of bindings (Ctrl keys included) that feeds the dispatcher, the
//! footer and the `?` help, so help never drifts from what the keys do.
//!
//! This module owns which key means which [`Action`] where. It must not carry actions out
//! (that is `app.rs`) or know about views beyond the [`Context`]s they declare.

use crate::model::KeyAction;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the user asked for. Keys become actions before any view sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Move the selection up one row.
    Up,
    /// Move the selection down one row.
    Down,
    /// First row.
    Top,
    /// Last row.
    Bottom,
    /// One screen up.
    PageUp,
    /// One screen down.
    PageDown,
    /// Drill down into the selected row.
    Open,
    /// Show the selected row in full (a popup).
    Details,
    /// Back to the previous view.
    Back,
    /// Start typing a filter.
    Filter,
    /// Start typing a command (`:keys`…).
    Command,
    /// Show or hide the help.
    Help,
    /// Sort by the next column.
    NextSort,
    /// Sort by the previous column.
    PrevSort,
    /// Reverse the sort order.
    ReverseSort,
    /// Rescan the selected account.
    Rescan,
    /// Quit.
    Quit,
    /// A write on the selected credential (deactivate, activate, rotate, delete; disable
    /// console access on a console password), or on every marked access key when there are
    /// marks (not rotate, not disable console access).
    Key(KeyAction),
    /// Mark or unmark the selected row.
    ToggleMark,
    /// Mark every row the filter shows.
    MarkShown,
    /// Clear every mark.
    ClearMarks,
    /// Group findings: by rule and account, by rule, by account, then flat again.
    Group,
    /// Accept the risk of the selected finding (or of every marked finding) until a date:
    /// an entry in the exceptions file.
    Except,
}

/// Where a binding works.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    /// Everywhere (in normal mode).
    Global,
    /// In views whose rows belong to an account (accounts, users, user, keys, findings).
    AccountRows,
    /// In views where Enter drills down.
    Drillable,
    /// In views whose rows are credentials: access keys (user, `:keys`, `:credentials`) and
    /// the other kinds (user, `:credentials`).
    KeyRows,
    /// In `:findings` and its grouped form: `=` changes the grouping.
    Groupable,
    /// In views whose rows are findings (`:findings`, a group's findings, `:changes`).
    FindingRows,
}

/// A key, with or without Ctrl (other modifiers, such as the Shift of `G`, are ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Held with Ctrl (`Ctrl-d`).
    pub ctrl: bool,
}

impl Key {
    /// True when `event` is this key.
    pub fn matches(self, event: &KeyEvent) -> bool {
        self.code == event.code && self.ctrl == event.modifiers.contains(KeyModifiers::CONTROL)
    }
}

impl From<Key> for KeyEvent {
    fn from(k: Key) -> KeyEvent {
        let modifiers = if k.ctrl {
            KeyModifiers::CONTROL
        } else {
            KeyModifiers::NONE
        };
        KeyEvent::new(k.code, modifiers)
    }
}

const fn k(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

/// One key binding.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    /// The keys (any of them triggers it). The first is shown in hints.
    pub keys: &'static [Key],
    /// Where it works: the views whose registry entry lists this context.
    pub context: Context,
    /// What it does.
    pub action: Action,
    /// What `?` shows; its first word is the footer hint.
    pub help: &'static str,
    /// Offered in the footer (row actions first, as many as fit; `?` always).
    pub footer: bool,
}

const fn b(keys: &'static [Key], context: Context, action: Action, help: &'static str, footer: bool) -> Binding {
    Binding {
        keys,
        context,
        action,
        help,
        footer,
    }
}

use Context::*;
use KeyCode::{Char, Down as KDown, End, Enter, Esc, Home, PageDown as KPgDn, PageUp as KPgUp, Up as KUp};

/// Every binding. The `?` help lists the active ones with all their keys, the footer the
/// first key of those marked `footer`; nothing else dispatches keys in normal mode.
pub const KEYMAP: &[Binding] = &[
    b(&[k(Char('j')), k(KDown)], Global, Action::Down, "down", false),
    b(&[k(Char('k')), k(KUp)], Global, Action::Up, "up", false),
    b(&[k(Char('g')), k(Home)], Global, Action::Top, "first row", false),
    b(&[k(Char('G')), k(End)], Global, Action::Bottom, "last row", false),
    b(
        &[k(KPgDn), k(Char('f')), ctrl('d')],
        Global,
        Action::PageDown,
        "page down",
        false,
    ),
    b(
        &[k(KPgUp), k(Char('b')), ctrl('u')],
        Global,
        Action::PageUp,
        "page up",
        false,
    ),
    b(&[k(Enter)], Drillable, Action::Open, "open", true),
    b(
        &[k(Char('i'))],
        Global,
        Action::Details,
        "info — the row in full (user page: the user)",
        true,
    ),
    b(&[k(Esc)], Global, Action::Back, "back", true),
    b(&[k(Char('/'))], Global, Action::Filter, "filter", true),
    b(
        &[k(Char(':'))],
        Global,
        Action::Command,
        "command line (commands listed below)",
        true,
    ),
    b(
        &[k(Char('s')), k(Char('>'))],
        Global,
        Action::NextSort,
        "sort by next column",
        true,
    ),
    b(
        &[k(Char('<'))],
        Global,
        Action::PrevSort,
        "sort by previous column",
        false,
    ),
    b(&[k(Char('S'))], Global, Action::ReverseSort, "reverse sort", false),
    b(
        &[k(Char('R'))],
        AccountRows,
        Action::Rescan,
        "rescan this account",
        true,
    ),
    b(
        &[k(Char('d'))],
        KeyRows,
        Action::Key(KeyAction::Deactivate),
        "deactivate the access key or credential",
        true,
    ),
    b(
        &[k(Char('a'))],
        KeyRows,
        Action::Key(KeyAction::Activate),
        "activate the access key or credential",
        true,
    ),
    b(
        &[k(Char('r'))],
        KeyRows,
        Action::Key(KeyAction::Rotate),
        "rotate the access key (new key shown once)",
        true,
    ),
    b(
        &[k(Char('x'))],
        KeyRows,
        Action::Key(KeyAction::Delete),
        "delete the access key or credential",
        true,
    ),
    b(
        &[k(Char('P'))],
        KeyRows,
        Action::Key(KeyAction::DisableConsole),
        "disable console access (delete the password)",
        false,
    ),
    b(
        &[k(Char(' '))],
        Global,
        Action::ToggleMark,
        "mark or unmark the row",
        false,
    ),
    b(
        &[k(Char('*'))],
        Global,
        Action::MarkShown,
        "mark every row the filter shows",
        false,
    ),
    b(&[k(Char('u'))], Global, Action::ClearMarks, "clear all marks", false),
    b(
        &[k(Char('='))],
        Groupable,
        Action::Group,
        "group findings — cycles by rule and account, by rule, by account, then ungrouped",
        true,
    ),
    b(
        &[k(Char('e'))],
        FindingRows,
        Action::Except,
        "except the finding (or the marked ones) until a date — exceptions file, no AWS write",
        true,
    ),
    b(&[k(Char('?'))], Global, Action::Help, "help", true),
    b(&[k(Char('q')), ctrl('c')], Global, Action::Quit, "quit", true),
];

/// The action bound to `key` among the active contexts.
pub fn lookup(key: &KeyEvent, active: &[Context]) -> Option<Action> {
    KEYMAP
        .iter()
        .find(|bnd| active.contains(&bnd.context) && bnd.keys.iter().any(|k| k.matches(key)))
        .map(|bnd| bnd.action)
}

/// Human name of a key, e.g. `Enter`, `j`, `PgDn`, `Ctrl-d`.
pub fn key_name(key: Key) -> String {
    let name = match key.code {
        Char(' ') => "Space".into(),
        Char(c) => c.to_string(),
        Enter => "Enter".into(),
        Esc => "Esc".into(),
        KUp => "↑".into(),
        KDown => "↓".into(),
        Home => "Home".into(),
        End => "End".into(),
        KPgUp => "PgUp".into(),
        KPgDn => "PgDn".into(),
        other => format!("{other:?}"),
    };
    if key.ctrl { format!("Ctrl-{name}") } else { name }
}

/// Bindings that work in the active contexts, in table order.
pub fn active(contexts: &[Context]) -> impl Iterator<Item = &'static Binding> + '_ {
    KEYMAP.iter().filter(move |b| contexts.contains(&b.context))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn no_key_is_bound_twice_in_one_context_set() {
        let all = [Global, AccountRows, Drillable, KeyRows, Groupable, FindingRows];
        let mut seen = HashSet::new();
        for bnd in active(&all) {
            for k in bnd.keys {
                assert!(seen.insert(*k), "{k:?} bound twice");
            }
        }
    }

    #[test]
    fn every_binding_has_help_and_keys() {
        assert!(KEYMAP.iter().all(|b| !b.help.is_empty() && !b.keys.is_empty()));
    }

    #[test]
    fn lookup_respects_context() {
        let r = KeyEvent::from(Char('R'));
        assert_eq!(lookup(&r, &[Global]), None);
        assert_eq!(lookup(&r, &[Global, AccountRows]), Some(Action::Rescan));
        assert_eq!(
            lookup(&KeyEvent::new(Char('c'), KeyModifiers::CONTROL), &[Global]),
            Some(Action::Quit)
        );
    }

    #[test]
    fn ctrl_keys_are_bindings_and_do_not_type_their_letter() {
        let ctrl_d = KeyEvent::new(Char('d'), KeyModifiers::CONTROL);
        assert_eq!(
            lookup(&ctrl_d, &[Global, KeyRows]),
            Some(Action::PageDown),
            "not Deactivate"
        );
        let ctrl_u = KeyEvent::new(Char('u'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&ctrl_u, &[Global]), Some(Action::PageUp));
        assert_eq!(
            lookup(&KeyEvent::new(Char('x'), KeyModifiers::CONTROL), &[Global, KeyRows]),
            None
        );
        let shift_g = KeyEvent::new(Char('G'), KeyModifiers::SHIFT);
        assert_eq!(lookup(&shift_g, &[Global]), Some(Action::Bottom));
        let quit: Vec<String> = KEYMAP
            .iter()
            .filter(|b| b.action == Action::Quit)
            .flat_map(|b| b.keys.iter().map(|k| key_name(*k)))
            .collect();
        assert_eq!(quit, ["q", "Ctrl-c"]);
    }
}

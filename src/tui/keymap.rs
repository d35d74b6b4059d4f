//! The keymap: one table of bindings that feeds the dispatcher, the footer and the `?` help,
//! so help never drifts from what the keys do.

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
    /// A write on the selected access key (deactivate, activate, rotate, delete).
    Key(KeyAction),
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
    /// In views whose rows are access keys (user, `:keys`).
    KeyRows,
}

/// One key binding.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    /// The keys (any of them triggers it). The first is shown in hints.
    pub keys: &'static [KeyCode],
    /// Where it works.
    pub context: Context,
    /// What it does.
    pub action: Action,
    /// Help text.
    pub help: &'static str,
    /// Shown in the footer.
    pub footer: bool,
}

const fn b(keys: &'static [KeyCode], context: Context, action: Action, help: &'static str, footer: bool) -> Binding {
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

/// Every binding.
pub const KEYMAP: &[Binding] = &[
    b(&[Char('j'), KDown], Global, Action::Down, "down", false),
    b(&[Char('k'), KUp], Global, Action::Up, "up", false),
    b(&[Char('g'), Home], Global, Action::Top, "first row", false),
    b(&[Char('G'), End], Global, Action::Bottom, "last row", false),
    b(&[KPgDn, Char('f')], Global, Action::PageDown, "page down", false),
    b(&[KPgUp, Char('b')], Global, Action::PageUp, "page up", false),
    b(&[Enter], Drillable, Action::Open, "open", true),
    b(&[Esc], Global, Action::Back, "back", true),
    b(&[Char('/')], Global, Action::Filter, "filter", true),
    b(
        &[Char(':')],
        Global,
        Action::Command,
        "command (:accounts :users :keys :findings)",
        true,
    ),
    b(
        &[Char('s'), Char('>')],
        Global,
        Action::NextSort,
        "sort by next column",
        true,
    ),
    b(&[Char('<')], Global, Action::PrevSort, "sort by previous column", false),
    b(&[Char('S')], Global, Action::ReverseSort, "reverse sort", false),
    b(&[Char('R')], AccountRows, Action::Rescan, "rescan this account", true),
    b(
        &[Char('d')],
        KeyRows,
        Action::Key(KeyAction::Deactivate),
        "deactivate the access key",
        true,
    ),
    b(
        &[Char('a')],
        KeyRows,
        Action::Key(KeyAction::Activate),
        "activate the access key",
        true,
    ),
    b(
        &[Char('r')],
        KeyRows,
        Action::Key(KeyAction::Rotate),
        "rotate the access key (new key shown once)",
        true,
    ),
    b(
        &[Char('x')],
        KeyRows,
        Action::Key(KeyAction::Delete),
        "delete the access key",
        true,
    ),
    b(&[Char('?')], Global, Action::Help, "help", true),
    b(&[Char('q')], Global, Action::Quit, "quit", true),
];

/// The action bound to `key` among the active contexts.
pub fn lookup(key: &KeyEvent, active: &[Context]) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            Char('c') => Some(Action::Quit),
            Char('d') => Some(Action::PageDown),
            Char('u') => Some(Action::PageUp),
            _ => None,
        };
    }
    KEYMAP
        .iter()
        .find(|bnd| active.contains(&bnd.context) && bnd.keys.contains(&key.code))
        .map(|bnd| bnd.action)
}

/// Human name of a key, e.g. `Enter`, `j`, `PgDn`.
pub fn key_name(k: KeyCode) -> String {
    match k {
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
    }
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
        let all = [Global, AccountRows, Drillable, KeyRows];
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
}

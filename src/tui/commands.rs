//! The `:` command line: every command in one list ([`all`]), which feeds Tab completion,
//! the `?` help, the `unknown command` suggestions and the dispatch ([`resolve`]), so no
//! command can be typed but not found.
//!
//! The views' commands come from the view registry (`views::VIEWS`); the commands that are
//! not views (`:plan`) are the entries of [`OTHERS`]. This module owns naming and resolving
//! commands; carrying them out is `app.rs`.

use super::views::{self, ViewKind};

/// What a command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// Opens the view.
    View(&'static ViewKind),
    /// Writes a plan of the marked access keys: `:plan ACTION FILE`.
    Plan,
}

/// One `:` command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// What is typed after `:` (or any unambiguous prefix of it), e.g. `keys`.
    pub name: &'static str,
    /// Its arguments as `?` and the usage message show them; empty when it takes none.
    pub args: &'static str,
    /// One line for `?`.
    pub help: &'static str,
    /// What it does.
    pub run: Run,
}

/// The commands that are not views.
pub const OTHERS: &[Command] = &[Command {
    name: "plan",
    args: "deactivate|delete|activate FILE",
    help: "the marked access keys as a plan, for keytriage --write apply FILE",
    run: Run::Plan,
}];

/// Every command: the views' (in registry order), then [`OTHERS`].
pub fn all() -> impl Iterator<Item = Command> {
    views::commands()
        .map(|(name, help, kind)| Command {
            name,
            args: "",
            help,
            run: Run::View(kind),
        })
        .chain(OTHERS.iter().copied())
}

/// `:plan deactivate|delete|activate FILE`: how to type `c`.
pub fn usage(c: &Command) -> String {
    if c.args.is_empty() {
        format!(":{}", c.name)
    } else {
        format!(":{} {}", c.name, c.args)
    }
}

/// Names that complete `typed` (what follows `:`); none once an argument is being typed.
pub fn completions(typed: &str) -> Vec<&'static str> {
    let typed = typed.trim_start().trim_start_matches(':');
    if typed.contains(' ') {
        return Vec::new();
    }
    all().map(|c| c.name).filter(|n| n.starts_with(typed)).collect()
}

/// What the footer offers while `typed` (what follows `:`) is being typed: the names Tab
/// completes (`Tab → keys`), or, once a command that takes arguments is named and a space
/// typed, its usage (`usage: :plan deactivate|delete|activate FILE`).
pub fn hint(typed: &str) -> String {
    match resolve(typed) {
        Some((c, _)) if !c.args.is_empty() && typed.trim_start().contains(' ') => {
            format!("usage: {}", usage(&c))
        }
        _ => format!("Tab → {}", completions(typed).join(" ")),
    }
}

/// The command `line` names (its first word: a name, or an unambiguous prefix of one) and
/// the rest of the line (its arguments, trimmed). `None` for an empty, unknown or
/// ambiguous name.
pub fn resolve(line: &str) -> Option<(Command, &str)> {
    let line = line.trim().trim_start_matches(':');
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    if word.is_empty() {
        return None;
    }
    if let Some(c) = all().find(|c| c.name == word) {
        return Some((c, rest.trim()));
    }
    let mut hits = all().filter(|c| c.name.starts_with(word));
    let hit = hits.next()?;
    hits.next().is_none().then_some((hit, rest.trim()))
}

/// Every command as typed, for a suggestion: `:accounts :users … :plan`.
pub fn suggestion() -> String {
    all().map(|c| format!(":{}", c.name)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_command_and_plan_are_in_the_one_list() {
        let names: Vec<&str> = all().map(|c| c.name).collect();
        for (name, ..) in views::commands() {
            assert!(names.contains(&name), "{name}");
        }
        assert_eq!(names.last(), Some(&"plan"));
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "no name twice: {names:?}");
    }

    #[test]
    fn plan_completes_and_resolves_with_its_arguments() {
        assert_eq!(completions("pl"), ["plan"]);
        assert_eq!(completions("plan deactivate /tmp/p.json"), Vec::<&str>::new());
        assert!(completions("").contains(&"plan"));
        let (c, args) = resolve("plan deactivate /tmp/p.json").unwrap();
        assert_eq!((c.run, args), (Run::Plan, "deactivate /tmp/p.json"));
        let (c, args) = resolve(":p delete x").unwrap();
        assert_eq!((c.name, args), ("plan", "delete x"));
        assert_eq!(usage(&c), ":plan deactivate|delete|activate FILE");
        assert_eq!(hint("pl"), "Tab → plan");
        assert_eq!(hint("plan "), "usage: :plan deactivate|delete|activate FILE");
        assert_eq!(
            hint("plan delete /tmp/x"),
            "usage: :plan deactivate|delete|activate FILE"
        );
        assert_eq!(hint("ke"), "Tab → keys");
    }

    #[test]
    fn views_resolve_by_unambiguous_prefix_and_unknown_names_do_not() {
        assert_eq!(resolve("k").map(|(c, _)| c.run), Some(Run::View(&ViewKind::Keys)));
        assert_eq!(resolve(":jo").map(|(c, _)| c.name), Some("journal"));
        assert_eq!(resolve("ro"), None, "roles or rotations");
        assert_eq!(resolve("pods"), None);
        assert_eq!(resolve(""), None);
        assert!(suggestion().starts_with(":accounts ") && suggestion().ends_with(" :plan"));
    }
}

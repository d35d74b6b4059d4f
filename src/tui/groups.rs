//! Grouped findings: `:findings` folded into one row per rule and account, per rule, or per
//! account, with counts per severity ("key-not-rotated · acme-data-platform · 105"). `=` in
//! `:findings` cycles the grouping; Enter on a group opens its findings.
//!
//! This module owns the group rows and their columns; the views registry lists the grouped
//! view, and `app.rs` moves between grouped and flat.

use super::store::Store;
use super::table::{Column, Row, RowId, SortKey, ident, num};
use crate::audit::{Finding, Severity};
use crate::model::AccountId;
use std::collections::BTreeMap;

/// How findings are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// One row per rule and account.
    RuleAndAccount,
    /// One row per rule, across accounts.
    Rule,
    /// One row per account, across rules.
    Account,
}

impl GroupBy {
    /// The next grouping `=` goes to: rule and account → rule → account → none (flat).
    pub fn next(self) -> Option<GroupBy> {
        match self {
            GroupBy::RuleAndAccount => Some(GroupBy::Rule),
            GroupBy::Rule => Some(GroupBy::Account),
            GroupBy::Account => None,
        }
    }

    /// `by rule and account`, `by rule`, `by account`.
    pub fn words(self) -> &'static str {
        match self {
            GroupBy::RuleAndAccount => "by rule and account",
            GroupBy::Rule => "by rule",
            GroupBy::Account => "by account",
        }
    }
}

/// The grouped view's columns.
pub const GROUP_COLUMNS: &[Column] = &[
    ident("RULE", 10, 0),
    ident("ACCOUNT", 8, 0),
    num("COUNT", 6, 0),
    num("CRIT", 5, 1),
    num("HIGH", 5, 1),
    num("MED", 4, 1),
    num("LOW", 4, 1),
];

/// The sort key of a group whose worst finding is `worst`, with `total` findings: the
/// severity first (critical highest), then the count.
fn worst_first_key(worst: Option<Severity>, total: usize) -> i64 {
    let sev = worst.map_or(-1, |s| s as i64);
    sev * 1_000_000_000 + i64::try_from(total).unwrap_or(i64::MAX / 2).min(999_999_999)
}

/// True when `f` belongs to the group `(rule, account)` (`None`: any).
pub fn in_group(f: &Finding, rule: Option<&str>, account: Option<&AccountId>) -> bool {
    rule.is_none_or(|r| f.rule.id() == r) && account.is_none_or(|a| &f.account_id == a)
}

/// One row per group of the store's findings, `by` the given grouping; a group's id is
/// [`RowId::Group`] with the rule and account it is about (`None` for "all").
pub fn group_rows(store: &Store, by: GroupBy) -> Vec<Row> {
    // (rule, account) → counts per severity (worst first), and the accounts and rules seen.
    type Key<'a> = (Option<&'static str>, Option<&'a AccountId>);
    #[derive(Default)]
    struct Group<'a> {
        counts: [usize; 5],
        accounts: Vec<&'a AccountId>,
        rules: Vec<&'static str>,
    }
    let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
    for e in &store.accounts {
        for f in &e.findings {
            let key = match by {
                GroupBy::RuleAndAccount => (Some(f.rule.id()), Some(&e.account.id)),
                GroupBy::Rule => (Some(f.rule.id()), None),
                GroupBy::Account => (None, Some(&e.account.id)),
            };
            let g = groups.entry(key).or_default();
            let sev = Severity::ALL.iter().position(|s| *s == f.severity).unwrap_or(4);
            g.counts[sev] += 1;
            if !g.accounts.contains(&&e.account.id) {
                g.accounts.push(&e.account.id);
            }
            if !g.rules.contains(&f.rule.id()) {
                g.rules.push(f.rule.id());
            }
        }
    }
    let name = |id: &AccountId| {
        store
            .entry(id)
            .map(|e| e.account.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    groups
        .into_iter()
        .map(
            |(
                (rule, account),
                Group {
                    counts,
                    accounts,
                    rules,
                },
            )| {
                let total: usize = counts.iter().sum();
                let rule_cell = match rule {
                    Some(r) => r.to_owned(),
                    None => crate::text::plural(rules.len(), "rule", "rules"),
                };
                let account_cell = match account {
                    Some(a) => name(a),
                    None => crate::text::plural(accounts.len(), "account", "accounts"),
                };
                let worst = Severity::ALL.iter().zip(counts).find(|(_, n)| *n > 0).map(|(s, _)| *s);
                let n = |i: usize| (counts[i].to_string(), SortKey::Num(counts[i] as i64));
                let cols = vec![
                    (rule_cell, SortKey::Text),
                    (account_cell, SortKey::Text),
                    (total.to_string(), SortKey::Num(total as i64)),
                    // CRIT sorts by the worst severity, then the count: the default sort
                    // (descending) puts a group with one critical above 105 highs.
                    (counts[0].to_string(), SortKey::Num(worst_first_key(worst, total))),
                    n(1),
                    n(2),
                    n(3),
                ];
                Row::new(RowId::Group(rule, account.cloned()), cols, worst, false)
            },
        )
        .collect()
}

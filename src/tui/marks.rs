//! Marks: the rows the operator picked for a bulk action (Space toggles, `*` marks what the
//! filter shows, `u` clears). They are kept by row identity ([`RowId`]), so they survive
//! sorting, filtering, changing views and a rescan; a mark whose target vanished from the
//! latest scan is dropped with a note. This module owns the set and what can be said about
//! it; the bulk confirmation and its execution live in `bulk_flow`.

use super::store::Store;
use super::table::RowId;
use std::collections::HashSet;

/// The marked rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Marks(HashSet<RowId>);

impl std::ops::Deref for Marks {
    type Target = HashSet<RowId>;

    fn deref(&self) -> &HashSet<RowId> {
        &self.0
    }
}

impl FromIterator<RowId> for Marks {
    fn from_iter<I: IntoIterator<Item = RowId>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Marks {
    /// Marks `id`, or unmarks it when it was marked.
    pub fn toggle(&mut self, id: RowId) {
        if !self.0.remove(&id) {
            self.0.insert(id);
        }
    }

    /// Marks every row of `ids`; returns how many rows that was.
    pub fn mark_all(&mut self, ids: impl IntoIterator<Item = RowId>) -> usize {
        let mut n = 0;
        for id in ids {
            n += 1;
            self.0.insert(id);
        }
        n
    }

    /// Unmarks `id` (a write on it is done).
    pub fn unmark(&mut self, id: &RowId) {
        self.0.remove(id);
    }

    /// Unmarks everything; returns how many marks there were.
    pub fn clear(&mut self) -> usize {
        let n = self.0.len();
        self.0.clear();
        n
    }

    /// The marked access keys, in a stable order (account, user, key).
    pub fn keys(&self) -> Vec<&RowId> {
        let mut keys: Vec<&RowId> = self.0.iter().filter(|m| matches!(m, RowId::Key(..))).collect();
        keys.sort_by(|a, b| key_order(a).cmp(&key_order(b)));
        keys
    }

    /// What is marked, for the header: `marked 20 keys, 1 user`; `None` without marks.
    pub fn summary(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        const KINDS: [(&str, &str); 6] = [
            ("key", "keys"),
            ("user", "users"),
            ("account", "accounts"),
            ("finding", "findings"),
            ("journal line", "journal lines"),
            ("group", "groups"),
        ];
        let mut counts = [0usize; KINDS.len()];
        for m in &self.0 {
            counts[kind_index(m)] += 1;
        }
        let parts: Vec<String> = counts
            .iter()
            .zip(KINDS)
            .filter(|(n, _)| **n > 0)
            .map(|(n, (one, many))| crate::text::plural(*n, one, many))
            .collect();
        Some(format!("marked {}", parts.join(", ")))
    }

    /// The plan of `action` (`deactivate`, `delete` or `activate`) on the marked access keys,
    /// as the latest scan shows them (keys the action would not change are left out), dated
    /// by the oldest scan among their accounts (`now` when none says), for `keytriage --write
    /// apply`; `caller` is the operator's ARN.
    ///
    /// # Errors
    /// An unknown action, no marked key, a marked key's account being scanned, nothing to do.
    pub fn plan(
        &self,
        store: &Store,
        action: &str,
        caller: &str,
        now: crate::model::Timestamp,
    ) -> Result<crate::remediate::plan::Plan, String> {
        use crate::model::{KeyAction, Timestamp};
        use crate::remediate::plan::{Criteria, Plan, PlanTarget};
        let action = match action {
            "deactivate" => KeyAction::Deactivate,
            "delete" => KeyAction::Delete,
            "activate" => KeyAction::Activate,
            other => {
                return Err(format!(
                    "plan action '{other}' is unrecognized (deactivate, delete or activate)"
                ));
            }
        };
        let mut targets = Vec::new();
        let mut scanned_at: Option<Timestamp> = None;
        for m in self.keys() {
            let RowId::Key(account, user, key) = m else { continue };
            let (Some(entry), Some(k)) = (store.entry(account), store.key(account, user, key)) else {
                continue;
            };
            if entry.scanning() {
                return Err(format!(
                    "{} is being scanned; wait for it to finish",
                    entry.account.name
                ));
            }
            if action.no_op_status() == Some(k.status) {
                continue;
            }
            if let Some(t) = entry.scanned_at {
                scanned_at = Some(scanned_at.map_or(t, |s| s.min(t)));
            }
            targets.push(PlanTarget {
                account_id: account.clone(),
                account_name: entry.account.name.clone(),
                user: user.to_string(),
                access_key_id: k.id.clone(),
                status: k.status,
                created: k.created,
                last_used: k.last_used.clone(),
            });
        }
        if targets.is_empty() {
            return Err(format!(
                "no marked access key to {} (mark keys with Space or *)",
                action.verb()
            ));
        }
        targets.sort_by(|a, b| {
            (&a.account_id, &a.user, &a.access_key_id).cmp(&(&b.account_id, &b.user, &b.access_key_id))
        });
        Plan::new(scanned_at.unwrap_or(now), caller, action, Criteria::default(), targets).map_err(|e| e.to_string())
    }

    /// Drops marks whose target is gone from the latest scan (an account whose scan is under
    /// way keeps its marks until it ends). Returns the note for the footer, naming how many
    /// and one of them, or `None` when nothing was dropped.
    pub fn prune(&mut self, store: &Store) -> Option<String> {
        let mut gone: Vec<RowId> = Vec::new();
        self.0.retain(|id| {
            let keep = exists(store, id);
            if !keep {
                gone.push(id.clone());
            }
            keep
        });
        let first = gone.first()?;
        let what = match first {
            RowId::Key(_, u, k) => format!("access key {k} of {u}"),
            RowId::User(_, u) => format!("user {u}"),
            RowId::Account(a) => format!("account {a}"),
            RowId::Finding(_, u, _, rule) => format!("finding {rule} of {u}"),
            RowId::Journal(id, _) => format!("journal line {id}"),
            RowId::Group(rule, _) => format!("group {}", rule.unwrap_or("of every rule")),
            RowId::Credential(_, u, c) => format!("{} {} of {u}", c.kind.label(), c.id),
            RowId::Password(_, u) => format!("console password of {u}"),
            RowId::Role(_, r) => format!("role {r}"),
        };
        let more = if gone.len() > 1 {
            format!(" and {} more", gone.len() - 1)
        } else {
            String::new()
        };
        Some(format!(
            "mark dropped: {what}{more} no longer exists in the latest scan"
        ))
    }
}

fn kind_index(id: &RowId) -> usize {
    match id {
        RowId::Key(..) => 0,
        RowId::User(..) => 1,
        RowId::Account(_) => 2,
        RowId::Finding(..) => 3,
        RowId::Journal(..) => 4,
        RowId::Group(..) => 5,
        RowId::Credential(..) => 6,
        RowId::Password(..) => 7,
        RowId::Role(..) => 8,
    }
}

fn key_order(id: &RowId) -> (&str, &str, &str) {
    match id {
        RowId::Key(a, u, k) => (a.as_str(), u.as_str(), k.as_str()),
        _ => ("", "", ""),
    }
}

/// True while the marked row's target exists in the latest scan (or cannot be judged yet).
fn exists(store: &Store, id: &RowId) -> bool {
    let account = match id {
        RowId::Journal(..) | RowId::Group(..) => return true,
        RowId::Account(a)
        | RowId::User(a, _)
        | RowId::Key(a, _, _)
        | RowId::Finding(a, _, _, _)
        | RowId::Credential(a, _, _)
        | RowId::Password(a, _)
        | RowId::Role(a, _) => a,
    };
    let Some(entry) = store.entry(account) else {
        return false;
    };
    let Some(scan) = entry.scan.as_ref().filter(|_| !entry.scanning()) else {
        return true;
    };
    match id {
        RowId::User(_, u) => scan.users.iter().any(|x| x.name == u),
        RowId::Key(a, u, k) => store.key(a, u, k).is_some(),
        RowId::Finding(_, u, k, rule) => entry
            .findings
            .iter()
            .any(|f| f.user == u && &f.access_key_id == k && f.rule.id() == *rule),
        RowId::Credential(_, u, c) => scan
            .users
            .iter()
            .any(|x| x.name == u && x.credentials.iter().any(|y| y.kind == c.kind && y.id == c.id)),
        RowId::Password(_, u) => scan.users.iter().any(|x| x.name == u && x.password_enabled),
        RowId::Role(_, r) => scan.roles.iter().flatten().any(|x| x.name == r),
        RowId::Account(_) | RowId::Journal(..) | RowId::Group(..) => true,
    }
}

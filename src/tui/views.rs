//! The views: the registry [`VIEWS`] (one entry per view: name, help, columns, default sort
//! by column title, keymap contexts) and the rows each view builds from the [`Store`].
//! Org-wide and scoped variants share one column table: a scoped view shows the same columns
//! minus the leading ones it is scoped by (its entry names them).
//!
//! This module owns what a view shows. It must not change the store, handle keys (that is
//! `app.rs` via the keymap) or draw (that is `table.rs` and `render.rs`).

use super::keymap::Context;
use super::store::{AccountEntry, Store};
use super::table::{Badge, Column, Order, Row, RowId, SortKey, col, ident, num, text};
use crate::audit::{Finding, Policy, ROOT_USER, Rule, Severity};
use crate::model::{
    AccessKey, AccountId, Credential, CredentialKind, MfaKind, RootUser, ScanStatus, Timestamp, User, age_days,
};
use chrono::Datelike;
use std::collections::HashMap;

/// Which list is on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewKind {
    /// The organization's accounts.
    Accounts,
    /// Users of one account, or of every account.
    Users(Option<AccountId>),
    /// One user: details, keys, findings.
    User(AccountId, String),
    /// Every access key of the organization.
    Keys,
    /// Every finding, worst first.
    Findings,
    /// The journal of write actions, newest first.
    Journal,
    /// `:findings` grouped (see [`super::groups`]).
    FindingGroups(super::groups::GroupBy),
    /// The findings of one group: its rule and account (`None`: all).
    FindingsIn(Option<&'static str>, Option<AccountId>),
    /// Findings new and resolved since the previous recorded scan.
    Changes,
    /// Every credential of every kind (access keys, console passwords, SSH public keys,
    /// signing certificates, service-specific credentials) of the organization.
    Credentials,
    /// Every IAM role of the organization.
    Roles,
    /// Rotations in progress across the organization (users with an old and a new key).
    Rotations,
}

/// One view: everything the rest of the TUI needs to know about it. The `:` line's
/// completion and dispatch, the `?` help, the table's columns and default sort, and the
/// keymap contexts all read this entry, so adding a view is one entry in [`VIEWS`] (plus
/// its [`ViewKind`] variant and row builder).
#[derive(Debug)]
pub struct ViewSpec {
    /// Unique name; for a view in [`VIEWS`] with `opens`, the `:` command (`:keys`).
    pub name: &'static str,
    /// One line for `?`, e.g. "every access key".
    pub help: &'static str,
    /// `Some(kind)`: `:name` opens `kind`. `None`: reached only by Enter on a row (a scoped
    /// view such as one account's users).
    pub opens: Option<ViewKind>,
    /// The columns its rows are built with (the org-wide table for a scoped view).
    pub columns: &'static [Column],
    /// Titles of the leading columns a scoped view hides because every row shares them
    /// (`ACCOUNT` in one account's users); empty for org-wide views.
    pub scoped_by: &'static [&'static str],
    /// The default sort: a shown column's title and the order.
    pub sort: (&'static str, Order),
    /// The keymap contexts active in it, besides [`Context::Global`].
    pub contexts: &'static [Context],
    /// True when its rows show scan progress (rebuilt on every progress event).
    pub shows_progress: bool,
}

impl ViewSpec {
    /// The columns shown: [`Self::columns`] minus the [`Self::scoped_by`] ones.
    pub fn shown_columns(&self) -> &'static [Column] {
        self.columns.get(self.scoped_by.len()..).unwrap_or_default()
    }

    /// The default sort as (index among the shown columns, order). A title that names no
    /// shown column (caught by the registry test) falls back to the first column.
    pub fn default_sort(&self) -> (usize, Order) {
        let (title, order) = self.sort;
        let index = self.shown_columns().iter().position(|c| c.title == title);
        (index.unwrap_or(0), order)
    }
}

use Context::{AccountRows, Drillable, FindingRows, Groupable, KeyRows};

/// Every view, in the order `?` and Tab completion list them.
pub const VIEWS: &[ViewSpec] = &[
    ViewSpec {
        name: "accounts",
        help: "the organization's accounts",
        opens: Some(ViewKind::Accounts),
        columns: ACCOUNT_COLUMNS,
        scoped_by: &[],
        sort: ("CRIT", Order::Desc),
        contexts: &[AccountRows, Drillable],
        shows_progress: true,
    },
    ViewSpec {
        name: "users",
        help: "every IAM user",
        opens: Some(ViewKind::Users(None)),
        columns: USER_COLUMNS,
        scoped_by: &[],
        sort: ("FINDINGS", Order::Desc),
        contexts: &[AccountRows, Drillable],
        shows_progress: false,
    },
    ViewSpec {
        name: "keys",
        help: "every access key",
        opens: Some(ViewKind::Keys),
        columns: KEY_COLUMNS,
        scoped_by: &[],
        sort: ("AGE", Order::Desc),
        contexts: &[AccountRows, KeyRows, Drillable],
        shows_progress: false,
    },
    ViewSpec {
        name: "findings",
        help: "every finding, worst first",
        opens: Some(ViewKind::Findings),
        columns: FINDING_COLUMNS,
        scoped_by: &[],
        sort: ("SEV", Order::Desc),
        contexts: &[AccountRows, Drillable, Groupable, FindingRows],
        shows_progress: false,
    },
    ViewSpec {
        name: "finding-groups",
        help: "findings grouped by rule and account, rule, or account (= in :findings)",
        opens: None,
        columns: super::groups::GROUP_COLUMNS,
        scoped_by: &[],
        // Worst severity first, then the count (the CRIT column's key).
        sort: ("CRIT", Order::Desc),
        contexts: &[Drillable, Groupable],
        shows_progress: false,
    },
    ViewSpec {
        name: "finding-group",
        help: "the findings of one group (Enter on a group)",
        opens: None,
        columns: FINDING_COLUMNS,
        scoped_by: &[],
        sort: ("SEV", Order::Desc),
        contexts: &[AccountRows, Drillable, FindingRows],
        shows_progress: false,
    },
    ViewSpec {
        name: "journal",
        help: "write actions, newest first",
        opens: Some(ViewKind::Journal),
        columns: JOURNAL_COLUMNS,
        scoped_by: &[],
        sort: ("TIME (UTC)", Order::Desc),
        contexts: &[Drillable],
        shows_progress: false,
    },
    ViewSpec {
        name: "changes",
        help: "new and resolved since the last scan",
        opens: Some(ViewKind::Changes),
        columns: CHANGE_COLUMNS,
        scoped_by: &[],
        // New and reopened before resolved, each worst first (the CHANGE column's key).
        sort: ("CHANGE", Order::Desc),
        contexts: &[AccountRows, Drillable, FindingRows],
        shows_progress: false,
    },
    ViewSpec {
        name: "credentials",
        help: "every credential of every kind",
        opens: Some(ViewKind::Credentials),
        columns: CREDENTIAL_COLUMNS,
        scoped_by: &[],
        sort: ("AGE", Order::Desc),
        contexts: &[AccountRows, KeyRows, Drillable],
        shows_progress: false,
    },
    ViewSpec {
        name: "rotations",
        help: "rotations in progress: may the old key go?",
        opens: Some(ViewKind::Rotations),
        columns: ROTATION_COLUMNS,
        scoped_by: &[],
        sort: ("VERDICT", Order::Asc),
        contexts: &[AccountRows, KeyRows, Drillable],
        shows_progress: false,
    },
    ViewSpec {
        name: "roles",
        help: "every IAM role: last use and outside trust",
        opens: Some(ViewKind::Roles),
        columns: ROLE_COLUMNS,
        scoped_by: &[],
        sort: ("FINDINGS", Order::Desc),
        contexts: &[AccountRows, Drillable],
        shows_progress: false,
    },
    ViewSpec {
        name: "account-users",
        help: "one account's users (Enter on an account)",
        opens: None,
        columns: USER_COLUMNS,
        scoped_by: &["ACCOUNT"],
        sort: ("FINDINGS", Order::Desc),
        contexts: &[AccountRows, Drillable],
        shows_progress: false,
    },
    ViewSpec {
        name: "user",
        help: "one user: every credential of every kind, findings (Enter on a user)",
        opens: None,
        columns: CREDENTIAL_COLUMNS,
        scoped_by: &["ACCOUNT", "USER"],
        sort: ("KIND", Order::Asc),
        contexts: &[AccountRows, KeyRows, Drillable],
        shows_progress: false,
    },
];

/// The views a `:` command opens: `(name, help, kind)`, in [`VIEWS`] order.
pub fn commands() -> impl Iterator<Item = (&'static str, &'static str, &'static ViewKind)> {
    VIEWS
        .iter()
        .filter_map(|v| v.opens.as_ref().map(|kind| (v.name, v.help, kind)))
}

/// The registry entry called `name`.
fn spec_named(name: &str) -> &'static ViewSpec {
    VIEWS.iter().find(|v| v.name == name).unwrap_or(&VIEWS[0])
}

impl ViewKind {
    /// The view a `:` command opens: a command name or any unambiguous prefix of one.
    /// `None` for an unknown or ambiguous command.
    pub fn from_command(cmd: &str) -> Option<Self> {
        let cmd = cmd.trim().trim_start_matches(':');
        let mut matches = commands().filter(|(name, ..)| !cmd.is_empty() && name.starts_with(cmd));
        let (_, _, kind) = matches.next()?;
        if matches.next().is_some() {
            return None;
        }
        Some(kind.clone())
    }

    /// This view's registry entry.
    pub fn spec(&self) -> &'static ViewSpec {
        spec_named(match self {
            Self::Accounts => "accounts",
            Self::Users(None) => "users",
            Self::Users(Some(_)) => "account-users",
            Self::User(..) => "user",
            Self::Keys => "keys",
            Self::Findings => "findings",
            Self::Journal => "journal",
            Self::FindingGroups(_) => "finding-groups",
            Self::FindingsIn(..) => "finding-group",
            Self::Changes => "changes",
            Self::Credentials => "credentials",
            Self::Roles => "roles",
            Self::Rotations => "rotations",
        })
    }

    /// The columns of this view, and how many leading cells of the org-wide rows it skips.
    pub fn columns(&self) -> (&'static [Column], usize) {
        let spec = self.spec();
        (spec.shown_columns(), spec.scoped_by.len())
    }

    /// Titles of the columns every row of this view shares and that are not drawn: the
    /// rule and the account of one group's findings (the title names them), so the key id
    /// has their room.
    pub fn constant_columns(&self) -> Vec<&'static str> {
        match self {
            Self::FindingsIn(rule, account) => [(rule.is_some(), "RULE"), (account.is_some(), "ACCOUNT")]
                .into_iter()
                .filter_map(|(constant, title)| constant.then_some(title))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The default sort, from the registry: worst first for accounts, users and findings;
    /// oldest first for keys; newest first for the journal.
    pub fn default_sort(&self) -> (usize, Order) {
        self.spec().default_sort()
    }

    /// Builds the rows of this view.
    pub fn rows(&self, store: &Store, policy: &Policy, now: Timestamp) -> Vec<Row> {
        let (_, skip) = self.columns();
        // Findings indexed by (account, user) once per rebuild: rows then look up their own
        // instead of scanning the account's findings (O(findings), not O(rows × findings)).
        let by_user = || -> HashMap<(&AccountId, &str), Vec<&Finding>> {
            let mut map: HashMap<(&AccountId, &str), Vec<&Finding>> = HashMap::new();
            // Role findings name a role in `user`: never a user's (a role and a user may
            // share a name).
            for f in store
                .accounts
                .iter()
                .flat_map(|e| &e.findings)
                .filter(|f| f.role().is_none())
            {
                map.entry((&f.account_id, f.user.as_str())).or_default().push(f);
            }
            map
        };
        let none: Vec<&Finding> = Vec::new();
        let mut rows: Vec<Row> = match self {
            Self::Accounts => store.accounts.iter().map(|e| account_row(e, policy, now)).collect(),
            Self::Users(scope) => {
                let index = by_user();
                // The root user leads each account's users (its findings are the worst).
                let roots = store
                    .accounts
                    .iter()
                    .filter(|e| scope.as_ref().is_none_or(|id| &e.account.id == id))
                    .filter_map(|e| {
                        let root = e.scan.as_ref()?.root.as_ref()?;
                        let mine = index.get(&(&e.account.id, ROOT_USER)).unwrap_or(&none);
                        Some(root_row(e, root, mine, now))
                    });
                roots
                    .chain(users(store, scope.as_ref()).map(|(e, u)| {
                        let mine = index.get(&(&e.account.id, u.name.as_str())).unwrap_or(&none);
                        user_row(e, u, mine, policy, now)
                    }))
                    .collect()
            }
            Self::User(..) | Self::Credentials => {
                let account = match self {
                    Self::User(account, _) => Some(account),
                    _ => None,
                };
                let name = match self {
                    Self::User(_, name) => Some(name),
                    _ => None,
                };
                let mut rows = Vec::new();
                for e in store
                    .accounts
                    .iter()
                    .filter(|e| account.is_none_or(|a| &e.account.id == a))
                {
                    let Some(scan) = &e.scan else { continue };
                    let mut sorted: Vec<&Finding> = e.findings.iter().collect();
                    sorted.sort_by(|a, b| a.user.cmp(&b.user));
                    for u in scan.users.iter().filter(|u| name.is_none_or(|n| &u.name == n)) {
                        let start = sorted.partition_point(|f| f.user.as_str() < u.name.as_str());
                        let len = sorted[start..].partition_point(|f| f.user == u.name);
                        credential_rows(e, u, &sorted[start..start + len], now, &mut rows);
                    }
                }
                rows
            }
            Self::Keys => {
                let (account, name) = match self {
                    Self::User(account, name) => (Some(account), Some(name)),
                    _ => (None, None),
                };
                // Sized once: a 100,000-row view grown by doubling copies its rows four
                // times and leaves up to half of it unused.
                let capacity = store
                    .accounts
                    .iter()
                    .filter(|e| account.is_none_or(|a| &e.account.id == a))
                    .filter_map(|e| e.scan.as_ref())
                    .flat_map(|s| &s.users)
                    .filter(|u| name.is_none_or(|n| &u.name == n))
                    .map(|u| u.access_keys.len())
                    .sum();
                let mut rows = Vec::with_capacity(capacity);
                // Per account, its findings sorted by user: each user's are a slice (no
                // org-wide index for one user's view, no hashing per finding).
                for e in store
                    .accounts
                    .iter()
                    .filter(|e| account.is_none_or(|a| &e.account.id == a))
                {
                    let Some(scan) = &e.scan else { continue };
                    let mut sorted: Vec<&Finding> = e.findings.iter().filter(|f| f.role().is_none()).collect();
                    sorted.sort_by(|a, b| a.user.cmp(&b.user));
                    for u in scan.users.iter().filter(|u| name.is_none_or(|n| &u.name == n)) {
                        let start = sorted.partition_point(|f| f.user.as_str() < u.name.as_str());
                        let len = sorted[start..].partition_point(|f| f.user == u.name);
                        let mine = &sorted[start..start + len];
                        rows.extend(u.access_keys.iter().map(|k| key_row(e, u, k, mine, now)));
                    }
                }
                rows
            }
            Self::Findings => store
                .accounts
                .iter()
                .flat_map(|e| {
                    e.findings
                        .iter()
                        .map(move |f| finding_row(e, f, store.triage.get(&crate::triage::FindingId::of(f)), now))
                })
                .collect(),
            Self::Journal => store.journal.iter().map(|j| journal_row(store, j)).collect(),
            Self::FindingGroups(by) => super::groups::group_rows(store, *by),
            Self::FindingsIn(rule, account) => store
                .accounts
                .iter()
                .flat_map(|e| {
                    e.findings
                        .iter()
                        .filter(|f| super::groups::in_group(f, *rule, account.as_ref()))
                        .map(move |f| finding_row(e, f, store.triage.get(&crate::triage::FindingId::of(f)), now))
                })
                .collect(),
            Self::Changes => change_rows(store, now),
            Self::Roles => role_rows(store, now),
            Self::Rotations => rotation_rows(store, policy, now),
        };
        if skip > 0 {
            for r in &mut rows {
                r.drop_leading(skip);
            }
        }
        rows
    }

    /// The title of the view.
    pub fn title(&self, store: &Store) -> String {
        let name = |id: &AccountId| {
            store
                .entry(id)
                .map(|e| e.account.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        match self {
            Self::Accounts => "accounts".into(),
            Self::Users(None) => "users (all accounts)".into(),
            Self::Users(Some(id)) => format!("users · {} ({id})", name(id)),
            Self::User(id, user) => format!("user {user} · {}", name(id)),
            Self::Keys => "access keys (all accounts)".into(),
            Self::Credentials => "credentials of every kind (all accounts)".into(),
            Self::Findings => "findings (all accounts)".into(),
            Self::Journal => "journal of write actions".into(),
            Self::FindingGroups(by) => format!("findings (all accounts) grouped {}", by.words()),
            Self::FindingsIn(rule, account) => format!(
                "findings · {} · {}",
                rule.unwrap_or("every rule"),
                account.as_ref().map(name).unwrap_or_else(|| "every account".into())
            ),
            Self::Roles => "IAM roles (all accounts)".into(),
            Self::Changes => match store.changes.as_ref().and_then(|c| c.0.previous_scan_at) {
                Some(t) => format!("changes since the scan of {}", t.format("%Y-%m-%d %H:%M UTC")),
                None if store.changes.is_some() => "changes (first recorded scan: every finding is new)".into(),
                None => "changes (shown once a scan is recorded)".into(),
            },
            Self::Rotations => "rotations in progress (all accounts): may the old key go?".into(),
        }
    }
}

const ACCOUNT_COLUMNS: &[Column] = &[
    ident("NAME", 10, 0),
    ident("ID", 12, 1),
    ident("OU", 4, 5),
    col("STATE", 6, 9, 6),
    col("SCAN", 6, 13, 0),
    num("USERS", 5, 2),
    num("KEYS", 4, 3),
    num("OLD", 3, 3),
    num("NOMFA", 5, 3),
    num("CRIT", 4, 1).badge(Badge::Count(Severity::Critical)),
    num("HIGH", 4, 1).badge(Badge::Count(Severity::High)),
    // Severity counts are all shown (they add up to the findings): an identifier is cut or
    // a less important column goes before one of them.
    num("MED", 3, 1).badge(Badge::Count(Severity::Medium)),
    num("LOW", 3, 1).badge(Badge::Count(Severity::Low)),
];

const USER_COLUMNS: &[Column] = &[
    ident("ACCOUNT", 8, 0),
    ident("USER", 8, 0),
    ident("PATH", 4, 6),
    col("PASSWORD", 8, 16, 3),
    col("MFA", 4, 8, 1),
    // Access keys on (active) and off (inactive): `1 on`, `1 on 1 off`, `none`.
    col("KEYS", 4, 14, 2),
    num("OLDEST", 6, 1),
    col("LAST ACTIVITY", 8, 13, 4),
    // `HIGH 2 of 6` is one answer: whole (a short word), never `HIGH 2 …`.
    col("FINDINGS", 8, 16, 0).badge(Badge::Row),
];

const KEY_COLUMNS: &[Column] = &[
    ident("ACCOUNT", 8, 0),
    ident("USER", 8, 0),
    ident("ACCESS KEY", 20, 0),
    col("STATUS", 6, 8, 1),
    num("AGE", 5, 0),
    col("CREATED", 10, 10, 5),
    col("LAST USED", 8, 10, 1),
    ident("SERVICE", 4, 3),
    ident("REGION", 6, 4),
    text("FINDINGS", 8, 2).badge(Badge::Row).list(),
];

// A signing certificate's id is 32 characters: it is cut (in the middle, so ids stay apart)
// and STATUS and LAST USE go before the account or the user is cut.
const CREDENTIAL_COLUMNS: &[Column] = &[
    ident("ACCOUNT", 8, 0),
    ident("USER", 8, 0),
    col("KIND", 4, 10, 0),
    ident("ID", 12, 2),
    col("STATUS", 8, 8, 2),
    num("AGE", 5, 0),
    col("LAST USE / EXPIRY", 10, 20, 2),
    text("FINDINGS", 8, 3).badge(Badge::Row).list(),
];

/// The rules about a user's console password (it carries no credential id).
const PASSWORD_RULES: [Rule; 2] = [Rule::ConsoleWithoutMfa, Rule::PasswordUnused];

/// What a person calls a credential's kind in the KIND column, with its sort rank (password,
/// access keys, SSH keys, certificates, service-specific credentials).
fn kind_cell(c: &Credential) -> (&'static str, i64) {
    match (c.kind, c.service.as_deref()) {
        (CredentialKind::SshPublicKey, _) => ("SSH key", 2),
        (CredentialKind::SigningCertificate, _) => ("cert", 3),
        (CredentialKind::ServiceSpecific, Some("bedrock.amazonaws.com")) => ("Bedrock", 4),
        (CredentialKind::ServiceSpecific, Some("codecommit.amazonaws.com")) => ("CodeCommit", 4),
        (CredentialKind::ServiceSpecific, Some("cassandra.amazonaws.com")) => ("Keyspaces", 4),
        (CredentialKind::ServiceSpecific, _) => ("service", 4),
        (CredentialKind::Role, _) => ("role", 5),
    }
}

/// Why a credential has no last use: AWS records none for SSH keys, signing certificates and
/// service-specific credentials.
pub fn no_last_use(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::SshPublicKey => "none recorded (AWS keeps no last use for SSH keys)",
        CredentialKind::SigningCertificate => "none recorded (AWS keeps no last use for signing certificates)",
        CredentialKind::ServiceSpecific => "none recorded (AWS keeps no last use for service-specific credentials)",
        CredentialKind::Role => "see the role's RoleLastUsed",
    }
}

/// The rule ids of `fs` joined with spaces (`-` when none), the worst severity and the
/// "worst first" score.
fn rules_cell(fs: &[&Finding]) -> ((String, SortKey), Option<Severity>) {
    let worst = fs.iter().map(|f| f.severity).max();
    let text = if fs.is_empty() {
        "-".to_owned()
    } else {
        fs.iter().map(|f| f.rule.id()).collect::<Vec<_>>().join(" ")
    };
    ((text, SortKey::Num(risk(fs))), worst)
}

/// A user's rows of the credentials table: the console password (when enabled), each access
/// key, each SSH key, signing certificate and service-specific credential. `mine`: the
/// user's findings.
fn credential_rows(e: &AccountEntry, u: &User, mine: &[&Finding], now: Timestamp, rows: &mut Vec<Row>) {
    let (account, id) = (&e.account.name, &e.account.id);
    let lead = || vec![(account.clone(), SortKey::Text), (u.name.clone(), SortKey::Text)];
    let age = |t: Timestamp| {
        let d = age_days(t, now);
        (format!("{d}d"), SortKey::Num(d))
    };
    if u.password_enabled {
        let fs: Vec<&Finding> = mine
            .iter()
            .copied()
            .filter(|f| PASSWORD_RULES.contains(&f.rule))
            .collect();
        let (findings, worst) = rules_cell(&fs);
        let mut cols = lead();
        cols.extend([
            ("password".to_owned(), SortKey::Num(0)),
            ("console".to_owned(), SortKey::Text),
            ("enabled".to_owned(), SortKey::Text),
            ("-".to_owned(), SortKey::None),
            match u.password_last_used {
                Some(t) => (format!("used {}", ago(t, now)), SortKey::Num(age_days(t, now))),
                None => ("never used".to_owned(), SortKey::Num(i64::MAX)),
            },
            findings,
        ]);
        rows.push(Row::new(
            RowId::Password(id.clone(), u.name.as_str().into()),
            cols,
            worst,
            false,
        ));
    }
    for k in &u.access_keys {
        let fs: Vec<&Finding> = mine
            .iter()
            .copied()
            .filter(|f| f.access_key_id.as_ref() == Some(&k.id))
            .collect();
        let (findings, worst) = rules_cell(&fs);
        let mut cols = lead();
        cols.extend([
            ("access key".to_owned(), SortKey::Num(1)),
            (k.id.to_string(), SortKey::Text),
            (k.status.as_str().to_owned(), SortKey::Text),
            age(k.created),
            match &k.last_used {
                Some(l) => (
                    format!("used {}", ago(l.date, now)),
                    SortKey::Num(age_days(l.date, now)),
                ),
                None => ("never used".to_owned(), SortKey::Num(i64::MAX)),
            },
            findings,
        ]);
        rows.push(Row::new(
            RowId::Key(id.clone(), u.name.as_str().into(), k.id.clone()),
            cols,
            worst,
            !k.is_active(),
        ));
    }
    for c in &u.credentials {
        let fs: Vec<&Finding> = mine
            .iter()
            .copied()
            .filter(|f| f.credential.as_ref().is_some_and(|r| r.kind == c.kind && r.id == c.id))
            .collect();
        let (findings, worst) = rules_cell(&fs);
        let (kind, rank) = kind_cell(c);
        let mut cols = lead();
        cols.extend([
            (kind.to_owned(), SortKey::Num(rank)),
            (c.id.clone(), SortKey::Text),
            (c.status.as_str().to_owned(), SortKey::Text),
            age(c.created),
            match (c.kind, c.expires) {
                (CredentialKind::SshPublicKey, _) => ("no last use".to_owned(), SortKey::None),
                (_, None) => ("never expires".to_owned(), SortKey::None),
                (_, Some(t)) if t <= now => (format!("expired {}", ago(t, now)), SortKey::Num(-age_days(t, now))),
                (_, Some(t)) => (
                    format!("expires in {}d", (t - now).num_days()),
                    SortKey::Num((t - now).num_days()),
                ),
            },
            findings,
        ]);
        rows.push(Row::new(
            RowId::Credential(id.clone(), u.name.as_str().into(), c.reference()),
            cols,
            worst,
            !c.is_active(),
        ));
    }
}

const JOURNAL_COLUMNS: &[Column] = &[
    // At 80 columns the time goes (it is in the detail, `i`) before what was acted on.
    col("TIME (UTC)", 19, 19, 2),
    col("ACTION", 10, 10, 0),
    col("RESULT", 11, 11, 0).badge(Badge::Row),
    // The account's name (its id when the store does not know it), the id beside it where
    // there is room.
    ident("ACCOUNT", 8, 0),
    ident("ACCOUNT ID", 12, 3),
    ident("USER", 8, 0),
    ident("CREDENTIAL", 12, 0),
    ident("REQUEST ID", 10, 3),
    text("ERROR", 8, 3),
];

const CHANGE_COLUMNS: &[Column] = &[
    // `NEW`, `REOPENED`, `✓ RESOLVED`; sorts open changes (new, reopened) before resolved
    // ones, each worst first.
    col("CHANGE", 10, 10, 0),
    col("SEV", 4, 4, 0).badge(Badge::Row),
    // A rule id names the rule: cut in the middle (`role-tr…anyone`), three `role-trusts-…`
    // rules stay apart.
    ident("RULE", 12, 0),
    ident("ACCOUNT", 8, 0),
    ident("USER/ROLE", 8, 0),
    ident("ACCESS KEY", 10, 2),
    // Days open (`23 d`): the title says open.
    col("OPEN", 4, 10, 1),
    // A new finding's detail; for a resolved one, the scan that resolved it.
    text("DETAIL", 12, 3),
];

/// The `:changes` CHANGE cell of a finding that is new (or reopened, when a recorded scan
/// had resolved it before) or resolved, and its sort key: open changes above resolved ones,
/// worst first within each.
fn change_cell(change: Change, sev: Severity) -> (String, SortKey) {
    let (word, rank) = match change {
        Change::New => ("NEW", 1),
        Change::Reopened => ("REOPENED", 1),
        Change::Resolved => ("✓ RESOLVED", 0),
    };
    (word.into(), SortKey::Num(rank * 100 + sev as i64))
}

/// What happened to a finding between the last two recorded scans.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    New,
    Reopened,
    Resolved,
}

/// `:changes`: NEW (or REOPENED) for each finding first seen by the last recorded scan,
/// `✓ RESOLVED` for each finding gone since the one before (dimmed, no severity marker: good
/// news); OPEN is how long it has been (or had been) open; DETAIL the finding's text, or for a
/// resolved one when it was resolved (the history keeps no detail of a gone finding).
fn change_rows(store: &Store, now: Timestamp) -> Vec<Row> {
    let name = |id: &AccountId| {
        store
            .entry(id)
            .map(|e| e.account.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let row = |change: Change, f: &crate::triage::FindingId, sev: Severity, first_seen: Timestamp, detail: String| {
        let key = f.access_key_id.as_ref().map_or_else(|| "-".into(), |k| k.to_string());
        let days = age_days(first_seen, now);
        let resolved = change == Change::Resolved;
        let cols: Vec<(String, SortKey)> = vec![
            change_cell(change, sev),
            (sev_label(sev).into(), SortKey::Num(sev as i64)),
            (f.rule.id().into(), SortKey::Text),
            (name(&f.account_id), SortKey::Text),
            (f.user.clone(), SortKey::Text),
            (key, SortKey::Text),
            (format!("{days} d"), SortKey::Num(days)),
            (detail, SortKey::Text),
        ];
        Row::new(
            RowId::Finding(
                f.account_id.clone(),
                f.user.as_str().into(),
                f.access_key_id.clone(),
                f.rule.id(),
            ),
            cols,
            (!resolved).then_some(sev),
            resolved,
        )
    };
    let mut rows: Vec<Row> = store
        .accounts
        .iter()
        .flat_map(|e| &e.findings)
        .filter_map(|f| {
            let id = crate::triage::FindingId::of(f);
            let t = store.triage.get(&id)?;
            let change = if t.reopened_after.is_some() {
                Change::Reopened
            } else {
                Change::New
            };
            (t.status == crate::triage::Status::New)
                .then(|| row(change, &id, f.severity, t.first_seen, f.detail.clone()))
        })
        .collect();
    if let Some((_, resolved)) = &store.changes {
        rows.extend(resolved.iter().map(|r| {
            let detail = match store.entry(&r.id.account_id).and_then(|e| e.scanned_at) {
                Some(at) => format!("gone in the scan of {}", at.format("%Y-%m-%d %H:%M UTC")),
                None => "gone in the latest scan".into(),
            };
            row(Change::Resolved, &r.id, r.severity, r.first_seen, detail)
        }));
    }
    rows
}

// Six accounts have an `OrganizationAccountAccessRole`: ACCOUNT is never dropped, and a
// trusted account id (12 digits) is never cut.
const ROLE_COLUMNS: &[Column] = &[
    ident("ACCOUNT", 8, 0),
    ident("ROLE", 8, 0),
    col("CREATED", 10, 10, 4),
    col("LAST USED", 8, 10, 2),
    ident("REGION", 6, 5),
    text("TRUSTED OUTSIDE", 13, 1),
    text("FINDINGS", 8, 0).badge(Badge::Row).list(),
];

/// `:roles`: every role of every account whose roles were read: account, role, created
/// (date), last used (`3d ago`, `never`) and its region, the principals it trusts outside the
/// organization ([`crate::model::Role::outside_principals`], `-` for none), its findings'
/// rules. Roles of AWS services and IAM Identity Center are listed too (never `role-unused`).
fn role_rows(store: &Store, now: Timestamp) -> Vec<Row> {
    let mut rows = Vec::new();
    for e in &store.accounts {
        let Some(roles) = e.scan.as_ref().and_then(|s| s.roles.as_ref()) else {
            continue;
        };
        for r in roles {
            let mine: Vec<&Finding> = e
                .findings
                .iter()
                .filter(|f| f.role() == Some(r.name.as_str()))
                .collect();
            let outside: Vec<String> = r.outside_principals().map(|p| p.describe()).collect();
            let rules: Vec<&str> = mine.iter().map(|f| f.rule.id()).collect();
            let (used, region) = match &r.last_used {
                Some(u) => (
                    (ago(u.date, now), SortKey::Num(age_days(u.date, now))),
                    u.region.clone().unwrap_or_else(|| "-".into()),
                ),
                None => (("never".to_owned(), SortKey::Num(i64::MAX)), "-".to_owned()),
            };
            let cols: Vec<(String, SortKey)> = vec![
                (e.account.name.clone(), SortKey::Text),
                (r.name.clone(), SortKey::Text),
                (
                    r.created.format("%Y-%m-%d").to_string(),
                    SortKey::Num(r.created.timestamp()),
                ),
                used,
                (region, SortKey::Text),
                (
                    if r.trusted.is_empty() {
                        // Every stored trust policy allows someone: none read means its
                        // policy could not be read (the scan warned), not a clean role.
                        "none read (see warnings)".into()
                    } else if outside.is_empty() {
                        "-".into()
                    } else {
                        outside.join(", ")
                    },
                    SortKey::Num(outside.len() as i64),
                ),
                (
                    if rules.is_empty() { "-".into() } else { rules.join(" ") },
                    SortKey::Num(risk(&mine)),
                ),
            ];
            rows.push(Row::new(
                RowId::Role(e.account.id.clone(), r.name.as_str().into()),
                cols,
                mine.iter().map(|f| f.severity).max(),
                r.is_aws_managed(),
            ));
        }
    }
    rows
}

const ROTATION_COLUMNS: &[Column] = &[
    ident("ACCOUNT", 8, 0),
    ident("USER", 8, 0),
    ident("OLD KEY", 20, 1),
    ident("NEW KEY", 20, 3),
    col("STARTED", 8, 10, 3),
    // When, by which service, where (`18 h ago by dynamodb in us-west-2`): long text, it
    // takes the room before WHAT TO DO (which `i` shows in full).
    text("OLD KEY USED SINCE", 16, 2),
    // The verdict is the answer of the view: whole ("safe to deactivate") at 80 columns.
    col("VERDICT", 18, 18, 0),
    text("WHAT TO DO", 10, 4),
];

/// `:rotations`: one row per user with a rotation in progress
/// ([`crate::audit::rotation::in_progress`]). The row is the old key (so `d` deactivates it
/// and Enter opens its user); STARTED is the new key's creation, OLD KEY USED SINCE the old
/// key's last use at or after it ("not used" otherwise), VERDICT the judgement's word
/// (sorted in the order still used, too early, safe to deactivate, delete old key).
fn rotation_rows(store: &Store, policy: &Policy, now: Timestamp) -> Vec<Row> {
    use crate::audit::rotation::{self, Verdict};
    users(store, None)
        .filter_map(|(e, u)| {
            let r = rotation::in_progress(u, policy, now)?;
            let used = match (r.old_used_since(), r.old.last_used.as_ref()) {
                (Some(at), Some(last)) => {
                    let mut s = rotation::ago(at, now);
                    if let Some(svc) = &last.service {
                        s.push_str(&format!(" by {svc}"));
                    }
                    if let Some(region) = &last.region {
                        s.push_str(&format!(" in {region}"));
                    }
                    (s, SortKey::Num(at.timestamp()))
                }
                _ => ("not used".to_owned(), SortKey::Num(i64::MIN)),
            };
            let todo = r.summary(now);
            let todo = todo.split_once(" → ").map_or(todo.as_str(), |(_, t)| t).to_owned();
            let cols: Vec<(String, SortKey)> = vec![
                (e.account.name.clone(), SortKey::Text),
                (u.name.clone(), SortKey::Text),
                (r.old.id.to_string(), SortKey::Text),
                (r.new.id.to_string(), SortKey::Text),
                (rotation::ago(r.started(), now), SortKey::Num(-r.started().timestamp())),
                used,
                (r.verdict.word().to_owned(), SortKey::Num(r.verdict as i64)),
                (todo, SortKey::Text),
            ];
            Some(Row::new(
                RowId::Key(e.account.id.clone(), u.name.as_str().into(), r.old.id.clone()),
                cols,
                None,
                r.verdict == Verdict::OldInactive,
            ))
        })
        .collect()
}

const FINDING_COLUMNS: &[Column] = &[
    col("SEV", 4, 4, 0).badge(Badge::Row),
    // A rule id names the rule: cut in the middle (`role-tr…anyone`), the three
    // `role-trusts-…` rules stay apart.
    ident("RULE", 12, 0),
    ident("ACCOUNT", 8, 0),
    // A user's name, or a role's for role findings.
    ident("USER/ROLE", 8, 0),
    // A key id whole (20) or not shown: an ARN of a role finding is cut in the middle.
    ident("ACCESS KEY", 20, 2),
    // The detail first, its triage label after it (`… · NEW`): the room left goes to it.
    text("DETAIL", 20, 1),
    text("CONTROLS", 8, 3),
];

fn users<'a>(
    store: &'a Store,
    scope: Option<&'a AccountId>,
) -> impl Iterator<Item = (&'a AccountEntry, &'a User)> + 'a {
    store
        .accounts
        .iter()
        .filter(move |e| scope.is_none_or(|id| &e.account.id == id))
        .flat_map(|e| e.scan.iter().flat_map(move |s| s.users.iter().map(move |u| (e, u))))
}

/// Short severity label, readable without colour.
pub fn sev_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

/// "today", "1d ago", "400d ago".
pub fn ago(t: Timestamp, now: Timestamp) -> String {
    match age_days(t, now) {
        0 => "today".into(),
        d => format!("{d}d ago"),
    }
}

fn count(n: usize) -> (String, SortKey) {
    (n.to_string(), SortKey::Num(n as i64))
}

/// The composite "worst first" score: criticals, then highs, mediums, lows.
fn risk(findings: &[&Finding]) -> i64 {
    findings.iter().map(|f| severity_weight(f.severity)).sum()
}

fn account_row(e: &AccountEntry, policy: &Policy, now: Timestamp) -> Row {
    let a = &e.account;
    let users: &[User] = e.scan.as_ref().map(|s| s.users.as_slice()).unwrap_or_default();
    let keys = users.iter().map(User::active_key_count).sum::<usize>();
    let old = users
        .iter()
        .flat_map(|u| &u.access_keys)
        .filter(|k| k.is_active() && age_days(k.created, now) > i64::from(policy.rotation_days))
        .count();
    let no_mfa = users.iter().filter(|u| u.password_enabled && !u.mfa_active).count();
    let sev = |s| e.findings.iter().filter(|f| f.severity == s).count();
    let all: Vec<&Finding> = e.findings.iter().collect();
    // Partial accounts show what was read (labelled "partial" in SCAN), never "-".
    let scanned = e
        .scan
        .as_ref()
        .is_some_and(|s| s.scan.status == ScanStatus::Ok || s.scan.partial);
    let numbers = |n: usize| if scanned { count(n) } else { ("-".into(), SortKey::None) };
    let unknown = if e.scan.as_ref().is_some_and(|s| s.scan.status == ScanStatus::Failed) {
        "?"
    } else {
        "-"
    };
    let severity_count = |n: usize| {
        if scanned {
            count(n)
        } else {
            (unknown.to_owned(), SortKey::None)
        }
    };
    let cols: Vec<(String, SortKey)> = vec![
        (a.name.clone(), SortKey::Text),
        (a.id.to_string(), SortKey::Text),
        (a.ou_path.clone(), SortKey::Text),
        (a.state.to_string(), SortKey::Text),
        (e.scan_cell(), SortKey::Text),
        numbers(users.len()),
        numbers(keys),
        numbers(old),
        numbers(no_mfa),
        // An account that could not be read is not clean: its counts say "?". Having no
        // count, it sorts after every scanned account in either direction (never between
        // CRIT 2 and CRIT 0); its SCAN cell says why.
        if scanned {
            (sev(Severity::Critical).to_string(), SortKey::Num(risk(&all)))
        } else if e.scan.as_ref().is_some_and(|s| s.scan.status == ScanStatus::Failed) {
            ("?".into(), SortKey::None)
        } else {
            ("-".into(), SortKey::None)
        },
        severity_count(sev(Severity::High)),
        severity_count(sev(Severity::Medium)),
        severity_count(sev(Severity::Low)),
    ];
    let failed = e.scan.as_ref().is_some_and(|s| s.scan.status == ScanStatus::Failed);
    let mut row = Row::new(
        RowId::Account(a.id.clone()),
        cols,
        if failed {
            None
        } else {
            e.findings.iter().map(|f| f.severity).max()
        },
        e.scan.as_ref().is_some_and(|s| s.scan.status == ScanStatus::Skipped),
    );
    // Denied or failed: marked ✗, never looking like a clean account.
    row.failed = failed;
    row
}

/// "virtual", "hardware" or "none".
pub fn mfa_word(kind: Option<MfaKind>) -> &'static str {
    kind.map(MfaKind::as_str).unwrap_or("none")
}

/// What a user's findings add up to: the worst severity and how many have it, then the
/// total when there are others ("HIGH 2 of 6", "CRIT 1"), or "-".
fn findings_summary(fs: &[&Finding]) -> (String, SortKey) {
    match fs.iter().map(|f| f.severity).max() {
        Some(worst) => {
            let n = fs.iter().filter(|f| f.severity == worst).count();
            let text = if n == fs.len() {
                format!("{} {n}", sev_label(worst))
            } else {
                format!("{} {n} of {}", sev_label(worst), fs.len())
            };
            (text, SortKey::Num(risk(fs)))
        }
        None => ("-".into(), SortKey::Num(0)),
    }
}

/// A user is rotating when it has two keys and the newer one is recent (created within the
/// unused threshold): the old key should go once applications have moved. The judgement is
/// [`crate::audit::rotation::in_progress`].
pub fn rotation_in_progress(u: &User, policy: &Policy, now: Timestamp) -> bool {
    crate::audit::rotation::in_progress(u, policy, now).is_some()
}

/// The KEYS cell of a user: its access keys on (active) and off (inactive), `1 on`,
/// `1 on 1 off`, `0 on 2 off`, or `none`.
fn keys_word(active: usize, inactive: usize) -> String {
    match (active, inactive) {
        (0, 0) => "none".into(),
        (a, 0) => format!("{a} on"),
        (a, i) => format!("{a} on {i} off"),
    }
}

/// `mine`: this user's findings.
fn user_row(e: &AccountEntry, u: &User, mine: &[&Finding], policy: &Policy, now: Timestamp) -> Row {
    let password = match (u.password_enabled, u.password_last_used) {
        (false, _) => ("-".to_owned(), SortKey::None),
        (true, Some(t)) => (format!("used {}", ago(t, now)), SortKey::Num(age_days(t, now))),
        (true, None) => ("never used".to_owned(), SortKey::Num(i64::MAX)),
    };
    let active = u.active_key_count();
    let inactive = u.access_keys.len() - active;
    let oldest = u.oldest_active_key().map(|t| age_days(t, now));
    let last = u.last_activity();
    let cols: Vec<(String, SortKey)> = vec![
        (e.account.name.clone(), SortKey::Text),
        (u.name.clone(), SortKey::Text),
        (u.path.clone(), SortKey::Text),
        password,
        (mfa_word(u.mfa_kind()).into(), SortKey::Text),
        (
            format!(
                "{}{}",
                keys_word(active, inactive),
                if rotation_in_progress(u, policy, now) {
                    " ⟳"
                } else {
                    ""
                }
            ),
            SortKey::Num(active as i64 * 10 + inactive as i64),
        ),
        (
            oldest.map(|d| format!("{d}d")).unwrap_or_else(|| "-".into()),
            oldest.map(SortKey::Num).unwrap_or(SortKey::None),
        ),
        (
            last.map(|t| ago(t, now)).unwrap_or_else(|| "never".into()),
            SortKey::Num(last.map(|t| age_days(t, now)).unwrap_or(i64::MAX)),
        ),
        findings_summary(mine),
    ];
    Row::new(
        RowId::User(e.account.id.clone(), u.name.as_str().into()),
        cols,
        mine.iter().map(|f| f.severity).max(),
        false,
    )
}

/// The root user as a row of the users view, from the root facts of the scan (credential
/// report `<root_account>` row): MFA, its keys' count and age, last key use, its findings.
fn root_row(e: &AccountEntry, root: &RootUser, mine: &[&Finding], now: Timestamp) -> Row {
    let active = root.access_keys.iter().filter(|k| k.active).count();
    let inactive = root.access_keys.len() - active;
    let (active, keys_text) = if root.access_keys.is_empty() && root.access_keys_present {
        (1, "present".to_owned())
    } else {
        (active, keys_word(active, inactive))
    };
    let oldest = root
        .access_keys
        .iter()
        .filter(|k| k.active)
        .map(|k| age_days(k.created, now))
        .max();
    let last = root
        .access_keys
        .iter()
        .filter_map(|k| k.last_used.as_ref().map(|u| u.date))
        .max();
    let mfa = if root.mfa_enabled {
        mfa_word(root.mfa_kind)
    } else {
        "none"
    };
    let cols: Vec<(String, SortKey)> = vec![
        (e.account.name.clone(), SortKey::Text),
        (ROOT_USER.to_owned(), SortKey::Text),
        ("-".to_owned(), SortKey::Text),
        ("-".to_owned(), SortKey::None),
        (mfa.into(), SortKey::Text),
        (keys_text, SortKey::Num(active as i64 * 10 + inactive as i64)),
        (
            oldest.map(|d| format!("{d}d")).unwrap_or_else(|| "-".into()),
            oldest.map(SortKey::Num).unwrap_or(SortKey::None),
        ),
        (
            last.map(|t| ago(t, now)).unwrap_or_else(|| "-".into()),
            last.map(|t| SortKey::Num(age_days(t, now))).unwrap_or(SortKey::None),
        ),
        findings_summary(mine),
    ];
    Row::new(
        RowId::User(e.account.id.clone(), ROOT_USER.into()),
        cols,
        mine.iter().map(|f| f.severity).max(),
        false,
    )
}

/// `user_findings`: the user's findings, of which the key's are picked.
fn key_row(e: &AccountEntry, u: &User, k: &AccessKey, user_findings: &[&Finding], now: Timestamp) -> Row {
    // The hot path of a 100,000-key `:keys`: cells are built as compact strings (inline up
    // to 24 bytes, no heap), dates without chrono's format parser, no per-row vectors
    // beyond the row's own.
    use compact_str::{CompactString, ToCompactString};
    let mut rules = CompactString::default();
    let (mut worst, mut score) = (None, 0i64);
    for f in user_findings.iter().filter(|f| f.access_key_id.as_ref() == Some(&k.id)) {
        if !rules.is_empty() {
            rules.push(' ');
        }
        rules.push_str(f.rule.id());
        worst = worst.max(Some(f.severity));
        score += severity_weight(f.severity);
    }
    let age = age_days(k.created, now);
    let used = k.last_used.as_ref();
    let opt = |s: Option<&String>| s.map_or(CompactString::const_new("-"), |s| CompactString::from(s.as_str()));
    let date = k.created.date_naive();
    let last_used = match used {
        Some(u) => match age_days(u.date, now) {
            0 => (CompactString::const_new("today"), SortKey::Num(0)),
            d => (number_then(d, "d ago"), SortKey::Num(d)),
        },
        None => (CompactString::const_new("never"), SortKey::Num(i64::MAX)),
    };
    // Cells and sort keys straight into the row's two vectors (no vector of pairs to
    // unzip: one allocation fewer per row).
    let cells = vec![
        e.account.name.as_str().into(),
        u.name.as_str().into(),
        k.id.as_str().into(),
        CompactString::const_new(k.status.as_str()),
        number_then(age, "d"),
        iso_date(date.year(), date.month(), date.day()),
        last_used.0,
        opt(used.and_then(|u| u.service.as_ref())),
        opt(used.and_then(|u| u.region.as_ref())),
        if rules.is_empty() {
            "-".to_compact_string()
        } else {
            rules
        },
    ];
    let sort = [
        SortKey::Text,
        SortKey::Text,
        SortKey::Text,
        SortKey::Text,
        SortKey::Num(age),
        SortKey::Num(k.created.timestamp()),
        last_used.1,
        SortKey::Text,
        SortKey::Text,
        SortKey::Num(score),
    ];
    Row::from_parts(
        RowId::Key(e.account.id.clone(), u.name.as_str().into(), k.id.clone()),
        cells,
        &sort,
        worst,
        !k.is_active(),
    )
}

/// `{n}{suffix}` (`412d`, `3d ago`) without the formatting machinery (three cells of every
/// row of a 100,000-key view are numbers).
fn number_then(n: i64, suffix: &str) -> compact_str::CompactString {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    let mut out = compact_str::CompactString::default();
    if n < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
    out.push_str(suffix);
    out
}

/// `YYYY-MM-DD` (years 0–9999, zero-padded) without the formatting machinery.
fn iso_date(year: i32, month: u32, day: u32) -> compact_str::CompactString {
    let y = year.clamp(0, 9999) as u32;
    let d = |n: u32| b'0' + (n % 10) as u8;
    let bytes = [
        d(y / 1000),
        d(y / 100),
        d(y / 10),
        d(y),
        b'-',
        d(month / 10),
        d(month),
        b'-',
        d(day / 10),
        d(day),
    ];
    compact_str::CompactString::from(std::str::from_utf8(&bytes).unwrap_or_default())
}

/// A severity's weight in the "worst first" score of [`risk`].
fn severity_weight(s: Severity) -> i64 {
    match s {
        Severity::Critical => 1_000_000_000,
        Severity::High => 1_000_000,
        Severity::Medium => 1_000,
        Severity::Low => 1,
        Severity::Info => 0,
    }
}

/// The lifecycle in front of a finding's detail, once a scan was recorded: `NEW`,
/// `REOPENED (resolved DATE)`,
/// `open 23 d`, `excepted until 2027-03-31 (carol: reason)`, plus `exception expired on DATE`.
pub fn lifecycle_label(t: &crate::triage::Triage, now: Timestamp) -> String {
    use crate::triage::Status;
    let mut label = match (&t.status, &t.exception) {
        (Status::Excepted, Some(e)) => format!("excepted until {} ({}: {})", e.expires, e.approved_by, e.reason),
        (Status::New, _) => match t.reopened_after {
            Some(at) => format!("REOPENED (resolved {})", at.format("%Y-%m-%d")),
            None => "NEW".into(),
        },
        _ => format!("open {} d", age_days(t.first_seen, now)),
    };
    if let Some(d) = t.exception_expired_on {
        label.push_str(&format!(", exception expired on {d}"));
    }
    label
}

fn finding_row(e: &AccountEntry, f: &Finding, t: Option<&crate::triage::Triage>, now: Timestamp) -> Row {
    let detail = match t {
        Some(t) => format!("{} · {}", f.detail, lifecycle_label(t, now)),
        None => f.detail.clone(),
    };
    let excepted = t.is_some_and(|t| t.status == crate::triage::Status::Excepted);
    let key = f
        .access_key_id
        .as_ref()
        .map(|k| k.to_string())
        .unwrap_or_else(|| "-".into());
    let cols: Vec<(String, SortKey)> = vec![
        (sev_label(f.severity).into(), SortKey::Num(f.severity as i64)),
        (f.rule.id().into(), SortKey::Text),
        (e.account.name.clone(), SortKey::Text),
        (f.user.to_string(), SortKey::Text),
        (key.clone(), SortKey::Text),
        (detail, SortKey::Text),
        (f.controls.join(", "), SortKey::Text),
    ];
    Row::new(
        RowId::Finding(
            f.account_id.clone(),
            f.user.clone(),
            f.access_key_id.clone(),
            f.rule.id(),
        ),
        cols,
        Some(f.severity),
        excepted,
    )
}

/// The name of account `id` in `store` (its id when the store does not know it).
pub fn account_name(store: &Store, id: &AccountId) -> String {
    store
        .entry(id)
        .map(|e| e.account.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| id.to_string())
}

fn journal_row(store: &Store, j: &crate::journal::Entry) -> Row {
    use crate::journal::{ActionResult as R, Phase};
    let result = match (j.phase, j.result) {
        (Phase::Intent, _) => "intent",
        (_, Some(R::Ok)) => "ok",
        (_, Some(R::Failed)) => "failed",
        (_, Some(R::Interrupted)) => "interrupted",
        (_, Some(R::Unknown)) => "unknown",
        (_, Some(R::Skipped)) => "skipped",
        (_, None) => "-",
    };
    let opt = |s: Option<&str>| s.unwrap_or("-").to_owned();
    let cols = vec![
        (
            j.time.format("%Y-%m-%d %H:%M:%S").to_string(),
            SortKey::Num(j.time.timestamp_millis()),
        ),
        (j.action.journal_name().into(), SortKey::Text),
        (result.into(), SortKey::Text),
        (account_name(store, &j.account_id), SortKey::Text),
        (j.account_id.to_string(), SortKey::Text),
        (j.user.clone(), SortKey::Text),
        (
            match (&j.access_key_id, &j.credential, j.action) {
                (Some(k), _, _) => k.to_string(),
                (None, Some(c), _) => c.id.clone(),
                (None, None, crate::model::KeyAction::DisableConsole) => "console password".into(),
                (None, None, _) => "-".into(),
            },
            SortKey::Text,
        ),
        (opt(j.request_id.as_deref()), SortKey::Text),
        (
            match (&j.error_code, &j.message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (None, Some(m)) => m.clone(),
                (Some(c), None) => c.clone(),
                (None, None) => "-".into(),
            },
            SortKey::Text,
        ),
    ];
    let severity = matches!(j.result, Some(R::Failed | R::Interrupted | R::Unknown)).then_some(Severity::High);
    Row::new(
        RowId::Journal(j.action_id.clone(), j.phase == Phase::Intent),
        cols,
        severity,
        j.phase == Phase::Intent,
    )
}

/// True when `user` names the root user (its findings cannot drill into a user view).
pub fn is_root(user: &str) -> bool {
    user == ROOT_USER
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn every_kind() -> Vec<ViewKind> {
        let id = AccountId::parse("111111111111").unwrap();
        vec![
            ViewKind::Accounts,
            ViewKind::Users(None),
            ViewKind::Users(Some(id.clone())),
            ViewKind::User(id, "alice".into()),
            ViewKind::Keys,
            ViewKind::Findings,
            ViewKind::Journal,
            ViewKind::FindingGroups(super::super::groups::GroupBy::Rule),
            ViewKind::FindingsIn(Some("key-not-rotated"), None),
            ViewKind::Changes,
            ViewKind::Credentials,
            ViewKind::Roles,
            ViewKind::Rotations,
        ]
    }

    #[test]
    fn lifecycle_labels_say_new_open_excepted_and_expired() {
        use crate::triage::{Status, Triage};
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let e = crate::exceptions::Exception::new(
            crate::audit::Rule::KeyNotRotated,
            AccountId::parse("111111111111").unwrap(),
            None,
            None,
            "vendor rotates it".into(),
            "carol".into(),
            chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
        )
        .unwrap();
        let t = |status, exception, expired| Triage {
            first_seen: now - chrono::Days::new(23),
            status,
            exception,
            exception_expired_on: expired,
            reopened_after: None,
        };
        let nov30 = chrono::NaiveDate::from_ymd_opt(2026, 11, 30);
        assert_eq!(lifecycle_label(&t(Status::New, None, None), now), "NEW");
        let mut back = t(Status::New, None, None);
        back.reopened_after = Some(now - chrono::Days::new(7));
        assert_eq!(lifecycle_label(&back, now), "REOPENED (resolved 2026-11-24)");
        assert_eq!(lifecycle_label(&t(Status::Open, None, None), now), "open 23 d");
        assert_eq!(
            lifecycle_label(&t(Status::Excepted, Some(e), None), now),
            "excepted until 2027-03-31 (carol: vendor rotates it)"
        );
        assert_eq!(
            lifecycle_label(&t(Status::Open, None, nov30), now),
            "open 23 d, exception expired on 2026-11-30"
        );
    }

    #[test]
    fn changes_lists_new_and_resolved_findings_with_how_long_they_were_open() {
        use crate::triage::{Changes, FindingId, Recorded, Status, Triage};
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let id = AccountId::parse("111111111111").unwrap();
        let finding = |user: &str, rule: crate::audit::Rule| Finding {
            credential: None,
            rule,
            severity: rule.severity(),
            account_id: id.clone(),
            user: user.into(),
            access_key_id: None,
            detail: String::new(),
            controls: &[],
        };
        let (fresh, old) = (
            finding("alice", crate::audit::Rule::ConsoleWithoutMfa),
            finding("bob", crate::audit::Rule::StaleUser),
        );
        let mut store = Store::new();
        store.accounts.push(AccountEntry {
            account: crate::model::Account {
                id: id.clone(),
                name: "prod".into(),
                email: String::new(),
                state: crate::model::AccountState::Active,
                ou_path: "/".into(),
            },
            phase: None,
            scan: None,
            scanned_at: None,
            findings: vec![fresh.clone(), old.clone()],
        });
        let triage = |status, days| Triage {
            first_seen: now - chrono::Days::new(days),
            status,
            exception: None,
            exception_expired_on: None,
            reopened_after: None,
        };
        store.triage.insert(FindingId::of(&fresh), triage(Status::New, 0));
        store.triage.insert(FindingId::of(&old), triage(Status::Open, 30));
        let gone = finding("carol", crate::audit::Rule::KeyNotRotated);
        store.changes = Some((
            Changes {
                previous_scan_at: Some(now - chrono::Days::new(7)),
                ..Changes::default()
            },
            vec![Recorded {
                id: FindingId::of(&gone),
                severity: gone.severity,
                first_seen: now - chrono::Days::new(23),
            }],
        ));
        let rows = ViewKind::Changes.rows(&store, &Policy::default(), now);
        let cells: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.cells.iter().map(|c| c.as_str()).collect())
            .collect();
        assert_eq!(
            cells,
            [
                vec!["NEW", "HIGH", "console-without-mfa", "prod", "alice", "-", "0 d", ""],
                vec![
                    "✓ RESOLVED",
                    "HIGH",
                    "key-not-rotated",
                    "prod",
                    "carol",
                    "-",
                    "23 d",
                    "gone in the latest scan"
                ],
            ]
        );
        // Resolved: dimmed, no severity marker; sorted after the new one (CHANGE, the default
        // sort, descending) though both are HIGH.
        assert_eq!(
            rows.iter().map(|r| (r.severity, r.dim)).collect::<Vec<_>>(),
            [(Some(Severity::High), false), (None, true)]
        );
        assert_eq!(ViewKind::Changes.spec().sort, ("CHANGE", Order::Desc));
        let key = |r: &Row| match r.sort_key(0) {
            Some(SortKey::Num(n)) => n,
            other => panic!("{other:?}"),
        };
        assert!(key(&rows[0]) > key(&rows[1]));
        assert_eq!(
            ViewKind::Changes.title(&store),
            "changes since the scan of 2026-11-24 09:00 UTC"
        );
        assert_eq!(ViewKind::from_command(":ch"), Some(ViewKind::Changes));
        let rows = ViewKind::Findings.rows(&store, &Policy::default(), now);
        let details: Vec<&str> = rows.iter().map(|r| r.cells[5].as_str()).collect();
        assert_eq!(details, [" · NEW", " · open 30 d"]);
    }

    #[test]
    fn every_view_has_a_unique_name_help_and_a_default_sort_column_it_shows() {
        let mut names = HashSet::new();
        for v in VIEWS {
            assert!(names.insert(v.name), "view name '{}' twice", v.name);
            assert!(!v.help.is_empty(), "{} has no help", v.name);
            assert!(
                v.shown_columns().iter().any(|c| c.title == v.sort.0),
                "{}: default sort '{}' is not a shown column",
                v.name,
                v.sort.0
            );
            let leading: Vec<&str> = v.columns.iter().take(v.scoped_by.len()).map(|c| c.title).collect();
            assert_eq!(
                leading, v.scoped_by,
                "{}: scoped_by must name the leading columns",
                v.name
            );
        }
    }

    #[test]
    fn every_kind_has_its_own_entry_and_commands_open_their_entry() {
        let specs: Vec<&str> = every_kind().iter().map(|k| k.spec().name).collect();
        assert_eq!(
            specs,
            [
                "accounts",
                "users",
                "account-users",
                "user",
                "keys",
                "findings",
                "journal",
                "finding-groups",
                "finding-group",
                "changes",
                "credentials",
                "roles",
                "rotations"
            ]
        );
        for (name, _, kind) in commands() {
            assert_eq!(kind.spec().name, name);
            assert_eq!(ViewKind::from_command(name).as_ref(), Some(kind));
        }
    }

    #[test]
    fn commands_accept_unambiguous_prefixes_only() {
        assert_eq!(ViewKind::from_command(":jo"), Some(ViewKind::Journal));
        assert_eq!(ViewKind::from_command("k"), Some(ViewKind::Keys));
        assert_eq!(
            ViewKind::from_command("pods"),
            None,
            "unknown: no fall-through to findings"
        );
        assert_eq!(ViewKind::from_command(""), None);
        assert_eq!(ViewKind::from_command("user"), Some(ViewKind::Users(None)));
        assert_eq!(
            ViewKind::from_command("account-users"),
            None,
            "scoped views have no command"
        );
    }

    #[test]
    fn a_users_findings_say_how_many_have_the_worst_severity() {
        use crate::audit::Rule;
        let f = |rule: Rule| Finding {
            credential: None,
            rule,
            severity: rule.severity(),
            account_id: AccountId::parse("111111111111").unwrap(),
            user: "u".into(),
            access_key_id: None,
            detail: String::new(),
            controls: rule.controls(),
        };
        let six = [
            f(Rule::KeyNotRotated),
            f(Rule::ConsoleWithoutMfa),
            f(Rule::KeyUnused),
            f(Rule::PasswordUnused),
            f(Rule::StaleUser),
            f(Rule::InactiveKey),
        ];
        let refs: Vec<&Finding> = six.iter().collect();
        assert_eq!(findings_summary(&refs).0, "HIGH 2 of 6");
        assert_eq!(findings_summary(&refs[..2]).0, "HIGH 2");
        assert_eq!(findings_summary(&[]).0, "-");
    }

    /// The widths `fit_columns` gives the columns of `cols` (by title) for contents `want`
    /// in `width` cells; `None` for a column not shown.
    fn widths(cols: &[Column], want: &[u16], width: u16) -> impl Fn(&str) -> Option<u16> {
        let shown = crate::tui::table::fit_columns(cols, want, width);
        let titles: Vec<&'static str> = cols.iter().map(|c| c.title).collect();
        move |title: &str| {
            let c = titles.iter().position(|t| *t == title).unwrap();
            shown.iter().find(|(i, _)| *i == c).map(|(_, w)| *w)
        }
    }

    #[test]
    fn findings_keep_rule_account_and_user_apart_and_give_the_detail_the_room() {
        // The demo's widest values: a 30-cell rule id, `acme-sandbox-hackathon`, a 21-cell
        // role name, key ids, a long detail and controls; 76 cells is the table's room at 80
        // columns, 116 at 120, 196 at 200.
        let want = [5, 30, 22, 21, 20, 130, 15];
        let w = widths(FINDING_COLUMNS, &want, 76);
        // Rule, account and user share the room evenly (cut in the middle, apart); the
        // detail keeps its 20.
        for title in ["RULE", "ACCOUNT", "USER/ROLE"] {
            assert!(w(title).unwrap() >= 16, "{title}: {:?}", w(title));
        }
        assert_eq!(w("DETAIL"), Some(20));
        // At 120 every identifier is whole and the detail, not the controls, takes the rest.
        let w = widths(FINDING_COLUMNS, &want, 116);
        assert_eq!(
            (w("RULE"), w("ACCOUNT"), w("USER/ROLE")),
            (Some(30), Some(22), Some(21))
        );
        // SEV is 4 (its `max`), four separators.
        assert_eq!(w("DETAIL"), Some(116 - 4 - 30 - 22 - 21 - 4));
        assert_eq!(w("CONTROLS"), None);
        // At 200 the key ids too, and the root's 88-cell detail is whole.
        let w = widths(FINDING_COLUMNS, &want, 196);
        assert_eq!(w("ACCESS KEY"), Some(20));
        assert!(w("DETAIL").unwrap() >= 88, "{:?}", w("DETAIL"));
    }

    #[test]
    fn status_words_and_answers_are_never_cut() {
        // :keys at 80: `Inactive` whole, the names give (in the middle).
        let want = [22, 21, 20, 8, 5, 10, 9, 16, 12, 40];
        let w = widths(KEY_COLUMNS, &want, 76);
        assert_eq!(
            (w("STATUS"), w("ACCESS KEY"), w("LAST USED")),
            (Some(8), Some(20), Some(9))
        );
        assert!(w("ACCOUNT").is_some() && w("USER").is_some());
        // :users at 80 and 100: `HIGH 2 of 6` whole, the titles whole.
        let want = [22, 21, 14, 13, 8, 12, 6, 13, 11];
        for width in [76, 96] {
            let w = widths(USER_COLUMNS, &want, width);
            assert_eq!(w("FINDINGS"), Some(11), "at {width}");
            assert_eq!(w("ACCOUNT"), Some(22), "at {width}");
            for title in ["LAST ACTIVITY", "KEYS", "PASSWORD"] {
                assert!(
                    w(title).is_none_or(|x| x >= want[USER_COLUMNS.iter().position(|c| c.title == title).unwrap()])
                );
            }
        }
        // :rotations: the account at 80; the old key's last use whole at 200.
        let want = [18, 19, 20, 20, 8, 33, 18, 40];
        let w = widths(ROTATION_COLUMNS, &want, 76);
        assert!(
            w("ACCOUNT").unwrap() >= 16 && w("VERDICT") == Some(18),
            "{:?}",
            w("ACCOUNT")
        );
        let w = widths(ROTATION_COLUMNS, &want, 196);
        assert_eq!((w("OLD KEY USED SINCE"), w("NEW KEY")), (Some(33), Some(20)));
        // :changes: whole at 120, rule ids cut in the middle (16 each) at 80.
        let want = [10, 5, 23, 22, 21, 20, 5, 40];
        let w = widths(CHANGE_COLUMNS, &want, 116);
        assert_eq!(
            (w("RULE"), w("ACCOUNT"), w("USER/ROLE"), w("ACCESS KEY")),
            (Some(23), Some(22), Some(21), Some(20))
        );
        let w = widths(CHANGE_COLUMNS, &want, 76);
        assert!(w("RULE").unwrap() >= 15 && w("OPEN") == Some(5), "{:?}", w("RULE"));
    }

    #[test]
    fn keys_cells_say_on_and_off() {
        assert_eq!(keys_word(1, 0), "1 on");
        assert_eq!(keys_word(1, 1), "1 on 1 off");
        assert_eq!(keys_word(0, 2), "0 on 2 off");
        assert_eq!(keys_word(0, 0), "none");
    }

    #[test]
    fn numbers_and_dates_of_key_rows_read_like_format() {
        for n in [0i64, 7, 10, 412, 99_999, -3, i64::MAX, i64::MIN] {
            assert_eq!(number_then(n, "d ago"), format!("{n}d ago"));
        }
        assert_eq!(iso_date(2026, 1, 9), "2026-01-09");
        assert_eq!(iso_date(987, 12, 31), "0987-12-31");
    }

    #[test]
    fn default_sorts_by_name_pick_the_columns_they_name() {
        let title = |k: &ViewKind| {
            let (cols, _) = k.columns();
            cols[k.default_sort().0].title
        };
        let titles: Vec<&str> = every_kind().iter().map(title).collect();
        assert_eq!(
            titles,
            [
                "CRIT",
                "FINDINGS",
                "FINDINGS",
                "KIND",
                "AGE",
                "SEV",
                "TIME (UTC)",
                "CRIT",
                "SEV",
                "CHANGE",
                "AGE",
                "FINDINGS",
                "VERDICT"
            ]
        );
        // The user view sorts by KIND (every kind of credential together), the others as before.
        let idx: Vec<usize> = every_kind().iter().map(|k| k.default_sort().0).collect();
        assert_eq!(idx, [9, 8, 7, 0, 4, 0, 0, 3, 0, 0, 5, 6, 6]);
    }
}

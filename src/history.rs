//! Scan history: every scan recorded in an embedded SQLite database (`history.db` in the data
//! dir, `--history PATH` / config `history`; off with `--no-history`).
//!
//! This module stores and loads; it decides nothing ([`crate::triage`] does). It records per
//! scan: when, who (the caller ARN), each account's outcome, each finding with its identity,
//! status and first-seen time, findings carried from accounts not checked in full, and each
//! access key's state (status, creation, last use) so trends can be drawn later.
//!
//! - **SQLite, bundled** (`rusqlite` with `bundled`): nothing to install, one file.
//! - **WAL** and a **busy timeout** ([`BUSY_TIMEOUT`]): readers never block the writer, and two
//!   scans started at once (two cron jobs) queue for the write lock instead of failing; each
//!   scan is written in one `BEGIN IMMEDIATE` transaction, so both land whole.
//! - **Migrations** are numbered SQL scripts ([`MIGRATIONS`]) applied in order, the applied
//!   count kept in SQLite's own `PRAGMA user_version`. Why not a migration crate: the whole
//!   need is "run scripts N+1.. in a transaction and bump a number"; `user_version` does that
//!   in the database header, with no extra table or dependency, and lets us refuse a database
//!   from a newer keytriage (a higher number than we know) before touching it.
//! - **Compact storage** (schema 3): account ids are integers; users, access key ids and
//!   rules are interned once — subjects packed per account in blocks of consecutive ids (user
//!   names front-coded, `AKIA…`-shaped key ids as 10 bytes); each scan's findings and key
//!   states are one packed block per account and kind (varints, subject ids as deltas; key
//!   creation and last use kept to the UTC day), so reading a scan is one query per kind and
//!   a scan of 100,000 keys costs about a megabyte, plus the dictionary of new subjects. Each
//!   scan also keeps its open findings per account, for the trend ([`History::trend`]).
//!
//! A database that is locked past the timeout, corrupt, or from a newer version is a
//! [`HistoryError`]; the callers skip history with a warning and never lose the scan.

use crate::audit::{Finding, Rule, Severity};
use crate::model::{AccessKeyId, AccountId, AccountScan, KeyStatus, ScanStatus, Timestamp};
use crate::triage;
use crate::triage::{FindingId, Outcome, Previous, Recorded, Snapshot, Status};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a scan waits for another keytriage holding the database's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema, one script per version; `PRAGMA user_version` counts those applied. Append
/// only: never edit a released script.
pub const MIGRATIONS: &[&str] = &[
    // 1: scans, account outcomes, interned subjects and rules, findings, key states.
    "CREATE TABLE scan (
        id INTEGER PRIMARY KEY,
        generated_at INTEGER NOT NULL,
        caller TEXT,
        accounts_ok INTEGER NOT NULL,
        accounts_failed INTEGER NOT NULL,
        critical INTEGER NOT NULL, high INTEGER NOT NULL, medium INTEGER NOT NULL,
        low INTEGER NOT NULL, info INTEGER NOT NULL, excepted INTEGER NOT NULL,
        new INTEGER NOT NULL, resolved INTEGER NOT NULL
     );
     CREATE TABLE scan_account (
        scan_id INTEGER NOT NULL, account INTEGER NOT NULL,
        status INTEGER NOT NULL, partial INTEGER NOT NULL,
        PRIMARY KEY (scan_id, account)
     ) WITHOUT ROWID;
     CREATE TABLE rule (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
     CREATE TABLE subject (
        id INTEGER PRIMARY KEY, account INTEGER NOT NULL, user TEXT NOT NULL, credential TEXT
     );
     CREATE TABLE finding (
        scan_id INTEGER NOT NULL, subject INTEGER NOT NULL, rule INTEGER NOT NULL,
        severity INTEGER NOT NULL, status INTEGER NOT NULL, first_seen INTEGER NOT NULL,
        PRIMARY KEY (scan_id, subject, rule)
     ) WITHOUT ROWID;
     CREATE TABLE key_state (
        scan_id INTEGER NOT NULL, subject INTEGER NOT NULL, status INTEGER NOT NULL,
        created INTEGER NOT NULL, last_used INTEGER,
        PRIMARY KEY (scan_id, subject)
     ) WITHOUT ROWID;",
    // 2: findings resolved and not seen since, so one that comes back is known as reopened.
    "CREATE TABLE resolved (
        subject INTEGER NOT NULL, rule INTEGER NOT NULL, resolved_at INTEGER NOT NULL,
        PRIMARY KEY (subject, rule)
     ) WITHOUT ROWID;",
    // 3: compact storage. Subjects are packed per account in blocks of consecutive ids
    // (user names front-coded, access key ids as 10 bytes); each scan's findings and key
    // states are one packed block per account and kind; each scan's open findings per
    // account are counted for the trend. The rows of tables `subject`, `finding` and
    // `key_state` are converted by `convert_to_blocks` (same subject ids), then dropped.
    "CREATE TABLE subject_block (
        first INTEGER PRIMARY KEY, account INTEGER NOT NULL, count INTEGER NOT NULL,
        data BLOB NOT NULL
     );
     CREATE TABLE scan_block (
        scan_id INTEGER NOT NULL, account INTEGER NOT NULL, kind INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (scan_id, account, kind)
     ) WITHOUT ROWID;
     ALTER TABLE scan_account ADD COLUMN open INTEGER NOT NULL DEFAULT 0;",
];

/// [`MIGRATIONS`] index of the script after which the old rows are converted to blocks.
const BLOCKS: usize = 2;

/// `scan_block.kind` of a block of findings.
const FINDINGS: i64 = 0;
/// `scan_block.kind` of a block of key states.
const KEYS: i64 = 1;

/// Why the history cannot be used; the scan goes on without it.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Written by a newer keytriage: left untouched.
    #[error(
        "history {path} was written by a newer keytriage (schema {found}, this one knows {known}); not recording — upgrade keytriage or pass --history with another file"
    )]
    Newer {
        /// The database.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// [`MIGRATIONS`]`.len()`.
        known: usize,
    },
    /// Locked past [`BUSY_TIMEOUT`], corrupt, not a database, unwritable…
    #[error("history {path}: {message}")]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// SQLite's words, e.g. `database is locked`, `file is not a database`.
        message: String,
    },
    /// A recorded value this keytriage cannot read (an unknown rule id, a bad account id).
    #[error("history {path}: unreadable record: {message}")]
    Bad {
        /// The database.
        path: PathBuf,
        /// What.
        message: String,
    },
}

/// One recorded scan, as `keytriage history` lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScanSummary {
    /// The scan's number in this database (1, 2, …).
    pub id: i64,
    /// When it ran (UTC).
    pub generated_at: Timestamp,
    /// Who ran it (caller ARN), when known.
    pub caller: Option<String>,
    /// Accounts scanned in full.
    pub accounts_ok: u32,
    /// Accounts failed (in full or in part) or skipped.
    pub accounts_failed: u32,
    /// Findings not excepted, by severity, worst first (critical, high, medium, low, info).
    pub by_severity: [u32; 5],
    /// Findings excepted.
    pub excepted: u32,
    /// Findings new since the scan before it.
    pub new: u32,
    /// Findings resolved since the scan before it.
    pub resolved: u32,
}

/// Open findings per recorded scan (new, open, and carried from accounts not read in full;
/// excepted ones left out), for the accounts panel's sparkline. Oldest scan first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trend {
    /// Each scan: when (UTC) and the organization's open findings (the sum of its accounts').
    pub scans: Vec<(Timestamp, u64)>,
    /// Per account, its open findings in each scan of `scans` (0 where it was not scanned).
    pub by_account: HashMap<AccountId, Vec<u64>>,
}

impl Trend {
    /// The organization's open findings per scan, oldest first.
    pub fn org(&self) -> Vec<u64> {
        self.scans.iter().map(|(_, n)| *n).collect()
    }
}

/// One recorded finding: identity, severity, status (`None`: carried), first seen.
type FindingRow = (FindingId, Severity, Option<Status>, Timestamp);

/// An open history database.
pub struct History {
    conn: Connection,
    path: PathBuf,
    /// Account ids as text, by their integer form (a scan reads thousands of rows per account).
    ids: std::cell::RefCell<HashMap<i64, AccountId>>,
    /// Names of rules this keytriage does not know (written by a newer one) whose recorded
    /// findings were skipped while reading; see [`History::unknown_rules`].
    unknown: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

/// The default path: `<data dir>/history.db`.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "keytriage").map(|d| d.data_local_dir().join("history.db"))
}

fn secs(t: Timestamp) -> i64 {
    t.timestamp()
}

fn time(s: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(s, 0).unwrap_or_default()
}

fn status_code(s: Status) -> i64 {
    match s {
        Status::New => 0,
        Status::Open => 1,
        Status::Excepted => 2,
    }
}

/// The status of a stored code ([`status_code`]'s inverse); `None` for [`UNCHECKED`].
fn status_of(code: i64) -> Option<Status> {
    match code {
        0 => Some(Status::New),
        1 => Some(Status::Open),
        2 => Some(Status::Excepted),
        _ => None,
    }
}

/// Status code of a finding carried from an account not checked in full.
const UNCHECKED: i64 = 3;

fn severity_code(s: Severity) -> i64 {
    Severity::ALL.iter().position(|x| *x == s).map_or(0, |i| i as i64)
}

fn account_num(id: &AccountId) -> i64 {
    id.as_str().parse().unwrap_or(0)
}

impl History {
    /// Opens (creating it and its directory if needed) and migrates the database at `path`.
    ///
    /// # Errors
    /// [`HistoryError::Newer`] for a database from a newer keytriage; [`HistoryError::Sqlite`]
    /// when it cannot be created, is corrupt or not a database, or stays locked past
    /// [`BUSY_TIMEOUT`].
    pub fn open(path: &Path) -> Result<Self, HistoryError> {
        Self::open_with_timeout(path, BUSY_TIMEOUT)
    }

    /// [`Self::open`] with another busy timeout (how long to wait for another writer).
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_with_timeout(path: &Path, busy: Duration) -> Result<Self, HistoryError> {
        let sql = |e: rusqlite::Error| HistoryError::Sqlite {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| HistoryError::Sqlite {
                path: path.to_path_buf(),
                message: format!("cannot create its directory: {e}"),
            })?;
        }
        let mut conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(busy).map_err(sql)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(HistoryError::Newer {
                path: path.to_path_buf(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        // Switching a new file to WAL takes an exclusive lock that SQLite's busy handler does
        // not wait for: two keytriage opening a new file at once retry until `busy`.
        let started = std::time::Instant::now();
        loop {
            match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)) {
                Ok(_) => break,
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) && started.elapsed() < busy =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(sql(e)),
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql)?;
        // A page cache of up to 32 MiB (SQLite's default is 2 MiB): reading one scan of
        // 100,000 keys joins its rows to the interned subjects, which thrashes a small cache
        // once the file holds a year of scans.
        conn.pragma_update(None, "cache_size", -32_768).map_err(sql)?;
        let mut converted = false;
        for (i, script) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            // Another keytriage may have migrated while this one waited for the lock.
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql)?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(script).map_err(sql)?;
            if i == BLOCKS {
                convert_to_blocks(&tx).map_err(|e| match e {
                    Load::Sql(e) => sql(e),
                    Load::Bad(message) => HistoryError::Sqlite {
                        path: path.to_path_buf(),
                        message,
                    },
                })?;
                converted = true;
            }
            tx.pragma_update(None, "user_version", i as i64 + 1).map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        if converted && version > 0 {
            // The old tables' pages are free now: give them back to the file system.
            if let Err(e) = conn.execute_batch("VACUUM") {
                tracing::warn!(error = %e, "cannot vacuum the history after its migration");
            }
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            ids: std::cell::RefCell::default(),
            unknown: std::cell::RefCell::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, e: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    fn bad(&self, message: String) -> HistoryError {
        HistoryError::Bad {
            path: self.path.clone(),
            message,
        }
    }

    /// The latest recorded scan's id, if any.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`].
    pub fn latest(&self) -> Result<Option<i64>, HistoryError> {
        self.conn
            .query_row("SELECT max(id) FROM scan", [], |r| r.get(0))
            .map_err(|e| self.sql(e))
    }

    /// The latest recorded scan as [`crate::triage::triage`] needs it (its open findings,
    /// carried ones included); `None` when nothing is recorded.
    ///
    /// # Errors
    /// [`HistoryError`] when it cannot be read.
    pub fn previous(&self) -> Result<Option<Previous>, HistoryError> {
        // One read transaction: a scan another process records meanwhile (its subjects and
        // resolved rows) must not show half.
        let tx = self.conn.unchecked_transaction().map_err(|e| self.sql(e))?;
        let previous = self.previous_in_tx();
        drop(tx);
        previous
    }

    fn previous_in_tx(&self) -> Result<Option<Previous>, HistoryError> {
        let Some(id) = self.latest()? else {
            return Ok(None);
        };
        let at: i64 = self
            .conn
            .query_row("SELECT generated_at FROM scan WHERE id = ?1", [id], |r| r.get(0))
            .map_err(|e| self.sql(e))?;
        let subjects = self.subjects()?;
        let rules = self.rules()?;
        let rows = self.findings(id, at, true, &subjects, &rules)?;
        let mut resolved = HashMap::new();
        {
            let mut st = self
                .conn
                .prepare("SELECT subject, rule, resolved_at FROM resolved")
                .map_err(|e| self.sql(e))?;
            let it = st
                .query_map([], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                })
                .map_err(|e| self.sql(e))?;
            for row in it {
                let (subject, rule, at) = row.map_err(|e| self.sql(e))?;
                // A rule this keytriage no longer knows cannot come back: skip it.
                let Some(rule) = rules.get(&rule).and_then(|r| r.0) else {
                    continue;
                };
                let s = subjects
                    .get(subject)
                    .ok_or_else(|| self.bad(format!("unknown subject {subject}")))?;
                resolved.insert(self.finding_id(rule, s)?, time(at));
            }
        }
        Ok(Some(Previous {
            resolved,
            generated_at: Some(time(at)),
            findings: rows
                .into_iter()
                .map(|(id, severity, _, first_seen)| Recorded {
                    id,
                    severity,
                    first_seen,
                })
                .collect(),
        }))
    }

    /// Every interned subject, by id.
    fn subjects(&self) -> Result<Subjects, HistoryError> {
        load_subjects(&self.conn).map_err(|e| match e {
            Load::Sql(e) => self.sql(e),
            Load::Bad(m) => self.bad(m),
        })
    }

    /// Rules this keytriage does not know (e.g. written by a newer keytriage) whose recorded
    /// findings were skipped by the reads so far ([`Self::previous`], [`Self::snapshot`]),
    /// sorted by name; empty when nothing was skipped. Recording and diff go on without those
    /// findings; a caller reports them once.
    pub fn unknown_rules(&self) -> Vec<String> {
        self.unknown.borrow().iter().cloned().collect()
    }

    /// Interned rules by id: (the rule, `None` for one this keytriage does not know; its
    /// recorded name).
    fn rules(&self) -> Result<HashMap<i64, (Option<Rule>, String)>, HistoryError> {
        let known: HashMap<&str, Rule> = Rule::ALL.iter().map(|r| (r.id(), *r)).collect();
        let mut st = self
            .conn
            .prepare("SELECT id, name FROM rule")
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.sql(e))?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, name) = row.map_err(|e| self.sql(e))?;
            out.insert(id, (known.get(name.as_str()).copied(), name));
        }
        Ok(out)
    }

    /// The rule of a stored rule id; `None` for a rule from a newer keytriage (skipped, and
    /// remembered so the caller reports it once).
    fn known_rule(&self, rules: &HashMap<i64, (Option<Rule>, String)>, id: i64) -> Result<Option<Rule>, HistoryError> {
        match rules.get(&id) {
            Some((Some(rule), _)) => Ok(Some(*rule)),
            Some((None, name)) => {
                self.unknown.borrow_mut().insert(name.clone());
                Ok(None)
            }
            None => Err(self.bad(format!("unknown rule {id}"))),
        }
    }

    fn finding_id(&self, rule: Rule, s: &Subject) -> Result<FindingId, HistoryError> {
        Ok(FindingId {
            rule,
            account_id: self.account_id(s.account)?,
            user: s.user.clone(),
            access_key_id: s.credential.clone().map(AccessKeyId::from),
        })
    }

    /// The packed blocks of `kind` of scan `id`, one per account: one query.
    fn blocks(&self, id: i64, kind: i64) -> Result<Vec<Vec<u8>>, HistoryError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT data FROM scan_block WHERE scan_id = ?1 AND kind = ?2")
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map(params![id, kind], |r| r.get::<_, Vec<u8>>(0))
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// Findings of scan `id` (generated at `at`, Unix seconds): (identity, severity, status,
    /// first seen); with `carried`, the findings carried from accounts it did not check
    /// (status `None`) too.
    fn findings(
        &self,
        id: i64,
        at: i64,
        carried: bool,
        subjects: &Subjects,
        rules: &HashMap<i64, (Option<Rule>, String)>,
    ) -> Result<Vec<FindingRow>, HistoryError> {
        let mut out = Vec::new();
        for data in self.blocks(id, FINDINGS)? {
            for f in pack::findings(&data).map_err(|m| self.bad(m))? {
                if f.status == UNCHECKED && !carried {
                    continue;
                }
                let Some(rule) = self.known_rule(rules, f.rule)? else {
                    continue;
                };
                let status = status_of(f.status);
                let s = subjects
                    .get(f.subject)
                    .ok_or_else(|| self.bad(format!("unknown subject {}", f.subject)))?;
                out.push((
                    self.finding_id(rule, s)?,
                    Severity::ALL
                        .get(f.severity as usize)
                        .copied()
                        .unwrap_or(Severity::Info),
                    status,
                    time(at - f.age),
                ));
            }
        }
        Ok(out)
    }

    fn account_id(&self, n: i64) -> Result<AccountId, HistoryError> {
        if let Some(id) = self.ids.borrow().get(&n) {
            return Ok(id.clone());
        }
        let id = AccountId::parse(&format!("{n:012}")).map_err(|e| self.bad(e.to_string()))?;
        self.ids.borrow_mut().insert(n, id.clone());
        Ok(id)
    }

    /// Records one scan in one transaction and returns its id. `triage` is what
    /// [`crate::triage::triage`] decided for `findings` (same order); its unchecked findings
    /// are carried with it.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`] (locked past [`BUSY_TIMEOUT`], disk full…); nothing is
    /// recorded then.
    pub fn record(
        &mut self,
        generated_at: Timestamp,
        caller: Option<&str>,
        accounts: &[AccountScan],
        findings: &[Finding],
        triage: &Outcome,
    ) -> Result<i64, HistoryError> {
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| HistoryError::Sqlite {
            path: path.clone(),
            message: e.to_string(),
        };
        let load = |e: Load| match e {
            Load::Sql(e) => sql(e),
            Load::Bad(message) => HistoryError::Bad {
                path: path.clone(),
                message,
            },
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let ok = accounts
            .iter()
            .filter(|a| a.scan.status == ScanStatus::Ok && !a.scan.partial)
            .count();
        let mut by = [0i64; 5];
        for (f, t) in findings.iter().zip(&triage.per_finding) {
            if t.status != Status::Excepted {
                by[severity_code(f.severity) as usize] += 1;
            }
        }
        let c = &triage.changes;
        tx.execute(
            "INSERT INTO scan (generated_at, caller, accounts_ok, accounts_failed, critical, high,
               medium, low, info, excepted, new, resolved)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                secs(generated_at),
                caller,
                ok as i64,
                (accounts.len() - ok) as i64,
                by[0],
                by[1],
                by[2],
                by[3],
                by[4],
                c.excepted as i64,
                c.new as i64,
                c.resolved as i64
            ],
        )
        .map_err(sql)?;
        let scan_id = tx.last_insert_rowid();
        let at = secs(generated_at);

        // Interned rules and subjects, loaded inside the write transaction so two writers
        // never intern the same subject twice.
        let mut rules: HashMap<String, i64> = HashMap::new();
        {
            let mut st = tx.prepare("SELECT name, id FROM rule").map_err(sql)?;
            for r in st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(sql)?
            {
                let (n, i) = r.map_err(sql)?;
                rules.insert(n, i);
            }
        }
        let mut interned = Interner::new(load_subjects(&tx).map_err(load)?);
        let mut rule_id = |name: &str| -> Result<i64, HistoryError> {
            if let Some(r) = rules.get(name) {
                return Ok(*r);
            }
            tx.execute("INSERT INTO rule (name) VALUES (?1)", [name]).map_err(sql)?;
            let r = tx.last_insert_rowid();
            rules.insert(name.to_owned(), r);
            Ok(r)
        };
        let key = |id: &FindingId| {
            (
                account_num(&id.account_id),
                id.user.clone(),
                id.access_key_id.as_ref().map(|k| k.as_str().to_owned()),
            )
        };
        // Per account: findings (subject key, rule, severity, status, first seen) and keys.
        let mut per_account: HashMap<i64, AccountRows> = HashMap::new();
        let mut open: HashMap<i64, i64> = HashMap::new();
        for (f, t) in findings.iter().zip(&triage.per_finding) {
            let id = FindingId::of(f);
            let k = key(&id);
            let rule = rule_id(id.rule.id())?;
            if t.status != Status::Excepted {
                *open.entry(k.0).or_default() += 1;
            }
            per_account.entry(k.0).or_default().0.push((
                k,
                rule,
                severity_code(f.severity),
                status_code(t.status),
                secs(t.first_seen),
            ));
        }
        for r in &triage.unchecked {
            let k = key(&r.id);
            let rule = rule_id(r.id.rule.id())?;
            *open.entry(k.0).or_default() += 1;
            per_account.entry(k.0).or_default().0.push((
                k,
                rule,
                severity_code(r.severity),
                UNCHECKED,
                secs(r.first_seen),
            ));
        }
        for a in accounts {
            let n = account_num(&a.account.id);
            for u in &a.users {
                for k in &u.access_keys {
                    let status = i64::from(k.status == KeyStatus::Inactive);
                    per_account.entry(n).or_default().1.push((
                        (n, u.name.clone(), Some(k.id.as_str().to_owned())),
                        status,
                        secs(k.created),
                        k.last_used.as_ref().map(|l| secs(l.date)),
                    ));
                }
            }
        }
        let mut resolved_keys = Vec::with_capacity(triage.resolved.len());
        for r in &triage.resolved {
            resolved_keys.push((key(&r.id), rule_id(r.id.rule.id())?));
        }
        // Intern what is new, then write.
        for (fs, ks) in per_account.values() {
            for (k, ..) in fs {
                interned.want(k);
            }
            for (k, ..) in ks {
                interned.want(k);
            }
        }
        for (k, _) in &resolved_keys {
            interned.want(k);
        }
        {
            let mut ins = tx
                .prepare("INSERT INTO subject_block (first, account, count, data) VALUES (?1, ?2, ?3, ?4)")
                .map_err(sql)?;
            for (first, account, count, data) in interned.assign() {
                ins.execute(params![first, account, count, data]).map_err(sql)?;
            }
        }
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO scan_account (scan_id, account, status, partial, open) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(sql)?;
            for a in accounts {
                let status = match a.scan.status {
                    ScanStatus::Ok => 0,
                    ScanStatus::Failed => 1,
                    ScanStatus::Skipped => 2,
                };
                let n = account_num(&a.account.id);
                st.execute(params![
                    scan_id,
                    n,
                    status,
                    a.scan.partial,
                    open.get(&n).copied().unwrap_or(0)
                ])
                .map_err(sql)?;
            }
        }
        {
            let mut ins = tx
                .prepare("INSERT OR REPLACE INTO scan_block (scan_id, account, kind, data) VALUES (?1, ?2, ?3, ?4)")
                .map_err(sql)?;
            let mut unresolve = tx
                .prepare("DELETE FROM resolved WHERE subject = ?1 AND rule = ?2")
                .map_err(sql)?;
            for (f, t) in findings.iter().zip(&triage.per_finding) {
                if t.reopened_after.is_some() {
                    let id = FindingId::of(f);
                    let s = interned.id(&key(&id));
                    unresolve.execute(params![s, rule_id(id.rule.id())?]).map_err(sql)?;
                }
            }
            for (account, (fs, ks)) in &per_account {
                if !fs.is_empty() {
                    let rows: Vec<pack::FindingRec> = fs
                        .iter()
                        .map(|(k, rule, severity, status, first)| pack::FindingRec {
                            subject: interned.id(k),
                            rule: *rule,
                            severity: *severity,
                            status: *status,
                            age: at - first,
                        })
                        .collect();
                    ins.execute(params![scan_id, account, FINDINGS, pack::put_findings(rows)])
                        .map_err(sql)?;
                }
                if !ks.is_empty() {
                    let rows: Vec<pack::KeyRec> = ks
                        .iter()
                        .map(|(k, status, created, last_used)| pack::KeyRec {
                            subject: interned.id(k),
                            status: *status,
                            created_day: created.div_euclid(86_400),
                            last_used_day: last_used.map(|l| l.div_euclid(86_400)),
                        })
                        .collect();
                    ins.execute(params![scan_id, account, KEYS, pack::put_keys(rows)])
                        .map_err(sql)?;
                }
            }
            let mut resolve = tx
                .prepare("INSERT OR REPLACE INTO resolved VALUES (?1, ?2, ?3)")
                .map_err(sql)?;
            for (k, rule) in &resolved_keys {
                resolve.execute(params![interned.id(k), rule, at]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(scan_id)
    }

    /// Open findings per scan of the latest `last` scans (see [`Trend`]): one indexed query
    /// on the per-account counts each scan stores, whatever the findings' number.
    ///
    /// # Errors
    /// [`HistoryError`] when it cannot be read.
    pub fn trend(&self, last: usize) -> Result<Trend, HistoryError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT c.id, c.generated_at, a.account, a.open FROM scan c
                 LEFT JOIN scan_account a ON a.scan_id = c.id
                 WHERE c.id > (SELECT coalesce(max(id), 0) FROM scan) - ?1 ORDER BY c.id",
            )
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([i64::try_from(last).unwrap_or(i64::MAX)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut trend = Trend::default();
        let mut current = None;
        for row in rows {
            let (id, at, account, open) = row.map_err(|e| self.sql(e))?;
            if current != Some(id) {
                current = Some(id);
                trend.scans.push((time(at), 0));
                for v in trend.by_account.values_mut() {
                    v.push(0);
                }
            }
            let i = trend.scans.len() - 1;
            if let (Some(account), Some(open)) = (account, open) {
                let open = u64::try_from(open).unwrap_or(0);
                trend.scans[i].1 += open;
                let series = trend
                    .by_account
                    .entry(self.account_id(account)?)
                    .or_insert_with(|| vec![0; i + 1]);
                series[i] = open;
            }
        }
        Ok(trend)
    }

    /// Every recorded scan, oldest first.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`].
    pub fn list(&self) -> Result<Vec<ScanSummary>, HistoryError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, generated_at, caller, accounts_ok, accounts_failed, critical, high,
                   medium, low, info, excepted, new, resolved FROM scan ORDER BY id",
            )
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(ScanSummary {
                    id: r.get(0)?,
                    generated_at: time(r.get(1)?),
                    caller: r.get(2)?,
                    accounts_ok: r.get(3)?,
                    accounts_failed: r.get(4)?,
                    by_severity: [r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?],
                    excepted: r.get(10)?,
                    new: r.get(11)?,
                    resolved: r.get(12)?,
                })
            })
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// Scan `id` reduced for [`crate::triage::diff`]; `None` when there is no such scan. One
    /// query per kind (accounts, findings, keys): each reads the scan's packed blocks.
    ///
    /// # Errors
    /// [`HistoryError`] when it cannot be read.
    pub fn snapshot(&self, id: i64) -> Result<Option<Snapshot>, HistoryError> {
        let subjects = self.snapshot_subjects()?;
        self.snapshot_with(id, &subjects)
    }

    /// Scans `from` and `to` reduced for [`crate::triage::diff`] (the subjects read once and
    /// shared, so the diff compares subject ids); `None` for a scan that does not exist.
    ///
    /// # Errors
    /// [`HistoryError`] when they cannot be read.
    pub fn snapshots(&self, from: i64, to: i64) -> Result<(Option<Snapshot>, Option<Snapshot>), HistoryError> {
        let subjects = self.snapshot_subjects()?;
        Ok((self.snapshot_with(from, &subjects)?, self.snapshot_with(to, &subjects)?))
    }

    /// Every interned subject as a [`triage::Subjects`] table (ids kept).
    fn snapshot_subjects(&self) -> Result<Arc<triage::Subjects>, HistoryError> {
        let Subjects(list) = self.subjects()?;
        let mut out = Vec::with_capacity(list.len());
        for s in list {
            out.push(match s {
                Some(s) => Some((self.account_id(s.account)?, s.user, s.credential)),
                None => None,
            });
        }
        Ok(Arc::new(triage::Subjects::from_dense(out)))
    }

    fn snapshot_with(&self, id: i64, subjects: &Arc<triage::Subjects>) -> Result<Option<Snapshot>, HistoryError> {
        let at: Option<i64> = self
            .conn
            .query_row("SELECT generated_at FROM scan WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql(e))?;
        let Some(at) = at else { return Ok(None) };
        let mut snap = Snapshot {
            generated_at: Some(time(at)),
            subjects: Arc::clone(subjects),
            ..Snapshot::default()
        };
        {
            let mut st = self
                .conn
                .prepare("SELECT account, status, partial FROM scan_account WHERE scan_id = ?1")
                .map_err(|e| self.sql(e))?;
            let rows = st
                .query_map([id], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?))
                })
                .map_err(|e| self.sql(e))?;
            for row in rows {
                let (a, status, partial) = row.map_err(|e| self.sql(e))?;
                snap.accounts.insert(self.account_id(a)?, status == 0 && !partial);
            }
        }
        let rules = self.rules()?;
        let subject = |n: i64| -> Result<u32, HistoryError> {
            u32::try_from(n)
                .ok()
                .filter(|i| subjects.get(*i).is_some())
                .ok_or_else(|| self.bad(format!("unknown subject {n}")))
        };
        // Ids only: no text is built until the diff lists something.
        for data in self.blocks(id, FINDINGS)? {
            let found = pack::findings(&data).map_err(|m| self.bad(m))?;
            snap.findings.reserve(found.len());
            for f in found {
                if f.status == UNCHECKED {
                    continue;
                }
                let Some(rule) = self.known_rule(&rules, f.rule)? else {
                    continue;
                };
                let status = status_of(f.status);
                let severity = Severity::ALL
                    .get(f.severity as usize)
                    .copied()
                    .unwrap_or(Severity::Info);
                snap.findings.push((rule, subject(f.subject)?, severity, status));
            }
        }
        for data in self.blocks(id, KEYS)? {
            let keys = pack::keys(&data).map_err(|m| self.bad(m))?;
            snap.keys.reserve(keys.len());
            for k in keys {
                let status = if k.status == 0 {
                    KeyStatus::Active
                } else {
                    KeyStatus::Inactive
                };
                snap.keys.push((subject(k.subject)?, status));
            }
        }
        Ok(Some(snap))
    }
}

/// An interned subject: what a finding or a key state is about.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Subject {
    /// The account, as a number.
    account: i64,
    /// The IAM user (or `<root_account>`).
    user: String,
    /// The access key (or other credential) id, if any.
    credential: Option<String>,
}

/// Every interned subject, indexed by id (ids start at 1; a gap is `None`).
struct Subjects(Vec<Option<Subject>>);

impl Subjects {
    fn get(&self, id: i64) -> Option<&Subject> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.0.get(i))
            .and_then(Option::as_ref)
    }
}

/// A subject as the recorder looks it up: (account, user, credential).
type SubjectKey = (i64, String, Option<String>);

/// What one account contributes to a recorded scan: its findings (subject, rule id, severity,
/// status, first seen in Unix seconds) and its key states (subject, status, created, last use).
type AccountRows = (
    Vec<(SubjectKey, i64, i64, i64, i64)>,
    Vec<(SubjectKey, i64, i64, Option<i64>)>,
);

/// Why subjects could not be loaded.
enum Load {
    Sql(rusqlite::Error),
    Bad(String),
}

/// Reads and unpacks every subject block.
fn load_subjects(conn: &Connection) -> Result<Subjects, Load> {
    let mut st = conn
        .prepare("SELECT first, account, count, data FROM subject_block ORDER BY first")
        .map_err(Load::Sql)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .map_err(Load::Sql)?;
    let mut out: Vec<Option<Subject>> = vec![None];
    for row in rows {
        let (first, account, count, data) = row.map_err(Load::Sql)?;
        let entries = pack::subjects(&data).map_err(Load::Bad)?;
        if entries.len() as i64 != count {
            return Err(Load::Bad(format!(
                "subject block {first} holds {} of {count}",
                entries.len()
            )));
        }
        for (i, (user, credential)) in entries.into_iter().enumerate() {
            let id = usize::try_from(first + i as i64).map_err(|e| Load::Bad(e.to_string()))?;
            if out.len() <= id {
                out.resize(id + 1, None);
            }
            out[id] = Some(Subject {
                account,
                user,
                credential,
            });
        }
    }
    Ok(Subjects(out))
}

/// Interns subjects while a scan is recorded: known ones keep their ids; new ones get the
/// next ids, consecutive per account, sorted so their user names front-code well.
struct Interner {
    ids: HashMap<SubjectKey, i64>,
    wanted: Vec<SubjectKey>,
    next: i64,
}

impl Interner {
    fn new(known: Subjects) -> Self {
        let next = i64::try_from(known.0.len()).unwrap_or(i64::MAX).max(1);
        let ids = known
            .0
            .into_iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| ((s.account, s.user, s.credential), i as i64)))
            .collect();
        Self {
            ids,
            wanted: Vec::new(),
            next,
        }
    }

    /// Notes that `k` needs an id.
    fn want(&mut self, k: &SubjectKey) {
        if !self.ids.contains_key(k) {
            self.ids.insert(k.clone(), 0);
            self.wanted.push(k.clone());
        }
    }

    /// Gives every wanted subject its id; returns the blocks to store: (first id, account,
    /// count, packed data).
    fn assign(&mut self) -> Vec<(i64, i64, i64, Vec<u8>)> {
        let mut wanted = std::mem::take(&mut self.wanted);
        wanted.sort();
        let mut blocks = Vec::new();
        for chunk in wanted.chunk_by(|a, b| a.0 == b.0) {
            let first = self.next;
            for (i, k) in chunk.iter().enumerate() {
                self.ids.insert(k.clone(), first + i as i64);
            }
            self.next += chunk.len() as i64;
            let data = pack::put_subjects(chunk.iter().map(|(_, u, c)| (u.as_str(), c.as_deref())));
            blocks.push((first, chunk[0].0, chunk.len() as i64, data));
        }
        blocks
    }

    /// The id of `k` (after [`Interner::assign`]).
    fn id(&self, k: &SubjectKey) -> i64 {
        self.ids.get(k).copied().unwrap_or(0)
    }
}

/// Converts a version 2 database's rows (`subject`, `finding`, `key_state`) into packed
/// blocks with the same subject ids, fills `scan_account.open`, and drops the old tables.
fn convert_to_blocks(tx: &Connection) -> Result<(), Load> {
    // Subjects: runs of consecutive ids in one account become one block each.
    let mut subjects: Vec<(i64, i64, String, Option<String>)> = Vec::new();
    {
        let mut st = tx
            .prepare("SELECT id, account, user, credential FROM subject ORDER BY id")
            .map_err(Load::Sql)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(Load::Sql)?;
        for row in rows {
            subjects.push(row.map_err(Load::Sql)?);
        }
    }
    {
        let mut ins = tx
            .prepare("INSERT INTO subject_block (first, account, count, data) VALUES (?1, ?2, ?3, ?4)")
            .map_err(Load::Sql)?;
        for run in subjects.chunk_by(|a, b| a.1 == b.1 && a.0 + 1 == b.0) {
            let data = pack::put_subjects(run.iter().map(|(_, _, u, c)| (u.as_str(), c.as_deref())));
            ins.execute(params![run[0].0, run[0].1, run.len() as i64, data])
                .map_err(Load::Sql)?;
        }
    }
    let account_of: HashMap<i64, i64> = subjects.iter().map(|(id, a, ..)| (*id, *a)).collect();
    let mut findings: HashMap<(i64, i64), Vec<pack::FindingRec>> = HashMap::new();
    {
        let mut st = tx
            .prepare(
                "SELECT f.scan_id, f.subject, f.rule, f.severity, f.status, f.first_seen, s.generated_at
                 FROM finding f JOIN scan s ON s.id = f.scan_id",
            )
            .map_err(Load::Sql)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })
            .map_err(Load::Sql)?;
        for row in rows {
            let (scan, subject, rule, severity, status, first, at) = row.map_err(Load::Sql)?;
            let account = account_of.get(&subject).copied().unwrap_or(0);
            findings.entry((scan, account)).or_default().push(pack::FindingRec {
                subject,
                rule,
                severity,
                status,
                age: at - first,
            });
        }
    }
    let mut keys: HashMap<(i64, i64), Vec<pack::KeyRec>> = HashMap::new();
    {
        let mut st = tx
            .prepare("SELECT scan_id, subject, status, created, last_used FROM key_state")
            .map_err(Load::Sql)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })
            .map_err(Load::Sql)?;
        for row in rows {
            let (scan, subject, status, created, last_used) = row.map_err(Load::Sql)?;
            let account = account_of.get(&subject).copied().unwrap_or(0);
            keys.entry((scan, account)).or_default().push(pack::KeyRec {
                subject,
                status,
                created_day: created.div_euclid(86_400),
                last_used_day: last_used.map(|l| l.div_euclid(86_400)),
            });
        }
    }
    {
        let mut ins = tx
            .prepare("INSERT INTO scan_block (scan_id, account, kind, data) VALUES (?1, ?2, ?3, ?4)")
            .map_err(Load::Sql)?;
        let mut open = tx
            .prepare("UPDATE scan_account SET open = ?3 WHERE scan_id = ?1 AND account = ?2")
            .map_err(Load::Sql)?;
        for ((scan, account), rows) in findings {
            let n = rows.iter().filter(|f| f.status != 2).count() as i64;
            open.execute(params![scan, account, n]).map_err(Load::Sql)?;
            ins.execute(params![scan, account, FINDINGS, pack::put_findings(rows)])
                .map_err(Load::Sql)?;
        }
        for ((scan, account), rows) in keys {
            ins.execute(params![scan, account, KEYS, pack::put_keys(rows)])
                .map_err(Load::Sql)?;
        }
    }
    tx.execute_batch("DROP TABLE finding; DROP TABLE key_state; DROP TABLE subject;")
        .map_err(Load::Sql)
}

/// The packed formats: LEB128 varints, rows sorted by subject and deltas of subject ids.
///
/// - subjects: per entry, the bytes its user name shares with the previous entry's, the
///   rest (length, bytes), then the credential: 0 none; 1–[`PREFIXES`] an access key id
///   with that 4-letter prefix and 16 base32 characters, stored as 10 bytes; 255 any other
///   text (length, bytes).
/// - findings: subject delta, rule id, severity × 4 + status, seconds between first seen
///   and the scan (zigzag).
/// - keys: subject delta, status, creation day, last-use day + 1 (0: never), days since
///   1970-01-01 UTC.
mod pack {
    /// Key id prefixes stored as one byte (index + 1).
    const PREFIXES: [&str; 11] = [
        "AKIA", "ASIA", "ABIA", "ACCA", "APKA", "ASCA", "AIDA", "AGPA", "AROA", "ANPA", "AIPA",
    ];
    const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    fn put(buf: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                buf.push(b);
                return;
            }
            buf.push(b | 0x80);
        }
    }

    fn get(data: &[u8], pos: &mut usize) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *data.get(*pos).ok_or("packed block ends early")?;
            *pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("packed block has a bad number".into())
    }

    fn zig(v: i64) -> u64 {
        ((v << 1) ^ (v >> 63)) as u64
    }

    fn unzig(u: u64) -> i64 {
        ((u >> 1) as i64) ^ -((u & 1) as i64)
    }

    fn bytes<'a>(data: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
        let out = data.get(*pos..*pos + n).ok_or("packed block ends early")?;
        *pos += n;
        Ok(out)
    }

    /// `AKIA` + 16 base32 characters as (prefix byte, 10 bytes).
    fn key_bytes(id: &str) -> Option<(u8, [u8; 10])> {
        let prefix = PREFIXES.iter().position(|p| id.len() == 20 && id.starts_with(p))?;
        let mut bits: u128 = 0;
        for c in id[4..].bytes() {
            let v = BASE32.iter().position(|b| *b == c)?;
            bits = (bits << 5) | v as u128;
        }
        let mut out = [0u8; 10];
        out.copy_from_slice(&bits.to_be_bytes()[6..]);
        Some((prefix as u8 + 1, out))
    }

    fn key_text(prefix: u8, raw: &[u8]) -> Option<String> {
        let p = PREFIXES.get(usize::from(prefix).checked_sub(1)?)?;
        let mut full = [0u8; 16];
        full[6..].copy_from_slice(raw);
        let mut bits = u128::from_be_bytes(full);
        let mut chars = [0u8; 16];
        for c in chars.iter_mut().rev() {
            *c = BASE32[(bits & 31) as usize];
            bits >>= 5;
        }
        Some(format!("{p}{}", std::str::from_utf8(&chars).ok()?))
    }

    /// Packs subjects (user, credential), in order.
    pub fn put_subjects<'a>(entries: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut prev: &[u8] = &[];
        for (user, cred) in entries {
            let u = user.as_bytes();
            let shared = prev.iter().zip(u).take_while(|(a, b)| a == b).count();
            put(&mut buf, shared as u64);
            put(&mut buf, (u.len() - shared) as u64);
            buf.extend_from_slice(&u[shared..]);
            prev = u;
            match cred {
                None => buf.push(0),
                Some(c) => match key_bytes(c) {
                    Some((p, raw)) => {
                        buf.push(p);
                        buf.extend_from_slice(&raw);
                    }
                    None => {
                        buf.push(255);
                        put(&mut buf, c.len() as u64);
                        buf.extend_from_slice(c.as_bytes());
                    }
                },
            }
        }
        buf
    }

    /// Unpacks subjects.
    pub fn subjects(data: &[u8]) -> Result<Vec<(String, Option<String>)>, String> {
        let mut out: Vec<(String, Option<String>)> = Vec::new();
        let mut pos = 0;
        let mut prev: Vec<u8> = Vec::new();
        while pos < data.len() {
            let shared = usize::try_from(get(data, &mut pos)?).map_err(|e| e.to_string())?;
            let rest = usize::try_from(get(data, &mut pos)?).map_err(|e| e.to_string())?;
            let mut user = prev.get(..shared).ok_or("packed subject shares too much")?.to_vec();
            user.extend_from_slice(bytes(data, &mut pos, rest)?);
            let tag = bytes(data, &mut pos, 1)?[0];
            let cred = match tag {
                0 => None,
                255 => {
                    let n = usize::try_from(get(data, &mut pos)?).map_err(|e| e.to_string())?;
                    Some(String::from_utf8(bytes(data, &mut pos, n)?.to_vec()).map_err(|e| e.to_string())?)
                }
                p => Some(key_text(p, bytes(data, &mut pos, 10)?).ok_or("packed key id has a bad prefix")?),
            };
            let name = String::from_utf8(user.clone()).map_err(|e| e.to_string())?;
            prev = user;
            out.push((name, cred));
        }
        Ok(out)
    }

    /// One finding of a packed block.
    #[derive(Debug, PartialEq, Eq)]
    pub struct FindingRec {
        pub subject: i64,
        pub rule: i64,
        pub severity: i64,
        pub status: i64,
        /// Seconds from first seen to the scan.
        pub age: i64,
    }

    /// One key state of a packed block.
    #[derive(Debug, PartialEq, Eq)]
    pub struct KeyRec {
        pub subject: i64,
        pub status: i64,
        pub created_day: i64,
        pub last_used_day: Option<i64>,
    }

    pub fn put_findings(mut rows: Vec<FindingRec>) -> Vec<u8> {
        rows.sort_by_key(|r| (r.subject, r.rule));
        let mut buf = Vec::with_capacity(rows.len() * 4);
        let mut prev = 0;
        for r in rows {
            put(&mut buf, zig(r.subject - prev));
            prev = r.subject;
            put(&mut buf, r.rule as u64);
            put(&mut buf, (r.severity * 4 + r.status) as u64);
            put(&mut buf, zig(r.age));
        }
        buf
    }

    pub fn findings(data: &[u8]) -> Result<Vec<FindingRec>, String> {
        let mut out = Vec::new();
        let (mut pos, mut subject) = (0, 0);
        while pos < data.len() {
            subject += unzig(get(data, &mut pos)?);
            let rule = get(data, &mut pos)? as i64;
            let code = get(data, &mut pos)? as i64;
            let age = unzig(get(data, &mut pos)?);
            out.push(FindingRec {
                subject,
                rule,
                severity: code / 4,
                status: code % 4,
                age,
            });
        }
        Ok(out)
    }

    pub fn put_keys(mut rows: Vec<KeyRec>) -> Vec<u8> {
        rows.sort_by_key(|r| r.subject);
        let mut buf = Vec::with_capacity(rows.len() * 8);
        let mut prev = 0;
        for r in rows {
            put(&mut buf, zig(r.subject - prev));
            prev = r.subject;
            put(&mut buf, r.status as u64);
            put(&mut buf, zig(r.created_day));
            put(&mut buf, r.last_used_day.map_or(0, |d| zig(d) + 1));
        }
        buf
    }

    pub fn keys(data: &[u8]) -> Result<Vec<KeyRec>, String> {
        let mut out = Vec::new();
        let (mut pos, mut subject) = (0, 0);
        while pos < data.len() {
            subject += unzig(get(data, &mut pos)?);
            let status = get(data, &mut pos)? as i64;
            let created_day = unzig(get(data, &mut pos)?);
            let last = get(data, &mut pos)?;
            out.push(KeyRec {
                subject,
                status,
                created_day,
                last_used_day: (last > 0).then(|| unzig(last - 1)),
            });
        }
        Ok(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn subjects_round_trip_with_front_coding_and_packed_key_ids() {
            let entries = [
                ("svc-000-user-0000", Some("AKIAIOSFODNN7EXAMPLE")),
                ("svc-000-user-0001", Some("AKIAZZZZ777722223333")),
                ("svc-000-user-0001", None),
                ("<root_account>", Some("ASIAABCDEFGHIJKLMNOP")),
                ("élodie", Some("APKAlowercase-not-base32")),
                ("b", Some("3f2a9c")),
            ];
            let data = put_subjects(entries.iter().map(|(u, c)| (*u, *c)));
            let back = subjects(&data).unwrap();
            let want: Vec<(String, Option<String>)> = entries
                .iter()
                .map(|(u, c)| ((*u).to_owned(), c.map(str::to_owned)))
                .collect();
            assert_eq!(back, want);
            // The first user is whole, the second shares 16 bytes, a base32 key id takes 11
            // bytes: 30 and 14 bytes for the first two entries.
            assert_eq!(&data[..3], &[0, 17, b's']);
            assert_eq!(&data[30..33], &[16, 1, b'1']);
            assert_eq!(data[33], 1, "AKIA");
            assert_eq!(data.len(), 120);
        }

        #[test]
        fn findings_and_keys_round_trip() {
            let f = vec![
                FindingRec {
                    subject: 9,
                    rule: 3,
                    severity: 1,
                    status: 3,
                    age: 86_400 * 30,
                },
                FindingRec {
                    subject: 2,
                    rule: 1,
                    severity: 0,
                    status: 0,
                    age: -5,
                },
            ];
            let mut back = findings(&put_findings(f)).unwrap();
            back.sort_by_key(|r| r.subject);
            assert_eq!(
                (back[0].subject, back[0].age, back[1].status, back[1].age),
                (2, -5, 3, 2_592_000)
            );
            let k = vec![
                KeyRec {
                    subject: 5,
                    status: 1,
                    created_day: 20_000,
                    last_used_day: None,
                },
                KeyRec {
                    subject: 7,
                    status: 0,
                    created_day: 19_000,
                    last_used_day: Some(0),
                },
            ];
            let back = keys(&put_keys(k)).unwrap();
            assert_eq!(back[1].last_used_day, Some(0));
            assert_eq!(back[0].last_used_day, None);
            assert_eq!(back[0].created_day, 20_000);
            assert!(keys(&[0x80]).is_err(), "a cut block is an error, not a panic");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exceptions::Exception;
    use crate::model::{AccessKey, Account, AccountState, RootUser, User};
    use crate::triage::triage;
    use chrono::TimeZone;

    fn t(d: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 11, d, 9, 0, 0).unwrap()
    }

    fn org(keys: &[(&str, &str, KeyStatus)]) -> Vec<AccountScan> {
        let users = keys
            .iter()
            .map(|(user, key, status)| User {
                credentials: Vec::new(),
                name: (*user).into(),
                arn: String::new(),
                path: "/".into(),
                created: t(1),
                password_enabled: false,
                password_last_used: None,
                mfa_active: false,
                mfa_devices: vec![],
                access_keys: vec![AccessKey {
                    id: AccessKeyId((*key).into()),
                    status: *status,
                    created: t(1),
                    last_used: None,
                }],
            })
            .collect();
        let account = Account {
            id: AccountId::parse("012345678901").unwrap(),
            name: "prod".into(),
            email: String::new(),
            state: AccountState::Active,
            ou_path: "/".into(),
        };
        let root = RootUser {
            signing_certificates: Vec::new(),
            access_keys_present: false,
            mfa_enabled: true,
            mfa_kind: None,
            access_keys: vec![],
        };
        vec![AccountScan::ok(account, root, users, vec![])]
    }

    fn finding(user: &str, key: &str) -> Finding {
        Finding {
            credential: None,
            rule: Rule::KeyNotRotated,
            severity: Severity::High,
            account_id: AccountId::parse("012345678901").unwrap(),
            user: user.into(),
            access_key_id: Some(AccessKeyId(key.into())),
            detail: String::new(),
            controls: &[],
        }
    }

    fn record(h: &mut History, at: Timestamp, accounts: &[AccountScan], findings: &[Finding]) -> Outcome {
        let prev = h.previous().unwrap();
        let o = triage(findings, accounts, &[] as &[Exception], prev.as_ref(), at);
        h.record(at, Some("arn:aws:iam::012345678901:user/ci"), accounts, findings, &o)
            .unwrap();
        o
    }

    #[test]
    fn a_recorded_scan_is_the_next_ones_previous_and_diffs_as_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("a/history.db")).unwrap();
        assert_eq!(h.previous().unwrap(), None);
        let accounts = org(&[
            ("alice", "AKIA1", KeyStatus::Active),
            ("bob", "AKIA2", KeyStatus::Active),
        ]);
        let both = [finding("alice", "AKIA1"), finding("bob", "AKIA2")];
        record(&mut h, t(2), &accounts, &both);
        let accounts2 = org(&[("alice", "AKIA1", KeyStatus::Inactive)]);
        let o = record(&mut h, t(9), &accounts2, &both[..1]);
        assert_eq!(o.per_finding[0].status, Status::Open);
        assert_eq!(o.per_finding[0].first_seen, t(2));
        assert_eq!(o.resolved.len(), 1);
        let prev = h.previous().unwrap().unwrap();
        assert_eq!(prev.generated_at, Some(t(9)));
        assert_eq!(prev.findings[0].first_seen, t(2), "first_seen survives");
        assert_eq!(
            prev.findings[0].id.account_id.as_str(),
            "012345678901",
            "leading zero kept"
        );
        let list = h.list().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[1].by_severity, list[1].new, list[1].resolved),
            ([0, 1, 0, 0, 0], 0, 1)
        );
        assert_eq!(list[0].new, 2);
        assert_eq!(list[1].caller.as_deref(), Some("arn:aws:iam::012345678901:user/ci"));
        let d = crate::triage::diff(&h.snapshot(1).unwrap().unwrap(), &h.snapshot(2).unwrap().unwrap());
        assert_eq!(d.resolved.len(), 1);
        assert_eq!(d.resolved[0].0.user, "bob");
        assert_eq!(
            d.keys
                .iter()
                .map(|k| (k.user.as_str(), k.from, k.to))
                .collect::<Vec<_>>(),
            [
                ("alice", Some(KeyStatus::Active), Some(KeyStatus::Inactive)),
                ("bob", Some(KeyStatus::Active), None)
            ]
        );
        assert_eq!(h.snapshot(3).unwrap(), None);
    }

    #[test]
    fn findings_of_an_account_that_failed_are_carried_with_their_first_seen() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("history.db")).unwrap();
        let accounts = org(&[("alice", "AKIA1", KeyStatus::Active)]);
        let f = [finding("alice", "AKIA1")];
        record(&mut h, t(2), &accounts, &f);
        let mut failed = accounts.clone();
        failed[0].scan.status = ScanStatus::Failed;
        failed[0].users.clear();
        let o = record(&mut h, t(9), &failed, &[]);
        assert_eq!((o.resolved.len(), o.unchecked.len()), (0, 1));
        let o = record(&mut h, t(16), &accounts, &f);
        assert_eq!(o.per_finding[0].status, Status::Open);
        assert_eq!(
            o.per_finding[0].first_seen,
            t(2),
            "open since the first scan, across the failed one"
        );
        // The failed scan's diff calls it unchecked, not resolved.
        let d = crate::triage::diff(&h.snapshot(1).unwrap().unwrap(), &h.snapshot(2).unwrap().unwrap());
        assert_eq!((d.resolved.len(), d.unchecked.len()), (0, 1));
    }

    #[test]
    fn a_resolved_finding_that_comes_back_is_reopened_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("history.db")).unwrap();
        let accounts = org(&[("alice", "AKIA1", KeyStatus::Active)]);
        let f = [finding("alice", "AKIA1")];
        record(&mut h, t(2), &accounts, &f);
        let o = record(&mut h, t(9), &accounts, &[]);
        assert_eq!(o.resolved.len(), 1);
        let o = record(&mut h, t(16), &accounts, &f);
        let tr = &o.per_finding[0];
        assert_eq!(
            (tr.status, tr.first_seen, tr.reopened_after),
            (Status::New, t(16), Some(t(9)))
        );
        let o = record(&mut h, t(23), &accounts, &f);
        let tr = &o.per_finding[0];
        assert_eq!(
            (tr.status, tr.first_seen, tr.reopened_after),
            (Status::Open, t(16), None)
        );
        let left: i64 = h
            .conn
            .query_row("SELECT count(*) FROM resolved", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "no longer resolved once back");
    }

    #[test]
    fn a_version_1_database_is_migrated_and_keeps_its_scans() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO scan VALUES (1, 1764000000, 'arn:x', 2, 0, 0, 1, 0, 0, 0, 0, 1, 0)",
            [],
        )
        .unwrap();
        drop(conn);
        let h = History::open(&path).unwrap();
        let v: i64 = h.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        let list = h.list().unwrap();
        assert_eq!((list.len(), list[0].caller.as_deref()), (1, Some("arn:x")));
        assert_eq!(h.previous().unwrap().unwrap().resolved.len(), 0);
    }

    #[test]
    fn a_version_2_database_is_converted_to_blocks_with_the_same_findings_keys_and_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(MIGRATIONS[1]).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        let (t2, t9) = (secs(t(2)), secs(t(9)));
        conn.execute_batch(&format!(
            "INSERT INTO scan VALUES (1, {t2}, 'arn:x', 1, 0, 0, 2, 0, 0, 0, 0, 2, 0);
             INSERT INTO scan VALUES (2, {t9}, 'arn:x', 1, 0, 0, 1, 0, 0, 0, 0, 0, 1);
             INSERT INTO scan_account VALUES (1, 12345678901, 0, 0), (2, 12345678901, 0, 0);
             INSERT INTO rule VALUES (1, 'key-not-rotated');
             INSERT INTO subject VALUES (1, 12345678901, 'alice', 'AKIAIOSFODNN7EXAMPLE'),
                                        (2, 12345678901, 'bob', 'AKIA2');
             INSERT INTO finding VALUES (1, 1, 1, 1, 0, {t2}), (1, 2, 1, 1, 0, {t2}), (2, 1, 1, 1, 1, {t2});
             INSERT INTO key_state VALUES (1, 1, 0, {t2}, NULL), (1, 2, 0, {t2}, {t2}),
                                          (2, 1, 1, {t2}, {t9});
             INSERT INTO resolved VALUES (2, 1, {t9});"
        ))
        .unwrap();
        drop(conn);
        let h = History::open(&path).unwrap();
        let tables: Vec<String> = h
            .conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            tables,
            [
                "resolved",
                "rule",
                "scan",
                "scan_account",
                "scan_block",
                "subject_block"
            ]
        );
        let prev = h.previous().unwrap().unwrap();
        assert_eq!(prev.findings.len(), 1);
        assert_eq!(
            (prev.findings[0].id.user.as_str(), prev.findings[0].first_seen),
            ("alice", t(2))
        );
        assert_eq!(
            prev.findings[0].id.access_key_id,
            Some(AccessKeyId("AKIAIOSFODNN7EXAMPLE".into()))
        );
        let (bob, at) = prev.resolved.iter().next().unwrap();
        assert_eq!((bob.user.as_str(), *at), ("bob", t(9)));
        let d = crate::triage::diff(&h.snapshot(1).unwrap().unwrap(), &h.snapshot(2).unwrap().unwrap());
        assert_eq!(d.resolved.len(), 1);
        assert_eq!(
            d.keys
                .iter()
                .map(|k| (k.user.as_str(), k.access_key_id.as_str(), k.from, k.to))
                .collect::<Vec<_>>(),
            [
                (
                    "alice",
                    "AKIAIOSFODNN7EXAMPLE",
                    Some(KeyStatus::Active),
                    Some(KeyStatus::Inactive)
                ),
                ("bob", "AKIA2", Some(KeyStatus::Active), None)
            ]
        );
        let trend = h.trend(52).unwrap();
        assert_eq!(trend.org(), [2, 1], "open findings per scan, counted by the migration");
    }

    #[test]
    fn the_trend_counts_open_findings_per_account_and_scan() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("history.db")).unwrap();
        assert_eq!(h.trend(52).unwrap(), Trend::default());
        let accounts = org(&[
            ("alice", "AKIA1", KeyStatus::Active),
            ("bob", "AKIA2", KeyStatus::Active),
        ]);
        let both = [finding("alice", "AKIA1"), finding("bob", "AKIA2")];
        record(&mut h, t(2), &accounts, &both);
        record(&mut h, t(9), &accounts, &both[..1]);
        record(&mut h, t(16), &accounts, &[]);
        let trend = h.trend(52).unwrap();
        assert_eq!(trend.org(), [2, 1, 0]);
        assert_eq!(trend.scans[1].0, t(9));
        let prod = AccountId::parse("012345678901").unwrap();
        assert_eq!(trend.by_account[&prod], [2, 1, 0]);
        assert_eq!(h.trend(2).unwrap().org(), [1, 0], "the latest scans only");
    }

    #[test]
    fn two_writers_at_once_both_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        std::thread::scope(|s| {
            for w in 0..2 {
                let path = &path;
                s.spawn(move || {
                    let mut h = History::open(path).unwrap();
                    for i in 0..10 {
                        let key = format!("AKIA{w}{i}");
                        let accounts = org(&[("alice", &key, KeyStatus::Active)]);
                        record(&mut h, t(1 + i), &accounts, &[finding("alice", &key)]);
                    }
                });
            }
        });
        let h = History::open(&path).unwrap();
        let list = h.list().unwrap();
        assert_eq!(list.len(), 20);
        assert_eq!(
            list.iter().map(|s| s.id).collect::<Vec<_>>(),
            (1..=20).collect::<Vec<_>>()
        );
        let subjects: i64 = h
            .conn
            .query_row("SELECT sum(count) FROM subject_block", [], |r| r.get(0))
            .unwrap();
        assert_eq!(subjects, 20, "each key interned once");
    }

    #[test]
    fn a_locked_database_fails_the_record_not_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        drop(History::open(&path).unwrap());
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let mut h = History::open_with_timeout(&path, Duration::from_millis(100)).unwrap();
        let accounts = org(&[("alice", "AKIA1", KeyStatus::Active)]);
        let f = [finding("alice", "AKIA1")];
        let o = triage(&f, &accounts, &[] as &[Exception], None, t(2));
        let e = h.record(t(2), None, &accounts, &f, &o).unwrap_err();
        assert_eq!(e.to_string(), format!("history {}: database is locked", path.display()));
        holder.execute_batch("COMMIT").unwrap();
        h.record(t(2), None, &accounts, &f, &o).unwrap();
        assert_eq!(h.list().unwrap().len(), 1);
    }

    #[test]
    fn findings_of_a_rule_from_a_newer_keytriage_are_skipped_and_recording_goes_on() {
        // A newer keytriage recorded a finding of a rule this one does not know: reading used
        // to fail with "unknown rule N", and every later scan was not recorded (seen with
        // role-trusts-anyone, unknown before roles were audited).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let mut h = History::open(&path).unwrap();
        let accounts = org(&[
            ("alice", "AKIAALICE", KeyStatus::Active),
            ("bob", "AKIABOB", KeyStatus::Active),
        ]);
        let mut unused = finding("bob", "AKIABOB");
        unused.rule = Rule::KeyUnused;
        record(
            &mut h,
            t(1),
            &accounts,
            &[finding("alice", "AKIAALICE"), unused.clone()],
        );
        let renamed = h
            .conn
            .execute(
                "UPDATE rule SET name = 'user-from-the-future' WHERE name = ?1",
                [Rule::KeyUnused.id()],
            )
            .unwrap();
        assert_eq!(renamed, 1);
        drop(h);

        let mut h = History::open(&path).unwrap();
        let prev = h.previous().unwrap().unwrap();
        assert_eq!(
            prev.findings.len(),
            1,
            "only alice's finding is readable: {:?}",
            prev.findings
        );
        assert_eq!(prev.findings[0].id.user, "alice");
        assert_eq!(h.unknown_rules(), vec!["user-from-the-future".to_owned()]);
        // The next scan is recorded, and the two diff.
        let o = record(&mut h, t(8), &accounts, &[finding("alice", "AKIAALICE"), unused]);
        assert_eq!(
            (o.changes.new, o.changes.resolved),
            (1, 0),
            "bob's finding is new to this keytriage"
        );
        assert_eq!(h.latest().unwrap(), Some(2));
        let (from, to) = h.snapshots(1, 2).unwrap();
        let d = crate::triage::diff(&from.unwrap(), &to.unwrap());
        assert_eq!(d.new.len(), 1);
        assert_eq!(d.new[0].0.rule, Rule::KeyUnused);
        assert!(d.resolved.is_empty() && d.changed.is_empty());
    }

    #[test]
    fn newer_and_corrupt_databases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let newer = dir.path().join("newer.db");
        Connection::open(&newer)
            .unwrap()
            .pragma_update(None, "user_version", 7)
            .unwrap();
        let e = History::open(&newer).err().unwrap();
        assert!(matches!(e, HistoryError::Newer { found: 7, known: 3, .. }), "{e}");
        let corrupt = dir.path().join("corrupt.db");
        std::fs::write(&corrupt, vec![b'x'; 4096]).unwrap();
        let e = History::open(&corrupt).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!("history {}: file is not a database", corrupt.display())
        );
        // Reopening a current database applies nothing twice.
        let ok = dir.path().join("ok.db");
        drop(History::open(&ok).unwrap());
        let h = History::open(&ok).unwrap();
        let v: i64 = h.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }
}
